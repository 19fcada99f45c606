"""Pulsedive: community threat intelligence on IPs, domains and URLs, with risk scoring.

API (https://pulsedive.com/api/): ``GET /api/info.php?indicator=VALUE&key=KEY`` answers
the indicator object (``risk``, ``riskfactors``, ``threats``, ``feeds``,
``attributes``, ``properties``, ``redirects``). Pulsedive now also documents the same
object at ``/api/indicator.php``; ``info_path`` selects the path. The key is optional
(keyless requests get stricter limits) and travels as the ``key`` query parameter, as
documented; because httpx logs request URLs at INFO, the provider sets ``key_in_query``
(the URLs httpx logs have the key masked).
``explore.php`` (query language) and ``analyze.php`` (queue a scan) are not used for
lookups: info is the one call that returns risk, threats and properties together.

Errors come as ``{"error": "..."}``, with HTTP 404/401/429 or in a 200: ``Indicator
not found.`` → ``NOT_FOUND``; a message about the API key → ``AUTH_FAILED``; about a
rate limit → ``RATE_LIMITED``; anything else → ``ERROR``.

Mapping rules (``risk``): ``none`` → benign, 0; ``low`` → suspicious, 30; ``medium``
→ suspicious, 55; ``high`` → malicious, 80; ``critical`` → malicious, 95; ``unknown``
or anything else → unknown, no score. Threats → ``malware:<name>`` (category
``malware``) or ``threat:<name>``; feeds → ``feed:<name>``; risk factors, attributes
(port/protocol/technology), properties (geo, dns, whois, http…), timestamps →
attributes. Pivots: DNS ``A``/``AAAA`` properties → ``resolves-to``, ``NS`` →
``name-server``, ``MX`` → ``mail-server``, ``redirects.to`` → ``redirects-to``.

Limits: the free plan allows 1 request per second (the documented 429 message says so)
plus plan-dependent daily and monthly quotas; ``rate_limit`` declares the per-second
figure. TLP: Pulsedive is a third party and may store submitted values, so
``max_tlp`` is ``green``.
"""

from __future__ import annotations

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
from spoorhound.enrich.providers._common import MAX_RELATED, pick, pivot, short, texts, unique

__all__ = ["PulsediveConfig", "PulsediveProvider"]

_T = IndicatorType
_RISK: dict[str, tuple[Verdict, int | None]] = {
    "none": (Verdict.BENIGN, 0),
    "low": (Verdict.SUSPICIOUS, 30),
    "medium": (Verdict.SUSPICIOUS, 55),
    "high": (Verdict.MALICIOUS, 80),
    "critical": (Verdict.MALICIOUS, 95),
}
_KEYS = (
    "iid", "type", "risk", "risk_recommended", "manualrisk", "retired", "stamp_added",
    "stamp_updated", "stamp_seen", "stamp_probed", "stamp_retired", "recent",
    "submissions", "umbrella_rank", "attributes", "properties",
)  # fmt: skip
_DNS_PIVOTS = (
    ("A", "resolves-to", _T.IPV4),
    ("AAAA", "resolves-to", _T.IPV6),
    ("NS", "name-server", _T.DOMAIN),
    ("MX", "mail-server", _T.DOMAIN),
)


class PulsediveConfig(HttpConfig):
    """Pulsedive settings; ``api_key`` is optional (keyless calls get lower limits)."""

    base_url: str = "https://pulsedive.com"
    info_path: str = "api/info.php"


class PulsediveProvider(HttpProvider):
    """Pulsedive indicator lookups (``info.php``)."""

    name: ClassVar[str] = "pulsedive"
    title: ClassVar[str] = "Pulsedive"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({_T.IPV4, _T.IPV6, _T.DOMAIN, _T.URL})
    max_tlp: ClassVar[str] = "green"
    needs_key: ClassVar[bool] = False
    rate_limit: ClassVar[RateLimit] = RateLimit(per_second=1)
    cache_ttl: ClassVar[int] = 86_400
    config_model: ClassVar[type[ProviderConfig]] = PulsediveConfig
    key_in_query: ClassVar[bool] = True

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Look one indicator up with ``info.php``."""
        assert isinstance(self.config, PulsediveConfig)
        params = {"indicator": indicator.value}
        if self.config.api_key is not None:
            params["key"] = self.config.api_key.get_secret_value()
        body = await self.request(client, "GET", self.config.info_path, params=params)
        if body is None:
            return self.result(indicator, Status.NOT_FOUND)
        if not isinstance(body, dict):
            raise ProviderError(Status.ERROR, f"{self.name}: expected a JSON object")
        if "error" in body:
            self._raise_for_error(body["error"])
            return self.result(indicator, Status.NOT_FOUND, raw=body)
        if "risk" not in body:
            raise ProviderError(Status.ERROR, f"{self.name}: response has no risk")
        return self.result(indicator, raw=body, **_map(body))

    def _raise_for_error(self, error: Any) -> None:
        """Return for "not found"; raise the matching :class:`ProviderError` otherwise."""
        text = error if isinstance(error, str) else ""
        low = text.lower()
        if "not found" in low:
            return
        if "key" in low:
            raise ProviderError(
                Status.AUTH_FAILED, f"{self.name}: the API key was rejected; check it"
            )
        if "rate limit" in low or "exceeded" in low:
            raise ProviderError(Status.RATE_LIMITED, f"{self.name}: {short(text)}")
        raise ProviderError(Status.ERROR, f"{self.name}: {short(error)}")


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _dns_pivots(properties: Any) -> list[Related | None]:
    dns = properties.get("dns") if isinstance(properties, dict) else None
    if not isinstance(dns, dict):
        return []
    return [
        pivot(relation, type, v)
        for record, relation, type in _DNS_PIVOTS
        for v in _values(dns.get(record))
    ]


def _map(body: dict[str, Any]) -> dict[str, Any]:
    risk = body.get("risk")
    verdict, score = _RISK.get(risk if isinstance(risk, str) else "", (Verdict.UNKNOWN, None))
    threats = [t for t in body.get("threats") or [] if isinstance(t, dict)]
    feeds = [f for f in body.get("feeds") or [] if isinstance(f, dict)]
    tags = [
        f"{'malware' if t.get('category') == 'malware' else 'threat'}:{t['name']}"
        for t in threats
        if isinstance(t.get("name"), str)
    ]
    tags += [f"feed:{f['name']}" for f in feeds if isinstance(f.get("name"), str)]
    attributes = pick(body, _KEYS)
    factors = body.get("riskfactors")
    if isinstance(factors, list):
        attributes["riskfactors"] = list(
            texts(f.get("description") for f in factors if isinstance(f, dict))
        )
    attributes["feeds"] = list(texts(f.get("name") for f in feeds))
    redirects = body.get("redirects")
    to = redirects.get("to") if isinstance(redirects, dict) else None
    related = _dns_pivots(body.get("properties"))
    related += [
        pivot("redirects-to", _T.URL, r.get("indicator"))
        or pivot("redirects-to", _T.DOMAIN, r.get("indicator"))
        for r in (to if isinstance(to, list) else [])
        if isinstance(r, dict)
    ]
    return {
        "verdict": verdict,
        "score": score,
        "tags": texts(tags),
        "attributes": attributes,
        "related": unique(related, MAX_RELATED),
    }
