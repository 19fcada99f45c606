"""A MISP instance: has this indicator been seen in the events shared with us?

MISP REST API, the call PyMISP's ``search(controller="attributes")`` makes:
``POST /attributes/restSearch`` with headers ``Authorization: <key>``, ``Accept:
application/json`` and a JSON body ``{"returnFormat": "json", "value": [...], "type":
[...], "includeEventTags": true, "limit": N, "page": 1}``. ``value`` takes a list
(OR), so ``enrich_batch`` sends up to ``batch_size`` (100) indicators per request and
splits the answer ``{"response": {"Attribute": [...]}}`` back per indicator, matching
each attribute's value — or either half of a composite value such as ``domain|ip`` or
``filename|md5`` — case-insensitively, and its MISP type against the indicator's type.

Mapping rules, over an indicator's matching attributes ("hits"):

* no hit → ``NOT_FOUND``;
* a hit tagged with one of ``malicious_tags`` → malicious, 90;
* else a hit with ``to_ids`` set (the producer marked it for detection) → malicious, 80;
* else every hit tagged with one of ``benign_tags`` (default
  ``false-positive:risk="high"``) → benign, 10;
* else → suspicious, 50 (seen in shared intelligence, not marked for detection).
* tags: every attribute and event tag except ``tlp:*`` (MISP's TLP marks go to the
  ``tlp`` attribute, so they never pose as topic tags); attributes: hit and event
  counts, the events (id, uuid, ``info``, date), categories, MISP types, comments,
  first/last seen (attribute timestamps); pivots: the other half of ``domain|ip``
  (``resolves-to``) and ``filename|<hash>`` (``file-name``).

Errors: MISP answers 403 with ``{"name": "Authentication failed…", "message": …}``
for a bad key (→ ``AUTH_FAILED``); a body without ``response`` → ``ERROR``.

TLP: a MISP instance is a sharing community you already trust with intelligence, so
``max_tlp`` is ``amber``; set ``own_instance: true`` when the instance is operated by
your own organisation to allow ``amber+strict`` too. TLP:RED is never sent. No rate
limit is declared (self-hosted); ``cache_ttl`` is one hour since events are added often.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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
    Related,
    Status,
    Verdict,
    tlp_allows,
)
from spoorhound.enrich.providers._common import MAX_RELATED, pivot, short, texts, unique

__all__ = ["MISP_TYPES", "MispConfig", "MispProvider"]

_T = IndicatorType
_HASH_NAMES = {_T.MD5: "md5", _T.SHA1: "sha1", _T.SHA256: "sha256", _T.SHA512: "sha512"}

#: MISP attribute types that can carry each indicator type (as a value or a half).
MISP_TYPES: dict[IndicatorType, tuple[str, ...]] = {
    _T.IPV4: ("ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"),
    _T.IPV6: ("ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"),
    _T.CIDR: ("ip-src", "ip-dst"),
    _T.DOMAIN: ("domain", "hostname", "domain|ip", "hostname|port"),
    _T.URL: ("url", "link", "uri"),
    _T.EMAIL: ("email", "email-src", "email-dst", "target-email", "whois-registrant-email"),
    **{t: (n, f"filename|{n}") for t, n in _HASH_NAMES.items()},
    _T.SSDEEP: ("ssdeep", "filename|ssdeep"),
    _T.TLSH: ("tlsh", "filename|tlsh"),
    _T.IMPHASH: ("imphash", "filename|imphash"),
    _T.JA3: ("ja3-fingerprint-md5",),
    _T.JA3S: ("ja3s-fingerprint-md5",),
    _T.ASN: ("AS",),
    _T.CVE: ("vulnerability",),
    _T.MAC: ("mac-address",),
    _T.FILENAME: ("filename",),
    _T.REGKEY: ("regkey", "regkey|value"),
    _T.MUTEX: ("mutex",),
    _T.USER_AGENT: ("user-agent",),
    _T.BTC: ("btc",),
    _T.XMR: ("xmr",),
}


class MispConfig(HttpConfig):
    """Settings of a MISP instance: its URL, an API key, and how to read its tags."""

    own_instance: bool = False
    malicious_tags: list[str] = Field(default_factory=list)
    suspicious_tags: list[str] = Field(default_factory=list)
    benign_tags: list[str] = Field(default_factory=lambda: ['false-positive:risk="high"'])
    max_hits: int = Field(default=1000, gt=0, le=100_000)


class MispProvider(HttpProvider):
    """Attribute search on a MISP instance (``/attributes/restSearch``), batched."""

    name: ClassVar[str] = "misp"
    title: ClassVar[str] = "MISP instance"
    types: ClassVar[frozenset[IndicatorType]] = frozenset(MISP_TYPES)
    max_tlp: ClassVar[str] = "amber"
    needs_key: ClassVar[bool] = True
    cache_ttl: ClassVar[int] = 3600
    batch_size: ClassVar[int] = 100
    config_model: ClassVar[type[ProviderConfig]] = MispConfig

    @property
    def misp(self) -> MispConfig:
        """The typed configuration."""
        assert isinstance(self.config, MispConfig)
        return self.config

    def accepts(self, indicator: Indicator, tlp: str | None = None) -> bool:
        """As :meth:`Provider.accepts`, with ``amber+strict`` allowed for an own instance."""
        ceiling = "amber+strict" if self.misp.own_instance else self.max_tlp
        return indicator.type in self.types and tlp_allows(ceiling, tlp)

    def auth_headers(self) -> dict[str, str]:
        """MISP takes the bare key in ``Authorization``."""
        key = self.http.api_key
        return {"Authorization": key.get_secret_value()} if key is not None else {}

    def search_body(self, indicators: Sequence[Indicator]) -> dict[str, Any]:
        """The restSearch body for these indicators (documented MISP filters only)."""
        types = sorted({m for i in indicators for m in MISP_TYPES[i.type]})
        return {
            "returnFormat": "json",
            "value": list(dict.fromkeys(i.value for i in indicators)),
            "type": types,
            "includeEventTags": True,
            "limit": self.misp.max_hits,
            "page": 1,
        }

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Search one indicator (a batch of one)."""
        return (await self.enrich_batch(client, [indicator]))[0]

    async def enrich_batch(
        self, client: httpx.AsyncClient, indicators: Sequence[Indicator]
    ) -> list[EnrichmentResult]:
        """Search all ``indicators`` in one request; one result each, in order."""
        if not indicators:
            return []
        body = await self.request(
            client, "POST", "attributes/restSearch", json=self.search_body(indicators)
        )
        attributes = self._attributes(body)
        truncated = len(attributes) >= self.misp.max_hits
        out = []
        for ind in indicators:
            hits = [a for a in attributes if _matches(ind, a)]
            if not hits:
                out.append(self.result(ind, Status.NOT_FOUND))
                continue
            mapped = self._map(ind, hits)
            mapped["attributes"]["truncated"] = truncated
            out.append(self.result(ind, raw={"Attribute": hits}, **mapped))
        return out

    def _attributes(self, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, dict) or "response" not in body:
            message = body.get("message") or body.get("name") if isinstance(body, dict) else None
            if isinstance(message, str) and "authentication" in message.lower():
                raise ProviderError(
                    Status.AUTH_FAILED, f"{self.name}: authentication failed; check the API key"
                )
            detail = f": {short(message)}" if message else ""
            raise ProviderError(Status.ERROR, f"{self.name}: unexpected response{detail}")
        response = body["response"]
        found = response.get("Attribute") if isinstance(response, dict) else None
        # An empty search answers {"response": []} on some MISP versions.
        if found is None and response not in ([], {}):
            raise ProviderError(Status.ERROR, f"{self.name}: response has no Attribute list")
        return [a for a in found or [] if isinstance(a, dict)]

    def _map(self, indicator: Indicator, hits: list[dict[str, Any]]) -> dict[str, Any]:
        cfg = self.misp
        tag_sets = [set(_tag_names(a)) for a in hits]
        if any(t & set(cfg.malicious_tags) for t in tag_sets):
            verdict, score = Verdict.MALICIOUS, 90
        elif any(_truthy(a.get("to_ids")) for a in hits):
            verdict, score = Verdict.MALICIOUS, 80
        elif cfg.benign_tags and all(t & set(cfg.benign_tags) for t in tag_sets):
            verdict, score = Verdict.BENIGN, 10
        else:
            verdict, score = Verdict.SUSPICIOUS, 50
        names = texts(n for t in hits for n in _tag_names(t))
        events: dict[str, dict[str, Any]] = {}
        for a in hits:
            ev = a.get("Event")
            if isinstance(ev, dict) and ev.get("id") is not None:
                events.setdefault(
                    str(ev["id"]),
                    {k: ev[k] for k in ("id", "uuid", "info", "date", "orgc_id") if k in ev},
                )
        stamps = [int(a["timestamp"]) for a in hits if str(a.get("timestamp", "")).isdigit()]
        attributes: dict[str, Any] = {
            "hits": len(hits),
            "to_ids_hits": sum(1 for a in hits if _truthy(a.get("to_ids"))),
            "event_count": len(events),
            "events": list(events.values()),
            "event_info": list(texts(e.get("info") for e in events.values())),
            "categories": list(texts(a.get("category") for a in hits)),
            "misp_types": list(texts(a.get("type") for a in hits)),
            "comments": list(texts(a.get("comment") for a in hits)),
            "tlp": [n for n in names if n.lower().startswith("tlp:")],
        }
        if stamps:
            attributes["first_seen"] = _iso(min(stamps))
            attributes["last_seen"] = _iso(max(stamps))
        return {
            "verdict": verdict,
            "score": score,
            "tags": tuple(n for n in names if not n.lower().startswith("tlp:")),
            "attributes": attributes,
            "related": unique((_composite_pivot(indicator, a) for a in hits), MAX_RELATED),
        }


