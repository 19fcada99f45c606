"""The extractor's last step: accepted rows -> sorted :class:`Candidate` objects.

The passes only record what they accept, as a row ``(start, end, type, value,
confidence, flags)`` in refanged offsets. Everything that depends on where an
occurrence sits in the original text - its original offsets, the ``defanged`` flag,
the benign / example words before it, its context snippet - is computed here, once
per accepted occurrence, in one loop.

The benign / example words are searched only in the text that can matter: the part of
each candidate's line at most ``_LOOKBACK`` characters before it. On a report those
windows are a fifth of the text, and on an IOC list (one indicator per line) almost
nothing.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate, compress, islice, repeat
from operator import gt, le, mul, sub

from spoorhound.core import _extract_patterns as P
from spoorhound.core._extract_accel import C
from spoorhound.core._extract_model import Candidate, _Draft, relabel
from spoorhound.core._extract_refang import OffsetMap
from spoorhound.core._extract_util import _CONTEXT_WIDTH, _LOOKBACK
from spoorhound.core.indicators import IndicatorType

__all__ = ["Row", "emit"]

#: (refanged start, refanged end, type, canonical value, confidence, flags)
Row = tuple[int, int, IndicatorType, str, int, tuple[str, ...]]

# Where a benign / example phrase may start. One ``str.find`` loop per word: a regex
# alternation would scan a class of common letters, and miss a word that starts inside
# another one's match ("i.e.g.").
_HINT_WORDS = P.BENIGN_HINTS + P.EXAMPLE_HINTS
# No benign / example phrase is shorter than "e.g.": shorter windows cannot hold one.
_MIN_WINDOW = 4


class _FlagSets(dict[tuple[str, ...], frozenset[str]]):
    """flags tuple -> frozenset, each built once (there are a handful)."""

    def __missing__(self, flags: tuple[str, ...]) -> frozenset[str]:
        fs = self[flags] = frozenset(flags)
        return fs


_FLAGSETS = _FlagSets()


def _hinted(text: str, wins: list[tuple[int, int]]) -> list[int]:
    """Indices of the windows ``text[lo:hi]`` that hold a benign / example hint word.

    All windows are joined by "\n" (no hint word holds one) and lower-cased once, and
    each word is searched with ``str.find`` over the whole: a regex alternation would
    scan a class of common letters, and miss a word that starts inside another one's
    match ("i.e.g."). A phrase the regexes can match holds a hint word inside the same
    window, so no window that matters is left out. If lower-casing changed the length,
    offsets would not line up, and every window is returned (the regexes decide).
    """
    joined = "\n".join([text[lo:hi] for lo, hi in wins])
    low = joined.lower()
    if len(low) != len(joined):
        return list(range(len(wins)))
    found: list[int] = []
    for word in _HINT_WORDS:
        at = low.find(word)
        while at != -1:
            found.append(at)
            at = low.find(word, at + 1)
    if not found:
        return []
    # offset in ``joined`` -> window index
    bounds = list(accumulate([hi - lo + 1 for lo, hi in wins]))
    return sorted({bisect_right(bounds, at) for at in found})


def _hinted_rows(text: str, starts: Sequence[int], order: list[int]) -> dict[int, int]:
    """{row: start of its look-back window} for the rows with a hint word in that window.

    A row's window is the part of its line at most ``_LOOKBACK`` characters before it.
    Neighbouring rows' windows overlap (several indicators on a line), so the words are
    searched in the union of the windows (:func:`_hinted` over the union's intervals),
    and each word found is then given to the windows that hold all of it.
    """
    ss = [starts[i] for i in order]
    if not all(map(le, ss, islice(ss, 1, None))):  # rows inside one replacement
        order = sorted(range(len(starts)), key=starts.__getitem__)
        ss = [starts[i] for i in order]
    lo0 = [s - _LOOKBACK if s > _LOOKBACK else 0 for s in ss]
    los = [
        nl + 1 if nl >= 0 else lo
        for nl, lo in zip(map(text.rfind, repeat("\n"), lo0, ss), lo0, strict=True)
    ]
    # the union: a window that starts after the previous one's end (its row) opens an
    # interval; windows are sorted by end, so the previous end is the furthest one
    opens = [0, *compress(range(1, len(ss)), map(gt, islice(los, 1, None), ss))]
    closes = [k - 1 for k in islice(opens, 1, None)]
    closes.append(len(ss) - 1)
    union = [(los[a], ss[b]) for a, b in zip(opens, closes, strict=True)]
    union = [w for w in union if w[1] - w[0] >= _MIN_WINDOW]
    if not union:
        return {}
    hits = _hinted(text, union)
    if not hits:
        return {}
    if len(hits) == len(union) and _lower_changes_length(text, union):
        # offsets in the lower-cased text do not line up: every window is a candidate
        return {order[k]: los[k] for k in range(len(ss)) if ss[k] - los[k] >= _MIN_WINDOW}
    out: dict[int, int] = {}
    for u in hits:
        lo, hi = union[u]
        low = text[lo:hi].lower()
        for word in _HINT_WORDS:
            at = low.find(word)
            while at != -1:
                w_lo = lo + at
                w_hi = w_lo + len(word)
                # rows whose window [line start or 80 back, row start) holds all of it
                k = bisect_left(ss, w_hi)
                while k < len(ss) and ss[k] <= w_lo + _LOOKBACK:
                    if los[k] <= w_lo:
                        out[order[k]] = los[k]
                    k += 1
                at = low.find(word, at + 1)
    return out


def _lower_changes_length(text: str, wins: list[tuple[int, int]]) -> bool:
    return any(len(text[lo:hi].lower()) != hi - lo for lo, hi in wins)


def emit(rows: list[Row], text: str, original: str, omap: OffsetMap | None) -> list[Candidate]:
    """Candidates for ``rows`` (refanged ``text``), sorted by original (start, -end).

    Column by column: each column is one ``map`` or comprehension, so the per-row work
    runs in C or in one tight loop. Only the rare rows that need more (defanged, or a
    benign / example phrase before them) get a Python statement of their own.
    """
    n = len(rows)
    if not n:
        return []
    if C is not None:
        return _emit_c(rows, text, original, omap)
    starts, ends, itypes, values, confs_t, flags = zip(*rows, strict=True)
    if omap is None:
        ostarts: Sequence[int] = starts
        oends: Sequence[int] = ends
        special = []
    else:
        ostarts, oends, defanged = omap.spans(starts, ends)
        special = list(compress(range(n), defanged))
    # stable sort on (start, -end): ties keep the order the passes found them in
    keys = list(map(sub, map(mul, ostarts, repeat(len(original) + 1)), oends))
    order = sorted(range(n), key=keys.__getitem__)
    # benign / example words before a row: in its line, at most _LOOKBACK characters back
    hinted = _hinted_rows(text, starts, order)
    confs = list(confs_t)
    fsets = list(map(_FLAGSETS.__getitem__, flags))
    if special or hinted:
        for i, (conf, fset) in _fixes(text, starts, confs, flags, special, hinted).items():
            confs[i] = conf
            fsets[i] = fset
    flat = _flat(original)
    width = _CONTEXT_WIDTH
    snippets = [
        flat[s - pad if s > pad else 0 : e + pad]
        if (pad := (width - e + s) >> 1) > 0
        # long spans: YARA rules
        else flat[s : s + width]
        for s, e in zip(ostarts, oends, strict=True)
    ]
    # (a comprehension slices faster than map over str.__getitem__, a slot wrapper)
    spans = [original[s:e] for s, e in zip(ostarts, oends, strict=True)]
    drafts = list(map(_Draft, itypes, values, spans, ostarts, oends, confs, snippets, fsets))
    return relabel([drafts[i] for i in order])


def _emit_c(rows: list[Row], text: str, original: str, omap: OffsetMap | None) -> list[Candidate]:
    """:func:`emit` with its per-row columns and Candidates built in C (``_extract_c``)."""
    assert C is not None
    starts, confs, flags, ostarts, oends, special, order = C.columns(rows, omap)
    hinted = C.hinted(text, starts, order, _HINT_WORDS, _LOOKBACK, _MIN_WINDOW)
    if hinted is None:  # a window holds "İ" or the Kelvin sign: str.lower decides
        hinted = _hinted_rows(text, starts, order)
    fixes = _fixes(text, starts, confs, flags, special, hinted) if special or hinted else {}
    out: list[Candidate] = C.build(
        rows, order, ostarts, oends, fixes, original, _flat(original), _CONTEXT_WIDTH, _FLAGSETS
    )
    return out


def _fixes(
    text: str,
    starts: Sequence[int],
    confs: Sequence[int],
    flags: Sequence[tuple[str, ...]],
    special: list[int],
    hinted: dict[int, int],
) -> dict[int, tuple[int, frozenset[str]]]:
    """{row: (confidence, flags)} for the defanged rows and those with a hint word before."""
    fixes: dict[int, tuple[int, frozenset[str]]] = {}
    extra: dict[int, list[str]] = {}
    for i, lo in hinted.items():
        line_before = text[lo : starts[i]].lower()
        if P.BENIGN_BEFORE.search(line_before):
            extra.setdefault(i, []).append("benign-context")
        if P.EXAMPLE_BEFORE.search(line_before):
            extra.setdefault(i, []).append("example")
    for i in special:
        if i in extra:
            extra[i].insert(0, "defanged")
        else:  # defanged only (the common case): +10 and the flag
            conf = confs[i] + 10
            conf = conf if 0 <= conf <= 100 else max(0, min(100, conf))
            fixes[i] = (conf, _FLAGSETS[(*flags[i], "defanged")])
    for i, more in extra.items():
        conf = confs[i]
        if more[0] == "defanged":
            conf += 10
        if ("example" in more or "benign-context" in more) and "example" not in flags[i]:
            conf -= 40  # (an example value was marked down when it was added)
        conf = conf if 0 <= conf <= 100 else max(0, min(100, conf))
        fixes[i] = (conf, _FLAGSETS[flags[i] + tuple(more)])
    return fixes


def _flat(original: str) -> str:
    """The context snippet is one line: newlines and tabs as spaces, replaced once."""
    flat = original
    for c in "\r\n\t":
        if c in flat:
            flat = flat.replace(c, " ")
    return flat
