"""Reading and tagging indicators: lookup, search, stats, bulk tag changes.

Every read takes a ``scope``: the enclave names the caller may read, or None for
the local administrator (the CLI on its own database). Within a scope, an
indicator that has no observation in a visible enclave does not exist, and its
first/last seen, observations and tags are computed from visible enclaves only,
so nothing about other enclaves leaks (not even when an indicator was active).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections import namedtuple
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spoorhound.core.context import normalize_tag
from spoorhound.core.indicators import resolve_type
from spoorhound.services import audit, scoring
from spoorhound.services.jobs import now
from spoorhound.storage import rawread, schema
from spoorhound.storage.bulk import ensure_names
from spoorhound.storage.engine import Store
from spoorhound.storage.query_sql import candidate_values, like_pattern

__all__ = [
    "SearchFilter",
    "add_tag",
    "candidate_values",
    "lookup",
    "remove_tag",
    "search",
    "stats",
]

Scope = Collection[str] | None

I = schema.indicator  # noqa: E741 - short aliases keep the queries readable
O = schema.observation  # noqa: E741
E = schema.enclave
T = schema.tag
IT = schema.indicator_tag
S = schema.source
SC = schema.indicator_score


def _visible_enclaves(scope: Scope) -> sa.ColumnElement[bool] | None:
    if scope is None:
        return None
    return E.c.name.in_(list(scope))


def _indicator_rows(
    conn: Connection, where: sa.ColumnElement[bool], scope: Scope
) -> list[dict[str, Any]]:
    q = sa.select(I).where(where)
    if scope is not None:
        q = q.where(
            sa.exists()
            .where(O.c.indicator_pk == I.c.pk)
            .where(O.c.enclave_id == E.c.id)
            .where(E.c.name.in_(list(scope)))
        )
    return [dict(r) for r in conn.execute(q).mappings()]


# lookup() is the API's hot path (GET /api/indicators/{value}, GET /api/v1/indicators/
# {ref}): it runs on the DBAPI (storage.rawread) with SQL strings built once, as
# SQLAlchemy's per-execution work cost five to ten times the indexed SQLite look-ups
# themselves (320 µs of CPU for a lookup, 55 µs now, on bench/api.py's database).
# ``{scope}`` is the caller's enclaves, an ``IN`` list.
_I_COLUMNS = tuple(I.c)
_SC_COLUMNS = tuple(SC.c)
_SEL_INDICATOR = "SELECT " + ", ".join(f"i.{c.name}" for c in _I_COLUMNS) + " FROM indicator i"
_VISIBLE_OBS = (
    " AND EXISTS (SELECT 1 FROM observation o JOIN enclave e ON e.id = o.enclave_id"
    " WHERE o.indicator_pk = i.pk AND e.name IN ({scope}))"
)
_SQL_OBSERVATIONS = (
    "SELECT e.name, s.name, s.reliability, o.confidence, o.tlp, o.first_seen, o.last_seen,"
    " o.times_reported, o.notes, o.attributes"
    " FROM observation o JOIN enclave e ON e.id = o.enclave_id JOIN source s ON s.id = o.source_id"
    " WHERE o.indicator_pk = ?{visible} ORDER BY e.name, s.name"
)
_OBS_KEYS = (
    "enclave", "source", "reliability", "confidence", "tlp", "first_seen", "last_seen",
    "times_reported", "notes", "attributes",
)  # fmt: skip
_SQL_TAGS = (
    "SELECT e.name, t.name FROM indicator_tag it JOIN enclave e ON e.id = it.enclave_id"
    " JOIN tag t ON t.id = it.tag_id WHERE it.indicator_pk = ?{visible} ORDER BY e.name, t.name"
)
_SQL_REPORTS = (
    "SELECT r.id, r.title, e.name FROM report r"
    " JOIN report_indicator ri ON ri.report_id = r.id JOIN enclave e ON e.id = r.enclave_id"
    " WHERE ri.indicator_pk = ?{visible}"
)
_SQL_ENRICHMENTS = (
    "SELECT provider, fetched_at, verdict, score FROM enrichment"
    " WHERE indicator_pk = ? ORDER BY fetched_at DESC"
)
_SQL_SIGHTINGS = (
    "SELECT e.name, s.seen_at, s.location, s.count FROM sighting s"
    " JOIN enclave e ON e.id = s.enclave_id WHERE s.indicator_pk = ?{visible}"
    " ORDER BY s.seen_at DESC"
)
# scoring.views' statement: the stored score per visible enclave and its live pin.
_SQL_SCORES = (
    "SELECT " + ", ".join(f"sc.{c.name}" for c in _SC_COLUMNS) + ","
    " e.name, p.created_at, p.actor, p.expires_at"
    " FROM indicator_score sc JOIN enclave e ON e.id = sc.enclave_id"
    " LEFT OUTER JOIN risk_override p ON p.indicator_pk = sc.indicator_pk"
    " AND p.enclave_id = sc.enclave_id AND (p.expires_at IS NULL OR p.expires_at > ?)"
    " WHERE sc.indicator_pk = ?{visible}"
)
#: A score row as scoring's ranking and rendering read it (attribute access).
_ScoreRow = namedtuple(  # type: ignore[misc]
    "_ScoreRow",
    [c.name for c in _SC_COLUMNS] + ["enclave", "pinned_at", "pinned_by", "pinned_until"],
)


@dataclass(frozen=True, slots=True)
class _LookupSQL:
    """The statements of one (dialect, number of values, typed, number of enclaves)."""

    by_value: str
    observations: str
    tags: str
    reports: str
    enrichments: str
    sightings: str
    scores: str
    indicator: tuple[rawread.Convert, ...]
    observation: tuple[rawread.Convert, ...]
    score: tuple[rawread.Convert, ...]


@functools.lru_cache(maxsize=256)
def _lookup_sql(pg: bool, n_values: int, typed: bool, n_scope: int | None) -> _LookupSQL:
    visible = "" if n_scope is None else " AND e.name IN (" + rawread.placeholders(n_scope) + ")"
    by_value = _SEL_INDICATOR + " WHERE i.value IN (" + rawread.placeholders(n_values) + ")"
    if typed:
        by_value += " AND i.type = ?"
    if n_scope is not None:
        by_value += _VISIBLE_OBS.format(scope=rawread.placeholders(n_scope))

    def q(text: str) -> str:
        return rawread.sql(text.format(visible=visible), pg)

    return _LookupSQL(
        by_value=rawread.sql(by_value, pg),
        observations=q(_SQL_OBSERVATIONS),
        tags=q(_SQL_TAGS),
        reports=q(_SQL_REPORTS),
        enrichments=q(_SQL_ENRICHMENTS),
        sightings=q(_SQL_SIGHTINGS),
        scores=q(_SQL_SCORES),
        indicator=rawread.converters(_I_COLUMNS, pg),
        observation=rawread.converters([O.c.attributes], pg),
        score=rawread.converters(_SC_COLUMNS, pg),
    )


def _convert(row: Sequence[Any], conv: Sequence[rawread.Convert]) -> list[Any]:
    return [v if f is None else f(v) for v, f in zip(row, conv, strict=False)]


def lookup(
    store: Store, value: str, *, scope: Scope = None, type: str | None = None
) -> list[dict[str, Any]]:
    """Everything stored about ``value`` that ``scope`` may see; one dict per indicator.

    Each dict has the indicator's fields plus ``observations`` (enclave, source, TLP,
    confidence, first/last seen, times reported, notes, attributes), ``tags``
    (enclave → names), ``reports``, ``enrichments``, ``sightings`` and the stored
    score of the visible enclaves (``score``, ``risk``, ``risk_detail``).
    """
    values = candidate_values(value)
    params: list[Any] = list(values)
    if type:
        params.append(resolve_type(type).value)
    enclaves = None if scope is None else list(scope)
    if not values or enclaves == []:
        return []  # nothing to look for, or nothing the caller may see
    if enclaves is not None:
        params += enclaves
    sql = _lookup_sql(rawread.is_pg(store), len(values), bool(type), _len(enclaves))
    with rawread.cursor(store) as cur:
        cur.execute(sql.by_value, params)
        names = [c.name for c in _I_COLUMNS]
        rows = [dict(zip(names, _convert(r, sql.indicator), strict=True)) for r in cur.fetchall()]
        return [_detail(cur, sql, row, enclaves) for row in rows]


def _len(xs: list[str] | None) -> int | None:
    return None if xs is None else len(xs)


def _detail(
    cur: rawread.Cursor, sql: _LookupSQL, row: dict[str, Any], enclaves: list[str] | None
) -> dict[str, Any]:
    pk = row.pop("pk")
    params: list[Any] = [pk] if enclaves is None else [pk, *enclaves]
    cur.execute(sql.observations, params)
    (attrs,) = sql.observation
    observations = [
        dict(zip(_OBS_KEYS, (*r[:-1], r[-1] if attrs is None else attrs(r[-1])), strict=True))
        for r in cur.fetchall()
    ]
    tags: dict[str, list[str]] = {}
    cur.execute(sql.tags, params)
    for enclave, name in cur.fetchall():
        tags.setdefault(enclave, []).append(name)
    if enclaves is not None and observations:
        # Seen-times from what the caller can see, not from every enclave.
        row["first_seen"] = min(o["first_seen"] for o in observations)
        row["last_seen"] = max(o["last_seen"] for o in observations)
    row["observations"] = observations
    row["tags"] = tags
    cur.execute(sql.reports, params)
    row["reports"] = [
        {"id": rid, "title": title, "enclave": enclave} for rid, title, enclave in cur.fetchall()
    ]
    cur.execute(sql.enrichments, [pk])
    row["enrichments"] = [
        {"provider": p, "fetched_at": at, "verdict": v, "score": sc}
        for p, at, v, sc in cur.fetchall()
    ]
    cur.execute(sql.sightings, params)
    row["sightings"] = [
        {"enclave": e, "seen_at": at, "location": loc, "count": n}
        for e, at, loc, n in cur.fetchall()
    ]
    # The stored score of the caller's visible enclaves (never computed here), chosen
    # and rendered as scoring.views does.
    at = int(time.time())
    cur.execute(sql.scores, [at, *params])
    best: _ScoreRow | None = None
    n_sc = len(_SC_COLUMNS)
    for r in cur.fetchall():
        cand = _ScoreRow(*_convert(r[:n_sc], sql.score), *r[n_sc:])
        if best is None or scoring._rank(cand) > scoring._rank(best):
            best = cand
    risk = None if best is None else scoring._render(best, at)
    row["score"] = None if risk is None else risk["score"]
    row["risk"] = "unknown" if risk is None else risk["risk"]
    row["risk_detail"] = risk
    return row


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """Simple filters (the full query language comes with the REST API).

    ``value`` matches a substring, or a wildcard pattern when it contains ``*``
    (``*.example.com``, ``10.0.*``); ``since`` is epoch seconds on last seen.
    """

    type: str | None = None
    tag: str | None = None
    enclave: str | None = None
    value: str | None = None
    since: int | None = None
    source: str | None = None


def _where(f: SearchFilter, scope: Scope) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = []
    enclaves: list[str] | None = list(scope) if scope is not None else None
    if f.enclave is not None:
        enclaves = [f.enclave] if enclaves is None or f.enclave in enclaves else []
    if f.type:
        conds.append(I.c.type == resolve_type(f.type).value)
    if f.value:
        conds.append(
            I.c.value.like(like_pattern(f.value if "*" in f.value else f"*{f.value}*"), escape="\\")
        )
    if f.since is not None:
        conds.append(I.c.last_seen >= f.since)
    if enclaves is not None or f.source:
        obs = sa.exists().where(O.c.indicator_pk == I.c.pk)
        if enclaves is not None:
            obs = obs.where(O.c.enclave_id.in_(sa.select(E.c.id).where(E.c.name.in_(enclaves))))
        if f.source:
            obs = obs.where(O.c.source_id.in_(sa.select(S.c.id).where(S.c.name == f.source)))
        conds.append(obs)
    if f.tag:
        tagged = (
            sa.exists()
            .where(IT.c.indicator_pk == I.c.pk)
            .where(IT.c.tag_id.in_(sa.select(T.c.id).where(T.c.name == normalize_tag(f.tag))))
        )
        if enclaves is not None:
            tagged = tagged.where(
                IT.c.enclave_id.in_(sa.select(E.c.id).where(E.c.name.in_(enclaves)))
            )
        conds.append(tagged)
    return conds


def search(
    store: Store, f: SearchFilter, *, scope: Scope = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Indicators matching ``f`` within ``scope``, most recently seen first, with their tags."""
    q = (
        sa.select(
            I.c.pk, I.c.id, I.c.type, I.c.value, I.c.first_seen, I.c.last_seen, I.c.score, I.c.risk
        )
        .where(*_where(f, scope))
        .order_by(I.c.last_seen.desc(), I.c.pk.desc())
        .limit(limit)
    )
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
        by_pk = {r["pk"]: r for r in rows}
        shown = scoring.views(conn, list(by_pk), scope)
        for r in rows:
            r["tags"] = []
            v = shown.get(r["pk"])
            r["score"], r["risk"] = (None, None) if v is None else (v["score"], v["risk"])
        if by_pk:
            tq = (
                sa.select(IT.c.indicator_pk, T.c.name)
                .join(T, T.c.id == IT.c.tag_id)
                .join(E, E.c.id == IT.c.enclave_id)
                .where(IT.c.indicator_pk.in_(list(by_pk)))
            )
            vis = _visible_enclaves(scope)
            if vis is not None:
                tq = tq.where(vis)
            for pk, name in conn.execute(tq):
                if name not in by_pk[pk]["tags"]:
                    by_pk[pk]["tags"].append(name)
            if scope is not None:
                # Seen-times from the caller's enclaves only, as lookup does.
                sq = (
                    sa.select(
                        O.c.indicator_pk, sa.func.min(O.c.first_seen), sa.func.max(O.c.last_seen)
                    )
                    .join(E, E.c.id == O.c.enclave_id)
                    .where(O.c.indicator_pk.in_(list(by_pk)), E.c.name.in_(list(scope)))
                    .group_by(O.c.indicator_pk)
                )
                for pk, first, last in conn.execute(sq):
                    by_pk[pk]["first_seen"], by_pk[pk]["last_seen"] = first, last
    for r in rows:
        del r["pk"]
        r["tags"].sort()
    return rows


