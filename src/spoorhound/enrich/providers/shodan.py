"""Shodan REST API: host information for an IP address (context, rarely a verdict).

Endpoint (https://developer.shodan.io/api): ``GET /shodan/host/{ip}?key=…&minify=true``
(``minify`` drops the per-service banners and keeps ports, host facts and ``vulns``).
Shodan takes the key only as the ``key`` query parameter, so the provider sets
``key_in_query`` (the URLs httpx logs have the key masked). Host lookups cost
no query credits. There is no bulk host endpoint: a batch is one call per address.

Answers: 200 ``{"ip_str", "ports", "hostnames", "domains", "vulns", "tags", "org",
"isp", "asn", "os", "country_code", "city", "last_update"}``; 404 ``{"error": "No
information available for that IP."}`` → NOT_FOUND; 401/403 (bad key) →
AUTH_FAILED; 429 (faster than the plan's rate) → RATE_LIMITED. A 200 with ``error``
or without ``ip_str`` is a failure.

Mapping: Shodan describes exposure, not intent, so the verdict stays UNKNOWN (no
score) unless Shodan itself labels the host ``c2``, ``malware`` or ``compromised``
(→ MALICIOUS 80) or lists known vulnerabilities (→ SUSPICIOUS, score
``min(60, 20 + 5 × CVEs)``). Tags: Shodan's tags (``cloud``, ``vpn``, ``honeypot``,
``self-signed``…). Attributes: open ports, org, ISP, OS, country, city, last update,
hostnames, vulnerability count. Pivots: ``vulns`` → CVEs (``has-vulnerability``),
``hostnames`` (``has-hostname``), ``domains`` (``has-domain``), ASN (``in-asn``).

Limits: 1 request per second on every plan (https://developer.shodan.io/api,
"API rate limit"). TLP: at most GREEN — a lookup reveals interest in the address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpConfig,
    HttpProvider,
    ProviderConfig,
    ProviderError,
    RateLimit,
    Related,
    Status,
    Verdict,
)
from spoorhound.enrich.providers._common import (
    MAX_TAGS,
    body_error,
    expect_mapping,
    pivot,
    pivots,
    redact,
    tag,
    unique,
)

__all__ = ["Shodan", "ShodanConfig", "verdict_from_host"]

_T = IndicatorType
MALICIOUS_TAGS = frozenset({"c2", "malware", "compromised"})
_ATTRIBUTES = ("org", "isp", "os", "country_code", "city", "last_update")


class ShodanConfig(HttpConfig):
    """Shodan settings; ``api_key`` is the account's API key."""

    base_url: str = "https://api.shodan.io"


def verdict_from_host(host: Mapping[str, Any]) -> tuple[Verdict, int | None]:
    """The verdict and score for a host record (rules in the module docstring)."""
    tags = host.get("tags")
    if isinstance(tags, list) and MALICIOUS_TAGS.intersection(
        t for t in tags if isinstance(t, str)
    ):
        return Verdict.MALICIOUS, 80
    vulns = host.get("vulns")
    if isinstance(vulns, list | dict) and vulns:
        return Verdict.SUSPICIOUS, min(60, 20 + 5 * len(vulns))
    return Verdict.UNKNOWN, None


class Shodan(HttpProvider):
    """Shodan host information (ports, vulnerabilities, names)."""

    name: ClassVar[str] = "shodan"
    title: ClassVar[str] = "Shodan"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({_T.IPV4, _T.IPV6})
    max_tlp: ClassVar[str] = "green"
    needs_key: ClassVar[bool] = True
    rate_limit: ClassVar[RateLimit] = RateLimit(per_second=1.0)
    cache_ttl: ClassVar[int] = 3 * 86_400
    config_model: ClassVar[type[ProviderConfig]] = ShodanConfig
    key_in_query: ClassVar[bool] = True

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Fetch the host record and map it (see the module docstring)."""
        key = self.http.api_key
        params = {"minify": "true", "key": key.get_secret_value() if key is not None else ""}
        try:
            body = await self.request(
                client, "GET", f"shodan/host/{indicator.value}", params=params
            )
        except ProviderError as e:
            # The key travels in the URL; make sure no reason ever quotes it.
            raise ProviderError(e.status, redact(e.reason, self), e.retry_after) from None
        if body is None:
            return self.result(indicator, Status.NOT_FOUND)
        if isinstance(body, Mapping) and "error" in body:
            raise body_error(self, body["error"])
        host = expect_mapping(self, body, "ip_str")
        verdict, score = verdict_from_host(host)
        shodan_tags = host.get("tags")
        return self.result(
            indicator,
            verdict=verdict,
            score=score,
            tags=unique(
                (tag(t) for t in (shodan_tags if isinstance(shodan_tags, list) else [])), MAX_TAGS
            ),
            attributes=_attributes(host),
            related=_related(host),
            raw=body,
        )


def _list(value: object) -> list[Any]:
    if isinstance(value, dict):  # older answers keyed vulns by CVE id
        return list(value)
    return value if isinstance(value, list) else []


def _attributes(host: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: host[k] for k in _ATTRIBUTES if host.get(k) not in (None, "")}
    ports = [p for p in _list(host.get("ports")) if isinstance(p, int)]
    out["ports"] = sorted(set(ports))
    out["hostnames"] = [h for h in _list(host.get("hostnames")) if isinstance(h, str)][:50]
    out["vuln_count"] = len(_list(host.get("vulns")))
    return out


def _related(host: Mapping[str, Any]) -> tuple[Related, ...]:
    found: list[Related | None] = [
        *pivots("has-vulnerability", _T.CVE, _list(host.get("vulns"))),
        *pivots("has-hostname", _T.DOMAIN, _list(host.get("hostnames"))),
        *pivots("has-domain", _T.DOMAIN, _list(host.get("domains"))),
        pivot("in-asn", _T.ASN, host.get("asn")),
    ]
    return unique(found, limit=200)
