"""AlienVault OTX (DirectConnect API v1): the ``general`` section of an indicator.

Endpoint (https://otx.alienvault.com/api, the official ``OTXv2`` SDK):
``GET /indicators/{IPv4|IPv6|domain|hostname|url|file|cve}/{value}/general`` with the
``X-OTX-API-KEY`` header. A registered domain goes to ``domain`` and a deeper name to
``hostname`` (split by the offline Public Suffix List); MD5/SHA-1/SHA-256 go to
``file``. There is no bulk endpoint for indicator details, so a batch is one call
per indicator.

Answers: 200 with ``pulse_info {count, pulses[], related{alienvault, other}}``,
``validation[]`` (allow-list hits such as ``whitelist`` or ``false_positive``),
``false_positive[]``, ``reputation``, and per type ``asn``/``country_code``…; OTX
answers an indicator it has never seen with 200 and ``pulse_info.count`` 0 (OK with
an UNKNOWN verdict), and 404 only for values it cannot parse (→ NOT_FOUND). 403 (bad
or missing key, per the SDK's ``InvalidAPIKey``) → AUTH_FAILED; 400 → ERROR; 429
(throttled, with ``Retry-After``) → RATE_LIMITED. A 200 with ``detail`` (an error) or
without ``pulse_info`` is a failure.

Mapping: an allow-list hit (``validation`` source ``whitelist`` or ``false_positive``,
or a non-empty ``false_positive``) → BENIGN, score 0, whatever the pulses (OTX pulses
often list shared infrastructure). Otherwise by pulse count ``n``: 0 → UNKNOWN, no
score; 1–2 → SUSPICIOUS, score ``30 + 10 n``; ≥ 3 → MALICIOUS, score
``min(100, 60 + 5 n)``. Tags: ``pulse:<name>`` (first 10 pulses), ``malware:<family>``,
``actor:<adversary>``. Attributes: pulse count, pulse ids, reputation, country, ASN,
validation names. Pivots: the address's ASN (``in-asn``) and the ATT&CK techniques
the pulses cite (``uses-technique``).

Limits: not published in the stored OTX documentation (community reports put it at
10,000 requests an hour per key); declared as 100 a minute, safely under that.
TLP: at most GREEN — OTX is a community exchange.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from publicsuffixlist import PublicSuffixList

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpConfig,
    HttpProvider,
    ProviderConfig,
    RateLimit,
    Related,
    Status,
    Verdict,
)
from spoorhound.enrich.providers._common import (
    MAX_RELATED,
    MAX_TAGS,
    body_error,
    expect_mapping,
    pivot,
    tag,
    unique,
)

__all__ = ["OTX", "OTXConfig", "verdict_from_general"]

_T = IndicatorType
_SECTION_TYPE = {
    _T.IPV4: "IPv4",
    _T.IPV6: "IPv6",
    _T.URL: "url",
    _T.MD5: "file",
    _T.SHA1: "file",
    _T.SHA256: "file",
    _T.CVE: "cve",
}
_ALLOW_LIST_SOURCES = frozenset({"whitelist", "false_positive"})
MALICIOUS_PULSES = 3
_MAX_PULSE_TAGS = 10


class OTXConfig(HttpConfig):
    """OTX settings; ``api_key`` is the OTX key from the user's settings page."""

    base_url: str = "https://otx.alienvault.com/api/v1"


@functools.cache
def _psl() -> PublicSuffixList:
    # Loaded on first use, never at import: it parses the bundled list.
    return PublicSuffixList()


def otx_type(indicator: Indicator) -> str:
    """The OTX indicator-type slug for ``indicator``."""
    if indicator.type is _T.DOMAIN:
        registered = _psl().privatesuffix(indicator.value)
        return "domain" if registered in (None, indicator.value) else "hostname"
    return _SECTION_TYPE[indicator.type]


def verdict_from_general(general: Mapping[str, Any]) -> tuple[Verdict, int | None]:
    """The verdict and score for a ``general`` section (rules in the module docstring)."""
    if _allow_listed(general):
        return Verdict.BENIGN, 0
    info = general.get("pulse_info")
    count = info.get("count") if isinstance(info, Mapping) else None
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        return Verdict.UNKNOWN, None
    if count >= MALICIOUS_PULSES:
        return Verdict.MALICIOUS, min(100, 60 + 5 * count)
    return Verdict.SUSPICIOUS, 30 + 10 * count


