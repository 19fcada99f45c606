"""Explore: indicators matching a query-language query, page by page; saved searches.

:func:`explore` parses the query (:mod:`spoorhound.core.query`), compiles it with the
caller's scope (:mod:`spoorhound.storage.query_sql`) and returns one :class:`Page`
ordered by last seen, newest first (ties by internal key). Pages use keyset
pagination: the cursor is the public id of the last row of the previous page, so
every row appears exactly once across pages however deep the caller goes, with the
cost of the first page. The cursor says nothing the caller could not already see.

Within a scope, rows carry the first/last seen of the visible observations only and
the tags of visible enclaves (as :func:`spoorhound.services.indicators.search`).
The order is the indicator's overall last seen, so relative order is the only thing
other enclaves' activity can influence.

Saved searches are named queries per owner: :func:`save_search`,
:func:`list_saved_searches`, :func:`delete_saved_search`, :func:`run_saved_search`.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spoorhound.core.query import QuerySyntaxError, parse_query
from spoorhound.services import audit, scoring
from spoorhound.services.jobs import now
from spoorhound.storage import rawread, schema
from spoorhound.storage.engine import Store
from spoorhound.storage.query_sql import compile_query

__all__ = [
    "MAX_LIMIT",
    "InvalidCursor",
    "Page",
    "SavedSearchExists",
    "SavedSearchNotFound",
    "delete_saved_search",
    "explore",
    "list_saved_searches",
    "run_saved_search",
    "save_search",
]

Scope = Collection[str] | None

MAX_LIMIT = 1000

I = schema.indicator  # noqa: E741 - short aliases keep the queries readable
O = schema.observation  # noqa: E741
E = schema.enclave
T = schema.tag
IT = schema.indicator_tag
SS = schema.saved_search

_COLUMNS = (I.c.pk, I.c.id, I.c.type, I.c.value, I.c.first_seen, I.c.last_seen, I.c.score, I.c.risk)


class InvalidCursor(ValueError):
    """The cursor does not name a row the caller can see (or that still exists)."""


class SavedSearchExists(ValueError):
    """The owner already has a saved search of that name."""


class SavedSearchNotFound(LookupError):
    """The owner has no saved search of that name."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of results; ``cursor`` fetches the next page (None on the last one)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    cursor: str | None = None


def _position(conn: Connection, cursor: str, visible: sa.ColumnElement[bool]) -> tuple[int, int]:
    row = conn.execute(
        sa.select(I.c.last_seen, I.c.pk).where(I.c.id == cursor).where(visible)
    ).first()
    if row is None:
        raise InvalidCursor("cursor does not match a visible indicator: start again without it")
    return int(row[0]), int(row[1])


# The page's decorations run on the driver, inside the page's transaction: through
# SQLAlchemy, fetching and processing their few hundred rows cost more than the page
# query itself (bench/api.py). ``{pks}`` are the page's keys, ``{scope}`` the caller's
# enclaves, both ``IN`` lists.
_SQL_TAGS = (
    "SELECT it.indicator_pk, t.name FROM indicator_tag it JOIN tag t ON t.id = it.tag_id"
    " JOIN enclave e ON e.id = it.enclave_id WHERE it.indicator_pk IN ({pks}){visible}"
)
_SQL_SEEN = (
    "SELECT o.indicator_pk, min(o.first_seen), max(o.last_seen) FROM observation o"
    " JOIN enclave e ON e.id = o.enclave_id WHERE o.indicator_pk IN ({pks}){visible}"
    " GROUP BY o.indicator_pk"
)
# The score and risk a caller sees (scoring.views, without the explanation a page does
# not show): per visible enclave, the live pin wins, then the higher score.
_SQL_SCORES = (
    "SELECT sc.indicator_pk, sc.score, sc.risk, p.created_at FROM indicator_score sc"
    " JOIN enclave e ON e.id = sc.enclave_id LEFT OUTER JOIN risk_override p"
    " ON p.indicator_pk = sc.indicator_pk AND p.enclave_id = sc.enclave_id"
    " AND (p.expires_at IS NULL OR p.expires_at > ?)"
    " WHERE sc.indicator_pk IN ({pks}){visible}"
)


class _Shown(NamedTuple):
    """What scoring's ranking reads of a score row."""

    score: int
    risk: str
    pinned_at: int | None


@functools.lru_cache(maxsize=512)
def _decorations(pg: bool, n_pks: int, n_scope: int | None) -> tuple[str, str, str]:
    pks = rawread.placeholders(n_pks)
    visible = "" if n_scope is None else f" AND e.name IN ({rawread.placeholders(n_scope)})"
    return (
        rawread.sql(_SQL_TAGS.format(pks=pks, visible=visible), pg),
        rawread.sql(_SQL_SEEN.format(pks=pks, visible=visible), pg),
        rawread.sql(_SQL_SCORES.format(pks=pks, visible=visible), pg),
    )


