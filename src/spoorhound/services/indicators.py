"""Reading and tagging indicators: lookup, search, stats, bulk tag changes.

Every read takes a ``scope``: the enclave names the caller may read, or None for
the local administrator (the CLI on its own database). Within a scope, an
indicator that has no observation in a visible enclave does not exist, and its
first/last seen, observations and tags are computed from visible enclaves only,
so nothing about other enclaves leaks (not even when an indicator was active).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spoorhound.core.context import normalize_tag
from spoorhound.core.indicators import resolve_type
from spoorhound.services import audit, scoring
from spoorhound.services.jobs import now
from spoorhound.storage import schema
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


# The statements of lookup() are built once: building a statement and its cache key
# cost several times running it (bench/api.py), and lookup is the API's hot path.
# The caller's enclaves are the expanding parameter ``scope``.
_SCOPE: sa.BindParameter[Any] = sa.bindparam("scope", expanding=True)
_VISIBLE = E.c.name.in_(_SCOPE)
_PK: sa.BindParameter[Any] = sa.bindparam("pk")


def _by_value(typed: bool, scoped: bool) -> sa.Select[Any]:
    q = sa.select(I).where(I.c.value.in_(sa.bindparam("values", expanding=True)))
    if typed:
        q = q.where(I.c.type == sa.bindparam("type"))
    if scoped:
        q = q.where(
            sa.exists()
            .where(O.c.indicator_pk == I.c.pk)
            .where(O.c.enclave_id == E.c.id)
            .where(_VISIBLE)
        )
    return q


def _detail_queries(scoped: bool) -> tuple[sa.Select[Any], ...]:
    obs_q = (
        sa.select(
            E.c.name.label("enclave"),
            S.c.name.label("source"),
            S.c.reliability,
            O.c.confidence,
            O.c.tlp,
            O.c.first_seen,
            O.c.last_seen,
            O.c.times_reported,
            O.c.notes,
            O.c.attributes,
        )
        .join(E, E.c.id == O.c.enclave_id)
        .join(S, S.c.id == O.c.source_id)
        .where(O.c.indicator_pk == _PK)
        .order_by(E.c.name, S.c.name)
    )
    tag_q = (
        sa.select(E.c.name, T.c.name)
        .select_from(IT.join(E, E.c.id == IT.c.enclave_id).join(T, T.c.id == IT.c.tag_id))
        .where(IT.c.indicator_pk == _PK)
        .order_by(E.c.name, T.c.name)
    )
    rep_q = (
        sa.select(schema.report.c.id, schema.report.c.title, E.c.name.label("enclave"))
        .join(schema.report_indicator, schema.report_indicator.c.report_id == schema.report.c.id)
        .join(E, E.c.id == schema.report.c.enclave_id)
        .where(schema.report_indicator.c.indicator_pk == _PK)
    )
    sight_q = (
        sa.select(
            E.c.name.label("enclave"),
            schema.sighting.c.seen_at,
            schema.sighting.c.location,
            schema.sighting.c.count,
        )
        .join(E, E.c.id == schema.sighting.c.enclave_id)
        .where(schema.sighting.c.indicator_pk == _PK)
        .order_by(schema.sighting.c.seen_at.desc())
    )
    if scoped:
        obs_q, tag_q, rep_q, sight_q = (q.where(_VISIBLE) for q in (obs_q, tag_q, rep_q, sight_q))
    return obs_q, tag_q, rep_q, sight_q


_BY_VALUE = {(t, s): _by_value(t, s) for t in (False, True) for s in (False, True)}
_DETAIL = {s: _detail_queries(s) for s in (False, True)}
_ENRICHMENTS = (
    sa.select(
        schema.enrichment.c.provider,
        schema.enrichment.c.fetched_at,
        schema.enrichment.c.verdict,
        schema.enrichment.c.score,
    )
    .where(schema.enrichment.c.indicator_pk == _PK)
    .order_by(schema.enrichment.c.fetched_at.desc())
)


def lookup(
    store: Store, value: str, *, scope: Scope = None, type: str | None = None
) -> list[dict[str, Any]]:
    """Everything stored about ``value`` that ``scope`` may see; one dict per indicator.

    Each dict has the indicator's fields plus ``observations`` (enclave, source, TLP,
    confidence, first/last seen, times reported, notes, attributes), ``tags``
    (enclave → names), ``reports``, ``enrichments`` and ``sightings``.
    """
    params: dict[str, Any] = {"values": candidate_values(value)}
    if type:
        params["type"] = resolve_type(type).value
    if scope is not None:
        params["scope"] = list(scope)
    with store.read() as conn:
        found = conn.execute(_BY_VALUE[bool(type), scope is not None], params).mappings()
        rows = [dict(r) for r in found]
        return [_detail(conn, row, scope) for row in rows]


def _detail(conn: Connection, row: dict[str, Any], scope: Scope) -> dict[str, Any]:
    pk = row.pop("pk")
    params: dict[str, Any] = {"pk": pk}
    if scope is not None:
        params["scope"] = list(scope)
    obs_q, tag_q, rep_q, sight_q = _DETAIL[scope is not None]
    observations = [dict(r) for r in conn.execute(obs_q, params).mappings()]
    tags: dict[str, list[str]] = {}
    for enclave, name in conn.execute(tag_q, params):
        tags.setdefault(enclave, []).append(name)
    if scope is not None and observations:
        # Seen-times from what the caller can see, not from every enclave.
        row["first_seen"] = min(o["first_seen"] for o in observations)
        row["last_seen"] = max(o["last_seen"] for o in observations)
    row["observations"] = observations
    row["tags"] = tags
    row["reports"] = [dict(r) for r in conn.execute(rep_q, params).mappings()]
    row["enrichments"] = [dict(r) for r in conn.execute(_ENRICHMENTS, {"pk": pk}).mappings()]
    row["sightings"] = [dict(r) for r in conn.execute(sight_q, params).mappings()]
    # The stored score of the caller's visible enclaves (never computed here).
    risk = scoring.view(conn, pk, scope)
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
