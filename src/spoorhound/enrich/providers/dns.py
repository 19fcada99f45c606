"""DNS resolution (dnspython): A/AAAA/MX/NS/TXT/CNAME records of a domain, and the PTR
(reverse) records of an IPv4/IPv6 address, as pivots.

Queries go to the resolvers in the config (``nameservers``, ``port``), never to the
system's: ``dns.asyncresolver.Resolver(configure=False)`` with no cache (the runner
caches results for ``cache_ttl``). Each record type is one query, all sent
concurrently; dnspython retries over TCP when a UDP answer is truncated, and
``tcp: true`` forces TCP. The provider subclasses :class:`HttpProvider` only so the
runner drives every network provider the same way (``enrich(client, indicator)``,
``enrich_batch``); it ignores the HTTP client and its config model carries DNS
settings, not ``base_url``.

Outcomes: NXDOMAIN (for any queried type) → ``NOT_FOUND``; an existing name without
records of a type (NODATA) → that type's list is empty; a time-out → ``ERROR`` (timed
out); SERVFAIL/REFUSED from every server → ``ERROR``; any other DNS failure →
``ERROR``. Partial answers are not returned: one failed type fails the lookup, so the
history never shows a record "disappearing" because of a lost packet.

Addresses: one PTR query for the reverse name (``dns.reversename.from_address``:
``4.3.2.1.in-addr.arpa``, nibbles under ``ip6.arpa``). NXDOMAIN → ``NOT_FOUND`` (no
reverse record, the usual case); the host names become ``PTR`` (sorted) with their
``ttl``, and ``has-hostname`` pivots to domains. A PTR name is whatever the owner of
the address space chose to publish, so it is context, not proof of who runs the host.

Mapping rules (context only: verdict ``unknown``, no score): attributes hold one list
per queried type, sorted (``A``, ``AAAA``, ``MX`` as ``{"preference", "exchange"}``, ``NS``,
``TXT`` as decoded strings, ``CNAME``) and ``ttl`` per type. Pivots: ``resolves-to``
(A → ipv4, AAAA → ipv6), ``mail-server`` (MX exchange → domain), ``name-server``
(NS → domain), ``alias-of`` (CNAME target → domain).

TLP: resolving a name can reach the authoritative server of whoever controls the
domain, which tips them off, so ``max_tlp`` is ``green``. No rate limit is declared;
``cache_ttl`` is one hour.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any, ClassVar, Literal

import dns.asyncresolver
import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
import dns.reversename
import httpx
from pydantic import Field

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpProvider,
    ProviderConfig,
    ProviderError,
    Related,
    Status,
    Verdict,
)
from spoorhound.enrich.providers._common import MAX_RELATED, pivot, unique

__all__ = ["RECORD_TYPES", "DnsConfig", "DnsProvider"]

_T = IndicatorType
RecordType = Literal["A", "AAAA", "MX", "NS", "TXT", "CNAME"]
#: The record types queried by default, in the order they are reported.
RECORD_TYPES: tuple[RecordType, ...] = ("A", "AAAA", "MX", "NS", "TXT", "CNAME")


class DnsConfig(ProviderConfig):
    """Which resolvers to ask, how, and for what."""

    enabled: bool = False
    nameservers: list[str] = Field(min_length=1)
    port: int = Field(default=53, gt=0, lt=65_536)
    timeout: float = Field(default=5.0, gt=0, le=60)
    tcp: bool = False
    record_types: list[RecordType] = Field(default_factory=lambda: list(RECORD_TYPES))


class _NxDomain(Exception):
    """The name does not exist."""


class DnsProvider(HttpProvider):
    """Forward DNS records of a domain, reverse (PTR) of an address, through configured
    resolvers."""

    name: ClassVar[str] = "dns"
    title: ClassVar[str] = "DNS resolution"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({_T.DOMAIN, _T.IPV4, _T.IPV6})
    max_tlp: ClassVar[str] = "green"
    cache_ttl: ClassVar[int] = 3600
    config_model: ClassVar[type[ProviderConfig]] = DnsConfig

    @property
    def settings(self) -> DnsConfig:
        """The typed configuration."""
        assert isinstance(self.config, DnsConfig)
        return self.config

    def resolver(self) -> dns.asyncresolver.Resolver:
        """A resolver on the configured servers only (no system config, no cache)."""
        cfg = self.settings
        r = dns.asyncresolver.Resolver(configure=False)
        r.nameservers = list(cfg.nameservers)
        r.port = cfg.port
        r.timeout = cfg.timeout
        r.lifetime = cfg.timeout
        r.cache = None
        return r

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Resolve every configured record type of a domain, or the PTR records of an
        address (``client`` is unused)."""
        resolver = self.resolver()
        types: list[str]
        if indicator.type is _T.DOMAIN:
            name = indicator.value
            types = list(dict.fromkeys(self.settings.record_types))
        else:
            name = dns.reversename.from_address(indicator.value).to_text(omit_final_dot=True)
            types = ["PTR"]
        outcomes = await asyncio.gather(
            *(self._query(resolver, name, t) for t in types), return_exceptions=True
        )
        if any(isinstance(o, _NxDomain) for o in outcomes):
            return self.result(indicator, Status.NOT_FOUND)
        for o in outcomes:
            if isinstance(o, BaseException):
                if isinstance(o, ProviderError):
                    raise o
                raise ProviderError(Status.ERROR, f"{self.name}: {type(o).__name__}") from None
        records: dict[str, Any] = {}
        ttls: dict[str, int] = {}
        related: list[Related | None] = []
        for rdtype, outcome in zip(types, outcomes, strict=True):
            assert isinstance(outcome, tuple)
            values, ttl, rel = outcome
            records[rdtype] = values
            if ttl is not None:
                ttls[rdtype] = ttl
            related += rel
        return self.result(
            indicator,
            verdict=Verdict.UNKNOWN,
            attributes={**records, "ttl": ttls},
            related=unique(related, MAX_RELATED),
            raw={"records": records, "ttl": ttls},
        )

    async def _query(
        self, resolver: dns.asyncresolver.Resolver, name: str, rdtype: str
    ) -> tuple[list[Any], int | None, list[Related | None]]:
        try:
            answer = await resolver.resolve(
                name, rdtype, tcp=self.settings.tcp, raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN:
            raise _NxDomain from None
        except dns.exception.Timeout:
            raise ProviderError(
                Status.ERROR,
                f"{self.name}: {rdtype} query timed out after {self.settings.timeout:g}s",
            ) from None
        except dns.resolver.NoNameservers:
            raise ProviderError(
                Status.ERROR, f"{self.name}: no nameserver answered {rdtype} (SERVFAIL/REFUSED)"
            ) from None
        except dns.exception.DNSException as e:
            raise ProviderError(
                Status.ERROR, f"{self.name}: {rdtype} query failed: {type(e).__name__}"
            ) from None
        rrset = answer.rrset
        if rrset is None:
            return [], None, []
        values = _decode(rdtype, rrset)
        return values, rrset.ttl, _related(rdtype, values)


def _host(name: Any) -> str:
    return str(name.to_text(omit_final_dot=True)).lower()


def _decode(rdtype: str, rrset: Any) -> list[Any]:
    """The record values, sorted: an RRset has no order, and history diffs need one."""
    if rdtype in ("A", "AAAA"):
        return sorted((r.address for r in rrset), key=ipaddress.ip_address)
    if rdtype == "MX":
        mx = sorted((r.preference, _host(r.exchange)) for r in rrset)
        return [{"preference": p, "exchange": e} for p, e in mx]
    if rdtype in ("NS", "CNAME", "PTR"):
        return sorted(_host(r.target) for r in rrset)
    if rdtype == "TXT":
        return sorted(b"".join(r.strings).decode("utf-8", "replace") for r in rrset)
    return sorted(r.to_text() for r in rrset)


def _related(rdtype: str, values: list[Any]) -> list[Related | None]:
    if rdtype == "A":
        return [pivot("resolves-to", _T.IPV4, v) for v in values]
    if rdtype == "AAAA":
        return [pivot("resolves-to", _T.IPV6, v) for v in values]
    if rdtype == "MX":
        return [pivot("mail-server", _T.DOMAIN, v["exchange"]) for v in values]
    if rdtype == "NS":
        return [pivot("name-server", _T.DOMAIN, v) for v in values]
    if rdtype == "CNAME":
        return [pivot("alias-of", _T.DOMAIN, v) for v in values]
    if rdtype == "PTR":
        return [pivot("has-hostname", _T.DOMAIN, v) for v in values]
    return []
