"""The extractor's value types: :class:`Candidate` and the :class:`Safelist` protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from spoorhound.core.indicators import IndicatorType

__all__ = ["EXTRACTABLE", "Candidate", "Safelist"]

T = IndicatorType

#: The type of every indicator this module can find (string/bytes have no textual marker).
EXTRACTABLE: frozenset[IndicatorType] = frozenset(T) - {T.STRING, T.BYTES}


class Safelist(Protocol):
    """What :func:`extract` needs from a safelist (e.g. ``reference.warninglists.SafelistIndex``).

    A protocol, so that ``core`` stays pure and does not import the reference data layer.
    """

    def match(self, type: str, value: str) -> str | None:
        """Name of the first list flagging ``value`` of ``type``, or None."""
        ...


@dataclass(frozen=True, slots=True)
class Candidate:
    """One occurrence of an indicator in a text.

    ``value`` is canonical; ``span`` is the text as written (possibly defanged);
    ``start``/``end`` index the input string; ``confidence`` is 0..100.
    """

    type: IndicatorType
    value: str
    span: str
    start: int
    end: int
    confidence: int
    context: str
    flags: frozenset[str] = frozenset()
    safelist: str | None = None
