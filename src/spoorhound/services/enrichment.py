"""Enrichment results: storing only what changed, history with diffs, selection, progress.

Results are append-only in ``enrichment``. A provider's answer about an indicator
is *normalised* (status, verdict, score, tags, attributes, related); when it equals
the latest good answer for that (indicator, provider), only that row's
``checked_at`` moves forward, so the history is the list of *different* answers
over time, each with when it was first and last confirmed. A different answer adds
a row and an ``enrichment_change`` event (consumed by flows and notifications).
Failed attempts are stored too (with the reason) so the timeline shows them, but
they never replace the last good answer in :func:`current`.

Every inserted row carries ``attempt_key = job:provider:indicator`` (unique, insert
``ON CONFLICT DO NOTHING``): a step re-executed after a crash cannot add a second
row (job progress, keyed the same way, is in :mod:`enrichment_progress`).

This module knows nothing of providers or DBOS: the runner hands it plain
:class:`Answer` values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from spoorhound.core.context import TLP_LEVELS
from spoorhound.services.indicators import Scope, SearchFilter, _where, candidate_values
from spoorhound.services.indicators import _indicator_rows as _scoped_rows
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = [
    "GOOD",
    "Answer",
    "Selection",
    "StoreCounts",
    "current",
    "diff",
    "fresh_pks",
    "history",
    "load_range",
    "max_tlps",
    "plan_ranges",
    "render_change",
    "store_results",
]

#: Statuses that are answers; every other status is a failed attempt.
GOOD = ("ok", "not_found")

E = schema.enrichment
I = schema.indicator  # noqa: E741
O = schema.observation  # noqa: E741
_JSON_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _plain(value: Any) -> Any:
    # What the value will look like after a trip through a JSON column, so a fresh
    # answer compares equal to the stored one (tuples become lists, keys strings).
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str))


@dataclass(frozen=True, slots=True)
class Answer:
    """One provider's result for one stored indicator, ready to store."""

    indicator_pk: int
    status: str
    fetched_at: int
    verdict: str | None = None
    score: int | None = None
    tags: Sequence[str] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    #: Pivots as ``{"relation", "type", "value"}`` dicts.
    related: Sequence[Mapping[str, str]] = ()
    payload: Any = None
    error: str | None = None

    @property
    def good(self) -> bool:
        """An answer (found or not found), as opposed to a failed attempt."""
        return self.status in GOOD

    def normalised(self) -> dict[str, Any]:
        """The compared fields, in their stored (JSON) form."""
        # Empty collections skip the work: a million-row run is mostly those.
        return {
            "status": self.status,
            "verdict": self.verdict,
            "score": self.score,
            "tags": sorted(set(self.tags)) if self.tags else [],
            "attributes": _plain(dict(self.attributes)) if self.attributes else {},
            "related": sorted(
                (_plain(dict(r)) for r in self.related),
                key=lambda r: (r.get("relation", ""), r.get("type", ""), r.get("value", "")),
            )
            if self.related
            else [],
        }


def _canon(d: Mapping[str, Any]) -> bytes:
    # Empty tags/attributes/related are stored as NULL; a score of 0 stays 0.
    keys = ("status", "verdict", "score", "tags", "attributes", "related")
    vals = [None if isinstance(d.get(k), list | dict) and not d.get(k) else d.get(k) for k in keys]
    return orjson.dumps(vals, option=_JSON_OPTS)


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return _canon(a) == _canon(b)


class _JSONText(sa.types.TypeDecorator[str]):
    """A JSON document already serialised (by orjson: several times faster than the
    ``json`` module SQLAlchemy uses, which dominated storing offline results)."""

    impl = sa.Text
    cache_ok = True


class _JSONBText(_JSONText):
    def bind_expression(self, bindvalue: Any) -> Any:
        return sa.cast(bindvalue, postgresql.JSONB)


_JSON_TEXT = _JSONText().with_variant(_JSONBText(), "postgresql")
_JSON_COLS = ("tags", "attributes", "related", "payload")
_DUMP_OPTS = orjson.OPT_NON_STR_KEYS


def _dump(value: Any) -> str:
    return orjson.dumps(value, option=_DUMP_OPTS, default=str).decode()


