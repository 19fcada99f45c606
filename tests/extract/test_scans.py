"""The extractor's fast scans find exactly what the plain scans they replace would find.

Each fast path (literal-first anchors, token spans from a forward and a reversed scan,
hex runs from an ASCII shadow, the batched offset map) is checked against the obvious
implementation on random text built from the characters that matter to it.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from spoorhound.core import _extract_patterns as P
from spoorhound.core._extract_model import EXTRACTABLE
from spoorhound.core._extract_refang import refang_with_map
from spoorhound.core._extract_run import Run
from spoorhound.core._extract_tokens import hex_runs, token_around, token_spans
from spoorhound.core._extract_util import anchored_finditer, boundary_ok
from spoorhound.core.indicators import IndicatorType, normalize

SPACES = [" ", "\n", "\t", "\xa0", "\u2009", "\x1c"]


def texts(pieces: list[str], max_size: int = 40) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces + SPACES), max_size=max_size).map("".join)


ANCHORED = [
    (
        P.MAC,
        P.MAC_ANCHORS,
        ["0", "1a", "2B", "ff", ":", "-", ".", "00:1a:2b:3c:4d:5e", "001a.2b3c.4d5e", "x"],
    ),
    (P.CVE, P.CVE_ANCHORS, ["CVE-", "cve_", "Cve‐", "2021", "-", "44228", "12", "x", "v", "V"]),
    (
        P.JA4,
        P.JA4_ANCHORS,
        ["t13d1516h2", "_", "8daaf6152771", "e5627efa2ab1", "q", "d", "0", "a", "x"],
    ),
    (
        P.MUTEX_NS,
        P.MUTEX_NS_ANCHORS,
        ["Global\\", "Local\\", "Session\\1\\", "abc", "\\", ",", "Global", "Session", "G"],
    ),
    (
        P.USER_AGENT,
        P.USER_AGENT_ANCHORS,
        ["Mozilla/5.0 (", "Opera/9.80 (", "x; y", ")", " z"],
    ),
    # TLSH digests and ATT&CK ids are matched where "T1" occurs (Run.t1)
    (
        P.TLSH,
        ((P.T1, 0),),
        ["T1", "t1", "T", "1", "0" * 35, "aB" * 35, "F", "x", "-", "T1" + "A" * 70],
    ),
    (P.ATTACK, ((P.T1, 0),), ["T1", "T", "1", "059", ".001", ".", "5", "x", "-", "T1059.001"]),
    (
        P.WALLET,
        P.WALLET_ANCHORS,
        [
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "1",
            "3",
            "4",
            "8",
            "A",
            "x",
            "_",
            "-",
        ],
    ),
]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_anchored_scans_equal_finditer(data: st.DataObject) -> None:
    pattern, anchors, pieces = data.draw(st.sampled_from(ANCHORED))
    text = data.draw(texts(pieces))
    fast = [(m.start(), m.group()) for m in anchored_finditer(pattern, text, anchors)]
    plain = [(m.start(), m.group()) for m in pattern.finditer(text)]
    if pattern is P.WALLET:
        # its anchors also require the left boundary that every wallet match is
        # checked for: equal once that check is applied
        fast = [f for f in fast if boundary_ok(text, f[0])]
        plain = [p for p in plain if boundary_ok(text, p[0])]
    assert fast == plain


@settings(max_examples=300, deadline=None)
@given(texts(["a", "b.", ".", ":", "::", "x:y", "é", "-", "/", "_", "("]), st.booleans())
def test_token_spans_equal_split(text: str, padded: bool) -> None:
    if padded:
        # few tokens in a long text: their starts are found one by one, not by a scan
        # of the whole reversed text
        text = text + " " * 20_000 + text
    pos = 0
    tokens = []
    for tok in text.split():
        at = text.find(tok, pos)
        tokens.append((at, at + len(tok)))
        pos = at + len(tok)
    rtext = text[::-1]
    for kind, keep in (
        ("dot", lambda t: re.search(r"\.[\w-]", t) is not None),
        ("colons", lambda t: t.count(":") >= 2),
    ):
        starts, ends = token_spans(text, rtext, kind)
        assert list(zip(starts, ends, strict=True)) == [
            (s, e) for s, e in tokens if keep(text[s:e])
        ]
    for s, e in tokens:
        for at in (s, e - 1):
            assert token_around(text, rtext, at) == (s, e)


HEX = re.compile(r"(?<![0-9A-Za-z_])[0-9A-Fa-f]{32,130}+(?![0-9A-Za-z_])")


@settings(max_examples=300, deadline=None)
@given(texts(["0123456789abcdef" * 2, "ABCDEF", "g", "_", "é", ".", "a1", "f" * 64], 20))
def test_hex_runs_equal_regex(text: str) -> None:
    assert list(hex_runs(text, 32, 130)) == [m.span() for m in HEX.finditer(text)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "b.", " ", "[.]", "(dot)", "[at]", "hxxp", "://", "-\n", "\n"]),
        max_size=40,
    ).map("".join),
    st.data(),
)
def test_offset_map_batch_equals_single(text: str, data: st.DataObject) -> None:
    refanged, omap = refang_with_map(text)
    if omap is None or not refanged:
        return
    starts = data.draw(st.lists(st.integers(0, len(refanged) - 1), min_size=1, max_size=10))
    ends = [data.draw(st.integers(s + 1, len(refanged))) for s in starts]
    ostarts, oends, defanged = omap.spans(starts, ends)
    assert list(zip(ostarts, oends, defanged, strict=True)) == [
        omap.span(s, e) for s, e in zip(starts, ends, strict=True)
    ]


@settings(max_examples=300, deadline=None)
@given(st.from_regex(P.DOTTED, fullmatch=True))
def test_dotted_file_names_need_no_normalising(tok: str) -> None:
    # the dotted pass appends file-name rows without calling normalize(): any run the
    # DOTTED pattern can produce, cut down to its core, is its own canonical form
    core = tok.split(":", 1)[0].split("/", 1)[0].strip("-").rstrip("_")
    if "." in core and 0 < len(core) <= 255 and core not in (".", ".."):
        assert normalize(IndicatorType.FILENAME, core) == core


@settings(max_examples=300, deadline=None)
@given(
    texts(
        ["00:1a:2b:3c:4d:5e", "001a.2b3c.4d5e", "00-1A-2B-3C-4D-5E", "0", "1a", ":", "-", ".", "x"],
        30,
    )
)
def test_mac_pass_from_token_blobs_equals_finditer(text: str) -> None:
    run = Run(text, EXTRACTABLE)
    run.blob("dot")  # built: the pass scans the token blobs instead of the text
    run.macs()
    assert [(r[0], r[1]) for r in run.rows] == [m.span() for m in P.MAC.finditer(run.text)]
