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

import functools
import heapq
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, sub

__all__ = ["OffsetMap", "refang_with_map"]

# Every scan below starts with one literal character, so the regex engine skips to it
# in a tight C loop (about 1 ns per character); a pattern that starts with a character
# class, or an alternation, tests a class bitmap per character instead (about 8 ns), and
# a leading look-behind or re.IGNORECASE disables the skip altogether. Word-boundary
# and context checks that would need a leading look-behind are done in Python, per
# (rare) match.
_INNER = r"[ ]?(?:\.|[dD][oO][tT]|@|[aA][tT]|://|:|[cC][oO][lL][oO][nN]|/)[ ]?[\]\)\}]"
# One pattern per opening bracket: nothing inside a marker opens another, so the three
# scans find exactly the matches one ``[\[\(\{]`` pattern would.
_BRACKETED = tuple(re.compile(re.escape(o) + _INNER) for o in "[({")
_SCHEME_SEP = r"[sS]?(?:://|[\[\(\{]:|:)"
_HXXP = re.compile(rf"[hH](?:[xX]{{2,3}}|[xX][tT]|[tT][xX]|\*\*|__)[pP](?={_SCHEME_SEP})")
_FXP = re.compile(rf"[fF][xX][pP](?={_SCHEME_SEP})")
# Every hxxp / fxp spelling has an "x", "X", "**" or "__" one or two characters after
# its first letter: these literal-first scans find where one may start, and the two
# patterns above then decide at those few places.
_SCHEME_ANCHORS = (
    (re.compile(rf"x(?=[xXtT]{{0,2}}[pP]{_SCHEME_SEP})"), (1, 2)),
    (re.compile(rf"X(?=[xXtT]{{0,2}}[pP]{_SCHEME_SEP})"), (1, 2)),
    (re.compile(rf"\*\*(?=[pP]{_SCHEME_SEP})"), (1,)),
    (re.compile(rf"__(?=[pP]{_SCHEME_SEP})"), (1,)),
)
_HYPHEN = re.compile(r"-\r?\n[ \t]*")

# What a token before a line-end hyphen must contain for the join to be unambiguous.
_HOSTLIKE = re.compile(r"\.|\[\.\]|://|\[:\]")


@functools.lru_cache(maxsize=4096)  # a few hundred spellings exist; reports repeat them
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

    def spans(
        self, starts: Sequence[int], ends: Sequence[int]
    ) -> tuple[list[int], list[int], list[bool]]:
        """:meth:`span` for many spans at once: (original starts, original ends, defanged).

        The bisections run in C (``map``); one comprehension per column does the
        arithmetic, over tables that start with a sentinel replacement so that no case
        needs a branch of its own.
        """
        rstart = self.rstart.tolist()  # bisect on a list: no int boxing per comparison
        rs = [-1, *rstart]
        re_ = [-1, *map(add, rstart, self.rlen)]
        os_ = [0, *self.ostart]
        oe = [0, *map(add, self.ostart, self.olen)]
        shift = list(map(sub, oe, re_))
        shift[0] = 0
        first = map(bisect_right, repeat(rstart), starts)
        last = list(map(bisect_right, repeat(rstart), map(sub, ends, repeat(1))))
        ostarts = [
            os_[i] if s < re_[i] else s + shift[i] for s, i in zip(starts, first, strict=True)
        ]
        oends = [oe[j] if e <= re_[j] else e + shift[j] for e, j in zip(ends, last, strict=True)]
        # defanged: the last replacement at or before end - 1 starts at or after start
        defanged = [rs[j] >= s for s, j in zip(starts, last, strict=True)]
        return ostarts, oends, defanged

    def touches(self, start: int, end: int) -> bool:
        """True if a replacement lies within refanged ``[start, end)`` (a defanged span)."""
        i = bisect_left(self.rstart, start)
        return i < len(self.rstart) and self.rstart[i] < end


Marker = tuple[int, int, str, str]  # (start, end, kind, matched text)


def _found(kind: str, pattern: re.Pattern[str], text: str) -> Iterator[Marker]:
    for m in pattern.finditer(text):
        yield m.start(), m.end(), kind, m.group()


def _schemes(text: str) -> Iterator[Marker]:
    """hxxp / fxp spellings, in text order, from the literal anchors' hits."""
    hits = heapq.merge(
        *(((a.start(), backs) for a in anchor.finditer(text)) for anchor, backs in _SCHEME_ANCHORS)
    )
    pending: list[Marker] = []  # found, sorted, not yet safe to yield
    last = -1  # start of the last one yielded
    for hit, backs in hits:
        for back in backs:
            at = hit - back
            if at < 0 or at <= last or any(p[0] == at for p in pending):
                continue
            m = _HXXP.match(text, at)
            kind = "http"
            if m is None:
                m, kind = _FXP.match(text, at), "ftp"
            if m is not None:
                pending.append((at, m.end(), kind, m.group()))
                pending.sort()
        # later hits are at or after this one, so they start no marker before hit - 2
        while pending and pending[0][0] < hit - 2:
            last = pending[0][0]
            yield pending.pop(0)
    yield from pending


def _markers(text: str) -> Iterator[Marker]:
    """Every defang marker in ``text``, in text order (lazily: millions on bad input)."""
    return heapq.merge(
        *(_found("br", p, text) for p in _BRACKETED),
        _found("hyphen", _HYPHEN, text),
        _schemes(text),
    )


def refang_with_map(text: str) -> tuple[str, OffsetMap | None]:
    """Return ``text`` with defang markers replaced, and the offset map (None if unchanged)."""
    found = _markers(text)
    parts: list[str] = []
    omap = OffsetMap()
    rstarts, ostarts, rlens, olens = omap.rstart, omap.ostart, omap.rlen, omap.olen
    pos = 0
    rpos = 0
    n = len(text)
    for s, e, kind, group in found:
        if kind == "br":
            rep = _bracket_replacement(group)
            if rep == "." or rep == "@":
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
        rstarts.append(rpos)
        ostarts.append(s)
        rlens.append(len(rep))
        olens.append(e - s)
        parts.append(rep)
        rpos += len(rep)
        pos = e
    if not rstarts:
        return text, None
    parts.append(text[pos:])
    return "".join(parts), omap
