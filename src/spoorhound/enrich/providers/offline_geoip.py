"""``geoip``: country and announcing network of an IP address, from geoip2fast's bundled data.

The PyPI package ``geoip2fast`` ships MaxMind GeoLite2-derived tables; the combined
``geoip2fast-asn-ipv6.dat.gz`` holds country and ASN for IPv4 and IPv6 and loads in
about 0.3 s (once per process, on the first lookup). A lookup is a pair of bisects,
a few microseconds.

Returned attributes: ``country_code`` (ISO 3166-1 alpha-2), ``country_name``,
``network`` (the country block), ``asn_name``, ``asn_prefix`` (the announced prefix)
and ``database`` (the data's version). The shipped data has AS *names* but no AS
*numbers*: its ASN table maps each announced network to an index into a list of
72,293 names, assigned in first-seen order (``CLOUDFLARENET`` is 1; Cloudflare is
AS13335), so no number can be derived (details in docs/providers.md). Hence no
``asn_number`` and no ``announced-by`` pivot to an ``asn`` indicator; the announced
prefix is given as an ``announced-in`` pivot to a ``cidr`` indicator, which relates
addresses of the same network just as well.

A CIDR is looked up by its network address, and ``partial`` says whether the
database block covers only part of it. Private, reserved and unknown addresses are
``not_found`` (``ipclass`` explains what they are).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import (
    EnrichmentResult,
    OfflineProvider,
    Related,
    Status,
    Verdict,
)
from spoorhound.enrich.providers.offline_data import geoip

__all__ = ["GeoIpProvider"]

_NO_COUNTRY = ("--", "", None)


class GeoIpProvider(OfflineProvider):
    """Country (ISO code and name) and ASN name/prefix of IPv4/IPv6 addresses and networks."""

    name: ClassVar[str] = "geoip"
    title: ClassVar[str] = "Country and ASN (geoip2fast)"
    types: ClassVar[frozenset[IndicatorType]] = frozenset(
        {IndicatorType.IPV4, IndicatorType.IPV6, IndicatorType.CIDR}
    )
    cache_ttl: ClassVar[int] = 7 * 86_400  # the bundled data changes with the package

    def enrich_many(self, indicators: Sequence[Indicator]) -> list[EnrichmentResult]:
        """Look every accepted address up in the bundled GeoIP data."""
        db = geoip()
        version = str(getattr(db, "source_info", ""))
        now = int(time.time())
        out: list[EnrichmentResult] = []
        types = self.types
        for ind in indicators:
            if ind.type not in types:
                continue
            out.append(self._one(db, version, ind, now))
        return out

    def _one(self, db: Any, version: str, ind: Indicator, now: int) -> EnrichmentResult:
        addr = ind.value
        net: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
        if ind.type is IndicatorType.CIDR:
            try:
                net = ipaddress.ip_network(addr, strict=False)
            except ValueError:
                return self._missing(ind, now, "not a network")
            addr = str(net.network_address)
        r = db.lookup(addr)
        code = r.country_code
        if code in _NO_COUNTRY or r.is_private:
            # geoip2fast reports private/reserved space and misses as "--" with a
            # description in country_name ("Private Network Class A", "<not found…>").
            return self._missing(ind, now, str(r.country_name) or "not in database")
        attrs: dict[str, Any] = {
            "country_code": code,
            "country_name": r.country_name,
            "network": r.cidr,
            "database": version,
        }
        related: tuple[Related, ...] = ()
        if r.asn_name:
            attrs["asn_name"] = r.asn_name
            attrs["asn_prefix"] = r.asn_cidr
            related = (Related("announced-in", IndicatorType.CIDR, r.asn_cidr),)
        if net is not None:
            block = ipaddress.ip_network(r.cidr, strict=False) if r.cidr else None
            attrs["partial"] = block is None or not net.subnet_of(block)  # type: ignore[arg-type]
        return EnrichmentResult(
            provider=self.name,
            indicator=ind,
            status=Status.OK,
            verdict=Verdict.UNKNOWN,
            score=None,
            tags=(f"country:{code}",),
            attributes=attrs,
            related=related,
            fetched_at=now,
        )

    def _missing(self, ind: Indicator, now: int, why: str) -> EnrichmentResult:
        return EnrichmentResult(
            provider=self.name,
            indicator=ind,
            status=Status.NOT_FOUND,
            attributes={"reason": why},
            fetched_at=now,
        )
