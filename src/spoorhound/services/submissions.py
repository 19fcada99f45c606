"""Bulk submissions: an ingest run in a background thread behind a job id.

The API cannot wait for a large ingest, and :func:`spoorhound.services.ingest.ingest`
creates its job record only once it starts, so a submission gets its own job
(kind ``submit``) at once: :func:`start_submission` records it, starts the
thread and returns the id. While the ingest runs, its progress (bytes and rows
read) lives in memory in a :class:`LiveProgress`: writing it to the database
would queue behind the ingest's own write transaction on SQLite. When the ingest
ends, the submission's job gets the ingest's counts and the id of the ingest job
that holds the row errors. A submission whose process died stays ``running``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from spoorhound.core.context import normalize_tag, parse_tlp
from spoorhound.core.indicators import resolve_type
from spoorhound.ingest.formats import READERS
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.services.jobs import create_job, finish_job, get_job, job_errors, now
from spoorhound.services.reports import DOCUMENT_KINDS
from spoorhound.services.scoring import Scorer, rescore_since
from spoorhound.storage.engine import Store

__all__ = ["KIND", "LiveProgress", "check_options", "start_submission", "submission_status"]

KIND = "submit"
#: Row errors shown with a submission's status (all are kept on the ingest job).
ERRORS_SHOWN = 100


class LiveProgress:
    """In-memory progress of the submissions running in this process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, int]] = {}

    def update(self, job_id: str, bytes_read: int, rows: int) -> None:
        """Record how far ``job_id`` has read."""
        with self._lock:
            self._jobs[job_id] = {"bytes_read": bytes_read, "rows_read": rows}

    def get(self, job_id: str) -> dict[str, int] | None:
        """How far ``job_id`` has read, or None if it is not running here."""
        with self._lock:
            found = self._jobs.get(job_id)
            return dict(found) if found is not None else None

    def drop(self, job_id: str) -> None:
        """Forget ``job_id`` (it has finished)."""
        with self._lock:
            self._jobs.pop(job_id, None)


def _run(
    store: Store,
    job_id: str,
    path: Path,
    options: IngestOptions,
    name: str,
    live: LiveProgress,
    scorer: Scorer | None,
) -> None:
    try:
        since = now()
        result = ingest(
            store, path, options, name=name, progress=lambda b, r: live.update(job_id, b, r)
        )
        counts: dict[str, Any] = {**result.counts(), "ingest_job": result.job_id}
        if result.status == "done" and scorer is not None:
            # Scored before the job is done, so a client polling for "done" sees scores.
            counts["scored"] = rescore_since(
                store, enclave=options.enclave, since=since, scorer=scorer
            )
        finish_job(
            store, job_id, status=result.status, result=counts, error=result.error, errors=None
        )
    except Exception as e:  # the thread has no one else to report to
        finish_job(store, job_id, status="failed", result={}, error=str(e), errors=None)
    finally:
        live.drop(job_id)
        with contextlib.suppress(OSError):
            os.unlink(path)


def check_options(options: IngestOptions) -> None:
    """Raise ``ValueError`` for options the ingest would refuse (a bad format, TLP, type or tag).

    Checked before a submission is accepted, so the caller gets the reason at
    once instead of a failed job.
    """
    formats = sorted({*READERS, *DOCUMENT_KINDS, "text"})
    if options.format is not None and options.format not in formats:
        raise ValueError(f"unknown format {options.format!r}: use one of {', '.join(formats)}")
    if options.tlp:
        parse_tlp(options.tlp)
    if options.type:
        resolve_type(options.type)
    for tag in options.tags:
        normalize_tag(tag)


def start_submission(
    store: Store,
    path: Path,
    options: IngestOptions,
    *,
    name: str,
    live: LiveProgress,
    scorer: Scorer | None = None,
) -> str:
    """Record a submission job and ingest ``path`` into ``options.enclave`` in a thread.

    ``path`` is a temporary file the submission owns: it is deleted when the
    ingest ends. Returns the job id (poll :func:`submission_status`).
    """
    params = {
        "enclave": options.enclave, "source": options.source, "actor": options.actor,
        "format": options.format, "name": name,
    }  # fmt: skip
    job_id = create_job(store, KIND, params)
    live.update(job_id, 0, 0)
    thread = threading.Thread(
        target=_run,
        args=(store, job_id, path, replace(options), name, live, scorer),
        name=f"spoorhound-submit-{job_id[:8]}",
        daemon=True,
    )
    thread.start()
    return job_id


def submission_status(store: Store, job_id: str, live: LiveProgress) -> dict[str, Any] | None:
    """A submission's job record with live progress while it runs and its first row errors."""
    job = get_job(store, job_id)
    if job is None or job["kind"] != KIND:
        return None
    progress = live.get(job_id)
    if progress is not None:
        job["progress"] = progress
    ingest_job = (job.get("result") or {}).get("ingest_job")
    job["errors"] = (
        [e.to_dict() for e in job_errors(store, ingest_job, limit=ERRORS_SHOWN)]
        if ingest_job
        else []
    )
    return job
