"""Small helpers shared by the feed and network providers (pivots, host typing, limits).

Private: the provider modules import these so that the same rules (a pivot is always a
canonical, valid indicator; a host is an IP or a domain) are written once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from spoorhound.core.indicators import IndicatorType, InvalidIndicator, normalize
from spoorhound.enrich.provider import Related

__all__ = ["MAX_RELATED", "dedupe", "host_type", "pick", "pivot", "pivots", "short"]

#: At most this many pivots per result: a host with 40,000 URLs must not produce
#: 40,000 relationship rows from one lookup.
MAX_RELATED = 100


def host_type(host: str) -> IndicatorType:
    """The indicator type of a host name or address: ipv4, ipv6 or domain."""
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return IndicatorType.DOMAIN
    return IndicatorType.IPV4 if addr.version == 4 else IndicatorType.IPV6


def pivot(relation: str, type: IndicatorType, value: object) -> Related | None:
    """A :class:`Related` with the canonical form of ``value``, or None when the provider
    sent something that is not a valid indicator of ``type`` (never trust a payload)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return Related(relation, type, normalize(type, value))
    except (InvalidIndicator, ValueError):
        return None


def pivots(items: Iterable[Related | None], limit: int = MAX_RELATED) -> tuple[Related, ...]:
    """Drop the invalid ones and duplicates, keep the order, stop at ``limit``."""
    out: dict[Related, None] = {}
    for r in items:
        if r is not None:
            out.setdefault(r)
            if len(out) >= limit:
                break
    return tuple(out)


def dedupe(values: Iterable[object]) -> tuple[str, ...]:
    """Non-empty strings in first-seen order, without duplicates."""
    seen: dict[str, None] = {}
    for v in values:
        if isinstance(v, str) and v.strip():
            seen.setdefault(v.strip())
    return tuple(seen)


def short(value: object, limit: int = 80) -> str:
    """A provider-supplied value made safe to quote in an error message."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pick(body: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The entries of ``body`` named in ``keys`` whose value is not None."""
    return {k: body[k] for k in keys if body.get(k) is not None}
