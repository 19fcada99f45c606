"""Job records: durable status, counts and per-row errors of long operations."""

from __future__ import annotations

import tempfile
import time
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = ["ErrorLog", "RowError", "create_job", "finish_job", "get_job", "job_errors", "now"]


def now() -> int:
    """Current UTC time in epoch seconds (the storage time unit)."""
    return int(time.time())


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that was rejected (bad) or skipped (deliberately not an indicator)."""

    kind: str
    line: int
    reason: str
    raw: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"kind": self.kind, "line": self.line, "reason": self.reason, "raw": self.raw}


class ErrorLog:
    """Every row error of one job, in order, without holding millions in memory.

    Errors are appended as JSON lines to a spooled temporary file that stays in
    memory up to 4 MiB and spills to disk beyond.
    """

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=4 << 20)  # noqa: SIM115
        # Closed with its owner, so callers need not remember to (results outlive calls).
        self._close = weakref.finalize(self, self._file.close)
        self.counts = {"rejected": 0, "skipped": 0}

    def add(self, kind: str, line: int, reason: str, raw: str = "") -> None:
        """Record one row error."""
        self.counts[kind] += 1
        self._file.write(orjson.dumps((kind, line, reason, raw)) + b"\n")

    def __len__(self) -> int:
        return sum(self.counts.values())

    def __iter__(self) -> Iterator[RowError]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            kind, lineno, reason, raw = orjson.loads(line)
            yield RowError(kind, lineno, reason, raw)
        self._file.seek(0, 2)

    def close(self) -> None:
        """Free the buffer now."""
        self._close()


def create_job(store: Store, kind: str, params: dict[str, Any]) -> str:
    """Create a job in state ``running`` and return its id."""
    job_id = str(uuid.uuid4())
    t = now()
    with store.write() as conn:
        conn.execute(
            schema.job.insert().values(
                id=job_id, kind=kind, status="running", created_at=t, started_at=t, params=params
            )
        )
    return job_id


def finish_job(
    store: Store,
    job_id: str,
    *,
    status: str,
    result: dict[str, Any],
    error: str | None,
    errors: ErrorLog | None,
) -> None:
    """Record the outcome of a job with its row errors (in batches, one transaction)."""
    with store.write() as conn:
        conn.execute(
            schema.job.update()
            .where(schema.job.c.id == job_id)
            .values(status=status, finished_at=now(), result=result, error=error)
        )
        if errors is None:
            return
        batch: list[dict[str, Any]] = []
        for seq, e in enumerate(errors, start=1):
            batch.append(
                {
                    "job_id": job_id,
                    "seq": seq,
                    "kind": e.kind,
                    "line": e.line,
                    "reason": e.reason,
                    "raw": e.raw,
                }
            )
            if len(batch) >= 5000:
                conn.execute(schema.job_error.insert(), batch)
                batch = []
        if batch:
            conn.execute(schema.job_error.insert(), batch)


def get_job(store: Store, job_id: str) -> dict[str, Any] | None:
    """A job's record, or None."""
    with store.read() as conn:
        row = (
            conn.execute(sa.select(schema.job).where(schema.job.c.id == job_id)).mappings().first()
        )
    return dict(row) if row else None


def job_errors(store: Store, job_id: str, *, limit: int | None = None) -> list[RowError]:
    """The row errors recorded for a job, in input order."""
    q = (
        sa.select(
            schema.job_error.c.kind,
            schema.job_error.c.line,
            schema.job_error.c.reason,
            schema.job_error.c.raw,
        )
        .where(schema.job_error.c.job_id == job_id)
        .order_by(schema.job_error.c.seq)
    )
    if limit is not None:
        q = q.limit(limit)
    with store.read() as conn:
        return [RowError(k, line, reason, raw or "") for k, line, reason, raw in conn.execute(q)]