def _allow_listed(general: Mapping[str, Any]) -> bool:
    if general.get("false_positive"):
        return True
    return any(v.get("source") in _ALLOW_LIST_SOURCES for v in _dicts(general.get("validation")))


def _dicts(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _names(values: object) -> Iterable[object]:
    """Strings from a list of strings or of ``{"display_name"|"name": ...}`` objects."""
    for v in values if isinstance(values, list) else []:
        yield v.get("display_name") or v.get("name") if isinstance(v, Mapping) else v


class OTX(HttpProvider):
    """AlienVault OTX indicator details (pulses and allow-list validation)."""

    name: ClassVar[str] = "otx"
    title: ClassVar[str] = "AlienVault OTX"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({*_SECTION_TYPE, _T.DOMAIN})
    max_tlp: ClassVar[str] = "green"
    needs_key: ClassVar[bool] = True
    rate_limit: ClassVar[RateLimit] = RateLimit(per_minute=100)
    cache_ttl: ClassVar[int] = 86_400
    config_model: ClassVar[type[ProviderConfig]] = OTXConfig

    def auth_headers(self) -> dict[str, str]:
        """The ``X-OTX-API-KEY`` header."""
        key = self.http.api_key
        return {"X-OTX-API-KEY": key.get_secret_value()} if key is not None else {}

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Fetch the ``general`` section and map it (see the module docstring)."""
        # Slashes and colons stay as the SDK sends them; "?", "#", "%" and spaces do not.
        value = quote(indicator.value, safe=":/")
        path = f"indicators/{otx_type(indicator)}/{value}/general"
        body = await self.request(client, "GET", path)
        if body is None:
            return self.result(indicator, Status.NOT_FOUND)
        if isinstance(body, Mapping) and "detail" in body and "pulse_info" not in body:
            raise body_error(self, body["detail"])
        general = expect_mapping(self, body, "pulse_info")
        info = expect_mapping(self, general["pulse_info"])
        pulses = _dicts(info.get("pulses"))
        verdict, score = verdict_from_general(general)
        return self.result(
            indicator,
            verdict=verdict,
            score=score,
            tags=_tags(info, pulses),
            attributes=_attributes(general, info, pulses),
            related=_related(general, pulses),
            raw=body,
        )


def _tags(info: Mapping[str, Any], pulses: list[Mapping[str, Any]]) -> tuple[str, ...]:
    out: list[str | None] = [tag(p.get("name"), "pulse") for p in pulses[:_MAX_PULSE_TAGS]]
    related = info.get("related")
    groups = (
        [g for g in related.values() if isinstance(g, Mapping)]
        if isinstance(related, Mapping)
        else []
    )
    for source in [*groups, *pulses]:
        out.extend(tag(n, "malware") for n in _names(source.get("malware_families")))
        adversary = source.get("adversary")
        names = adversary if isinstance(adversary, list) else [adversary]
        out.extend(tag(n, "actor") for n in names if n)
    return unique(out, MAX_TAGS)


def _attributes(
    general: Mapping[str, Any], info: Mapping[str, Any], pulses: list[Mapping[str, Any]]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pulse_count": info.get("count", len(pulses)),
        "pulse_ids": [p["id"] for p in pulses[:50] if isinstance(p.get("id"), str)],
    }
    for key in ("reputation", "country_code", "asn", "type_title"):
        if general.get(key) not in (None, ""):
            out[key] = general[key]
    validation = [v.get("name") or v.get("source") for v in _dicts(general.get("validation"))]
    if validation:
        out["validation"] = validation
    return out


def _related(general: Mapping[str, Any], pulses: list[Mapping[str, Any]]) -> tuple[Related, ...]:
    asn = general.get("asn")
    found: list[Related | None] = [
        pivot("in-asn", _T.ASN, asn.split()[0] if isinstance(asn, str) and asn.strip() else None)
    ]
    for p in pulses:
        attack_ids = p.get("attack_ids")
        for a in attack_ids if isinstance(attack_ids, list) else []:
            found.append(
                pivot(
                    "uses-technique",
                    _T.ATTACK_TECHNIQUE,
                    a.get("id") if isinstance(a, Mapping) else a,
                )
            )
    return unique(found, MAX_RELATED)
