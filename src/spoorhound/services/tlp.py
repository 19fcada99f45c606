"""TLP rules for data leaving its enclave (exports, feeds).

TLP:RED and TLP:AMBER+STRICT observations never leave their enclave: reads show
them only to callers who can read that enclave (the scope does that), and every
export or feed drops them. An export carries the most restrictive TLP of the
observations it includes. An observation without a TLP is unmarked: it is
exported and does not raise the export's TLP.
"""

from __future__ import annotations

from collections.abc import Iterable

from spoorhound.core.context import TLP_LEVELS

__all__ = ["NEVER_EXPORTED", "exportable", "most_restrictive", "rank"]

#: Levels that never leave their enclave.
NEVER_EXPORTED: frozenset[str] = frozenset({"red", "amber+strict"})

_RANK = {level: i for i, level in enumerate(TLP_LEVELS)}


def rank(tlp: str | None) -> int:
    """Restrictiveness of ``tlp`` (normalised name): -1 for unmarked, then clear … red."""
    return -1 if tlp is None else _RANK[tlp]


def exportable(tlp: str | None) -> bool:
    """Whether an observation with this TLP may leave its enclave."""
    return tlp not in NEVER_EXPORTED


def most_restrictive(levels: Iterable[str | None]) -> str | None:
    """The most restrictive of ``levels`` (None when all are unmarked or there are none)."""
    best: str | None = None
    for level in levels:
        if rank(level) > rank(best):
            best = level
    return best
