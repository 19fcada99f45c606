"""URLhaus (abuse.ch): malware distribution URLs, the hosts serving them, their payloads.

API v1 (https://urlhaus-api.abuse.ch/), form-encoded POSTs with an ``Auth-Key`` header:
``/v1/url/`` (``url=``), ``/v1/host/`` (``host=``; IPv4, domain), ``/v1/payload/``
(``md5_hash=`` or ``sha256_hash=``). There is no bulk lookup, so ``batch_size`` is 1.
``query_status`` handling is shared with ThreatFox and MalwareBazaar (``_abusech``).

Mapping rules:

* URL: ``url_status`` ``online`` → malicious, 95; ``unknown`` → suspicious, 60;
  ``offline`` → suspicious, 50 (it served malware, it does not now). Tags:
  ``threat:<threat>`` and ``urlhaus:<tag>``; ``malware:<signature>`` per payload.
  Pivots: ``hosted-on`` (the host), ``delivers`` (payload SHA-256s).
* Host: any listed URL ``online`` → malicious, 90; otherwise listed in a blocklist
  (``spamhaus_dbl``/``surbl`` other than ``not listed``) → suspicious, 60; otherwise
  (only offline URLs) → suspicious, 40. Pivots: ``hosts`` (its URLs).
* Payload: known → malicious, 90 (URLhaus only stores files served by malware URLs).
  ``signature`` → ``malware:<signature>``; file type, size, first/last seen,
  VirusTotal ratio, imphash/ssdeep/tlsh → attributes. Pivots: ``downloaded-from`` (URLs)
  and ``same-file`` (the other hash).
* ``no_results`` → ``NOT_FOUND``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpConfig,
    ProviderConfig,
    Status,
    Verdict,
)
from spoorhound.enrich.providers._abusech import AbuseChProvider
from spoorhound.enrich.providers._common import (
    MAX_RELATED,
    host_type,
    pick,
    pivot,
    pivots,
    texts,
    unique,
)

__all__ = ["UrlhausConfig", "UrlhausProvider"]

_T = IndicatorType
_URL_STATUS = {
    "online": (Verdict.MALICIOUS, 95),
    "unknown": (Verdict.SUSPICIOUS, 60),
    "offline": (Verdict.SUSPICIOUS, 50),
}


_URL_KEYS = (
    "url_status", "threat", "date_added", "last_online", "reporter", "larted",
    "takedown_time_seconds", "blacklists", "urlhaus_reference",
)  # fmt: skip
_HOST_KEYS = ("firstseen", "url_count", "blacklists", "urlhaus_reference")
_PAYLOAD_KEYS = (
    "file_type", "file_size", "firstseen", "lastseen", "url_count", "imphash", "ssdeep",
    "tlsh", "signature", "urlhaus_download",
)  # fmt: skip


class UrlhausConfig(HttpConfig):
    """URLhaus settings; ``api_key`` is the abuse.ch Auth-Key."""

    base_url: str = "https://urlhaus-api.abuse.ch"


class UrlhausProvider(AbuseChProvider):
    """URLhaus lookups of URLs, hosts and payload hashes."""

    name: ClassVar[str] = "urlhaus"
    title: ClassVar[str] = "abuse.ch URLhaus"
    types: ClassVar[frozenset[IndicatorType]] = frozenset(
        {_T.URL, _T.DOMAIN, _T.IPV4, _T.MD5, _T.SHA256}
    )
    config_model: ClassVar[type[ProviderConfig]] = UrlhausConfig

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Look one URL, host or payload hash up."""
        t = indicator.type
        if t is _T.URL:
            body = await self.query(client, "v1/url/", data={"url": indicator.value})
            mapper = _map_url
        elif t in (_T.DOMAIN, _T.IPV4):
            body = await self.query(client, "v1/host/", data={"host": indicator.value})
            mapper = _map_host
        else:
            field = "md5_hash" if t is _T.MD5 else "sha256_hash"
            body = await self.query(client, "v1/payload/", data={field: indicator.value})
            mapper = _map_payload
        if body is None:
            return self.result(indicator, Status.NOT_FOUND)
        return self.result(indicator, raw=body, **mapper(indicator, body))


def _list(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key)
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _tags(values: Any) -> list[str]:
    return [f"urlhaus:{t.lower()}" for t in texts(values if isinstance(values, list) else [])]


def _map_url(indicator: Indicator, body: dict[str, Any]) -> dict[str, Any]:
    status = body.get("url_status")
    verdict, score = _URL_STATUS.get(
        status if isinstance(status, str) else "", _URL_STATUS["offline"]
    )
    payloads = _list(body, "payloads")
    tags = [f"threat:{body['threat']}"] if isinstance(body.get("threat"), str) else []
    tags += _tags(body.get("tags"))
    tags += [f"malware:{s}" for s in texts(p.get("signature") for p in payloads)]
    host = body.get("host")
    related = [pivot("hosted-on", host_type(host), host)] if isinstance(host, str) else []
    related += [pivot("delivers", _T.SHA256, p.get("response_sha256")) for p in payloads]
    attributes = pick(body, _URL_KEYS)
    attributes["payload_count"] = len(payloads)
    return {
        "verdict": verdict,
        "score": score,
        "tags": texts(tags),
        "attributes": attributes,
        "related": unique(related, MAX_RELATED),
    }


def _listed(blacklists: Any) -> bool:
    if not isinstance(blacklists, dict):
        return False
    return any(isinstance(v, str) and v != "not listed" for v in blacklists.values())


def _map_host(indicator: Indicator, body: dict[str, Any]) -> dict[str, Any]:
    urls = _list(body, "urls")
    online = sum(1 for u in urls if u.get("url_status") == "online")
    if online:
        verdict, score = Verdict.MALICIOUS, 90
    elif _listed(body.get("blacklists")):
        verdict, score = Verdict.SUSPICIOUS, 60
    else:
        verdict, score = Verdict.SUSPICIOUS, 40
    tags = [f"threat:{t}" for t in texts(u.get("threat") for u in urls)]
    for u in urls:
        tags += _tags(u.get("tags"))
    attributes = pick(body, _HOST_KEYS)
    attributes["online_url_count"] = online
    return {
        "verdict": verdict,
        "score": score,
        "tags": texts(tags),
        "attributes": attributes,
        "related": pivots("hosts", _T.URL, (u.get("url") for u in urls)),
    }


def _map_payload(indicator: Indicator, body: dict[str, Any]) -> dict[str, Any]:
    signature = body.get("signature")
    tags = [f"malware:{signature}"] if isinstance(signature, str) and signature else []
    attributes = pick(body, _PAYLOAD_KEYS)
    vt = body.get("virustotal")
    if isinstance(vt, dict) and vt.get("result") is not None:
        attributes["virustotal"] = vt.get("result")
    other = (
        pivot("same-file", _T.SHA256, body.get("sha256_hash"))
        if indicator.type is _T.MD5
        else pivot("same-file", _T.MD5, body.get("md5_hash"))
    )
    related = [other] + [
        pivot("downloaded-from", _T.URL, u.get("url")) for u in _list(body, "urls")
    ]
    return {
        "verdict": Verdict.MALICIOUS,
        "score": 90,
        "tags": texts(tags),
        "attributes": attributes,
        "related": unique(related, MAX_RELATED),
    }