def _change_tag(store: Store, tag: str, f: SearchFilter, *, add: bool, actor: str) -> int:
    if not f.enclave:
        raise ValueError("tags are attached per enclave: name the enclave")
    name = normalize_tag(tag)
    conds = _where(f, None)
    at = now()
    with store.write() as conn:
        enclave_id = conn.execute(sa.select(E.c.id).where(E.c.name == f.enclave)).scalar()
        if enclave_id is None:
            raise ValueError(f"no enclave named {f.enclave!r}")
        matching = sa.select(I.c.pk).where(*conds)
        if add:
            tag_id = ensure_names(conn, T, [name], at)[name]
            sel = sa.select(
                I.c.pk, sa.literal(enclave_id), sa.literal(tag_id), sa.literal(at)
            ).where(*conds)
            existing = sa.select(IT.c.indicator_pk).where(
                IT.c.enclave_id == enclave_id, IT.c.tag_id == tag_id
            )
            sel = sel.where(I.c.pk.not_in(existing))
            n = conn.execute(
                IT.insert().from_select(["indicator_pk", "enclave_id", "tag_id", "created_at"], sel)
            ).rowcount
        else:
            existing_tag = conn.execute(sa.select(T.c.id).where(T.c.name == name)).scalar()
            if existing_tag is None:
                return 0
            tag_id = int(existing_tag)
            n = conn.execute(
                IT.delete().where(
                    IT.c.enclave_id == enclave_id,
                    IT.c.tag_id == tag_id,
                    IT.c.indicator_pk.in_(matching),
                )
            ).rowcount
    audit.record(
        store,
        actor=actor,
        action="tag.add" if add else "tag.remove",
        target=f"enclave:{f.enclave}",
        details={"tag": name, "count": int(n), "filter": _filter_dict(f)},
    )
    return int(n)


