"""Indicator extraction from unstructured text: reports, alerts, e-mails, chat.

:func:`extract` returns every occurrence of every indicator it finds, as a
:class:`Candidate` with the canonical value (from :func:`spoorhound.core.indicators.normalize`,
so extraction and ingest always agree), the span exactly as written, its offsets in
the input, a confidence, a one-line context snippet and flags. :func:`unique` keeps
the first occurrence of each (type, value).

How it stays fast (CPython, one core): a refang pre-pass that costs nothing on text
without defang markers; then compiled regexes that each scan the text once in C and
start with a literal character, so the engine skips to it (patterns that must start
with a character class are run from literal *anchors*, see ``_extract_util``); tokens
with a "." or ":" and hex runs are found without splitting the text (``_extract_tokens``).
Python runs per candidate, never per character, and as little as possible per
candidate: the passes only append a row; what depends on the original text (offsets,
context snippet, benign / example words before it) is computed column by column for
all rows at the end (``_extract_emit``). Every pattern is linear-time on any input
(see ``_extract_patterns``).

Flags a candidate may carry:

``defanged``        the text wrote it defanged (``evil[.]com``, ``hxxp``)
``benign-context``  the text calls it benign / legitimate / a false positive
``example``         an RFC example name or range, or introduced by "e.g." / "for example"
``url-host``        the host part of a URL also extracted as a URL
``email-domain``    the domain part of an e-mail address
``safelisted``      on a MISP warninglist (``Candidate.safelist`` names the list)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace

from spoorhound.core._extract_model import EXTRACTABLE, Candidate, Safelist
from spoorhound.core._extract_run import Run, passes
from spoorhound.core._hostnames import tlds
from spoorhound.core.indicators import IndicatorType

__all__ = ["EXTRACTABLE", "Candidate", "Safelist", "extract", "is_real_tld", "unique"]


def is_real_tld(label: str) -> bool:
    """True if ``label`` (any case) is a top-level domain in the Public Suffix List snapshot."""
    return label.lower() in tlds()


def unique(cands: Iterable[Candidate]) -> list[Candidate]:
    """Keep the first occurrence of each (type, value), in input order."""
    seen: set[tuple[str, str]] = set()
    mark = seen.add  # returns None: "not mark(key)" records the key and is True
    return [c for c in cands if (key := (c.type, c.value)) not in seen and not mark(key)]


def extract(
    text: str,
    *,
    types: Collection[IndicatorType] | None = None,
    safelist: Safelist | None = None,
) -> list[Candidate]:
    """Find every indicator in ``text``; every occurrence, sorted by offset.

    ``types`` restricts the search (default: every extractable type). With a
    ``safelist``, candidates on a warninglist are kept but flagged ``safelisted``
    with :attr:`Candidate.safelist` naming the list.
    """
    wanted = (
        EXTRACTABLE if types is None else frozenset(IndicatorType(t) for t in types) & EXTRACTABLE
    )
    run = Run(text, wanted)
    for step in passes(run):
        step()
    out = run.candidates()
    if safelist is not None:
        out = _apply_safelist(out, safelist)
    return out


def _apply_safelist(cands: list[Candidate], index: Safelist) -> list[Candidate]:
    verdicts: dict[tuple[str, str], str | None] = {}
    result: list[Candidate] = []
    for c in cands:
        key = (c.type, c.value)
        if key not in verdicts:
            verdicts[key] = index.match(c.type, c.value)
        name = verdicts[key]
        if name is None:
            result.append(c)
        else:
            result.append(replace(c, flags=c.flags | {"safelisted"}, safelist=name))
    return result
