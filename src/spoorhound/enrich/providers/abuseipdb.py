"""AbuseIPDB API v2: the CHECK endpoint for IPv4 and IPv6 addresses.

Endpoint (https://docs.abuseipdb.com/#check-endpoint): ``GET /check?ipAddress=…&
maxAgeInDays=…`` with the ``Key`` header and ``Accept: application/json`` (without
it AbuseIPDB answers errors with an HTML page). There is no bulk endpoint for
single addresses, so a batch is one call per address.

Answers: 200 ``{"data": {"ipAddress", "isPublic", "ipVersion", "isWhitelisted",
"abuseConfidenceScore", "countryCode", "usageType", "isp", "domain", "hostnames",
"isTor", "totalReports", "numDistinctUsers", "lastReportedAt"}}`` — every address
gets an answer, so an address nobody reported is OK with ``totalReports`` 0, never
NOT_FOUND. Errors are ``{"errors": [{"detail", "status"}]}``: 401 → AUTH_FAILED,
422 (not a valid address) → ERROR. The only 429 AbuseIPDB documents is the *daily*
limit ("Daily rate limit of 1000 requests exceeded for this endpoint"), sent with
``Retry-After`` (seconds to the reset) and ``X-RateLimit-Limit``/``-Remaining``/
``-Reset``; it maps to QUOTA_EXCEEDED so the runner parks the work until the reset
instead of retrying. A 200 with ``errors`` or without ``data.abuseConfidenceScore``
is a failure.

Mapping: score = ``abuseConfidenceScore``. Verdict: ``isWhitelisted`` → BENIGN;
score ≥ 75 → MALICIOUS; score ≥ 25 → SUSPICIOUS; otherwise UNKNOWN (reported a little
or never: absence of reports is not evidence of good intent). Tags: ``tor-exit``,
``usage:<usageType>``. Attributes: reports, distinct reporters, last report, country,
ISP, usage type, public/whitelisted flags. Pivots: ``hostnames`` (``has-hostname``)
and the ISP's ``domain`` (``operated-by``).

Limits (free "Standard" account, https://docs.abuseipdb.com/#api-daily-rate-limits):
CHECK 1,000/day; no documented per-second limit. TLP: at most GREEN — the lookup
tells AbuseIPDB which address someone is looking at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from pydantic import Field

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
from spoorhound.enrich.providers._common import (
    MAX_TAGS,
    body_error,
    expect_mapping,
    pick,
    pivot,
    pivots,
    tag,
    unique,
)

__all__ = ["AbuseIPDB", "AbuseIPDBConfig", "verdict_from_check"]

_T = IndicatorType
MALICIOUS_SCORE = 75
SUSPICIOUS_SCORE = 25
_ATTRIBUTES = (
    "totalReports",
    "numDistinctUsers",
    "lastReportedAt",
    "countryCode",
    "isp",
    "usageType",
    "isPublic",
    "isWhitelisted",
    "isTor",
)


class AbuseIPDBConfig(HttpConfig):
    """AbuseIPDB settings; ``max_age_days`` bounds the reports the score counts."""

    base_url: str = "https://api.abuseipdb.com/api/v2"
    max_age_days: int = Field(default=90, ge=1, le=365)


def verdict_from_check(data: Mapping[str, Any]) -> tuple[Verdict, int | None]:
    """The verdict and score for a CHECK ``data`` object (rules in the module docstring)."""
    score = data.get("abuseConfidenceScore")
    if not isinstance(score, int) or isinstance(score, bool):
        return Verdict.UNKNOWN, None
    score = max(0, min(100, score))
    if data.get("isWhitelisted") is True:
        return Verdict.BENIGN, score
    if score >= MALICIOUS_SCORE:
        return Verdict.MALICIOUS, score
    if score >= SUSPICIOUS_SCORE:
        return Verdict.SUSPICIOUS, score
    return Verdict.UNKNOWN, score


class AbuseIPDB(HttpProvider):
    """AbuseIPDB v2 CHECK (abuse confidence of an IP address)."""

    name: ClassVar[str] = "abuseipdb"
    title: ClassVar[str] = "AbuseIPDB"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({_T.IPV4, _T.IPV6})
    max_tlp: ClassVar[str] = "green"
    needs_key: ClassVar[bool] = True
    rate_limit: ClassVar[RateLimit] = RateLimit(per_day=1_000)
    cache_ttl: ClassVar[int] = 6 * 3600
    config_model: ClassVar[type[ProviderConfig]] = AbuseIPDBConfig

    def auth_headers(self) -> dict[str, str]:
        """The ``Key`` header."""
        key = self.http.api_key
        return {"Key": key.get_secret_value()} if key is not None else {}

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """CHECK one address and map it (see the module docstring)."""
        assert isinstance(self.config, AbuseIPDBConfig)
        params = {"ipAddress": indicator.value, "maxAgeInDays": self.config.max_age_days}
        try:
            body = await self.request(client, "GET", "check", params=params, not_found=())
        except ProviderError as e:
            if e.status is not Status.RATE_LIMITED:
                raise
            raise ProviderError(
                Status.QUOTA_EXCEEDED,
                f"{self.name}: daily CHECK quota used up; it resets in {_hours(e.retry_after)}",
                e.retry_after,
            ) from None
        if isinstance(body, Mapping) and "errors" in body:
            raise body_error(self, _errors_text(body["errors"]))
        data = expect_mapping(self, expect_mapping(self, body, "data")["data"])
        if "abuseConfidenceScore" not in data:
            raise body_error(self, "data has no abuseConfidenceScore")
        verdict, score = verdict_from_check(data)
        hostnames = data.get("hostnames")
        related = [
            *pivots("has-hostname", _T.DOMAIN, hostnames if isinstance(hostnames, list) else []),
            pivot("operated-by", _T.DOMAIN, data.get("domain")),
        ]
        return self.result(
            indicator,
            verdict=verdict,
            score=score,
            tags=unique(
                [
                    "tor-exit" if data.get("isTor") is True else None,
                    tag(data.get("usageType"), "usage"),
                ],
                MAX_TAGS,
            ),
            attributes=pick(data, _ATTRIBUTES),
            related=tuple(r for r in related if r is not None),
            raw=body,
        )


def _errors_text(errors: object) -> str:
    if isinstance(errors, list):
        details = [str(e.get("detail")) for e in errors if isinstance(e, Mapping)]
        if details:
            return "; ".join(details)
    return str(errors)


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "an unknown time"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds:.0f} s"