def _truthy(value: Any) -> bool:
    return value is True or value in (1, "1", "true", "True")


def _tag_names(attribute: dict[str, Any]) -> list[str]:
    tags = attribute.get("Tag")
    return [t["name"] for t in tags or [] if isinstance(t, dict) and isinstance(t.get("name"), str)]


def _parts(attribute: dict[str, Any]) -> list[str]:
    value = attribute.get("value")
    if not isinstance(value, str):
        return []
    kind = attribute.get("type")
    parts = value.split("|", 1) if isinstance(kind, str) and "|" in kind else [value]
    return [p.strip().lower() for p in parts]


def _matches(indicator: Indicator, attribute: dict[str, Any]) -> bool:
    return attribute.get("type") in MISP_TYPES[indicator.type] and (
        indicator.value.lower() in _parts(attribute)
    )


def _composite_pivot(indicator: Indicator, attribute: dict[str, Any]) -> Related | None:
    kind, value = attribute.get("type"), attribute.get("value")
    if not isinstance(kind, str) or not isinstance(value, str) or "|" not in value:
        return None
    first, second = value.split("|", 1)
    if kind == "domain|ip":
        if indicator.type is _T.DOMAIN:
            ip = second.strip()
            return pivot("resolves-to", _T.IPV6 if ":" in ip else _T.IPV4, ip)
        return pivot("resolved-from", _T.DOMAIN, first)
    if kind.startswith("filename|") and indicator.type is not _T.FILENAME:
        return pivot("file-name", _T.FILENAME, first)
    return None


def _iso(stamp: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
