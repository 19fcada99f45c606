"""Watchlists: saved selections of indicators re-enriched on a schedule (continuous tracking).

A watchlist names a selection (search filters: tag, enclave, type, value pattern,
source, recency), the providers to ask (None: every enabled one) and an interval.
The runner's scheduled workflow asks :func:`due` every minute and re-enriches
each due watchlist with the cache bypassed; changed answers become
``enrichment_change`` events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from spoorhound.services.enrichment import Selection
from spoorhound.services.jobs import now
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = ["add_watchlist", "due", "list_watchlists", "mark_run", "remove_watchlist"]

W = schema.watchlist


def add_watchlist(
    store: Store,
    name: str,
    selection: Selection,
    *,
    providers: Sequence[str] | None = None,
    interval_seconds: int,
) -> int:
    """Create watchlist ``name``; raises ValueError if the name is taken or nothing is filtered."""
    if interval_seconds < 60:
        raise ValueError("the interval must be at least one minute")
    sel = selection.to_dict()
    if not sel["filter"]:
        raise ValueError("a watchlist needs at least one filter (tag, enclave, type, value, …)")
    with store.write() as conn:
        if conn.execute(sa.select(W.c.id).where(W.c.name == name)).first():
            raise ValueError(f"watchlist {name!r} exists")
        res = conn.execute(
            W.insert().values(
                name=name,
                filter=sel,
                providers=list(providers) if providers else None,
                interval_seconds=interval_seconds,
                created_at=now(),
            )
        )
        assert res.inserted_primary_key is not None
        return int(res.inserted_primary_key[0])


def list_watchlists(store: Store) -> list[dict[str, Any]]:
    """Every watchlist, by name."""
    with store.read() as conn:
        return [dict(r) for r in conn.execute(sa.select(W).order_by(W.c.name)).mappings()]


def remove_watchlist(store: Store, name: str) -> bool:
    """Delete watchlist ``name``; False if there was none."""
    with store.write() as conn:
        return bool(conn.execute(W.delete().where(W.c.name == name)).rowcount)


def due(store: Store, at: int) -> list[dict[str, Any]]:
    """Watchlists whose interval has elapsed since their last run (or never ran)."""
    q = sa.select(W).where(
        sa.or_(W.c.last_run.is_(None), W.c.last_run + W.c.interval_seconds <= at)
    )
    with store.read() as conn:
        return [dict(r) for r in conn.execute(q.order_by(W.c.id)).mappings()]


def mark_run(store: Store, watchlist_id: int, at: int) -> None:
    """Record that a watchlist was (re-)enriched at ``at``."""
    with store.write() as conn:
        conn.execute(W.update().where(W.c.id == watchlist_id).values(last_run=at))
