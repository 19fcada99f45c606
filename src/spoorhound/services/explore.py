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

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spoorhound.core.query import QuerySyntaxError, parse_query
from spoorhound.services import audit, scoring
from spoorhound.services.jobs import now
from spoorhound.storage import schema
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


# Built once (the page's hot path): the page's keys and the caller's enclaves are
# expanding parameters.
_PKS: sa.BindParameter[Any] = sa.bindparam("pks", expanding=True)
_SCOPE: sa.BindParameter[Any] = sa.bindparam("scope", expanding=True)
_TAGS = (
    sa.select(IT.c.indicator_pk, T.c.name)
    .join(T, T.c.id == IT.c.tag_id)
    .join(E, E.c.id == IT.c.enclave_id)
    .where(IT.c.indicator_pk.in_(_PKS))
)
_TAGS_SCOPED = _TAGS.where(E.c.name.in_(_SCOPE))
_SEEN_SCOPED = (
    sa.select(O.c.indicator_pk, sa.func.min(O.c.first_seen), sa.func.max(O.c.last_seen))
    .join(E, E.c.id == O.c.enclave_id)
    .where(O.c.indicator_pk.in_(_PKS), E.c.name.in_(_SCOPE))
    .group_by(O.c.indicator_pk)
)


def _decorate(conn: Connection, rows: list[dict[str, Any]], scope: Scope) -> None:
    """Add visible tags; within a scope, replace seen-times by the visible envelope."""
    by_pk = {r["pk"]: r for r in rows}
    for r in rows:
        r["tags"] = []
    if not by_pk:
        return
    params: dict[str, Any] = {"pks": list(by_pk)}
    tq = _TAGS
    if scope is not None:
        params["scope"] = list(scope)
        tq = _TAGS_SCOPED
        for pk, first, last in conn.execute(_SEEN_SCOPED, params):
            by_pk[pk]["first_seen"], by_pk[pk]["last_seen"] = int(first), int(last)
    for pk, name in conn.execute(tq, params):
        if name not in by_pk[pk]["tags"]:
            by_pk[pk]["tags"].append(name)
    for r in rows:
        r["tags"].sort()
    # Scores are stored per enclave: show the caller's view, never another enclave's.
    shown = scoring.views(conn, list(by_pk), scope)
    for pk, r in by_pk.items():
        v = shown.get(pk)
        r["score"], r["risk"] = (None, None) if v is None else (v["score"], v["risk"])


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
