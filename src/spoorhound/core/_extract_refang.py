"""Refang pre-pass for the extractor, with an offset map back to the original text.

Defanged indicators (``evil[.]com``, ``hxxps[:]//``, ``john[at]example[.]com``) are
turned back into their live form *before* the big extraction regexes run, so that every
pattern sees one syntax. Offsets found in the refanged text are mapped back to the
original text, so a candidate's ``span`` is always the text exactly as written.

Speed: one C-level ``search`` decides whether the text has any marker at all; text
without markers (most of a typical corpus) is returned unchanged with no map. Work is
otherwise proportional to the number of markers, never per character in Python.

PDF line-breaks: a hyphen at the end of a line inside a token that already looks like
a host or URL (it holds a dot, ``[.]`` or ``://``) is joined with the next line
(``hxxp://evil[.]exa-`` / ``mple.com`` -> ``http://evil.exa-mple.com``). The hyphen is
kept because PDF producers break URLs after existing hyphens; they do not insert
soft hyphens into URLs. Prose hyphenation (``well-`` / ``known``) is left alone.
"""

from __future__ import annotations

import heapq
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["OffsetMap", "refang_with_map"]

# Every alternative starts with one specific character class and no look-behind, so
# the regex engine skips to candidate characters in C; case variants are spelled out
# because re.IGNORECASE disables that skip. Word-boundary and context checks that
# would need a leading look-behind are done in Python, per (rare) match.
_BRACKETED = re.compile(
    r"[\[\(\{][ ]?(?:\.|[dD][oO][tT]|@|[aA][tT]|://|:|[cC][oO][lL][oO][nN]|/)[ ]?[\]\)\}]"
)
_HXXP = re.compile(r"[hH](?:[xX]{2,3}|[xX][tT]|[tT][xX]|\*\*|__)[pP](?=[sS]?(?:://|[\[\(\{]:|:))")
_FXP = re.compile(r"[fF][xX][pP](?=[sS]?(?:://|[\[\(\{]:|:))")
_HYPHEN = re.compile(r"-\r?\n[ \t]*")
# One alternation of these would lose the engine's first-character skip (measured:
# 7 MB/s instead of 300+), so each runs on its own and the matches are merged.
_MARKERS = (("br", _BRACKETED), ("http", _HXXP), ("ftp", _FXP), ("hyphen", _HYPHEN))

# What a token before a line-end hyphen must contain for the join to be unambiguous.
_HOSTLIKE = re.compile(r"\.|\[\.\]|://|\[:\]")


def _bracket_replacement(inner: str) -> str:
    """``[.]``/``[dot]`` -> ``.``, ``[at]`` -> ``@``, ``[://]``, ``[:]``, ``[/]``."""
    core = inner[1:-1].strip().lower()
    if core in (".", "dot"):
        return "."
    if core in ("@", "at"):
        return "@"
    if core == "colon":
        return ":"
    return core


