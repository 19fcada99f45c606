"""Relative and absolute time specifications (``7d``, ``-24h``, ``2024-01-31``)."""

from __future__ import annotations

import re

from spoorhound.core.context import parse_time

__all__ = ["parse_since"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_RELATIVE = re.compile(r"^-?(\d{1,9})\s*([smhdwy])$")


def parse_since(spec: str, now: int) -> int:
    """Epoch seconds for ``spec``: a duration back from ``now`` (``7d``, ``-24h``, ``30m``,
    ``2w``, ``1y``) or an absolute date/time accepted by :func:`parse_time`.

    Raises ValueError with the accepted forms when ``spec`` is neither.
    """
    m = _RELATIVE.match(spec.strip().lower())
    if m:
        return now - int(m.group(1)) * _UNITS[m.group(2)]
    try:
        return parse_time(spec)
    except ValueError:
        raise ValueError(
            f"bad time {spec!r}: use a duration like 7d, 24h, 30m, 2w or a date like 2024-01-31"
        ) from None
