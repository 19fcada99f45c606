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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
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
# Every hxxp / fxp spelling is followed by a ":" at most three characters after its
# "p" (``p:``, ``ps:``, ``p[:``, ``ps[:``), and the "p" comes after "x", "X", "*", "_"
# or "xt" ("http" never qualifies). One literal-first scan finds those ":"; the two
# patterns above then decide at the few places a spelling may start.
_SCHEME_COLON = re.compile(
    ":(?:"
    + "|".join(
        f"(?<={before}[pP]{sep}:)"
        for before in (r"[xX*_]", r"[xX][tT]")
        for sep in ("", "[sS]", r"[\[\(\{]", r"[sS][\[\(\{]")
    )
    + ")"
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


_KIND = {**dict.fromkeys(_BRACKETED, "br"), _HYPHEN: "hyphen", _HXXP: "http", _FXP: "ftp"}
_START = re.Match.start
# Up to this length, the markers are collected and sorted (a list is cheaper than a
# lazy merge); beyond it they are merged lazily, so that a flood of markers never
# holds millions of match objects at once.
_EAGER_MAX = 1 << 18


def _schemes(text: str) -> Iterator[re.Match[str]]:
    """hxxp / fxp spellings, in text order, from the ":" after each."""
    pending: list[re.Match[str]] = []  # found, sorted, not yet safe to yield
    last = -1  # start of the last one yielded
    for hit in _SCHEME_COLON.finditer(text):
        colon = hit.start()
        # the "p" is 1-3 characters before the ":", the spelling 2-4 before the "p"
        for at in range(colon - 7, colon - 2):
            if at < 0 or at <= last or any(p.start() == at for p in pending):
                continue
            m = _HXXP.match(text, at) or _FXP.match(text, at)
            if m is not None:
                pending.append(m)
                pending.sort(key=_START)
        # later hits are after this one, so they start no spelling before colon - 6
        while pending and pending[0].start() < colon - 6:
            last = pending[0].start()
            yield pending.pop(0)
    yield from pending


def _markers(text: str) -> Iterable[re.Match[str]]:
    """Every defang marker in ``text``, in text order (lazily on long text: millions on bad input)."""
    # a bracket scan is skipped when its bracket is absent (a one-character search is
    # a memchr; the regex scan is not)
    scans = [p.finditer(text) for o, p in zip("[({", _BRACKETED, strict=True) if o in text]
    scans.append(_HYPHEN.finditer(text))
    scans.append(_schemes(text))
    if len(text) > _EAGER_MAX:
        return heapq.merge(*scans, key=_START)
    # no two markers start at the same offset (each kind starts with its own character)
    found = list(chain.from_iterable(scans))
    found.sort(key=_START)
    return found


def refang_with_map(text: str) -> tuple[str, OffsetMap | None]:
    """Return ``text`` with defang markers replaced, and the offset map (None if unchanged)."""
    found = _markers(text)
    parts: list[str] = []
    omap = OffsetMap()
    rstarts, ostarts, rlens, olens = omap.rstart, omap.ostart, omap.rlen, omap.olen
    pos = 0
    rpos = 0
    n = len(text)
    for m in found:
        s, e = m.span()
        kind = _KIND[m.re]
        if kind == "br":
            rep = _bracket_replacement(m.group())
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
