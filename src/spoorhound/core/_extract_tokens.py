"""The whitespace-separated tokens the token passes need, found without splitting the text.

Splitting a report into words and testing each one costs Python work per word, and
most words hold no indicator. Instead:

* tokens holding a "." followed by a word character or "-" (every dotted name, address
  and file name has one; a word ending a sentence has not), or two ":", come from two
  literal-first scans: ``\\.(?=[\\w-])\\S*+`` over the text ends at each such token's
  end (its first such "." starts the match), and its mirror over the reversed text
  ends at each one's start (its last such "."). The two lists pair up one to one.
  ``\\s`` and ``str.split`` agree on every code point.
* hex runs (hashes) come from an ASCII *shadow* of the text: ``encode("ascii",
  "replace")`` keeps one byte per character, and ``bytes.translate`` maps each byte to
  its class, so ``bytes.find`` can jump to runs of 32+ hex digits (a sublinear skip
  search in C).

All of it is linear in the text, whatever the input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["hex_runs", "token_around", "token_spans"]

# (forward, reversed): from a token's first "." followed by [\w-] (first of two ":")
# to its end, and over the reversed text from its last such "." (last of two ":") to
# its start. The look-around after the literal keeps the scans literal-first.
_COLONS = re.compile(r":(?=[^\s:]*+:)\S*+")  # the look-ahead stops at the next ":" or space
_KINDS = {
    "dot": (re.compile(r"\.(?=[\w-])\S*+"), re.compile(r"\.(?<=[\w-]\.)\S*+")),
    "colons": (_COLONS, _COLONS),
}
_END = re.Match.end
_START = re.Match.start
_NON_SPACE = re.compile(r"\S*+")
# A token's start found on its own costs about as much Python as the reversed scan
# costs C on this many characters.
_PER_TOKEN = 300


def token_spans(text: str, reversed_text: str, kind: str) -> tuple[list[int], list[int]]:
    """(starts, ends) of the whitespace-separated tokens of ``text`` of one ``kind``.

    ``kind`` is "dot" (the token holds a "." followed by a word character or "-") or
    "colons" (two or more ":").
    """
    pattern, mirror = _KINDS[kind]
    found = list(pattern.finditer(text))
    if not found:
        return [], []
    ends = list(map(_END, found))
    n = len(text)
    if len(found) * _PER_TOKEN < n:
        # few tokens (tokens with two ":" are rare): each start found on its own, from
        # where the forward match began, instead of a scan of the whole reversed text
        left = _NON_SPACE.match  # "\S*+" matches anywhere: never None
        starts = [
            n - (m.end() if (m := left(reversed_text, n - at)) is not None else n - at)
            for at in map(_START, found)
        ]
        return starts, ends
    starts = [n - e for e in map(_END, mirror.finditer(reversed_text))]
    starts.reverse()
    return starts, ends


def token_around(text: str, reversed_text: str, pos: int) -> tuple[int, int]:
    """(start, end) of the whitespace-separated token holding ``text[pos]``."""
    n = len(text)
    left = _NON_SPACE.match(reversed_text, n - pos)
    right = _NON_SPACE.match(text, pos)
    # "\S*+" matches at any position, possibly empty
    return (n - left.end() if left else pos), (right.end() if right else pos)


def _table(byte_class: dict[int, bytes], default: bytes) -> bytes:
    return b"".join(byte_class.get(i, default) for i in range(256))


# Non-ASCII characters become "?" in the shadow, a byte of neither class: exact, as the
# hex classes are ASCII only.
_HEX_SHADOW = _table(
    {
        **{i: b"w" for i in range(128) if chr(i).isalnum() or chr(i) == "_"},
        **{ord(c): b"h" for c in "0123456789abcdefABCDEF"},
    },
    b" ",
)
_RUN = {b"h": re.compile(rb"h*+")}


def _runs(shadow: bytes, byte: bytes, min_len: int) -> Iterator[tuple[int, int]]:
    """Maximal runs of ``byte`` at least ``min_len`` long in ``shadow``."""
    needle = byte * min_len
    rest = _RUN[byte].match
    find = shadow.find
    at = find(needle)
    while at != -1:
        # ``at`` starts its run: the byte before it is not ``byte``, else find would
        # have stopped earlier (the search resumes just past the previous run)
        m = rest(shadow, at + min_len)  # a possessive "*": it always matches
        end = m.end() if m is not None else at + min_len
        yield at, end
        at = find(needle, end)


def hex_runs(text: str, min_len: int, max_len: int) -> Iterator[tuple[int, int]]:
    """Maximal runs of ``min_len``..``max_len`` hex digits with no word character around.

    Exactly the matches of ``(?<![0-9A-Za-z_])[0-9A-Fa-f]{min,max}+(?![0-9A-Za-z_])``.
    """
    shadow = text.encode("ascii", "replace").translate(_HEX_SHADOW)
    n = len(shadow)
    for s, e in _runs(shadow, b"h", min_len):
        if e - s <= max_len and (s == 0 or shadow[s - 1] != 119) and (e == n or shadow[e] != 119):
            yield s, e  # 119 is b"w": a word character that is not a hex digit
