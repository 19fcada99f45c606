"""GreyNoise: is an IPv4 address an Internet scanner (noise) or a business service (RIOT)?

Two providers over ``https://api.greynoise.io`` with the ``key`` header:

* :class:`GreyNoiseCommunity` — ``GET /v3/community/{ip}`` (free; a key is optional,
  https://docs.greynoise.io/reference/getcommunityip). 200 ``{"ip", "noise", "riot",
  "classification", "name", "link", "last_seen", "message": "Success"}``; 404 with
  ``"message": "IP not observed scanning the internet or contained in RIOT data
  set."`` → NOT_FOUND. Its 429 is the community plan's weekly allowance running out →
  QUOTA_EXCEEDED (wait for ``Retry-After``), not a burst to retry.
* :class:`GreyNoiseEnterprise` — the v3 multi-IP quick lookup ``POST /v3/ip?quick=true``
  with ``{"ips": [...]}`` (the endpoint the official SDK's ``quick()`` calls; up to
  1,000 addresses count as one search), so ``enrich_batch`` sends one request per
  1,000 addresses. 200 ``{"data": [{"ip", "business_service_intelligence": {"found",
  "trust_level"}, "internet_scanner_intelligence": {"found", "classification"}}],
  "request_metadata": {"ips_not_found": [...]}}``; an address in neither dataset (or
  listed in ``ips_not_found``, or missing from ``data``) → NOT_FOUND. 429 → RATE_LIMITED.

401/403 → AUTH_FAILED. A 200 without the documented keys (e.g. ``{"error": ...}``)
is a failure.

Mapping (both): the scanner classification first — ``malicious`` → MALICIOUS 85,
``suspicious`` → SUSPICIOUS 55; then a business service (RIOT) → BENIGN, score 0 at
trust level 1 and 10 otherwise; then ``benign`` scanner → BENIGN 10; a scanner of
``unknown`` intent → UNKNOWN 30 (opportunistic noise, not targeted). Tags:
``internet-scanner``, ``business-service``. Attributes: noise, riot, classification,
name, link, last_seen, trust_level.

Limits: community ~50 searches per week for a free account
(https://docs.greynoise.io/docs/using-the-greynoise-community-api), declared as 7 per
day so a week never exceeds 49; enterprise limits are per contract (none declared;
configure the queue). TLP: at most GREEN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    Status,
    Verdict,
)
from spoorhound.enrich.providers._common import MAX_TAGS, body_error, expect_mapping, unique

__all__ = [
    "GreyNoiseCommunity",
    "GreyNoiseConfig",
    "GreyNoiseEnterprise",
    "verdict_for",
]

_SCANNER = {
    "malicious": (Verdict.MALICIOUS, 85),
    "suspicious": (Verdict.SUSPICIOUS, 55),
    "benign": (Verdict.BENIGN, 10),
    "unknown": (Verdict.UNKNOWN, 30),
}


class GreyNoiseConfig(HttpConfig):
    """GreyNoise settings (both offerings share the API host)."""

    base_url: str = "https://api.greynoise.io"


def verdict_for(
    scanner: str | None, riot: bool, trust_level: object = None
) -> tuple[Verdict, int | None]:
    """The verdict and score for a scanner classification and RIOT membership."""
    verdict, score = _SCANNER.get(scanner or "", (None, None))
    if verdict in (Verdict.MALICIOUS, Verdict.SUSPICIOUS):
        return verdict, score
    if riot:
        return Verdict.BENIGN, 0 if str(trust_level) == "1" else 10
    if verdict is not None:
        return verdict, score
    return Verdict.UNKNOWN, None


class _GreyNoise(HttpProvider):
    types: ClassVar[frozenset[IndicatorType]] = frozenset({IndicatorType.IPV4})
    max_tlp: ClassVar[str] = "green"
    cache_ttl: ClassVar[int] = 86_400
    config_model: ClassVar[type[ProviderConfig]] = GreyNoiseConfig

    def auth_headers(self) -> dict[str, str]:
        """The ``key`` header, when a key is configured."""
        key = self.http.api_key
        return {"key": key.get_secret_value()} if key is not None else {}

    def mapped(
        self,
        indicator: Indicator,
        record: Mapping[str, Any],
        noise: bool,
        riot: bool,
        raw: Any = None,
    ) -> EnrichmentResult:
        """A result from one record's flags (shared by both offerings); ``raw`` defaults
        to ``record``."""
        classification = record.get("classification")
        verdict, score = verdict_for(
            classification if isinstance(classification, str) else None,
            riot,
            record.get("trust_level"),
        )
        attributes = {"noise": noise, "riot": riot}
        for key in ("classification", "name", "link", "last_seen", "trust_level"):
            if record.get(key) not in (None, ""):
                attributes[key] = record[key]
        return self.result(
            indicator,
            verdict=verdict,
            score=score,
            tags=unique(
                ["internet-scanner" if noise else None, "business-service" if riot else None],
                MAX_TAGS,
            ),
            attributes=attributes,
            raw=record if raw is None else raw,
        )


class GreyNoiseCommunity(_GreyNoise):
    """GreyNoise Community API (free; noise, RIOT and classification of one address)."""

    name: ClassVar[str] = "greynoise"
    title: ClassVar[str] = "GreyNoise Community"
    needs_key: ClassVar[bool] = False
    rate_limit: ClassVar[RateLimit] = RateLimit(per_day=7)

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Look one address up (see the module docstring)."""
        try:
            body = await self.request(client, "GET", f"v3/community/{indicator.value}")
        except ProviderError as e:
            if e.status is not Status.RATE_LIMITED:
                raise
            raise ProviderError(
                Status.QUOTA_EXCEEDED,
                f"{self.name}: community lookups used up; retry after {e.retry_after or '?'} s",
                e.retry_after,
            ) from None
        if body is None:
            return self.result(indicator, Status.NOT_FOUND)
        record = expect_mapping(self, body, "noise", "riot")
        return self.mapped(indicator, record, record["noise"] is True, record["riot"] is True)


