"""Progress of enrichment jobs: one ``enrichment_batch`` row per processed batch.

A batch's row is inserted once (``ON CONFLICT DO NOTHING`` on job, provider and
batch key) in the same transaction as its results, so a step re-executed after a
crash neither double-counts nor, when it finds its row, calls the provider again.
A provider refused for a job has one ``disabled`` row carrying the message; each
part of a job records an ``end:`` row, and the last one marks the job done.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spoorhound.services.enrichment import _insert
from spoorhound.services.jobs import get_job, now
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = [
    "batch_recorded",
    "disable_provider",
    "disabled_reason",
    "finish_if_complete",
    "job_progress",
    "record_batch",
]

B = schema.enrichment_batch
DISABLED = "disabled"  # batch_key of the one row that disables a provider for a job
_COUNTERS = ("done", "stored", "unchanged", "failed", "cached", "withheld", "skipped")


def batch_recorded(conn: Connection, job_id: str, provider: str, batch_key: str) -> bool:
    """Whether this batch was already processed (a step re-executed after a crash)."""
    q = sa.select(B.c.at).where(
        B.c.job_id == job_id, B.c.provider == provider, B.c.batch_key == batch_key
    )
    return conn.execute(q).first() is not None


def record_batch(
    conn: Connection, job_id: str, provider: str, batch_key: str, at: int, **counts: int
) -> bool:
    """Record a processed batch's counters once; False if it was already recorded."""
    unknown = counts.keys() - set(_COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    stmt = _insert(conn)(B).on_conflict_do_nothing()
    res = conn.execute(
        stmt, {"job_id": job_id, "provider": provider, "batch_key": batch_key, "at": at, **counts}
    )
    return bool(res.rowcount)


def disable_provider(conn: Connection, job_id: str, provider: str, reason: str, at: int) -> bool:
    """Disable ``provider`` for the rest of the job with one message; False if it already was."""
    stmt = _insert(conn)(B).on_conflict_do_nothing()
    res = conn.execute(
        stmt,
        {"job_id": job_id, "provider": provider, "batch_key": DISABLED, "error": reason, "at": at},
    )
    return bool(res.rowcount)


def disabled_reason(conn: Connection, job_id: str, provider: str) -> str | None:
    """Why ``provider`` is disabled for this job, or None."""
    q = sa.select(B.c.error).where(
        B.c.job_id == job_id, B.c.provider == provider, B.c.batch_key == DISABLED
    )
    row = conn.execute(q).first()
    return None if row is None else str(row[0])


def job_progress(store: Store, job_id: str) -> dict[str, Any] | None:
    """A job's record with, for enrichment jobs, per-provider counters and messages."""
    job = get_job(store, job_id)
    if job is None:
        return None
    q = (
        sa.select(B.c.provider, *(sa.func.sum(getattr(B.c, c)).label(c) for c in _COUNTERS))
        .where(B.c.job_id == job_id)
        .group_by(B.c.provider)
        .order_by(B.c.provider)
    )
    with store.read() as conn:
        per = {
            r["provider"]: {c: int(r[c] or 0) for c in _COUNTERS}
            for r in conn.execute(q).mappings()
        }
        msgs = conn.execute(
            sa.select(B.c.provider, B.c.error).where(B.c.job_id == job_id, B.c.error.is_not(None))
        ).all()
    totals = ((job.get("result") or {}).get("total") or {}) if job["kind"] == "enrich" else {}
    for name, total in totals.items():
        per.setdefault(name, dict.fromkeys(_COUNTERS, 0))["total"] = total
    job["providers"] = per
    job["messages"] = [f"{p}: {e}" for p, e in msgs]
    return job


def finish_if_complete(store: Store, job_id: str) -> bool:
    """Mark an enrichment job done once every planned part has recorded its end.

    Idempotent, and safe when parts finish at once: the ends are counted before the
    counters are read (a part records its batches before its end), and only a
    ``running`` job is updated.
    """
    with store.read() as conn:
        ended = conn.execute(
            sa.select(sa.func.count()).where(B.c.job_id == job_id, B.c.batch_key.like("end:%"))
        ).scalar_one()
    job = job_progress(store, job_id)
    if job is None or job["status"] != "running":
        return False
    summary = dict(job.get("result") or {})
    if ended < int(summary.get("parts", 0)):
        return False
    summary["providers"] = job["providers"]
    summary["failed"] = sum(p.get("failed", 0) for p in job["providers"].values())
    with store.write() as conn:
        res = conn.execute(
            schema.job.update()
            .where(schema.job.c.id == job_id, schema.job.c.status == "running")
            .values(
                status="done",
                finished_at=now(),
                result=summary,
                error="; ".join(job["messages"]) or None,
            )
        )
    return bool(res.rowcount)