@dataclass(slots=True)
class StoreCounts:
    """What :func:`store_results` did with one batch."""

    stored: int = 0
    unchanged: int = 0
    failed: int = 0
    changes: int = 0


def _insert(conn: Connection) -> Any:
    # Dialect-specific INSERT for ON CONFLICT (same helper choice as storage/bulk.py).
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def _by_keys(
    col: sa.ColumnElement[Any], pks: Sequence[int]
) -> tuple[list[sa.ColumnElement[bool]], set[int] | None]:
    """Conditions selecting ``pks`` on ``col``, and the set to keep rows by when a
    condition may match others. Dense keys (a runner batch) get one range condition
    instead of an IN list of thousands of parameters, which SQLAlchemy renders one by
    one; sparse ones get IN lists of 5,000."""
    if not pks:
        return [], None
    lo, hi = min(pks), max(pks)
    if hi - lo < 2 * len(pks):
        return [col.between(lo, hi)], set(pks)
    return [col.in_(list(pks[i : i + 5000])) for i in range(0, len(pks), 5000)], None


def _latest_good(conn: Connection, provider: str, pks: Sequence[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    conds, keep = _by_keys(E.c.indicator_pk, pks)
    for cond in conds:
        for r in conn.execute(_latest_query(provider, cond)).mappings():
            if keep is None or r["indicator_pk"] in keep:
                out[r["indicator_pk"]] = dict(r)
    return out


def _latest_query(provider: str, which: sa.ColumnElement[bool]) -> sa.Select[Any]:
    latest = (
        sa.select(sa.func.max(E.c.id).label("id"))
        .where(E.c.provider == provider, which, E.c.status.in_(GOOD))
        .group_by(E.c.indicator_pk)
        .subquery()
    )
    return sa.select(E).join(latest, latest.c.id == E.c.id)


def store_results(
    conn: Connection, job_id: str, provider: str, answers: Iterable[Answer], *, at: int
) -> StoreCounts:
    """Store one batch of answers inside the caller's write transaction.

    An answer equal to the latest good one only bumps that row's ``checked_at``;
    a different one (or a failed attempt) is inserted, idempotently on its attempt
    key; a changed answer also records an ``enrichment_change`` with the diff.
    """
    answers = list(answers)
    counts = StoreCounts()
    latest = _latest_good(conn, provider, [a.indicator_pk for a in answers if a.good])
    bump: list[int] = []
    rows: list[dict[str, Any]] = []
    news: dict[int, dict[str, Any]] = {}
    for a in answers:
        norm = a.normalised()
        prev = latest.get(a.indicator_pk) if a.good else None
        if prev is not None and _same(prev, norm):
            bump.append(prev["id"])
            continue
        news[a.indicator_pk] = norm
        tags, attributes, related = norm["tags"], norm["attributes"], norm["related"]
        rows.append(
            {
                "indicator_pk": a.indicator_pk,
                "provider": provider,
                "fetched_at": a.fetched_at,
                "checked_at": a.fetched_at,
                "status": norm["status"],
                "verdict": norm["verdict"],
                "score": norm["score"],
                "error": a.error,
                "attempt_key": f"{job_id}:{provider}:{a.indicator_pk}",
                # Empty collections are stored as NULL; JSON encoded once, by orjson.
                "j_tags": _dump(tags) if tags else None,
                "j_attributes": _dump(attributes) if attributes else None,
                "j_related": _dump(related) if related else None,
                "j_payload": None if a.payload is None else _dump(a.payload),
            }
        )
    for i in range(0, len(bump), 5000):
        conn.execute(E.update().where(E.c.id.in_(bump[i : i + 5000])).values(checked_at=at))
    counts.unchanged = len(bump)
    if not rows:
        return counts
    if not news.keys() & latest.keys():
        # Nothing to diff against (the usual bulk case): no ids needed, so the rows go
        # straight to the driver's executemany, without SQLAlchemy's per-row work.
        inserted_n = _insert_plain(conn, rows)
        good = sum(1 for row in rows if row["status"] in GOOD)
        if inserted_n == len(rows):
            counts.stored, counts.failed = good, len(rows) - good
        else:  # a re-executed step found some rows already there
            counts.stored = min(good, inserted_n)
            counts.failed = inserted_n - counts.stored
        return counts
    stmt = (
        _insert(conn)(E)
        .values({c: sa.bindparam(f"j_{c}", type_=_JSON_TEXT) for c in _JSON_COLS})
        .on_conflict_do_nothing(index_elements=["attempt_key"])
        .returning(E.c.id, E.c.indicator_pk)
    )
    inserted = conn.execute(stmt, rows).all()
    changes: list[dict[str, Any]] = []
    for ident, pk in inserted:
        norm = news[pk]
        if norm["status"] not in GOOD:
            counts.failed += 1
            continue
        counts.stored += 1
        prev = latest.get(pk)
        if prev is not None:
            changes.append(
                {
                    "indicator_pk": pk,
                    "provider": provider,
                    "at": at,
                    "enrichment_id": ident,
                    "summary": diff(prev, norm),
                }
            )
    if changes:
        conn.execute(schema.enrichment_change.insert(), changes)
        counts.changes = len(changes)
    return counts


_PLAIN_COLS = (
    "indicator_pk",
    "provider",
    "fetched_at",
    "checked_at",
    "status",
    "verdict",
    "score",
    "error",
    "attempt_key",
)
_PLAIN_SQL: dict[str, str] = {}


def _insert_plain(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT (attempt_key) DO NOTHING through the DBAPI's executemany;
    returns the number of rows inserted."""
    if not rows:
        return 0
    dialect = conn.dialect.name
    sql = _PLAIN_SQL.get(dialect)
    if sql is None:
        mark, json_mark = ("?", "?") if dialect == "sqlite" else ("%s", "%s::jsonb")
        cols = (*_PLAIN_COLS, *_JSON_COLS)
        marks = [mark] * len(_PLAIN_COLS) + [json_mark] * len(_JSON_COLS)
        sql = _PLAIN_SQL[dialect] = (
            f"INSERT INTO {E.name} ({', '.join(cols)}) VALUES ({', '.join(marks)}) "
            "ON CONFLICT (attempt_key) DO NOTHING"
        )
    keys = (*_PLAIN_COLS, *(f"j_{c}" for c in _JSON_COLS))
    params = [tuple(row[k] for k in keys) for row in rows]
    result = conn.exec_driver_sql(sql, params)
    return int(result.rowcount)


# -- diffs ----------------------------------------------------------------------------


def _flatten(d: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in (d or {}).items():
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _rel(r: Mapping[str, Any]) -> str:
    return f"{r.get('relation')} {r.get('value')}"


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What changed between two normalised results, as a list of change records.

    Scalars give ``{"field", "old", "new"}``; tags, related indicators and list-valued
    attributes give ``{"field", "added", "removed"}``; nested attributes are
    compared key by key (``attributes.asn``).
    """
    out: list[dict[str, Any]] = []
    for f in ("status", "verdict", "score"):
        if old.get(f) != new.get(f):
            out.append({"field": f, "old": old.get(f), "new": new.get(f)})
    for f, key in (("tags", str), ("related", _rel)):
        before = {key(x): x for x in old.get(f) or []}
        after = {key(x): x for x in new.get(f) or []}
        added, removed = sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys())
        if added or removed:
            out.append({"field": f, "added": added, "removed": removed})
    a, b = _flatten(old.get("attributes")), _flatten(new.get("attributes"))
    for k in sorted(a.keys() | b.keys()):
        va, vb = a.get(k), b.get(k)
        if va == vb:
            continue
        name = f"attributes.{k}"
        if isinstance(va, list | type(None)) and isinstance(vb, list | type(None)) and (va or vb):
            sa_, sb = {_key(x) for x in va or []}, {_key(x) for x in vb or []}
            out.append({"field": name, "added": sorted(sb - sa_), "removed": sorted(sa_ - sb)})
        else:
            out.append({"field": name, "old": va, "new": vb})
    return out


def _key(x: Any) -> str:
    return x if isinstance(x, str) else orjson.dumps(x, option=_JSON_OPTS).decode()


def _show(v: Any) -> str:
    if v is None:
        return "∅"
    return v if isinstance(v, str) else orjson.dumps(v, option=_JSON_OPTS).decode()


def render_change(change: Mapping[str, Any]) -> str:
    """One change record as text: ``score 0 → 12``, ``related +resolves-to 1.2.3.4``."""
    if "added" in change:
        parts = [f"+{x}" for x in change["added"]] + [f"-{x}" for x in change["removed"]]
        return f"{change['field']} " + ", ".join(parts)
    return f"{change['field']} {_show(change['old'])} → {_show(change['new'])}"


# -- reading ----------------------------------------------------------------------------


def _indicator_rows(conn: Connection, value: str, scope: Scope) -> list[dict[str, Any]]:
    # The indicators ``value`` may denote that ``scope`` may see.
    return _scoped_rows(conn, I.c.value.in_(candidate_values(value)), scope)


_RESULT_COLS = (
    E.c.id,
    E.c.provider,
    E.c.fetched_at,
    E.c.checked_at,
    E.c.status,
    E.c.verdict,
    E.c.score,
    E.c.tags,
    E.c.attributes,
    E.c.related,
    E.c.error,
    E.c.payload,
)


def history(
    store: Store,
    value: str,
    *,
    provider: str | None = None,
    scope: Scope = None,
    payload: bool = False,
) -> list[dict[str, Any]]:
    """The enrichment timeline of ``value`` per provider, oldest first, with diffs.

    One dict per matching indicator (``type``, ``value``, ``id``, ``providers``);
    ``providers`` maps each provider to its results. Each good result carries
    ``changes`` (change records against the previous good result) and ``summary``
    (the same as text); failed attempts carry their ``error``. Raw payloads are
    included only when ``payload`` is true.
    """
    with store.read() as conn:
        found = _indicator_rows(conn, value, scope)
        out = []
        for ind in found:
            q = sa.select(*_RESULT_COLS).where(E.c.indicator_pk == ind["pk"])
            if provider:
                q = q.where(E.c.provider == provider)
            providers: dict[str, list[dict[str, Any]]] = {}
            prev: dict[str, dict[str, Any]] = {}
            for r in conn.execute(q.order_by(E.c.provider, E.c.id)).mappings():
                row = dict(r)
                if not payload:
                    row.pop("payload")
                name = row["provider"]
                if row["status"] in GOOD:
                    before = prev.get(name)
                    row["changes"] = diff(before, row) if before is not None else []
                    row["summary"] = [render_change(c) for c in row["changes"]]
                    prev[name] = row
                providers.setdefault(name, []).append(row)
            out.append(
                {
                    "type": ind["type"],
                    "value": ind["value"],
                    "id": ind["id"],
                    "providers": providers,
                }
            )
    return out


def current(store: Store, value: str, *, scope: Scope = None) -> list[dict[str, Any]]:
    """The latest good result per provider for each indicator matching ``value``."""
    out = []
    with store.read() as conn:
        for ind in _indicator_rows(conn, value, scope):
            latest = (
                sa.select(sa.func.max(E.c.id))
                .where(E.c.indicator_pk == ind["pk"], E.c.status.in_(GOOD))
                .group_by(E.c.provider)
            )
            q = sa.select(*_RESULT_COLS).where(E.c.id.in_(latest)).order_by(E.c.provider)
            results = {r["provider"]: dict(r) for r in conn.execute(q).mappings()}
            out.append({"type": ind["type"], "value": ind["value"], "results": results})
    return out


# -- selecting indicators ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Selection:
    """Which indicators an enrichment job covers: search filters, a scope, and
    optionally only those observed (ingested or re-ingested) since a time."""

    filter: SearchFilter = field(default_factory=SearchFilter)
    scope: tuple[str, ...] | None = None
    observed_since: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (job parameters, workflow arguments)."""
        f = {k: getattr(self.filter, k) for k in SearchFilter.__slots__}
        return {
            "filter": {k: v for k, v in f.items() if v is not None},
            "scope": list(self.scope) if self.scope is not None else None,
            "observed_since": self.observed_since,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Selection:
        """Inverse of :meth:`to_dict`."""
        scope = d.get("scope")
        return cls(
            SearchFilter(**d.get("filter", {})),
            tuple(scope) if scope is not None else None,
            d.get("observed_since"),
        )

    def where(self) -> list[sa.ColumnElement[bool]]:
        """SQL conditions on ``indicator``."""
        conds = _where(self.filter, self.scope)
        if self.observed_since is not None:
            obs = sa.exists().where(
                O.c.indicator_pk == I.c.pk, O.c.updated_at >= self.observed_since
            )
            if self.filter.source:
                obs = obs.where(
                    O.c.source_id.in_(
                        sa.select(schema.source.c.id).where(
                            schema.source.c.name == self.filter.source
                        )
                    )
                )
            if self.filter.enclave:
                obs = obs.where(
                    O.c.enclave_id.in_(
                        sa.select(schema.enclave.c.id).where(
                            schema.enclave.c.name == self.filter.enclave
                        )
                    )
                )
            conds.append(obs)
        return conds


def plan_ranges(
    store: Store, sel: Selection, chunk: int, types: Iterable[str] | None = None
) -> tuple[list[tuple[int, int]], dict[str, int]]:
    """Split the selected indicators into pk ranges of at most ``chunk`` indicators each.

    Only indicators of ``types`` count when given (the types the job's providers
    handle). Returns the ranges and the count of selected indicators per type.
    Ranges (not pk lists) keep workflow arguments small at the million scale;
    indicators ingested later get larger pks and fall outside them.
    """
    ranges: list[tuple[int, int]] = []
    counts: dict[str, int] = {}
    q = sa.select(I.c.pk, I.c.type).where(*sel.where()).order_by(I.c.pk)
    if types is not None:
        q = q.where(I.c.type.in_(sorted(set(types))))
    with store.read() as conn:
        lo = last = None
        n = 0
        for pk, itype in conn.execution_options(yield_per=50_000).execute(q):
            counts[itype] = counts.get(itype, 0) + 1
            if lo is None:
                lo = pk
            last = pk
            n += 1
            if n == chunk:
                ranges.append((lo, pk))
                lo, n = None, 0
        if lo is not None and last is not None:
            ranges.append((lo, last))
    return ranges, counts


def load_range(
    conn: Connection, sel: Selection, lo: int, hi: int, types: Iterable[str]
) -> list[tuple[int, str, str]]:
    """``(pk, type, value)`` of the selected indicators of ``types`` with lo ≤ pk ≤ hi."""
    q = (
        sa.select(I.c.pk, I.c.type, I.c.value)
        .where(I.c.pk.between(lo, hi), I.c.type.in_(sorted(types)), *sel.where())
        .order_by(I.c.pk)
    )
    return [(int(pk), t, v) for pk, t, v in conn.execute(q)]


def max_tlps(conn: Connection, pks: Sequence[int], scope: Scope) -> dict[int, str]:
    """The most restrictive TLP among each indicator's visible observations.

    Unmarked observations count as ``clear``; an unknown marking counts as ``red``
    (when in doubt, nothing leaves).
    """
    rank = {t: i for i, t in enumerate(TLP_LEVELS)}
    red = len(TLP_LEVELS) - 1
    best: dict[int, int] = {}
    conds, keep = _by_keys(O.c.indicator_pk, pks)
    for cond in conds:
        q = sa.select(O.c.indicator_pk, O.c.tlp).where(cond)
        if scope is not None:
            q = q.where(
                O.c.enclave_id.in_(
                    sa.select(schema.enclave.c.id).where(schema.enclave.c.name.in_(list(scope)))
                )
            )
        for pk, tlp in conn.execute(q):
            if keep is not None and pk not in keep:
                continue
            level = rank.get(tlp or "clear", red)
            if level > best.get(pk, -1):
                best[pk] = level
    return {pk: TLP_LEVELS[level] for pk, level in best.items()}


def fresh_pks(conn: Connection, provider: str, pks: Sequence[int], since: int) -> set[int]:
    """Indicators whose latest good answer from ``provider`` was confirmed after ``since``."""
    out: set[int] = set()
    conds, keep = _by_keys(E.c.indicator_pk, pks)
    for cond in conds:
        q = (
            sa.select(E.c.indicator_pk)
            .where(E.c.provider == provider, cond, E.c.status.in_(GOOD), E.c.checked_at > since)
            .distinct()
        )
        out.update(int(pk) for (pk,) in conn.execute(q) if keep is None or pk in keep)
    return out