@dataclass(slots=True)
class OffsetMap:
    """Maps offsets in the refanged text back to offsets in the original text.

    Each replacement ``i`` turned ``olen[i]`` original characters starting at
    ``ostart[i]`` into ``rlen[i]`` characters starting at ``rstart[i]``.
    """

    # arrays, not lists: millions of markers (adversarial input) stay compact
    rstart: array[int] = field(default_factory=lambda: array("q"))
    ostart: array[int] = field(default_factory=lambda: array("q"))
    rlen: array[int] = field(default_factory=lambda: array("q"))
    olen: array[int] = field(default_factory=lambda: array("q"))

    def start(self, pos: int) -> int:
        """Original offset of the character at refanged offset ``pos``."""
        i = bisect_right(self.rstart, pos) - 1
        if i < 0:
            return pos
        rend = self.rstart[i] + self.rlen[i]
        if pos < rend:
            return self.ostart[i]  # inside a replacement: its whole original text
        return self.ostart[i] + self.olen[i] + (pos - rend)

    def end(self, pos: int) -> int:
        """Original (exclusive) end offset for a refanged exclusive end ``pos``."""
        if pos <= 0:
            return 0
        last = pos - 1
        i = bisect_right(self.rstart, last) - 1
        if i >= 0 and last < self.rstart[i] + self.rlen[i]:
            return self.ostart[i] + self.olen[i]
        return self.start(last) + 1

    def span(self, start: int, end: int) -> tuple[int, int, bool]:
        """(original start, original end, defanged) for refanged ``[start, end)``.

        One call instead of start/end/touches: the extractor's hot path.
        """
        rstart = self.rstart
        i = bisect_right(rstart, start) - 1
        if i < 0:
            ostart = start
        else:
            rend = rstart[i] + self.rlen[i]
            ostart = (
                self.ostart[i] if start < rend else self.ostart[i] + self.olen[i] + start - rend
            )
        j = bisect_right(rstart, end - 1) - 1
        if j < 0:
            return ostart, end, False
        rend = rstart[j] + self.rlen[j]
        if end - 1 < rend:
            oend = self.ostart[j] + self.olen[j]
        else:
            oend = self.ostart[j] + self.olen[j] + end - rend
        # a replacement starts inside [start, end) iff the last one at or before end-1
        # starts at or after start
        return ostart, oend, rstart[j] >= start

    def touches(self, start: int, end: int) -> bool:
        """True if a replacement lies within refanged ``[start, end)`` (a defanged span)."""
        i = bisect_left(self.rstart, start)
        return i < len(self.rstart) and self.rstart[i] < end


def _matches(kind: str, pattern: re.Pattern[str], text: str) -> Iterator[tuple[int, int, str, str]]:
    for m in pattern.finditer(text):
        yield m.start(), m.end(), kind, m.group()


def refang_with_map(text: str) -> tuple[str, OffsetMap | None]:
    """Return ``text`` with defang markers replaced, and the offset map (None if unchanged)."""
    if not any(pattern.search(text) for _, pattern in _MARKERS):
        return text, None
    # merge the per-pattern match streams lazily (they are each in text order)
    found = heapq.merge(*(_matches(kind, pattern, text) for kind, pattern in _MARKERS))
    parts: list[str] = []
    omap = OffsetMap()
    pos = 0
    rpos = 0
    n = len(text)
    for s, e, kind, group in found:
        if kind == "br":
            rep = _bracket_replacement(group)
            if rep in (".", "@"):
                # "evil [.] com" is one name: swallow one space on each side
                if s > pos and text[s - 1] == " ":
                    s -= 1
                if e < n and text[e] == " ":
                    e += 1
        elif kind == "hyphen":
            if not s or not (text[s - 1].isalnum() or text[s - 1] in "_]"):
                continue
            if e >= n or not (text[e].isalnum() or text[e] in "_["):
                continue
            # bounded look-back (a host name is short): unbounded rfinds would make a
            # text of many "-\n" without spaces quadratic
            lo = max(0, s - 256)
            token_start = max(
                text.rfind(" ", lo, s), text.rfind("\n", lo, s), text.rfind("\t", lo, s)
            )
            token_start = max(token_start, lo - 1)
            if not _HOSTLIKE.search(text, token_start + 1, s):
                continue
            rep = "-"
        else:
            if s and (text[s - 1].isalnum() or text[s - 1] == "_"):
                continue  # inside a word: not a scheme
            rep = "http" if kind == "http" else "ftp"
        if s < pos:
            continue  # overlaps the previous replacement
        parts.append(text[pos:s])
        rpos += s - pos
        omap.rstart.append(rpos)
        omap.ostart.append(s)
        omap.rlen.append(len(rep))
        omap.olen.append(e - s)
        parts.append(rep)
        rpos += len(rep)
        pos = e
    if not omap.rstart:
        return text, None
    parts.append(text[pos:])
    return "".join(parts), omap
