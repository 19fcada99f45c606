"""``ipclass``: what kind of address space an IP or network is in (no network, no data files).

Classes come from the IANA special-purpose address registries (RFC 6890 and its
updates) and are held as sorted, non-overlapping integer ranges, so one address is
classified with one :func:`bisect.bisect_right` instead of the dozen network
containment tests ``ipaddress``'s ``is_private`` & co. run per call.

IPv4 classes: ``unspecified`` (0/8 "this network"), ``private`` (RFC 1918),
``cgnat`` (100.64/10, RFC 6598 shared address space), ``loopback`` (127/8),
``link-local`` (169.254/16), ``reserved`` (192.0.0/24 IETF protocol assignments,
192.88.99/24 deprecated 6to4 relay anycast, 240/4 future use), ``documentation``
(TEST-NET-1/2/3), ``benchmarking`` (198.18/15), ``multicast`` (224/4), ``broadcast``
(255.255.255.255) and ``global`` for everything else.

IPv6 classes: ``unspecified`` (::), ``loopback`` (::1), ``ipv4-mapped``
(::ffff:0:0/96, classified by the embedded IPv4 address), ``nat64`` (64:ff9b::/96
and 64:ff9b:1::/48), ``discard`` (100::/64), ``reserved`` (2001::/23 IETF protocol
assignments incl. Teredo and ORCHID, 5f00::/16 SRv6 SIDs, and everything outside
2000::/3 that is not listed: unallocated by IANA), ``documentation`` (2001:db8::/32,
3fff::/20), ``6to4`` (2002::/16), ``private`` (fc00::/7 unique local),
``link-local`` (fe80::/10), ``multicast`` (ff00::/8), ``global`` otherwise.

*Bogon* means "should never appear as a public source or destination": every class
except ``global``, ``6to4`` and ``nat64`` (IPv4 has no unallocated space left since
2011, so its bogons are exactly its special ranges; IPv6 bogons include unallocated
space outside 2000::/3). ``is_private`` follows the RFCs' private-use ranges
(RFC 1918, RFC 4193) plus CGNAT, which is private to a carrier.

This is context, never a verdict: a private address in an indicator list is usually
a false positive or an internal asset, which the scorer decides.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import time
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any, ClassVar

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import EnrichmentResult, OfflineProvider, Status, Verdict

__all__ = ["IpClassProvider", "classify"]

_V4_SPECIAL = (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # 255.255.255.255 carved out below
)
_V6_SPECIAL = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", "ipv4-mapped"),
    ("64:ff9b::/96", "nat64"),
    ("64:ff9b:1::/48", "nat64"),
    ("100::/64", "discard"),
    ("2001::/23", "reserved"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "reserved"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
)
_NOT_BOGON = frozenset({"global", "6to4", "nat64"})
_PRIVATE = frozenset({"private", "cgnat"})
_RESERVED = frozenset({"reserved", "documentation", "benchmarking", "discard", "unspecified"})
_V6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")

_Ranges = tuple[list[int], list[int], list[str]]


def _table(version: int) -> _Ranges:
    """Sorted starts, inclusive ends and classes; gaps are filled with the default class."""
    spans: list[tuple[int, int, str]] = []
    for cidr, cls in _V4_SPECIAL if version == 4 else _V6_SPECIAL:
        net = ipaddress.ip_network(cidr)
        first, last = int(net.network_address), int(net.broadcast_address)
        if cidr == "240.0.0.0/4":
            spans.append((first, last - 1, cls))
            spans.append((last, last, "broadcast"))
        else:
            spans.append((first, last, cls))
    spans.sort()
    # Fill gaps: IPv4 gaps are global; IPv6 gaps are global inside 2000::/3 and
    # reserved (unallocated) outside it.
    top = (1 << 32) - 1 if version == 4 else (1 << 128) - 1
    out: list[tuple[int, int, str]] = []
    cursor = 0
    for first, last, cls in spans:
        if first > cursor:
            out.extend(_gap(version, cursor, first - 1))
        out.append((first, last, cls))
        cursor = last + 1
    if cursor <= top:
        out.extend(_gap(version, cursor, top))
    return [s for s, _, _ in out], [e for _, e, _ in out], [c for _, _, c in out]


def _gap(version: int, first: int, last: int) -> list[tuple[int, int, str]]:
    if version == 4:
        return [(first, last, "global")]
    lo, hi = int(_V6_GLOBAL_UNICAST.network_address), int(_V6_GLOBAL_UNICAST.broadcast_address)
    parts: list[tuple[int, int, str]] = []
    for a, b, cls in ((first, min(last, lo - 1), "reserved"), (max(first, lo), min(last, hi), "global"), (max(first, hi + 1), last, "reserved")):  # fmt: skip
        if a <= b:
            parts.append((a, b, cls))
    return parts


@functools.cache
def _tables() -> tuple[_Ranges, _Ranges]:
    """The IPv4 and IPv6 tables, built on first use (nothing runs at import)."""
    return _table(4), _table(6)


def _lookup(table: _Ranges, addr: int) -> tuple[str, int]:
    i = bisect_right(table[0], addr) - 1
    return table[2][i], table[1][i]


def classify(version: int, first: int, last: int | None = None) -> str:
    """Class of an address (``last`` None) or of the range ``first..last``.

    A range that crosses class boundaries is ``mixed``. An IPv4-mapped IPv6 address
    takes the class of the IPv4 address inside it.
    """
    table = _tables()[0] if version == 4 else _tables()[1]
    cls, end = _lookup(table, first)
    if last is not None and last > end:
        return "mixed"
    if cls == "ipv4-mapped" and last is None:
        return classify(4, first & 0xFFFFFFFF)
    return cls


def _features(t: IndicatorType, value: str) -> dict[str, Any] | None:
    if t is IndicatorType.IPV4:
        try:
            n = int.from_bytes(socket.inet_aton(value), "big")
        except OSError:
            return None
        return _describe(4, classify(4, n), 32)
    if t is IndicatorType.IPV6:
        try:
            n = int.from_bytes(socket.inet_pton(socket.AF_INET6, value), "big")
        except OSError:
            return None
        attrs = _describe(6, classify(6, n), 128)
        if _lookup(_tables()[1], n)[0] == "ipv4-mapped":
            attrs["embedded_ipv4"] = socket.inet_ntoa((n & 0xFFFFFFFF).to_bytes(4, "big"))
        elif attrs["class"] == "6to4":
            attrs["embedded_ipv4"] = socket.inet_ntoa(((n >> 80) & 0xFFFFFFFF).to_bytes(4, "big"))
        return attrs
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None
    cls = classify(net.version, int(net.network_address), int(net.broadcast_address))
    attrs = _describe(net.version, cls, net.prefixlen)
    attrs["num_addresses"] = net.num_addresses
    return attrs


def _describe(version: int, cls: str, prefix: int) -> dict[str, Any]:
    return {
        "version": version,
        "class": cls,
        "prefix_length": prefix,
        "is_global": cls == "global",
        "is_private": cls in _PRIVATE,
        "is_reserved": cls in _RESERVED,
        "is_bogon": cls not in _NOT_BOGON and cls != "mixed",
    }


class IpClassProvider(OfflineProvider):
    """Address-space class of IPv4/IPv6 addresses and networks (private, CGNAT, bogon…)."""

    name: ClassVar[str] = "ipclass"
    title: ClassVar[str] = "IP address class"
    types: ClassVar[frozenset[IndicatorType]] = frozenset(
        {IndicatorType.IPV4, IndicatorType.IPV6, IndicatorType.CIDR}
    )
    cache_ttl: ClassVar[int] = 30 * 86_400  # the registries change every few years

    def enrich_many(self, indicators: Sequence[Indicator]) -> list[EnrichmentResult]:
        """Classify every accepted indicator; an unparsable value is ``not_found``."""
        now = int(time.time())
        out: list[EnrichmentResult] = []
        types = self.types
        for ind in indicators:
            if ind.type not in types:
                continue
            attrs = _features(ind.type, ind.value)
            if attrs is None:
                out.append(
                    EnrichmentResult(
                        provider=self.name,
                        indicator=ind,
                        status=Status.NOT_FOUND,
                        error="not an IP value",
                        fetched_at=now,
                    )
                )
                continue
            cls = attrs["class"]
            tags = (f"ip:{cls}", "ip:bogon") if attrs["is_bogon"] else (f"ip:{cls}",)
            out.append(
                EnrichmentResult(
                    provider=self.name,
                    indicator=ind,
                    status=Status.OK,
                    verdict=Verdict.UNKNOWN,
                    score=None,
                    tags=tags,
                    attributes=attrs,
                    fetched_at=now,
                )
            )
        return out
