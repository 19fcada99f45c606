"""RDAP (RFC 9083 responses, RFC 9082 queries): registration data of domains and IPs.

``GET {base_url}/domain/{name}`` and ``GET {base_url}/ip/{address}`` with ``Accept:
application/rdap+json``. ``base_url`` is one RDAP server (a registry's, a RIR's, or a
redirect-following aggregator such as ``https://rdap.org``); finding the authoritative
server through the IANA bootstrap files (RFC 9224) needs those files, which this
offline-first build does not fetch, so it is out of scope: configure the server you
trust. 404 (or an RFC 9083 error object with ``errorCode`` 404) → ``NOT_FOUND``; any
other error object, or an ``objectClassName`` that is not the one asked for → ``ERROR``.

Mapping rules (context only: verdict ``unknown``, no score):

* ``events``: ``registration`` → ``registered``, ``expiration`` → ``expires``,
  ``last changed`` → ``last_changed``; ``age_days`` = days since registration at
  lookup time; a domain registered less than ``new_domain_days`` (30) ago gets the
  tag ``rdap:newly-registered``.
* entities (searched recursively, as abuse contacts usually sit inside the
  registrar): role ``registrar`` → ``registrar`` (vCard ``fn``) and
  ``registrar_iana_id`` (``publicIds``); role ``abuse`` → ``abuse_email``,
  ``abuse_phone``; role ``registrant`` → ``registrant`` (``org`` or ``fn``) when
  not redacted.
* ``status`` → ``status``; ``secureDNS.delegationSigned`` → ``dnssec``;
  ``nameservers`` → pivots ``name-server`` (domain).
* IP networks: ``handle``, ``name``, ``type``, ``country``, start/end address,
  ``parentHandle``; ``cidr0_cidrs`` (the CIDR extension) → ``cidr`` and pivots
  ``within`` (cidr).

TLP: a lookup tells the registry (and whoever runs ``base_url``) what you are looking
at, so ``max_tlp`` is ``green``. No limit is declared: RDAP servers publish none and
answer 429 with ``Retry-After``, which maps to ``RATE_LIMITED``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
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
)
from spoorhound.enrich.providers._common import MAX_RELATED, pick, pivot, short, texts, unique

__all__ = ["RdapConfig", "RdapProvider"]

_T = IndicatorType
_EVENTS = {"registration": "registered", "expiration": "expires", "last changed": "last_changed"}
_IP_KEYS = ("handle", "name", "type", "country", "startAddress", "endAddress", "parentHandle")


class RdapConfig(HttpConfig):
    """One RDAP server (``base_url``, e.g. ``https://rdap.verisign.com/com/v1``)."""

    new_domain_days: int = Field(default=30, ge=0)


class RdapProvider(HttpProvider):
    """RDAP domain and IP network lookups."""

    name: ClassVar[str] = "rdap"
    title: ClassVar[str] = "RDAP registration data"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({_T.DOMAIN, _T.IPV4, _T.IPV6})
    max_tlp: ClassVar[str] = "green"
    cache_ttl: ClassVar[int] = 86_400
    config_model: ClassVar[type[ProviderConfig]] = RdapConfig

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Look the domain or IP up."""
        is_domain = indicator.type is _T.DOMAIN
        path = f"{'domain' if is_domain else 'ip'}/{indicator.value}"
        body = await self.request(
            client, "GET", path, headers={"Accept": "application/rdap+json, application/json"}
        )
        if body is None:
            return self.result(indicator, Status.NOT_FOUND)
        if not isinstance(body, dict):
            raise ProviderError(Status.ERROR, f"{self.name}: expected a JSON object")
        if "errorCode" in body:
            if body.get("errorCode") == 404:
                return self.result(indicator, Status.NOT_FOUND, raw=body)
            raise ProviderError(
                Status.ERROR, f"{self.name}: RDAP error {short(body.get('errorCode'))}"
            )
        expected = "domain" if is_domain else "ip network"
        if body.get("objectClassName") != expected:
            raise ProviderError(
                Status.ERROR,
                f"{self.name}: expected objectClassName {expected!r}, "
                f"got {short(body.get('objectClassName'))}",
            )
        assert isinstance(self.config, RdapConfig)
        return self.result(indicator, raw=body, **_map(body, is_domain, self.config))


def _map(body: dict[str, Any], is_domain: bool, cfg: RdapConfig) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for event in body.get("events") or []:
        if isinstance(event, dict) and event.get("eventAction") in _EVENTS:
            attributes[_EVENTS[event["eventAction"]]] = event.get("eventDate")
    tags: list[str] = []
    registered = _parse_date(attributes.get("registered"))
    if registered is not None:
        age = int((time.time() - registered.timestamp()) // 86_400)
        attributes["age_days"] = age
        if is_domain and age < cfg.new_domain_days:
            tags.append("rdap:newly-registered")
    attributes.update(_entities(body.get("entities")))
    if isinstance(body.get("status"), list):
        attributes["status"] = list(texts(body["status"]))
    related: list[Related | None] = []
    if is_domain:
        attributes["ldh_name"] = body.get("ldhName")
        secure = body.get("secureDNS")
        if isinstance(secure, dict) and "delegationSigned" in secure:
            attributes["dnssec"] = bool(secure["delegationSigned"])
        related += [
            pivot("name-server", _T.DOMAIN, ns.get("ldhName"))
            for ns in body.get("nameservers") or []
            if isinstance(ns, dict)
        ]
    else:
        attributes.update(pick(body, _IP_KEYS))
        cidrs = [
            f"{c.get('v4prefix') or c.get('v6prefix')}/{c.get('length')}"
            for c in body.get("cidr0_cidrs") or []
            if isinstance(c, dict) and (c.get("v4prefix") or c.get("v6prefix"))
        ]
        if cidrs:
            attributes["cidr"] = cidrs
        related += [pivot("within", _T.CIDR, c) for c in cidrs]
    return {
        "verdict": Verdict.UNKNOWN,
        "score": None,
        "tags": tuple(tags),
        "attributes": {k: v for k, v in attributes.items() if v is not None},
        "related": unique(related, MAX_RELATED),
    }


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _vcard(entity: dict[str, Any]) -> dict[str, Any]:
    """The first value of each vCard property (``fn``, ``org``, ``email``, ``tel``…)."""
    card = entity.get("vcardArray")
    out: dict[str, Any] = {}
    if isinstance(card, list) and len(card) == 2 and isinstance(card[1], list):
        for prop in card[1]:
            if isinstance(prop, list) and len(prop) >= 4 and isinstance(prop[0], str):
                out.setdefault(prop[0], prop[3])
    return out


def _walk(entities: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = list(entities) if isinstance(entities, list) else []
    while stack and len(out) < 100:  # bounded: a hostile server cannot make us loop
        e = stack.pop(0)
        if isinstance(e, dict):
            out.append(e)
            if isinstance(e.get("entities"), list):
                stack.extend(e["entities"])
    return out


def _entities(entities: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for e in _walk(entities):
        raw_roles = e.get("roles")
        roles: list[Any] = raw_roles if isinstance(raw_roles, list) else []
        card = _vcard(e)
        if "registrar" in roles and "registrar" not in attributes:
            attributes["registrar"] = card.get("fn") or e.get("handle")
            for pid in e.get("publicIds") or []:
                if isinstance(pid, dict) and "IANA" in str(pid.get("type")):
                    attributes["registrar_iana_id"] = pid.get("identifier")
        if "abuse" in roles and "abuse_email" not in attributes:
            attributes["abuse_email"] = card.get("email")
            tel = card.get("tel")
            attributes["abuse_phone"] = tel.removeprefix("tel:") if isinstance(tel, str) else None
        if "registrant" in roles and "registrant" not in attributes:
            name = card.get("org") or card.get("fn")
            if isinstance(name, str) and "redacted" not in name.lower():
                attributes["registrant"] = name
    return attributes
