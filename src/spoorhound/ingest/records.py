"""The contract between format readers and the ingest service.

A reader turns a byte stream into a sequence of :class:`RawRecord` (one indicator
as the source wrote it, with the context the source gave) and :class:`Rejection`
(a row the reader could not turn into a record, with its line and the reason).
Readers never drop a row silently: every input row becomes at least one record,
one rejection or one :class:`Skip` (a row that is deliberately not an indicator,
such as a MISP ``link`` attribute, counted and reported with the reason).

Values are *not* validated here: type detection, refanging and canonical form are
the ingest service's job (``spoorhound.core.indicators``), so that every format
gets exactly the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_RAW_EXCERPT", "RawRecord", "ReaderItem", "Rejection", "Skip", "excerpt"]

#: How much of an offending row is kept in a rejection (rows can be megabytes).
MAX_RAW_EXCERPT = 200


def excerpt(raw: str) -> str:
    """Return at most :data:`MAX_RAW_EXCERPT` characters of ``raw`` for error reports."""
    if len(raw) <= MAX_RAW_EXCERPT:
        return raw
    return raw[: MAX_RAW_EXCERPT - 1] + "…"


@dataclass(slots=True)
class RawRecord:
    """One indicator as a source wrote it, with that source's context.

    ``line`` is the 1-based line number in the (decompressed) input for line
    formats, or the 1-based item number for JSON documents (``item 12``).
    Times are UTC epoch seconds. ``tlp`` is already normalised by
    :func:`spoorhound.core.context.parse_tlp` when the reader found one.
    """

    line: int
    value: str
    type: str | None = None
    tags: tuple[str, ...] = ()
    first_seen: int | None = None
    last_seen: int | None = None
    confidence: int | None = None
    tlp: str | None = None
    source: str | None = None
    notes: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class Rejection:
    """A row that could not be turned into a record: where and why."""

    line: int
    reason: str
    raw: str = ""


@dataclass(slots=True, frozen=True)
class Skip:
    """A row that is deliberately not an indicator (a comment attribute, a link)."""

    line: int
    reason: str


ReaderItem = RawRecord | Rejection | Skip