class GreyNoiseEnterprise(_GreyNoise):
    """GreyNoise v3 multi-IP quick lookup (paid; batched, 1,000 addresses a request)."""

    name: ClassVar[str] = "greynoise-enterprise"
    title: ClassVar[str] = "GreyNoise Enterprise"
    needs_key: ClassVar[bool] = True
    batch_size: ClassVar[int] = 1000

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Look one address up through the multi-IP endpoint."""
        return (await self.enrich_batch(client, [indicator]))[0]

    async def enrich_batch(
        self, client: httpx.AsyncClient, indicators: Sequence[Indicator]
    ) -> list[EnrichmentResult]:
        """One ``POST /v3/ip?quick=true`` per ``batch_size`` addresses, results in order."""
        out: list[EnrichmentResult] = []
        for start in range(0, len(indicators), self.batch_size):
            chunk = indicators[start : start + self.batch_size]
            out.extend(await self._quick(client, chunk))
        return out

    async def _quick(
        self, client: httpx.AsyncClient, chunk: Sequence[Indicator]
    ) -> list[EnrichmentResult]:
        if not chunk:
            return []
        body = await self.request(
            client,
            "POST",
            "v3/ip",
            params={"quick": "true"},
            json={"ips": [i.value for i in chunk]},
            not_found=(),
        )
        data = expect_mapping(self, body, "data")["data"]
        if not isinstance(data, list):
            raise body_error(self, "data is not a list")
        by_ip = {
            r["ip"]: r for r in data if isinstance(r, Mapping) and isinstance(r.get("ip"), str)
        }
        results = []
        for indicator in chunk:
            record = by_ip.get(indicator.value)
            scanner = _section(record, "internet_scanner_intelligence")
            service = _section(record, "business_service_intelligence")
            noise, riot = scanner.get("found") is True, service.get("found") is True
            if record is None or not (noise or riot):
                results.append(self.result(indicator, Status.NOT_FOUND, raw=record))
                continue
            flat = {
                "classification": scanner.get("classification") if noise else None,
                "trust_level": service.get("trust_level") if riot else None,
            }
            results.append(self.mapped(indicator, flat, noise, riot, raw=record))
        return results


def _section(record: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    value = record.get(key) if record is not None else None
    return value if isinstance(value, Mapping) else {}
