"""The extractor's value types: :class:`Candidate` and the :class:`Safelist` protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from spoorhound.core.indicators import IndicatorType

__all__ = ["EXTRACTABLE", "Candidate", "Safelist", "relabel"]

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


@dataclass(slots=True)
class _Draft:
    """Same fields and slot layout as :class:`Candidate`, but mutable.

    A frozen dataclass sets each field through ``object.__setattr__`` (about 1.5 µs for
    nine fields); building a ``_Draft`` and re-labelling it as a ``Candidate`` (legal:
    identical slots, no ``__dict__``; see :func:`relabel`) costs a quarter of that. The
    extractor builds one per occurrence: on IOC-dense text that was a fifth of its time.
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


def relabel(drafts: list[_Draft]) -> list[Candidate]:
    """The drafts, each re-labelled in place as the :class:`Candidate` it equals."""
    for draft in drafts:
        draft.__class__ = Candidate  # type: ignore[assignment]
    return drafts  # type: ignore[return-value]
