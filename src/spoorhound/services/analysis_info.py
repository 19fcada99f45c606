"""One indicator's information sheet (Pulsedive's ``info``), within the caller's scope.

:func:`info` gathers what :func:`spoorhound.services.indicators.lookup` and
:mod:`spoorhound.services.enrichment` know about a value (or a public id) into one
document per matching indicator: risk and score, risk factors, properties (the
latest good answer of each provider), attributes (from the sources' observations),
tags, threats, sources, links (pivots and reports), sightings and the enrichment
history. Everything comes from enclaves in ``scope`` only: an indicator without a
visible observation is not found, exactly as in ``lookup``.

``risk``, ``score``, ``risk_recommended``, ``high_priority`` and ``risk_factors`` are
the stored score of the caller's visible enclaves (:func:`spoorhound.services.scoring.views`;
``unknown`` / None / empty until the indicator is scored).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from spoorhound.services import enrichment as enrichment_service
from spoorhound.services import indicators as indicator_service
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = ["THREAT_PREFIXES", "info", "threats_of"]

Scope = Collection[str] | None

#: Tag prefixes that name a threat (as the query language's ``threat`` field).
THREAT_PREFIXES = ("malware:", "actor:", "threat:")


def threats_of(tags: Collection[str]) -> list[dict[str, str]]:
    """Threats named by ``tags``: ``malware:x`` → malware x, ``actor:x``, ``threat:x``."""
    out: dict[str, dict[str, str]] = {}
    for t in sorted(tags):
        for prefix in THREAT_PREFIXES:
            if t.startswith(prefix) and len(t) > len(prefix):
                name = t[len(prefix) :]
                out.setdefault(name, {"name": name, "category": prefix[:-1]})
    return list(out.values())


def _by_id(store: Store, iid: str) -> tuple[str, str] | None:
    with store.read() as conn:
        row = conn.execute(
            sa.select(schema.indicator.c.type, schema.indicator.c.value).where(
                schema.indicator.c.id == iid
            )
        ).first()
    return None if row is None else (str(row[0]), str(row[1]))


def info(
    store: Store,
    value: str | None = None,
    *,
    iid: str | None = None,
    scope: Scope = None,
    history: bool = True,
) -> list[dict[str, Any]]:
    """The information sheet of each indicator matching ``value`` (or public id ``iid``).

    Returns an empty list when nothing visible in ``scope`` matches. Raises ValueError
    for a value that is no indicator. Each sheet has ``id``, ``type``, ``value``,
    ``risk``, ``score``, ``risk_factors``, seen/created/updated times, ``safelisted``,
    ``retired``, ``properties``, ``attributes``, ``tags``, ``threats``, ``sources``,
    ``links``, ``reports``, ``sightings``, ``probed_at`` and (with ``history``)
    ``history`` (per provider: each different answer with its change summary).
    """
    type_: str | None = None
    if iid is not None:
        found = _by_id(store, iid)
        if found is None:
            return []
        type_, value = found
    if value is None:
        raise ValueError("give an indicator value or id")
    rows = indicator_service.lookup(store, value, scope=scope, type=type_)
    if not rows:
        return []
    current = {
        (c["type"], c["value"]): c["results"]
        for c in enrichment_service.current(store, value, scope=scope)
    }
    timelines = (
        {
            (h["type"], h["value"]): h["providers"]
            for h in enrichment_service.history(store, value, scope=scope)
        }
        if history
        else {}
    )
    return [
        _sheet(r, current.get((r["type"], r["value"]), {}), timelines.get((r["type"], r["value"])))
        for r in rows
        if type_ is None or r["type"] == type_
    ]


def _sheet(
    row: dict[str, Any],
    results: dict[str, dict[str, Any]],
    timeline: dict[str, list[dict[str, Any]]] | None,
) -> dict[str, Any]:
    tags = sorted({t for names in row["tags"].values() for t in names})
    attributes: dict[str, list[Any]] = {}
    for o in row["observations"]:
        for k, v in (o.get("attributes") or {}).items():
            values = attributes.setdefault(k, [])
            for x in v if isinstance(v, list) else [v]:
                if x not in values:
                    values.append(x)
    links: list[dict[str, Any]] = []
    for name, r in results.items():
        for rel in r.get("related") or []:
            links.append({**rel, "provider": name})
    probed = results.get("probe")
    risk = row.get("risk_detail")
    doc: dict[str, Any] = {
        "id": row["id"],
        "type": row["type"],
        "value": row["value"],
        "risk": row.get("risk") or "unknown",
        "score": row.get("score"),
        # The stored score of the caller's visible enclaves, with the reasons behind it.
        "risk_recommended": (risk or {}).get("risk_recommended", "unknown"),
        "score_recommended": (risk or {}).get("score_recommended"),
        "high_priority": bool((risk or {}).get("high_priority")),
        "pinned": (risk or {}).get("pinned"),
        "risk_factors": list((risk or {}).get("risk_factors", [])),
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "created_at": row.get("created_at"),
        "updated_at": row.get("updated_at"),
        "safelisted": bool(row.get("safelisted")),
        "retired": bool(row.get("retired")),
        "properties": {
            name: {
                "verdict": r.get("verdict"),
                "score": r.get("score"),
                "fetched_at": r.get("fetched_at"),
                "attributes": r.get("attributes") or {},
                "tags": r.get("tags") or [],
            }
            for name, r in results.items()
        },
        "attributes": attributes,
        "tags": tags,
        "tags_by_enclave": row["tags"],
        "threats": threats_of(tags),
        "sources": [
            {
                k: o.get(k)
                for k in (
                    "source",
                    "enclave",
                    "tlp",
                    "confidence",
                    "first_seen",
                    "last_seen",
                    "times_reported",
                )
            }
            for o in row["observations"]
        ],
        "links": links,
        "reports": row["reports"],
        "sightings": row["sightings"],
        "probed_at": probed.get("fetched_at") if probed else None,
    }
    if timeline is not None:
        doc["history"] = {
            name: [
                {
                    k: e.get(k)
                    for k in (
                        "fetched_at",
                        "checked_at",
                        "status",
                        "verdict",
                        "score",
                        "error",
                        "summary",
                    )
                }
                for e in entries
            ]
            for name, entries in timeline.items()
        }
    return doc
