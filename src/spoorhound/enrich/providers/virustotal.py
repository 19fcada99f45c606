"""VirusTotal API v3: reports for IP addresses, domains, URLs and file hashes.

Endpoints (https://docs.virustotal.com/reference/overview): ``GET /ip_addresses/{ip}``,
``/domains/{domain}``, ``/urls/{id}`` (``id`` = unpadded URL-safe base64 of the URL)
and ``/files/{md5|sha1|sha256}``, authenticated by the ``x-apikey`` header. Only
existing reports are read: nothing is ever submitted for scanning.

Answers: 200 ``{"data": {"id", "type", "attributes": {...}}}``; 404
``{"error": {"code": "NotFoundError"}}`` → NOT_FOUND; 401 (``WrongCredentialsError``,
``AuthenticationRequiredError``) → AUTH_FAILED; 429 (``QuotaExceededError``,
``TooManyRequestsError``) → RATE_LIMITED (the status alone does not say whether the
minute, day or month quota ran out; the runner's limiter keeps the minute one). A 200
whose body has ``error`` or lacks ``data.attributes`` is a failure.

Mapping, from ``attributes.last_analysis_stats`` (engines that gave an opinion:
``answered = harmless + malicious + suspicious + undetected``):

* ``malicious >= 5`` → MALICIOUS, score ``60 + 40 * malicious / answered``;
* ``1 <= malicious <= 4`` or ``suspicious >= 1`` → SUSPICIOUS, score
  ``25 + 7 * malicious + 3 * suspicious`` (at most 59);
* no detection and ``harmless >= 5`` → BENIGN, score 0;
* otherwise (no opinion yet) → UNKNOWN, no score.

Tags: VirusTotal's own ``tags``, ``malware:<name>`` and ``category:<name>`` from
``popular_threat_classification``, ``label:<suggested_threat_label>``.
Attributes: detection counts, reputation, votes, and per type the AS owner / country /
network (IP), registrar / categories (domain), final URL / title (URL), names / size /
type (file). Pivots: IP → its ASN (``in-asn``) and network (``in-network``);
domain → ``last_dns_records`` A/AAAA (``resolves-to``), CNAME/NS/MX (``cname``,
``name-server``, ``mail-server``); URL → ``last_final_url`` when it differs
(``redirects-to``) and its host (``hosted-on``); file → its other hashes
(``same-file``).

Limits (public API, https://docs.virustotal.com/reference/public-vs-premium-api):
4 lookups/min, 500/day, 15.5 K/month. TLP: at most GREEN — a lookup tells VirusTotal
(a shared, community service) that someone is interested in the value.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx

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

__all__ = ["VirusTotal", "VirusTotalConfig", "verdict_from_stats"]

_T = IndicatorType
#: Detections at or above which a report is malicious.
MALICIOUS_ENGINES = 5
#: Harmless verdicts needed to call an undetected object benign.
BENIGN_ENGINES = 5

_COLLECTION = {
    _T.IPV4: "ip_addresses",
    _T.IPV6: "ip_addresses",
    _T.DOMAIN: "domains",
    _T.URL: "urls",
    _T.MD5: "files",
    _T.SHA1: "files",
    _T.SHA256: "files",
}
_DNS_PIVOTS = {
    "A": ("resolves-to", _T.IPV4),
    "AAAA": ("resolves-to", _T.IPV6),
    "CNAME": ("cname", _T.DOMAIN),
    "NS": ("name-server", _T.DOMAIN),
    "MX": ("mail-server", _T.DOMAIN),
}


class VirusTotalConfig(HttpConfig):
    """VirusTotal settings; ``api_key`` is the personal API key."""

    base_url: str = "https://www.virustotal.com/api/v3"


def verdict_from_stats(stats: Mapping[str, Any]) -> tuple[Verdict, int | None]:
    """The verdict and score for ``last_analysis_stats`` (rules in the module docstring)."""

    def count(key: str) -> int:
        v = stats.get(key, 0)
        return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0

    malicious, suspicious, harmless = count("malicious"), count("suspicious"), count("harmless")
    answered = malicious + suspicious + harmless + count("undetected")
    if malicious >= MALICIOUS_ENGINES:
        return Verdict.MALICIOUS, min(100, 60 + round(40 * malicious / answered))
    if malicious or suspicious:
        return Verdict.SUSPICIOUS, min(59, 25 + 7 * malicious + 3 * suspicious)
    if harmless >= BENIGN_ENGINES:
        return Verdict.BENIGN, 0
    return Verdict.UNKNOWN, None


def url_id(url: str) -> str:
    """VirusTotal's identifier of a URL: unpadded URL-safe base64."""
    return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


