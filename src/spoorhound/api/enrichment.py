"""Enrichment API: history with diffs, starting enrichment jobs, job progress.

Starting a job needs a running enrichment runtime (``spoorhound serve`` starts
one, or a ``spoorhound worker`` on the same data directory picks the job up from
the queue); this router only records the job and enqueues it through the DBOS
client, so it works in either arrangement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.engine import make_url

from spoorhound.config import Settings
from spoorhound.core.indicators import UnknownType
from spoorhound.enrich import runtime
from spoorhound.services import enrichment as enrichment_service
from spoorhound.services.enrichment import Selection
from spoorhound.services.indicators import SearchFilter
from spoorhound.storage.engine import Store

__all__ = ["EnrichRequest", "router"]

router = APIRouter(tags=["enrichment"])


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _settings(request: Request, store: Store) -> Settings:
    settings: Settings | None = getattr(request.app.state, "settings", None)
    if settings is not None:
        return settings
    # An app built around a store alone: the DBOS database sits beside a SQLite store.
    if store.dialect == "sqlite":
        return Settings.build(Path(make_url(store.url).database or ".").parent, store.url)
    return Settings.build(database_url=store.url)


StoreDep = Annotated[Store, Depends(_store)]


class EnrichRequest(BaseModel):
    """Which indicators to enrich, with which providers."""

    type: str | None = None
    tag: str | None = None
    enclave: str | None = None
    value: str | None = Field(default=None, description="Substring or * wildcard pattern")
    since: int | None = Field(default=None, description="Last seen at or after (epoch s)")
    source: str | None = None
    providers: list[str] | None = None
    force: bool = False


@router.get("/api/indicators/{value:path}/history")
def get_history(
    value: str,
    store: StoreDep,
    provider: Annotated[str | None, Query(description="Only this provider")] = None,
    enclave: Annotated[list[str] | None, Query(description="Only these enclaves")] = None,
    payload: Annotated[bool, Query(description="Include raw provider payloads")] = False,
) -> dict[str, Any]:
    """The enrichment timeline per provider with the diff between consecutive results."""
    found = enrichment_service.history(
        store, value, provider=provider, scope=enclave, payload=payload
    )
    if not found:
        raise HTTPException(status_code=404, detail="indicator not found")
    return {"value": value, "indicators": found}


@router.post("/api/enrich", status_code=202)
def post_enrich(body: EnrichRequest, request: Request, store: StoreDep) -> dict[str, Any]:
    """Start an enrichment job; returns its id (poll ``GET /api/jobs/{id}``)."""
    f = SearchFilter(
        type=body.type,
        tag=body.tag,
        enclave=body.enclave,
        value=body.value,
        since=body.since,
        source=body.source,
    )
    try:
        Selection(f).where()  # an unknown type fails here, before a job is recorded
    except UnknownType as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    settings = _settings(request, store)
    job_id = runtime.create_enrich_job(
        store, Selection(f), providers=body.providers, force=body.force
    )
    runtime.enqueue_job(settings, job_id)
    return {"job_id": job_id}


@router.get("/api/jobs/{job_id}")
def get_job(job_id: str, store: StoreDep) -> dict[str, Any]:
    """A job's status, per-provider progress counters and messages."""
    job = enrichment_service.job_progress(store, job_id)
    if job is None:
        raise HTTPException(status_code=404, detail="job not found")
    return job
