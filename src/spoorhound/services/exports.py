"""Exports: the indicators a query matches, streamed as CSV, JSON Lines, STIX 2.1, MISP or plain.

:func:`export_tlp` is the pre-pass: it validates the query and finds the TLP the
export will carry, the most restrictive TLP of the observations it may include.
:func:`export_rows` pages through :func:`spoorhound.services.explore.explore`
(same query language, same scope) and keeps, per indicator, only observations
that may leave their enclave (:mod:`spoorhound.services.tlp`) and are not above
that TLP (an observation that became more restrictive while the export ran is
dropped rather than carried under a lower marking). An indicator with no such
observation is not exported; its first/last seen, sources, confidence and tags
come from the kept observations and their enclaves only. Safelisted indicators
(:mod:`spoorhound.services.safelists`) are left out unless asked for. :func:`serialize` turns
the rows into bytes in one of :data:`FORMATS`, a row at a time.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from spoorhound.core.query import parse_query
from spoorhound.services.explore import explore
from spoorhound.services.jobs import now
from spoorhound.services.safelists import SafelistMatcher, load_matcher
from spoorhound.services.tlp import exportable, most_restrictive, rank
from spoorhound.storage import schema
from spoorhound.storage.engine import Store
from spoorhound.storage.query_sql import compile_query

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "Export",
    "ExportRow",
    "export",
    "export_rows",
    "export_tlp",
    "serialize",
    "stix_pattern",
]

Scope = Collection[str] | None

FORMATS: tuple[str, ...] = ("csv", "jsonl", "stix", "misp", "plain")
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "stix": "application/stix+json;version=2.1",
    "misp": "application/json",
    "plain": "text/plain; charset=utf-8",
}

I = schema.indicator  # noqa: E741 - short aliases keep the queries readable
O = schema.observation  # noqa: E741
E = schema.enclave
S = schema.source
T = schema.tag
IT = schema.indicator_tag

#: STIX 2.1 predefined TLP 1.0 markings; only exportable levels are ever needed.
_STIX_TLP = {
    "clear": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
}
_STIX_TLP_NAME = {"clear": "white", "green": "green", "amber": "amber"}
_STIX_CREATED = "2017-01-20T00:00:00.000Z"  # the predefined TLP markings' creation time


@dataclass(slots=True)
class ExportRow:
    """One exported indicator, built from its exportable observations only."""

    id: str
    type: str
    value: str
    first_seen: int
    last_seen: int
    score: int | None
    risk: str | None
    tlp: str | None
    confidence: int | None
    sources: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id, "type": self.type, "value": self.value,
            "first_seen": self.first_seen, "last_seen": self.last_seen, "score": self.score,
            "risk": self.risk, "tlp": self.tlp, "confidence": self.confidence,
            "sources": self.sources, "tags": self.tags,
        }  # fmt: skip


def export_tlp(
    store: Store, query: str, *, scope: Scope = None, at: int | None = None
) -> str | None:
    """The TLP an export of ``query`` within ``scope`` carries (None: nothing is marked).

    Raises :class:`~spoorhound.core.query.QuerySyntaxError` for a bad query, so
    call it before streaming starts.
    """
    node = parse_query(query) if query.strip() else None
    with store.read() as conn:
        where = compile_query(conn, node, scope=scope, now=now() if at is None else at)
        q = (
            sa.select(O.c.tlp)
            .distinct()
            .select_from(O.join(E, E.c.id == O.c.enclave_id))
            .where(O.c.indicator_pk.in_(sa.select(I.c.pk).where(where)))
        )
        if scope is not None:
            q = q.where(E.c.name.in_(list(scope)))
        levels = [t for t in conn.execute(q).scalars() if exportable(t)]
    return most_restrictive(levels)


def _page_rows(
    store: Store, page: list[dict[str, Any]], scope: Scope, ceiling: str | None
) -> list[ExportRow]:
    ids = [r["id"] for r in page]
    obs_q = (
        sa.select(
            I.c.id, E.c.name, S.c.name, O.c.tlp, O.c.confidence, O.c.first_seen, O.c.last_seen
        )
        .select_from(O.join(I, I.c.pk == O.c.indicator_pk).join(E, E.c.id == O.c.enclave_id))
        .join(S, S.c.id == O.c.source_id)
        .where(I.c.id.in_(ids))
    )
    tag_q = (
        sa.select(I.c.id, E.c.name, T.c.name)
        .select_from(IT.join(I, I.c.pk == IT.c.indicator_pk).join(E, E.c.id == IT.c.enclave_id))
        .join(T, T.c.id == IT.c.tag_id)
        .where(I.c.id.in_(ids))
    )
    if scope is not None:
        obs_q = obs_q.where(E.c.name.in_(list(scope)))
        tag_q = tag_q.where(E.c.name.in_(list(scope)))
    kept: dict[str, list[tuple[str, str, str | None, int | None, int, int]]] = {}
    top = rank(ceiling)
    with store.read() as conn:
        for ident, enclave, source, tlp, conf, first, last in conn.execute(obs_q):
            if exportable(tlp) and rank(tlp) <= top:
                kept.setdefault(str(ident), []).append((enclave, source, tlp, conf, first, last))
        tags: dict[str, set[str]] = {}
        for ident, enclave, name in conn.execute(tag_q):
            if any(o[0] == enclave for o in kept.get(str(ident), ())):
                tags.setdefault(str(ident), set()).add(name)
    out = []
    for r in page:
        obs = kept.get(r["id"])
        if not obs:
            continue  # only RED / AMBER+STRICT (or above the ceiling) visible: not exported
        confidences = [o[3] for o in obs if o[3] is not None]
        out.append(
            ExportRow(
                id=r["id"], type=r["type"], value=r["value"],
                first_seen=min(o[4] for o in obs), last_seen=max(o[5] for o in obs),
                score=r["score"], risk=r["risk"], tlp=most_restrictive(o[2] for o in obs),
                confidence=max(confidences) if confidences else None,
                sources=sorted({o[1] for o in obs}), tags=sorted(tags.get(r["id"], ())),
            )
        )  # fmt: skip
    return out


def _safelisted(
    store: Store, rows: list[dict[str, Any]], matcher: SafelistMatcher | None
) -> set[str]:
    """Ids of ``rows`` that scoring flagged safelisted or that ``matcher`` vetoes."""
    with store.read() as conn:
        flagged = {
            str(i)
            for i in conn.execute(
                sa.select(I.c.id).where(I.c.id.in_([r["id"] for r in rows]), I.c.safelisted)
            ).scalars()
        }
    if matcher is not None:
        flagged.update(r["id"] for r in rows if matcher.match(r["type"], r["value"]) is not None)
    return flagged


def export_rows(
    store: Store,
    query: str,
    *,
    scope: Scope = None,
    ceiling: str | None,
    page_size: int = 1000,
    at: int | None = None,
    include_safelisted: bool = False,
    matcher: SafelistMatcher | None = None,
) -> Iterator[ExportRow]:
    """Every indicator ``query`` matches within ``scope`` that may be exported, newest first.

    ``ceiling`` is the export's TLP from :func:`export_tlp`: observations above it,
    and RED / AMBER+STRICT ones always, are left out. Unless ``include_safelisted``,
    so are safelisted indicators: those scoring flagged (named lists and vetoing
    warninglists) and those ``matcher`` (default: the named safelists, read now)
    matches, so an entry added since the last rescore applies at once.
    """
    cursor: str | None = None
    at = now() if at is None else at
    if not include_safelisted and matcher is None:
        matcher = load_matcher(store, warninglists=False)
    while True:
        page = explore(store, query, scope=scope, limit=page_size, cursor=cursor, at=at)
        rows = page.rows
        if not include_safelisted and rows:
            skip = _safelisted(store, rows, matcher)
            rows = [r for r in rows if r["id"] not in skip]
        yield from _page_rows(store, rows, scope, ceiling)
        if page.cursor is None:
            return
        cursor = page.cursor


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stix_time(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _q(v: str) -> str:
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


_STIX_PATHS = {
    "ipv4": "ipv4-addr:value", "ipv6": "ipv6-addr:value", "domain": "domain-name:value",
    "url": "url:value", "email": "email-addr:value", "mac": "mac-addr:value",
    "md5": "file:hashes.MD5", "sha1": "file:hashes.'SHA-1'", "sha256": "file:hashes.'SHA-256'",
    "sha512": "file:hashes.'SHA-512'", "ssdeep": "file:hashes.SSDEEP", "tlsh": "file:hashes.TLSH",
    "imphash": "file:extensions.'windows-pebinary-ext'.imphash", "filename": "file:name",
    "regkey": "windows-registry-key:key", "mutex": "mutex:name",
    "user-agent": "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
}  # fmt: skip


def stix_pattern(type: str, value: str) -> tuple[str, str] | None:
    """``(pattern, pattern_type)`` for an indicator, or None when STIX has no way to say it."""
    if type == "yara":
        return value, "yara"
    if type == "cidr":
        return f"[{'ipv6' if ':' in value else 'ipv4'}-addr:value = {_q(value)}]", "stix"
    if type == "asn":
        digits = value.upper().removeprefix("AS")
        return (f"[autonomous-system:number = {int(digits)}]", "stix") if digits.isdigit() else None
    if type == "filepath":
        cut = max(value.rfind("/"), value.rfind("\\"))
        name, folder = value[cut + 1 :], value[:cut] if cut > 0 else ""
        if not name:
            return None
        if not folder:
            return f"[file:name = {_q(name)}]", "stix"
        return f"[file:name = {_q(name)} AND file:parent_directory_ref.path = {_q(folder)}]", "stix"
    path = _STIX_PATHS.get(type)
    return (f"[{path} = {_q(value)}]", "stix") if path else None


def _stix_indicator(r: ExportRow) -> dict[str, Any] | None:
    pat = stix_pattern(r.type, r.value)
    if pat is None:
        return None
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{r.id}",
        "created": _stix_time(r.first_seen), "modified": _stix_time(r.last_seen),
        "name": r.value, "pattern": pat[0], "pattern_type": pat[1],
        "valid_from": _stix_time(r.first_seen),
    }  # fmt: skip
    if r.tags:
        obj["labels"] = r.tags
    if r.confidence is not None:
        obj["confidence"] = r.confidence
    if r.tlp is not None:
        obj["object_marking_refs"] = [_STIX_TLP[r.tlp]]
    return obj


def _stix_marking(tlp: str) -> dict[str, Any]:
    name = _STIX_TLP_NAME[tlp]
    return {
        "type": "marking-definition", "spec_version": "2.1", "id": _STIX_TLP[tlp],
        "created": _STIX_CREATED, "definition_type": "tlp", "name": f"TLP:{name.upper()}",
        "definition": {"tlp": name},
    }  # fmt: skip


def _stix(rows: Iterable[ExportRow]) -> Iterator[bytes]:
    # STIX 2.1 §8: a bundle's `objects`, when present, holds one or more objects, so
    # an export with nothing to say is a bundle without it.
    head = b'{"type":"bundle","id":"bundle--' + str(uuid.uuid4()).encode() + b'"'
    sep = b',"objects":['
    used: set[str] = set()
    for r in rows:
        obj = _stix_indicator(r)
        if obj is None:
            continue
        if r.tlp is not None:
            used.add(r.tlp)
        yield head + sep + orjson.dumps(obj)
        head, sep = b"", b","
    for tlp in sorted(used, key=rank):
        yield sep + orjson.dumps(_stix_marking(tlp))
    yield head + b"}\n" if head else b"]}\n"


_MISP_TYPES = {
    "ipv4": "ip-dst", "ipv6": "ip-dst", "cidr": "ip-dst", "domain": "domain", "url": "url",
    "email": "email", "md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512",
    "ssdeep": "ssdeep", "tlsh": "tlsh", "imphash": "imphash", "ja3": "ja3-fingerprint-md5",
    "ja3s": "ja3-fingerprint-md5", "filename": "filename", "filepath": "filename",
    "regkey": "regkey", "mutex": "mutex", "user-agent": "user-agent", "asn": "AS",
    "cve": "vulnerability", "mac": "mac-address", "btc": "btc", "xmr": "xmr", "yara": "yara",
}  # fmt: skip
_MISP_CATEGORIES = {
    "ip-dst": "Network activity", "domain": "Network activity", "url": "Network activity",
    "email": "Network activity", "user-agent": "Network activity", "AS": "Network activity",
    "ja3-fingerprint-md5": "Network activity", "mac-address": "Network activity",
    "vulnerability": "External analysis", "btc": "Financial fraud", "xmr": "Financial fraud",
    "regkey": "Persistence mechanism",
}  # fmt: skip


def _misp_attribute(r: ExportRow) -> dict[str, Any]:
    mtype = _MISP_TYPES.get(r.type, "text")
    tags = [{"name": t} for t in r.tags]
    if r.tlp is not None:
        tags.append({"name": f"tlp:{r.tlp}"})
    return {
        "uuid": r.id, "type": mtype, "category": _MISP_CATEGORIES.get(mtype, "Payload delivery"),
        "value": r.value, "to_ids": mtype != "text", "timestamp": str(r.last_seen),
        "first_seen": _iso(r.first_seen), "last_seen": _iso(r.last_seen),
        "comment": f"spoorhound type {r.type}; sources: {', '.join(r.sources)}", "Tag": tags,
    }  # fmt: skip


def _misp(rows: Iterable[ExportRow], tlp: str | None) -> Iterator[bytes]:
    event = {
        "uuid": str(uuid.uuid4()), "info": "Spoorhound export",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "threat_level_id": "4", "analysis": "2",
        "distribution": "0", "published": False,
        "Tag": [{"name": f"tlp:{tlp}"}] if tlp is not None else [],
    }  # fmt: skip
    head = orjson.dumps({"Event": event})
    # Open the event object again to stream its attribute list inside it.
    yield head[:-2] + b',"Attribute":['
    sep = b""
    for r in rows:
        yield sep + orjson.dumps(_misp_attribute(r))
        sep = b","
    yield b"]}}\n"


_CSV_HEADER = (
    "id", "type", "value", "first_seen", "last_seen", "tlp", "confidence", "score", "risk",
    "sources", "tags",
)  # fmt: skip


def _csv(rows: Iterable[ExportRow]) -> Iterator[bytes]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CSV_HEADER)
    for r in rows:
        w.writerow(
            (
                r.id, r.type, r.value, _iso(r.first_seen), _iso(r.last_seen), r.tlp or "",
                "" if r.confidence is None else r.confidence, "" if r.score is None else r.score,
                r.risk or "", ";".join(r.sources), ";".join(r.tags),
            )
        )  # fmt: skip
        if buf.tell() > 64 * 1024:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


def serialize(fmt: str, rows: Iterable[ExportRow], *, tlp: str | None) -> Iterator[bytes]:
    """``rows`` as ``fmt`` (one of :data:`FORMATS`), in pieces; ``tlp`` is the export's TLP.

    STIX bundles hold indicators with patterns (types STIX cannot express are left
    out), each marked with its TLP, and the marking definitions used; MISP events
    carry the export's TLP as an event tag and each attribute's TLP as its tag.
    """
    if fmt == "csv":
        return _csv(rows)
    if fmt == "jsonl":
        return (orjson.dumps(r.to_dict()) + b"\n" for r in rows)
    if fmt == "plain":
        return (r.value.encode() + b"\n" for r in rows)
    if fmt == "stix":
        return _stix(rows)
    if fmt == "misp":
        return _misp(rows, tlp)
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")


@dataclass
class Export:
    """An export being streamed: its TLP (known before the first byte) and, as the
    chunks are consumed, how many indicators went into it and how many of each type
    the format could not express (STIX has no pattern for e.g. registry values)."""

    tlp: str | None
    chunks: Iterator[bytes] = field(repr=False)
    rows: int = 0
    unexpressible: dict[str, int] = field(default_factory=dict)


def export(
    store: Store,
    query: str,
    fmt: str,
    *,
    scope: Scope = None,
    include_safelisted: bool = False,
    at: int | None = None,
) -> Export:
    """Validate ``query`` (raises QuerySyntaxError before anything is streamed), find
    the export's TLP, and stream the rows as ``fmt`` — the API's and the CLI's export."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
    at = now() if at is None else at
    tlp = export_tlp(store, query, scope=scope, at=at)
    rows = export_rows(
        store, query, scope=scope, ceiling=tlp, at=at, include_safelisted=include_safelisted
    )
    result = Export(tlp=tlp, chunks=iter(()))

    def counted() -> Iterator[ExportRow]:
        for r in rows:
            if fmt == "stix" and stix_pattern(r.type, r.value) is None:
                result.unexpressible[r.type] = result.unexpressible.get(r.type, 0) + 1
            else:
                result.rows += 1
            yield r

    result.chunks = serialize(fmt, counted(), tlp=tlp)
    return result
