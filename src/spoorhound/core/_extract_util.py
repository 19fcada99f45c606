"""Helpers of the extractor: token blobs, boundaries, URL trimming, YARA braces, spans.

Constants shared by the passes live here too. All pure and linear-time.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate
from operator import sub

from spoorhound.core import _extract_patterns as P
from spoorhound.core._hostnames import FILE_EXTENSION_TLDS
from spoorhound.core.indicators import IndicatorType

T = IndicatorType
_CONTEXT_WIDTH = 160
_URL_HOST = ("url-host",)
_EXAMPLE_TYPES = frozenset({T.DOMAIN, T.EMAIL, T.URL, T.IPV4, T.CIDR, T.IPV6})
_EMAIL_DOMAIN = ("email-domain",)
_CAMEL = re.compile(r"[a-z][A-Z]")
_HEX_TYPE = {
    t.value: t for t in (T.MD5, T.SHA1, T.SHA256, T.SHA512, T.TLSH, T.JA3, T.JA3S, T.IMPHASH)
}
_ALL_HEX = re.compile(r"[0-9A-Fa-f]+")
_WALLET_PUNCT = "()[]{}<>\"'`.,;:!?*|/=-"
_LOOKBACK = 80  # characters before a candidate searched for benign / example words

#: Longer "URLs" are runs of garbage (and trimming them would cost time for nothing).
_MAX_URL = 16 * 1024
_SSDEEP_BLOCKS = frozenset(3 * 2**i for i in range(40))
# TLDs that, after exactly one label, are far more often file extensions in reports
# (``zuhag9.cab``, ``libfoo.so``, ``main.rs``); the indicators module's own list plus these.
_FILE_TLDS = FILE_EXTENSION_TLDS | {"cab", "so", "rs", "dot", "java"}


class _Blob:
    """Tokens joined by newlines so one regex call scans them all.

    ``finditer`` yields (delta, match): ``delta + match.start()`` is the offset in the
    text. No pattern run over a blob can match a newline, so a match never spans
    two tokens, and the newline acts as the whitespace that separated them.
    """

    __slots__ = ("ends", "offsets", "starts", "text")

    def __init__(self, text: str, starts: list[int], ends: list[int]) -> None:
        """The tokens ``text[starts[k]:ends[k]]``."""
        self.offsets = starts
        self.ends = ends  # in the text, as ``offsets``
        self.starts = list(accumulate(map(sub, ends, starts), lambda a, n: a + n + 1, initial=0))
        self.text = "\n".join([text[s:e] for s, e in zip(starts, ends, strict=True)])

    def finditer(self, pattern: re.Pattern[str]) -> Iterator[tuple[int, re.Match[str]]]:
        starts, offsets = self.starts, self.offsets
        for m in pattern.finditer(self.text):
            k = bisect_right(starts, m.start()) - 1
            yield offsets[k] - starts[k], m


def _maybe_wallet(token: str) -> bool:
    """Cheap string tests before the wallet regex: "0x…", "bc1…" or a base58 run."""
    if "0x" in token or "bc1" in token:
        return True
    core = token.strip(_WALLET_PUNCT)
    return 26 <= len(core) <= 106 and core.isalnum() and not _ALL_HEX.fullmatch(core)


def boundary_ok(text: str, start: int, extra: str = "") -> bool:
    """True if ``start`` begins a token: the character before is not a word character
    (nor one of ``extra``). Replaces leading look-behinds, which slow the regex scan."""
    if start == 0:
        return True
    c = text[start - 1]
    return not (c.isalnum() or c == "_" or c in extra)


def _is_example(itype: IndicatorType, value: str) -> bool:
    """RFC 2606/6761 names and RFC 5737/3849 documentation addresses."""
    if itype is T.DOMAIN or itype is T.EMAIL or itype is T.URL:
        if (
            "example" not in value
            and "test" not in value
            and "invalid" not in value
            and ("localhost" not in value)
        ):
            return False  # fast path: nearly every candidate
        host = value.rsplit("@", 1)[-1]
        if itype is T.URL:
            host = host.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        tld = host.rsplit(".", 1)[-1]
        return (
            tld in P.EXAMPLE_TLDS
            or host in P.EXAMPLE_DOMAINS
            or any(host.endswith("." + d) for d in P.EXAMPLE_DOMAINS)
        )
    if itype is T.IPV4 or itype is T.CIDR:
        return value.startswith(P.EXAMPLE_NETS_V4)
    if itype is T.IPV6:
        return value.startswith("2001:db8:")
    return False


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    """True if ``pos`` lies in one of the sorted, non-overlapping ``spans``."""
    i = bisect_right(spans, (pos, 1 << 62)) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


_AUTHORITY_END = re.compile(r"[/?#]")


def _authority_end(url: str, begin: int) -> int:
    m = _AUTHORITY_END.search(url, begin)
    return len(url) if m is None else m.start()


def _trim_url(raw: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from a URL's end."""
    cut = raw.find("](")  # Markdown [text](target): the link text ends at "]("
    if cut != -1:
        raw = raw[:cut]
    excess: dict[str, int] | None = None  # counted only if a bracket ends the URL
    end = len(raw)
    while end:
        last = raw[end - 1]
        if last in P.URL_TRAILING:
            end -= 1
        elif last in P.BRACKETS:
            if excess is None:
                excess = {c: raw.count(c) - raw.count(o) for c, o in P.BRACKETS.items()}
            if excess[last] <= 0:
                break
            excess[last] -= 1
            end -= 1
        else:
            break
    return raw[:end]


def anchored_finditer(
    pattern: re.Pattern[str], text: str, anchors: Iterable[tuple[re.Pattern[str], int | None]]
) -> Iterator[re.Match[str]]:
    """The matches of ``pattern.finditer(text)``, found from literal-first anchors.

    For patterns that begin with a character class (slow to scan for, see
    ``_extract_refang``): every match of ``pattern`` must start ``back`` characters
    before a hit of one of the ``(anchor, back)`` patterns, each of which starts with a
    literal; with ``back`` None, where the anchor's last matched group starts (one scan
    for several words: the words are captured in look-behinds). The anchors' hits are
    tried in text order, and a hit inside the previous match is skipped, exactly as
    ``finditer`` would resume after it.
    """
    found: set[int] = set()
    for anchor, back in anchors:
        if back is None:
            found.update([a.start(a.lastindex or 0) for a in anchor.finditer(text)])
        else:
            found.update([a.start() - back for a in anchor.finditer(text)])
    return matches_at(pattern, text, sorted(found))


def matches_at(pattern: re.Pattern[str], text: str, starts: list[int]) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` at the sorted ``starts``, each after the previous match."""
    pos = 0
    for at in starts:
        if at < pos:
            continue
        m = pattern.match(text, at)
        if m is not None:
            yield m
            pos = m.end()


# a brace, or a string / regex literal whose braces do not count
_BRACES = re.compile(r'[{}]|"(?:[^"\\\n]|\\.)*+"|/(?:[^/\\\n]|\\.)++/')


def _closing_brace(text: str, pos: int, limit: int) -> int | None:
    """Offset just past the ``}`` that closes a YARA rule body opened before ``pos``."""
    depth = 1
    limit = min(limit, len(text))
    for m in _BRACES.finditer(text, pos, limit):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth == 0:
                return m.end()
    return None
