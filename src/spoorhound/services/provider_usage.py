"""Provider quotas and call pacing, shared by every worker through the database.

Daily and monthly quotas are counters per (provider, period, period start) in
``provider_usage``; :func:`reserve` takes units atomically (the row is locked for
the read-modify-write: ``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on
PostgreSQL), so any number of workers together never use more than the quota.
A grant smaller than asked for comes with the time until the next period, which
the runner sleeps through durably instead of failing the work.

Pacing: the time a provider's last paced call ended is kept in the same table
(period ``pace``), so the spacing between calls carries over from one workflow
to the next, whichever worker runs it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spoorhound.services.enrichment import _insert
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = ["exhaust", "last_call", "period_bounds", "reserve", "set_last_call", "usage"]

U = schema.provider_usage
PACE = "pace"


def period_bounds(period: str, now: float, length: int | None = None) -> tuple[int, int]:
    """Start and end (epoch seconds, UTC) of the quota period containing ``now``.

    ``day`` and ``month`` are calendar periods in UTC; ``length`` (seconds) replaces
    them with fixed windows, which tests use to make a quota reset quickly.
    """
    if length:
        start = int(now // length) * length
        return start, start + length
    if period == "day":
        start = int(now // 86_400) * 86_400
        return start, start + 86_400
    if period == "month":
        d = datetime.fromtimestamp(now, UTC)
        first = datetime(d.year, d.month, 1, tzinfo=UTC)
        nxt = datetime(d.year + d.month // 12, d.month % 12 + 1, 1, tzinfo=UTC)
        return int(first.timestamp()), int(nxt.timestamp())
    raise ValueError(f"unknown quota period {period!r}")


def reserve(
    store: Store,
    provider: str,
    quotas: Mapping[str, int],
    units: int,
    *,
    now: float,
    lengths: Mapping[str, int | None] | None = None,
) -> tuple[int, float]:
    """Take up to ``units`` from every quota of ``provider`` (``{"day": 500, …}``).

    Returns the units granted (the same number from each quota) and, when fewer
    than asked, the seconds until the earliest exhausted period resets.
    """
    if not quotas:
        return units, 0.0
    lengths = lengths or {}
    with store.write() as conn:
        grant = units
        wait = math.inf
        starts: dict[str, int] = {}
        for period, quota in quotas.items():
            start, end = period_bounds(period, now, lengths.get(period))
            starts[period] = start
            conn.execute(
                _insert(conn)(U).on_conflict_do_nothing(),
                {"provider": provider, "period": period, "period_start": start, "used": 0},
            )
            used = conn.execute(
                sa.select(U.c.used)
                .where(U.c.provider == provider, U.c.period == period, U.c.period_start == start)
                .with_for_update()
            ).scalar_one()
            left = max(0, quota - int(used))
            if left < units:
                wait = min(wait, end - now)
            grant = min(grant, left)
        if grant:
            for period, start in starts.items():
                conn.execute(
                    U.update()
                    .where(
                        U.c.provider == provider, U.c.period == period, U.c.period_start == start
                    )
                    .values(used=U.c.used + grant)
                )
    return grant, (0.0 if grant == units else max(0.0, wait))


def exhaust(
    store: Store,
    provider: str,
    quotas: Mapping[str, int],
    *,
    now: float,
    lengths: Mapping[str, int | None] | None = None,
) -> float:
    """Mark the current periods of ``provider``'s quotas as used up (the provider said
    so); returns the seconds until the earliest of them resets."""
    lengths = lengths or {}
    wait = math.inf
    with store.write() as conn:
        for period, quota in quotas.items():
            start, end = period_bounds(period, now, lengths.get(period))
            stmt = _insert(conn)(U).values(
                provider=provider, period=period, period_start=start, used=quota
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["provider", "period", "period_start"], set_={"used": quota}
                )
            )
            wait = min(wait, end - now)
    return 0.0 if wait is math.inf else max(0.0, wait)


def usage(store: Store, provider: str, *, now: float) -> dict[str, int]:
    """Units used in the current day and month."""
    out: dict[str, int] = {}
    with store.read() as conn:
        for period in ("day", "month"):
            start, _ = period_bounds(period, now)
            used = conn.execute(
                sa.select(U.c.used).where(
                    U.c.provider == provider, U.c.period == period, U.c.period_start == start
                )
            ).scalar()
            out[period] = int(used or 0)
    return out


def last_call(conn: Connection, provider: str) -> float:
    """When ``provider``'s last paced call ended (epoch seconds), 0 if none."""
    ms = conn.execute(
        sa.select(U.c.used).where(U.c.provider == provider, U.c.period == PACE)
    ).scalar()
    return int(ms or 0) / 1000


def set_last_call(conn: Connection, provider: str, at: float) -> None:
    """Record when ``provider``'s last paced call ended."""
    ms = math.ceil(at * 1000)
    stmt = _insert(conn)(U).values(provider=provider, period=PACE, period_start=0, used=ms)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["provider", "period", "period_start"], set_={"used": ms}
        )
    )
