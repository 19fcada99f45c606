"""ThreatFox (abuse.ch): IOCs of malware infrastructure with malware family and confidence.

API v1 (https://threatfox-api.abuse.ch/api/v1/), JSON POSTs with an ``Auth-Key``
header: ``{"query": "search_ioc", "search_term": VALUE}`` for IPs, domains and URLs,
``{"query": "search_hash", "hash": VALUE}`` for MD5/SHA-256 of samples (answers the
IOCs the sample talks to). No bulk form, so ``batch_size`` is 1. ``query_status``
handling is shared with URLhaus and MalwareBazaar (``_abusech``).

``search_ioc`` matches substrings and stores IPs as ``ip:port``, so the answer is
filtered to entries that are the indicator itself (an IPv4 matches ``IP`` and
``IP:port``; domains and URLs match case-insensitively on the whole value). Nothing left
after filtering → ``NOT_FOUND``.

Mapping rules:

* score = the highest ``confidence_level`` (0–100) among the matching entries;
  verdict malicious when that is ≥ 50, suspicious below (ThreatFox only lists
  indicators reported as malicious; confidence says how sure).
* tags: ``malware:<malware_printable>`` per family, ``threat:<threat_type>``
  (``botnet_cc``, ``payload_delivery``…), ``threatfox:<tag>`` per reporter tag.
* attributes: first/last seen, malware ids and aliases, Malpedia link, ports seen
  (``ip:port`` entries), reporter, reference, ``is_compromised``, entry count.
* pivots: for an IOC, the samples that use it (``contacted-by`` SHA-256); for a hash,
  the infrastructure it uses (``communicates-with`` IPv4/domain/URL).
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpConfig,
    ProviderConfig,
    Related,
    Status,
    Verdict,
)
from spoorhound.enrich.providers._abusech import AbuseChProvider
from spoorhound.enrich.providers._common import MAX_RELATED, host_type, pivot, texts, unique

__all__ = ["ThreatFoxConfig", "ThreatFoxProvider"]

_T = IndicatorType
_HASHES = frozenset({_T.MD5, _T.SHA256})


class ThreatFoxConfig(HttpConfig):
    """ThreatFox settings; ``api_key`` is the abuse.ch Auth-Key."""

    base_url: str = "https://threatfox-api.abuse.ch"


class ThreatFoxProvider(AbuseChProvider):
    """ThreatFox IOC and sample-hash searches."""

    name: ClassVar[str] = "threatfox"
    title: ClassVar[str] = "abuse.ch ThreatFox"
    types: ClassVar[frozenset[IndicatorType]] = frozenset(
        {_T.IPV4, _T.DOMAIN, _T.URL, _T.MD5, _T.SHA256}
    )
    config_model: ClassVar[type[ProviderConfig]] = ThreatFoxConfig

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Search one IOC (or the IOCs of one sample hash)."""
        if indicator.type in _HASHES:
            query: dict[str, Any] = {"query": "search_hash", "hash": indicator.value}
        else:
            query = {"query": "search_ioc", "search_term": indicator.value}
        body = await self.query(client, "api/v1/", json=query)
        data = body.get("data") if body is not None else None
        entries = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
        if indicator.type not in _HASHES:
            entries = [e for e in entries if _matches(indicator, e.get("ioc"))]
        if not entries:
            return self.result(indicator, Status.NOT_FOUND, raw=body)
        return self.result(indicator, raw=body, **_map(indicator, entries))


def _matches(indicator: Indicator, ioc: Any) -> bool:
    if not isinstance(ioc, str):
        return False
    value, seen = indicator.value.lower(), ioc.lower()
    if indicator.type is _T.IPV4:
        return seen == value or seen.startswith(value + ":")
    return seen == value


def _confidence(entry: dict[str, Any]) -> int:
    try:
        return max(0, min(100, int(entry.get("confidence_level") or 0)))
    except (TypeError, ValueError):
        return 0


def _ioc_pivot(entry: dict[str, Any]) -> Related | None:
    ioc, kind = entry.get("ioc"), entry.get("ioc_type")
    if not isinstance(ioc, str):
        return None
    if kind == "ip:port":
        host = ioc.rsplit(":", 1)[0]
        return pivot("communicates-with", host_type(host), host)
    if kind == "domain":
        return pivot("communicates-with", _T.DOMAIN, ioc)
    if kind == "url":
        return pivot("communicates-with", _T.URL, ioc)
    return None


def _map(indicator: Indicator, entries: list[dict[str, Any]]) -> dict[str, Any]:
    score = max(_confidence(e) for e in entries)
    tags = [f"malware:{m}" for m in texts(e.get("malware_printable") for e in entries)]
    tags += [f"threat:{t}" for t in texts(e.get("threat_type") for e in entries)]
    for e in entries:
        raw_tags = e.get("tags")
        tags += [f"threatfox:{t.lower()}" for t in texts(raw_tags or [])]
    ports = texts(e["ioc"].rsplit(":", 1)[1] for e in entries if e.get("ioc_type") == "ip:port")
    first = [e["first_seen"] for e in entries if isinstance(e.get("first_seen"), str)]
    last = [e["last_seen"] for e in entries if isinstance(e.get("last_seen"), str)]
    attributes: dict[str, Any] = {
        "entries": len(entries),
        "confidence_level": score,
        "malware": list(texts(e.get("malware") for e in entries)),
        "malware_alias": list(texts(a for e in entries for a in _aliases(e))),
        "malpedia": list(texts(e.get("malware_malpedia") for e in entries)),
        "reporters": list(texts(e.get("reporter") for e in entries)),
        "references": list(texts(e.get("reference") for e in entries)),
        "is_compromised": any(e.get("is_compromised") is True for e in entries),
    }
    if ports:
        attributes["ports"] = list(ports)
    if first:
        attributes["first_seen"] = min(first)
    if last:
        attributes["last_seen"] = max(last)
    if indicator.type in _HASHES:
        related = [_ioc_pivot(e) for e in entries]
    else:
        related = [
            pivot("contacted-by", _T.SHA256, s.get("sha256_hash"))
            for e in entries
            for s in (e.get("malware_samples") or [])
            if isinstance(s, dict)
        ]
    return {
        "verdict": Verdict.MALICIOUS if score >= 50 else Verdict.SUSPICIOUS,
        "score": score,
        "tags": texts(tags),
        "attributes": attributes,
        "related": unique(related, MAX_RELATED),
    }


def _aliases(entry: dict[str, Any]) -> list[str]:
    value = entry.get("malware_alias")
    return [a.strip() for a in value.split(",")] if isinstance(value, str) else []
