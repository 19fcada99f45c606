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

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

__all__ = ["OffsetMap", "refang_with_map"]

# Brackets used around a defanged character, as seen in reports: [.] (.) {.} [dot].
_OPEN = r"[\[\(\{]"
_CLOSE = r"[\]\)\}]"

_MARKERS = re.compile(
    rf"""
      (?P<dot>[ ]?{_OPEN}[ ]?(?:\.|dot)[ ]?{_CLOSE}[ ]?)
    | (?P<at>[ ]?{_OPEN}[ ]?(?:@|at)[ ]?{_CLOSE}[ ]?)
    | (?P<sep>{_OPEN}://{_CLOSE})
    | (?P<colon>{_OPEN}(?::|colon){_CLOSE})
    | (?P<slash>{_OPEN}/{_CLOSE})
    | (?P<http>\b(?:hxxp|hxtp|htxp|h\*\*p|h__p|hxxxp)(?=s?(?:://|{_OPEN}:|:)))
    | (?P<ftp>\bfxp(?=s?(?:://|{_OPEN}:|:)))
    | (?P<hyphen>(?<=[\w\]])-\r?\n[ \t]*(?=[\w\[]))
    """,
    re.I | re.X,
)

_REPLACEMENT = {
    "dot": ".",
    "at": "@",
    "sep": "://",
    "colon": ":",
    "slash": "/",
    "http": "http",
    "ftp": "ftp",
    "hyphen": "-",
}

# What a token before a line-end hyphen must contain for the join to be unambiguous.
_HOSTLIKE = re.compile(r"\.|\[\.\]|://|\[:\]")


@dataclass(slots=True)
class OffsetMap:
    """Maps offsets in the refanged text back to offsets in the original text.

    Each replacement ``i`` turned ``olen[i]`` original characters starting at
    ``ostart[i]`` into ``rlen[i]`` characters starting at ``rstart[i]``.
    """

    rstart: list[int] = field(default_factory=list)
    ostart: list[int] = field(default_factory=list)
    rlen: list[int] = field(default_factory=list)
    olen: list[int] = field(default_factory=list)

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

    def touches(self, start: int, end: int) -> bool:
        """True if a replacement lies within refanged ``[start, end)`` (a defanged span)."""
        i = bisect_left(self.rstart, start)
        return i < len(self.rstart) and self.rstart[i] < end


def refang_with_map(text: str) -> tuple[str, OffsetMap | None]:
    """Return ``text`` with defang markers replaced, and the offset map (None if unchanged)."""
    if _MARKERS.search(text) is None:
        return text, None
    parts: list[str] = []
    omap = OffsetMap()
    pos = 0
    rpos = 0
    for m in _MARKERS.finditer(text):
        kind = m.lastgroup or ""
        s, e = m.span()
        if kind == "hyphen":
            token_start = max(text.rfind(" ", 0, s), text.rfind("\n", 0, s), text.rfind("\t", 0, s))
            if not _HOSTLIKE.search(text, token_start + 1, s):
                continue
        rep = _REPLACEMENT[kind]
        if kind == "http" and m.group().isupper():
            rep = "HTTP"
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
