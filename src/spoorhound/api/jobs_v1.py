"""Jobs: ``GET /api/v1/jobs/{id}`` — status and progress of any long operation.

One endpoint for every kind of job: bulk submissions (``submit``, with live
progress while they run and their first row errors), ingests and enrichment jobs
(with per-provider counters). A job is shown to global administrators and to
callers who can read every enclave it touched; to anyone else it does not exist
(404), so job ids confirm nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from spoorhound.api.auth import CallerDep
from spoorhound.api.indicators_v1 import LiveDep
from spoorhound.api.inputs import reject_nul
from spoorhound.services import enrichment_progress, submissions
from spoorhound.services.access import Caller
from spoorhound.services.jobs import get_job
from spoorhound.storage.engine import Store

__all__ = ["job_enclaves", "router"]

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], dependencies=[Depends(reject_nul)])


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(_store)]


def job_enclaves(job: dict[str, Any]) -> list[str] | None:
    """The enclaves a job touched, from its parameters; None when it does not say."""
    params = job.get("params") or {}
    if job["kind"] in (submissions.KIND, "ingest"):
        enclave = params.get("enclave")
        return [enclave] if enclave else None
    covered = (params.get("selection") or {}).get("scope")
    return list(covered) if covered is not None else None


def _visible(job: dict[str, Any], caller: Caller) -> bool:
    if caller.is_admin:
        return True
    touched = job_enclaves(job)
    return touched is not None and all(caller.can(e, "read") for e in touched)


@router.get("/{job_id}")
def get_job_status(
    job_id: str, store: StoreDep, caller: CallerDep, live: LiveDep
) -> dict[str, Any]:
    """A job's status, counts and progress (404 when it is not visible to the caller)."""
    job = get_job(store, job_id)
    if job is None or not _visible(job, caller):
        raise HTTPException(status_code=404, detail="job not found")
    if job["kind"] == submissions.KIND:
        found = submissions.submission_status(store, job_id, live)
    else:
        found = enrichment_progress.job_progress(store, job_id)
    if found is None:
        raise HTTPException(status_code=404, detail="job not found")
    return found
