"""A minimal HTTP provider for Spoorhound: copy this file and fill in the blanks.

It looks IP addresses up at an imaginary "ExampleIntel" API::

    GET {base_url}/v1/ip/{address}      header X-Api-Key: <key>
    200 {"data": {"risk": 0-100, "categories": ["scanner"], "asn": "AS64500",
                  "last_seen": "2026-01-01"}}
    404 when the address is unknown; 429 with Retry-After when rate limited;
    200 {"error": "quota exceeded"} when the daily quota is used up.

Register it from your package's ``pyproject.toml``::

    [project.entry-points.spoorhound]
    example-intel = "my_package.spoorhound_plugin"

with ``my_package/spoorhound_plugin.py``::

    from spoorhound.enrich.plugins import hookimpl
    from my_package.example_intel import ExampleIntel

    @hookimpl
    def spoorhound_providers():
        return [ExampleIntel]

and configure it in ``<data dir>/providers.toml`` (``[example-intel] enabled = true``)
with the key in ``SPOORHOUND_EXAMPLE_INTEL_API_KEY``. See docs/providers.md.
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


class ExampleIntelConfig(HttpConfig):
    """Settings; unknown keys in providers.toml are rejected (inherited ``extra="forbid"``).

    ``enabled`` (False by default), ``api_key`` (a ``SecretStr``: never printed),
    ``timeout``, ``max_response_bytes`` and ``verify_tls`` come from ``HttpConfig``.
    """

    # The documented API root; tests point it at a local emulator instead.
    base_url: str = "https://api.example-intel.invalid"
    # A provider-specific setting, settable as SPOORHOUND_EXAMPLE_INTEL_MIN_RISK.
    min_risk: int = 50


class ExampleIntel(HttpProvider):
    """Risk score and categories of IPv4/IPv6 addresses from ExampleIntel."""

    # Stable id: providers.toml table, env var prefix, stored results. Never reuse one.
    name: ClassVar[str] = "example-intel"
    title: ClassVar[str] = "ExampleIntel"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({IndicatorType.IPV4, IndicatorType.IPV6})
    # A third-party service: send at most TLP:GREEN (TLP:RED never leaves the box).
    max_tlp: ClassVar[str] = "green"
    needs_key: ClassVar[bool] = True
    # The documented free-tier limits; the runner enforces them globally.
    rate_limit: ClassVar[RateLimit] = RateLimit(per_minute=60, per_day=1000)
    # Reputation changes: ask again after 12 hours at the earliest.
    cache_ttl: ClassVar[int] = 12 * 3600
    config_model: ClassVar[type[ProviderConfig]] = ExampleIntelConfig

    @property
    def settings(self) -> ExampleIntelConfig:
        """The typed configuration."""
        assert isinstance(self.config, ExampleIntelConfig)
        return self.config

    def auth_headers(self) -> dict[str, str]:
        """The key goes in a header, never in the URL (URLs end up in logs)."""
        key = self.http.api_key
        return {"X-Api-Key": key.get_secret_value()} if key is not None else {}

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Look one address up; failures are raised as ProviderError, not returned."""
        # request() checks the key is set, applies timeout and size cap, and maps
        # 429/401/403/5xx/time-outs/TLS errors/non-JSON bodies to ProviderError.
        body = await self.request(client, "GET", f"/v1/ip/{indicator.value}")
        if body is None:  # 404: an answer, "nothing known"
            return self.result(indicator, Status.NOT_FOUND)
        if not isinstance(body, dict):
            raise ProviderError(Status.ERROR, f"{self.name}: unexpected body shape")
        if "error" in body:
            # A 200 carrying an error: map it so the runner reacts correctly.
            message = str(body["error"])
            status = Status.QUOTA_EXCEEDED if "quota" in message else Status.ERROR
            raise ProviderError(status, f"{self.name}: {message}")
        data: dict[str, Any] = body.get("data") or {}
        risk = data.get("risk")
        score = int(risk) if isinstance(risk, int | float) else None
        if score is None:
            verdict = Verdict.UNKNOWN
        elif score >= 80:
            verdict = Verdict.MALICIOUS
        elif score >= self.settings.min_risk:
            verdict = Verdict.SUSPICIOUS
        else:
            verdict = Verdict.UNKNOWN  # low risk is not the same as benign
        categories = [str(c) for c in data.get("categories", [])]
        related: tuple[Related, ...] = ()
        if isinstance(data.get("asn"), str):
            related = (Related("announced-by", IndicatorType.ASN, data["asn"]),)
        return self.result(
            indicator,
            verdict=verdict,
            score=score,
            tags=tuple(f"example-intel:{c}" for c in categories),
            # Normalised facts: what the history diff compares between lookups.
            attributes={
                "risk": score,
                "categories": categories,
                "last_seen": data.get("last_seen"),
            },
            related=related,
            raw=body,  # the payload as received, kept with the result
        )