class VirusTotal(HttpProvider):
    """VirusTotal v3 object reports (reads only; never submits)."""

    name: ClassVar[str] = "virustotal"
    title: ClassVar[str] = "VirusTotal"
    types: ClassVar[frozenset[IndicatorType]] = frozenset(_COLLECTION)
    max_tlp: ClassVar[str] = "green"
    needs_key: ClassVar[bool] = True
    rate_limit: ClassVar[RateLimit] = RateLimit(per_minute=4, per_day=500, per_month=15_500)
    cache_ttl: ClassVar[int] = 86_400
    config_model: ClassVar[type[ProviderConfig]] = VirusTotalConfig

    def auth_headers(self) -> dict[str, str]:
        """The ``x-apikey`` header."""
        key = self.http.api_key
        return {"x-apikey": key.get_secret_value()} if key is not None else {}

    def path(self, indicator: Indicator) -> str:
        """The object's path under the API root."""
        value = url_id(indicator.value) if indicator.type is _T.URL else indicator.value
        return f"{_COLLECTION[indicator.type]}/{quote(value, safe='')}"

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Fetch the object's report and map it (see the module docstring)."""
        body = await self.request(client, "GET", self.path(indicator))
        if body is None:
            return self.result(indicator, Status.NOT_FOUND)
        if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
            err = body["error"]
            raise body_error(self, f"{err.get('code')}: {err.get('message')}")
        data = expect_mapping(self, expect_mapping(self, body, "data")["data"], "attributes")
        attrs = data["attributes"]
        if not isinstance(attrs, Mapping):
            raise body_error(self, "data.attributes is not an object")
        stats = attrs.get("last_analysis_stats")
        stats = stats if isinstance(stats, Mapping) else {}
        verdict, score = verdict_from_stats(stats)
        return self.result(
            indicator,
            verdict=verdict,
            score=score,
            tags=_tags(attrs),
            attributes=_attributes(indicator.type, attrs, stats),
            related=_related(indicator, attrs),
            raw=body,
        )


def _tags(attrs: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str | None] = []
    vt_tags = attrs.get("tags")
    if isinstance(vt_tags, list):
        out.extend(tag(t) for t in vt_tags)
    ptc = attrs.get("popular_threat_classification")
    if isinstance(ptc, Mapping):
        out.append(tag(ptc.get("suggested_threat_label"), "label"))
        for key, ns in (
            ("popular_threat_name", "malware"),
            ("popular_threat_category", "category"),
        ):
            entries = ptc.get(key)
            if isinstance(entries, list):
                out.extend(tag(e.get("value"), ns) for e in entries if isinstance(e, Mapping))
    return unique(out, MAX_TAGS)


_ATTRS_BY_TYPE = {
    "ip_addresses": ("as_owner", "asn", "country", "network", "continent"),
    "domains": ("registrar", "categories", "creation_date", "last_dns_records_date"),
    "urls": ("last_final_url", "title", "last_http_response_code", "categories"),
    "files": ("meaningful_name", "type_description", "size", "names", "first_submission_date"),
}


def _attributes(
    type: IndicatorType, attrs: Mapping[str, Any], stats: Mapping[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {f"detections.{k}": v for k, v in stats.items()}
    for key in ("reputation", "last_analysis_date", "total_votes"):
        if key in attrs:
            out[key] = attrs[key]
    for key in _ATTRS_BY_TYPE[_COLLECTION[type]]:
        if attrs.get(key) not in (None, "", [], {}):
            out[key] = attrs[key]
    if isinstance(out.get("names"), list):
        out["names"] = out["names"][:20]
    return out


def _related(indicator: Indicator, attrs: Mapping[str, Any]) -> tuple[Related, ...]:
    t = indicator.type
    found: list[Related | None] = []
    if t in (_T.IPV4, _T.IPV6):
        asn = attrs.get("asn")
        found.append(pivot("in-asn", _T.ASN, f"AS{asn}" if isinstance(asn, int) else None))
        found.append(pivot("in-network", _T.CIDR, attrs.get("network")))
    elif t is _T.DOMAIN:
        records = attrs.get("last_dns_records")
        for rec in records if isinstance(records, list) else []:
            if isinstance(rec, Mapping) and rec.get("type") in _DNS_PIVOTS:
                relation, rtype = _DNS_PIVOTS[rec["type"]]
                found.append(pivot(relation, rtype, rec.get("value")))
    elif t is _T.URL:
        final = attrs.get("last_final_url")
        if isinstance(final, str) and final != indicator.value:
            found.append(pivot("redirects-to", _T.URL, final))
        host = urlsplit(indicator.value).hostname
        found.append(pivot("hosted-on", _T.DOMAIN, host) or pivot("hosted-on", _T.IPV4, host))
    else:
        found.extend(
            pivot("same-file", h, attrs.get(h.value)) for h in (_T.MD5, _T.SHA1, _T.SHA256)
        )
    # A file report lists the looked-up hash among its own: not a pivot.
    others = (r for r in found if r is not None and r.value != indicator.value)
    return unique(others, MAX_RELATED)
