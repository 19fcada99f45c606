"""The C accelerator (``_extract_c``) gives exactly what the pure-Python extractor gives.

Both paths run in one process: the modules' ``C`` is set to None for the reference
run. Compared: every field of every Candidate, in order, on the benchmark corpus, on
every labelled case, and on generated text built to reach the C loops' edge cases.
The extension must be built here (``make install`` builds it): these tests fail, not
skip, without it, so that CI really runs the C path.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spoorhound.core import _extract_accel, _extract_emit, _extract_run
from spoorhound.core._extract_emit import _HINT_WORDS, _MIN_WINDOW, _hinted_rows
from spoorhound.core._extract_model import EXTRACTABLE, Candidate
from spoorhound.core._extract_tokens import token_spans
from spoorhound.core._extract_util import _LOOKBACK
from spoorhound.core.extract import extract
from spoorhound.core.indicators import IndicatorType
from spoorhound.ingest.documents import load_document

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT.parent / "shared" / "data" / "samples" / "reports"
CASES = ROOT / "bench" / "data" / "extract" / "cases.jsonl"
T = IndicatorType


def test_extension_is_built_and_current() -> None:
    from spoorhound.core import _extract_c  # fails if the build is missing

    assert _extract_accel.source_hash() == _extract_c.SOURCE_HASH, (
        "stale build of _extract_c: run make install (or pip install -e .)"
    )
    if os.environ.get(_extract_accel.PURE_ENV, "") in ("", "0"):
        assert _extract_accel.C is _extract_c


def test_stale_build_falls_back_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited = tmp_path / "_extract_c.c"
    edited.write_bytes(_extract_accel.SOURCE.read_bytes() + b"\n/* edited */\n")
    monkeypatch.setattr(_extract_accel, "SOURCE", edited)
    monkeypatch.delenv(_extract_accel.PURE_ENV, raising=False)
    with pytest.warns(RuntimeWarning, match="another version"):
        assert _extract_accel._load() is None


def test_environment_variable_selects_pure_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_extract_accel.PURE_ENV, "1")
    assert _extract_accel._load() is None
    monkeypatch.setenv(_extract_accel.PURE_ENV, "0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _extract_accel._load() is not None


@contextmanager
def _path(c: ModuleType | None) -> Iterator[None]:
    saved = _extract_run.C, _extract_emit.C
    _extract_run.C = _extract_emit.C = c
    try:
        yield
    finally:
        _extract_run.C, _extract_emit.C = saved


def _built() -> ModuleType:
    """The extension, in use or not (SPOORHOUND_PURE_EXTRACT=1): these tests compare it."""
    from spoorhound.core import _extract_c

    _extract_run.configure_c(_extract_c)
    return _extract_c


Row = tuple[object, ...]


def _rows(cands: list[Candidate]) -> list[Row]:
    out: list[Row] = []
    for c in cands:
        assert type(c) is Candidate
        out.append(
            (c.type, c.value, c.span, c.start, c.end, c.confidence, c.context, c.flags, c.safelist)
        )
    return out


def _same(text: str, types: Collection[IndicatorType] | None = None) -> None:
    with _path(_built()):
        fast = _rows(extract(text, types=types))
    with _path(None):
        ref = _rows(extract(text, types=types))
    assert fast == ref


def _corpus() -> list[tuple[str, str]]:
    if not REPORTS.is_dir():
        pytest.skip(f"no sample reports at {REPORTS}")
    texts = []
    for path in sorted(REPORTS.iterdir()):
        if path.suffix == ".pdf":
            with path.open("rb") as fh:
                texts.append((path.name, load_document(fh, path.name).text))
        elif path.suffix in (".txt", ".md", ".html"):
            texts.append((path.name, path.read_text(encoding="utf-8")))
    return texts


def test_same_on_the_report_corpus() -> None:
    corpus = _corpus()
    assert corpus
    for _name, text in corpus:
        _same(text)


def test_same_on_the_report_corpus_per_type_group() -> None:
    # the dotted pass with only some of its types wanted (want_domain / want_file)
    groups = [{T.DOMAIN}, {T.FILENAME}, {T.IPV4, T.CIDR}, {T.URL, T.DOMAIN}, {T.EMAIL}]
    for _name, text in _corpus()[:3]:
        for types in groups:
            _same(text, types)


def test_same_on_every_labelled_case() -> None:
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line]
    assert len(cases) > 50
    for case in cases:
        _same(case["text"])


EDGE_CASES = [
    "",
    "a.b",
    ".",
    "new foo.bar new Foo.Bar obj.method( com.example.* a.b.*",
    "evil[.]com hxxps[:]//evil[.]com/a.b EvIl[.]CoM Foo.Bar[.]com",
    "1.2.3.4/24 1.2.3.4/245 1.2.3.4/2. 10.0.0.1:8080 10.0.0.1:80: v1.2.3.4 version 1.2.3.4",
    "user@mail.example.org x@evil.com @evil.com http://a.b@c.d/e.f?g.h#i.j",
    "C:\\Windows\\system32\\evil.dll /usr/lib/libfoo.so report.pdf main.rs a.cab",
    "é.com ü.de 日本.jp xn--e1afmkfd.xn--p1ai ١٢.٣٤ a\u00a0b.c d\u2009e.f g\x1ch.i",
    "a.b-\nc.d hxxp://evil[.]exa-\nmple.com",
    "-a.b- _a.b_ --.-- a..b a.-b a.b/ a.b: a.b:99999 a.b:123456",
    "System.Net.WebClient getElementById.host PayPal.com EVIL.COM",
    "x" * 300 + ".com " + "a." * 200 + "com",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_same_on_edge_cases(text: str) -> None:
    _same(text)


def test_same_on_huge_tokens() -> None:
    _same("a." * 50_000)  # one token of 100 000 characters
    _same(("1." * 30_000) + "1")
    _same(" ".join(["evil[.]com", "Foo.Bar", "10.0.0.1/24"] * 3_000))
    _same("[.]" * 20_000 + " a.b " + "é." * 10_000 + "com")


PIECES = [
    *"a0f9.:/[]()@\\-_ xZ*\n\t",
    "[.]",
    "(.)",
    "[dot]",
    "[at]",
    "[:]",
    "hxxp",
    "hxxps[:]//",
    "://",
    "http://",
    "www.",
    "evil",
    "Evil",
    ".com",
    ".COM",
    ".exe",
    ".so",
    ".cab",
    ".example",
    "1.2.3.4",
    "192.0.2.1",
    "/24",
    ":8080",
    "new ",
    "System.",
    "e.g. ",
    "E.G. ",
    "benign ",
    "Legit",
    "\u212a",  # KELVIN SIGN: lower-cases to "k"
    "\u0130",  # "İ": lower-cases to two characters
    "not malicious: ",
    "é",
    "\u00a0",
    "\u2009",
    "١",
    "日本",
    "-\n",
    "@",
    "user@",
    "C:\\",
    "/tmp/",
    "rule x {",
    "}",
    "d41d8cd98f00b204e9800998ecf8427e",
]
TEXTS = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(PIECES), max_size=150).map("".join),
)
TYPE_SETS = st.one_of(
    st.none(),
    st.sets(st.sampled_from([T.DOMAIN, T.FILENAME, T.IPV4, T.CIDR, T.URL, T.EMAIL]), min_size=1),
    st.sets(st.sampled_from(sorted(EXTRACTABLE)), min_size=1, max_size=4),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, TYPE_SETS)
def test_same_on_generated_text(text: str, types: set[IndicatorType] | None) -> None:
    _same(text, types)


TOKEN_PIECES = ["a", "b.", ".", ":", "::", "x:y", "é", "-", "/", "_", "(", "١", ".-", "._"]
SPACES = [" ", "\n", "\t", "\xa0", "\u2009", "\x1c", "\u3000"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKEN_PIECES + SPACES), max_size=60).map("".join))
def test_token_spans_in_c_equal_the_scans(text: str) -> None:
    c = _built()
    for kind in ("dot", "colons"):
        assert c.tokens(text, kind) == token_spans(text, text[::-1], kind)


HINT_PIECES = [*_HINT_WORDS, "BENIGN", "E.g.", "Allow", "x", " ", "\n", "\u212a", "\u0130", "é"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(HINT_PIECES), max_size=80).map("".join),
    st.lists(st.integers(0, 1000), min_size=1, max_size=30),
    st.booleans(),
)
def test_hint_words_in_c_equal_the_python_search(text: str, at: list[int], shuffled: bool) -> None:
    c = _built()
    starts = [min(a, len(text)) for a in at]
    order = sorted(range(len(starts)), key=starts.__getitem__)
    if shuffled:
        order.reverse()  # not sorted by start: the rows-inside-one-replacement case
    got = c.hinted(text, starts, order, _HINT_WORDS, _LOOKBACK, _MIN_WINDOW)
    want = _hinted_rows(text, starts, order)
    if got is None:
        assert "\u212a" in text or "\u0130" in text
    else:
        assert got == want
