"""Enrichment API: history with diffs, starting enrichment jobs, job progress.

Every route needs an API key (:mod:`spoorhound.api.auth`). History is limited to
the caller's readable enclaves; starting a job needs a write key of an admin or
analyst, and the job covers (and computes TLP over) the caller's enclaves only; a
job is visible to global administrators and to callers who can read every enclave
it covered. ``GET /api/jobs/{id}`` is an alias of ``GET /api/v1/jobs/{id}``
(:mod:`spoorhound.api.jobs_v1`): one handler, one visibility rule.

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

from spoorhound.api.auth import CallerDep, require_role
from spoorhound.api.inputs import reject_nul
from spoorhound.api.jobs_v1 import get_job_status
from spoorhound.config import Settings
from spoorhound.core.indicators import UnknownType
from spoorhound.enrich import runtime
from spoorhound.services import enrichment as enrichment_service
from spoorhound.services.access import Caller
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
WriterDep = Annotated[Caller, Depends(require_role("admin", "analyst", write=True))]


def _scope(caller: Caller, enclaves: list[str] | None) -> list[str] | None:
    visible = caller.scope
    if enclaves is None:
        return None if visible is None else sorted(visible)
    return [e for e in enclaves if visible is None or e in visible]


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
    caller: CallerDep,
    provider: Annotated[str | None, Query(description="Only this provider")] = None,
    enclave: Annotated[list[str] | None, Query(description="Only these enclaves")] = None,
    payload: Annotated[bool, Query(description="Include raw provider payloads")] = False,
) -> dict[str, Any]:
    """The enrichment timeline per provider with the diff between consecutive results."""
    found = enrichment_service.history(
        store, value, provider=provider, scope=_scope(caller, enclave), payload=payload
    )
    if not found:
        raise HTTPException(status_code=404, detail="indicator not found")
    return {"value": value, "indicators": found}


@router.post("/api/enrich", status_code=202)
def post_enrich(
    body: EnrichRequest, request: Request, store: StoreDep, caller: WriterDep
) -> dict[str, Any]:
    """Start an enrichment job; returns its id (poll ``GET /api/jobs/{id}``)."""
    f = SearchFilter(
        type=body.type,
        tag=body.tag,
        enclave=body.enclave,
        value=body.value,
        since=body.since,
        source=body.source,
    )
    scope = _scope(caller, None)
    sel = Selection(f, tuple(scope) if scope is not None else None)
    try:
        sel.where()  # an unknown type fails here, before a job is recorded
    except UnknownType as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    settings = _settings(request, store)
    job_id = runtime.create_enrich_job(
        store, sel, providers=body.providers, force=body.force, extra={"actor": caller.actor}
    )
    runtime.enqueue_job(settings, job_id)
    return {"job_id": job_id}


# The pre-v1 path of GET /api/v1/jobs/{id}: the same handler, so one visibility rule.
router.add_api_route(
    "/api/jobs/{job_id}",
    get_job_status,
    methods=["GET"],
    dependencies=[Depends(reject_nul)],
    summary="Get Job Status (alias of GET /api/v1/jobs/{job_id})",
    operation_id="get_job_status_alias",
)