def _decorate(conn: Connection, rows: list[dict[str, Any]], scope: Scope) -> None:
    """Add visible tags; within a scope, replace seen-times by the visible envelope."""
    by_pk = {r["pk"]: r for r in rows}
    for r in rows:
        r["tags"] = []
    if not by_pk:
        return
    pks = list(by_pk)
    enclaves = None if scope is None else list(scope)
    if enclaves == []:
        # Nothing visible: the page query already found nothing. Defensive only.
        for r in rows:
            r["score"] = r["risk"] = None
        return
    params = pks if enclaves is None else [*pks, *enclaves]
    tags_sql, seen_sql, scores_sql = _decorations(
        conn.dialect.name == "postgresql", len(pks), None if enclaves is None else len(enclaves)
    )
    cur = conn.connection.cursor()  # the page's own transaction
    try:
        if enclaves is not None:
            cur.execute(seen_sql, params)
            for pk, first, last in cur.fetchall():
                by_pk[pk]["first_seen"], by_pk[pk]["last_seen"] = int(first), int(last)
        cur.execute(tags_sql, params)
        for pk, name in cur.fetchall():
            if name not in by_pk[pk]["tags"]:
                by_pk[pk]["tags"].append(name)
        # Scores are stored per enclave: show the caller's view, never another enclave's.
        cur.execute(scores_sql, [now(), *params])
        best: dict[int, _Shown] = {}
        for pk, score, risk, pinned_at in cur.fetchall():
            cand = _Shown(score, risk, pinned_at)
            cur_best = best.get(pk)
            if cur_best is None or scoring._rank(cand) > scoring._rank(cur_best):
                best[pk] = cand
    finally:
        cur.close()
    for pk, r in by_pk.items():
        r["tags"].sort()
        v = best.get(pk)
        r["score"], r["risk"] = (None, None) if v is None else (int(v.score), v.risk)


def explore(
    store: Store,
    query: str,
    *,
    scope: Scope = None,
    limit: int = 100,
    cursor: str | None = None,
    at: int | None = None,
) -> Page:
    """Indicators matching ``query`` within ``scope``, newest last-seen first, one page.

    A blank ``query`` matches every visible indicator. ``limit`` is clamped to
    1…:data:`MAX_LIMIT`; ``cursor`` is the previous page's :attr:`Page.cursor`;
    ``at`` (epoch seconds, default now) resolves relative times such as ``-7d``.
    Each row has ``id``, ``type``, ``value``, ``first_seen``, ``last_seen``,
    ``score``, ``risk`` and ``tags``.

    Raises :class:`~spoorhound.core.query.QuerySyntaxError` for a bad query and
    :class:`InvalidCursor` for a cursor that names no visible indicator.
    """
    node = parse_query(query) if query.strip() else None
    limit = max(1, min(int(limit), MAX_LIMIT))
    with store.read() as conn:
        where = compile_query(conn, node, scope=scope, now=now() if at is None else at)
        q = sa.select(*_COLUMNS).where(where)
        if cursor:
            visible = compile_query(conn, None, scope=scope, now=0)
            last_seen, pk = _position(conn, cursor, visible)
            q = q.where(sa.tuple_(I.c.last_seen, I.c.pk) < sa.tuple_(last_seen, pk))
        q = q.order_by(I.c.last_seen.desc(), I.c.pk.desc()).limit(limit + 1)
        rows = [dict(r) for r in conn.execute(q).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        _decorate(conn, rows, scope)
    next_cursor = str(rows[-1]["id"]) if more else None
    for r in rows:
        del r["pk"]
    return Page(rows=rows, cursor=next_cursor)


# -- saved searches -----------------------------------------------------------------


def _check_name(name: str) -> str:
    n = name.strip()
    if not n or len(n) > 200:
        raise ValueError("a saved search needs a name of 1 to 200 characters")
    return n


def save_search(
    store: Store, name: str, query: str, *, owner: str, replace: bool = False
) -> dict[str, Any]:
    """Save ``query`` as ``name`` for ``owner``; return the saved row.

    The query must parse (:class:`QuerySyntaxError` otherwise). Raises
    :class:`SavedSearchExists` when the name is taken, unless ``replace``.
    """
    n = _check_name(name)
    if not query.strip():
        raise QuerySyntaxError("empty query: expected a term such as type = domain", 0, query)
    parse_query(query)
    at = now()
    with store.write() as conn:
        existing = conn.execute(
            sa.select(SS.c.id).where(SS.c.owner == owner, SS.c.name == n)
        ).scalar()
        if existing is not None and not replace:
            raise SavedSearchExists(f"a saved search named {n!r} already exists")
        if existing is not None:
            conn.execute(SS.update().where(SS.c.id == existing).values(query=query, created_at=at))
        else:
            conn.execute(SS.insert().values(name=n, query=query, owner=owner, created_at=at))
    audit.record(
        store, actor=owner, action="saved_search.save", target=f"saved_search:{n}",
        details={"query": query, "replaced": existing is not None},
    )  # fmt: skip
    return {"name": n, "query": query, "owner": owner, "created_at": at}


def list_saved_searches(store: Store, *, owner: str) -> list[dict[str, Any]]:
    """The saved searches of ``owner``, by name."""
    q = (
        sa.select(SS.c.name, SS.c.query, SS.c.owner, SS.c.created_at)
        .where(SS.c.owner == owner)
        .order_by(SS.c.name)
    )
    with store.read() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def delete_saved_search(store: Store, name: str, *, owner: str) -> bool:
    """Delete ``owner``'s saved search ``name``; return whether one was deleted."""
    with store.write() as conn:
        n = conn.execute(SS.delete().where(SS.c.owner == owner, SS.c.name == name.strip())).rowcount
    if n:
        audit.record(
            store, actor=owner, action="saved_search.delete", target=f"saved_search:{name.strip()}"
        )
    return bool(n)


def run_saved_search(
    store: Store,
    name: str,
    *,
    owner: str,
    scope: Scope = None,
    limit: int = 100,
    cursor: str | None = None,
    at: int | None = None,
) -> Page:
    """Run ``owner``'s saved search ``name`` with :func:`explore` (in ``scope``).

    Raises :class:`SavedSearchNotFound` when there is none of that name.
    """
    with store.read() as conn:
        query = conn.execute(
            sa.select(SS.c.query).where(SS.c.owner == owner, SS.c.name == name.strip())
        ).scalar()
    if query is None:
        raise SavedSearchNotFound(f"no saved search named {name.strip()!r}")
    return explore(store, str(query), scope=scope, limit=limit, cursor=cursor, at=at)