def _filter_dict(f: SearchFilter) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(f).items() if v is not None}


def add_tag(store: Store, tag: str, f: SearchFilter, *, actor: str = "cli") -> int:
    """Attach ``tag`` in ``f.enclave`` to every indicator matching ``f``; return how many gained it."""
    return _change_tag(store, tag, f, add=True, actor=actor)


def remove_tag(store: Store, tag: str, f: SearchFilter, *, actor: str = "cli") -> int:
    """Detach ``tag`` in ``f.enclave`` from every indicator matching ``f``; return how many lost it."""
    return _change_tag(store, tag, f, add=False, actor=actor)


def stats(store: Store, *, scope: Scope = None) -> dict[str, list[tuple[str, int]]]:
    """Counts of indicators by type, enclave, tag and source (within ``scope``)."""
    vis = _visible_enclaves(scope)

    def run(conn: Connection, q: sa.Select[Any]) -> list[tuple[str, int]]:
        return [(str(k), int(n)) for k, n in conn.execute(q)]

    with store.read() as conn:
        by_enclave = sa.select(E.c.name, sa.func.count(sa.distinct(O.c.indicator_pk))).join(
            E, E.c.id == O.c.enclave_id
        )
        by_source = (
            sa.select(S.c.name, sa.func.count(sa.distinct(O.c.indicator_pk)))
            .join(S, S.c.id == O.c.source_id)
            .join(E, E.c.id == O.c.enclave_id)
        )
        by_tag = (
            sa.select(T.c.name, sa.func.count(sa.distinct(IT.c.indicator_pk)))
            .join(T, T.c.id == IT.c.tag_id)
            .join(E, E.c.id == IT.c.enclave_id)
        )
        if vis is None:
            by_type = sa.select(I.c.type, sa.func.count()).group_by(I.c.type)
        else:
            visible = sa.select(O.c.indicator_pk).join(E, E.c.id == O.c.enclave_id).where(vis)
            by_type = (
                sa.select(I.c.type, sa.func.count()).where(I.c.pk.in_(visible)).group_by(I.c.type)
            )
            by_enclave, by_source, by_tag = (q.where(vis) for q in (by_enclave, by_source, by_tag))
        return {
            "type": sorted(run(conn, by_type), key=lambda kv: -kv[1]),
            "enclave": sorted(run(conn, by_enclave.group_by(E.c.name)), key=lambda kv: -kv[1]),
            "tag": sorted(run(conn, by_tag.group_by(T.c.name)), key=lambda kv: -kv[1]),
            "source": sorted(run(conn, by_source.group_by(S.c.name)), key=lambda kv: -kv[1]),
        }
