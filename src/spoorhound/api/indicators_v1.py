"""Indicators: ``/api/v1/indicators`` — get, search, create, change, delete, bulk submit.

Who may do what:

* reads (``GET``) need any key and show only what the caller's enclaves hold: an
  indicator with no observation in a readable enclave answers 404, exactly as one
  that does not exist;
* ``POST``, ``PATCH`` and ``DELETE`` name an enclave and need ``write`` permission
  in it (404 when the enclave is invisible, 403 when the permission is short);
* ``POST /bulk`` ingests a file (or a JSON list) into an enclave as a background
  job; poll ``GET /api/v1/jobs/{id}``.

``{ref}`` is an indicator's public id (a uuid) or a value, refanged and
canonicalised (``hxxp://evil[.]com`` finds ``http://evil.com/``). A value may name
several indicators (a 32-hex string: md5, imphash, ja3); reads return them all,
changes refuse with 409 unless ``?type=`` picks one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from spoorhound.api.auth import CallerDep, check_enclave, run_read
from spoorhound.api.inputs import CleanInput, reject_nul
from spoorhound.core.indicators import UnknownType
from spoorhound.core.query import QuerySyntaxError
from spoorhound.services import explore as explore_service
from spoorhound.services import indicator_edits, scoring
from spoorhound.services import indicators as indicator_service
from spoorhound.services.access import Caller
from spoorhound.services.ingest import IngestOptions
from spoorhound.services.submissions import LiveProgress, check_options, start_submission
from spoorhound.storage.engine import Store

__all__ = ["live_progress", "router"]

router = APIRouter(
    prefix="/api/v1/indicators", tags=["indicators"], dependencies=[Depends(reject_nul)]
)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(_store)]


def _scorer(request: Request) -> scoring.Scorer:
    """The app's scorer (see :func:`spoorhound.api.scores_v1.scorer`)."""
    from spoorhound.api.scores_v1 import scorer

    return scorer(request)


def live_progress(request: Request) -> LiveProgress:
    """The app's registry of running submissions (created on first use)."""
    live: LiveProgress | None = getattr(request.app.state, "live_progress", None)
    if live is None:
        live = request.app.state.live_progress = LiveProgress()
    return live


LiveDep = Annotated[LiveProgress, Depends(live_progress)]
TypeParam = Annotated[
    str | None, Query(description="Only this indicator type (when a value names several)")
]


# --- schemas -------------------------------------------------------------------------


class IndicatorRow(BaseModel):
    """An indicator in a list: seen-times and tags from the caller's enclaves."""

    id: str
    type: str
    value: str
    first_seen: int
    last_seen: int
    score: int | None
    risk: str | None
    tags: list[str]


class IndicatorPage(BaseModel):
    """One page of a search; pass ``cursor`` back for the next (null on the last page)."""

    indicators: list[IndicatorRow]
    cursor: str | None


class IndicatorDetail(BaseModel):
    """Everything the caller may see about the indicators a reference names."""

    query: str
    indicators: list[dict[str, Any]]


class IndicatorCreate(CleanInput):
    """One indicator observed in an enclave."""

    value: str = Field(min_length=1, max_length=10_000)
    enclave: str = Field(min_length=1, description="The enclave it is observed in (write)")
    type: str | None = Field(default=None, description="Detected from the value when omitted")
    tags: list[str] = Field(default_factory=list, max_length=100)
    tlp: str | None = Field(default=None, description="clear, green, amber, amber+strict, red")
    confidence: int | None = Field(default=None, ge=0, le=100)
    source: str = Field(default=indicator_edits.DEFAULT_SOURCE, min_length=1, max_length=200)
    notes: str | None = Field(default=None, max_length=10_000)


class IndicatorCreated(BaseModel):
    """The stored indicator; ``new`` is false when it existed and was merged."""

    id: str
    type: str
    value: str
    new: bool


class ObservationUpdate(CleanInput):
    """Change the observation by ``source`` in ``enclave``; tags change per enclave.

    Omitted fields stay as they are; ``null`` clears ``tlp``, ``confidence`` or ``notes``.
    """

    enclave: str = Field(min_length=1)
    source: str = Field(default=indicator_edits.DEFAULT_SOURCE, min_length=1, max_length=200)
    tlp: str | None = None
    confidence: int | None = Field(default=None, ge=0, le=100)
    notes: str | None = Field(default=None, max_length=10_000)
    add_tags: list[str] = Field(default_factory=list, max_length=100)
    remove_tags: list[str] = Field(default_factory=list, max_length=100)


class Deleted(BaseModel):
    """How many observations were deleted."""

    deleted: int


class JobStarted(BaseModel):
    """A submitted job; poll ``GET /api/v1/jobs/{job_id}``."""

    job_id: str


# --- helpers -------------------------------------------------------------------------


def one_indicator(store: Store, ref: str, caller: Caller, type: str | None) -> dict[str, Any]:
    """The one indicator ``ref`` names for ``caller``: 404 invisible, 409 ambiguous."""
    try:
        found = indicator_edits.resolve(store, ref, scope=caller.scope, type=type)
    except UnknownType as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    if not found:
        raise HTTPException(status_code=404, detail="indicator not found")
    if len(found) > 1:
        types = ", ".join(f["type"] for f in found)
        raise HTTPException(
            status_code=409,
            detail=f"{ref!r} names several indicators ({types}): add ?type= or use the id",
        )
    return found[0]


# --- routes --------------------------------------------------------------------------


@router.get("")
def search_indicators(
    store: StoreDep,
    caller: CallerDep,
    q: Annotated[str, Query(max_length=4000, description="Query language (docs/query.md)")] = "",
    limit: Annotated[int, Query(ge=1, le=explore_service.MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(description="The previous page's cursor")] = None,
) -> IndicatorPage:
    """Indicators matching ``q`` in the caller's enclaves, newest last-seen first, by pages."""
    try:
        page = explore_service.explore(store, q, scope=caller.scope, limit=limit, cursor=cursor)
    except (QuerySyntaxError, explore_service.InvalidCursor) as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    return IndicatorPage(indicators=[IndicatorRow(**r) for r in page.rows], cursor=page.cursor)


@router.post("", status_code=201)
def create_indicator(
    body: IndicatorCreate,
    store: StoreDep,
    caller: CallerDep,
    sc: Annotated[scoring.Scorer, Depends(_scorer)],
) -> IndicatorCreated:
    """Store one indicator with an observation by ``source`` in ``enclave`` (write permission)."""
    check_enclave(caller, body.enclave, "write")
    try:
        made = indicator_edits.create_indicator(
            store, body.value, enclave=body.enclave, actor=caller.actor, type=body.type,
            source=body.source, tags=body.tags, tlp=body.tlp, confidence=body.confidence,
            notes=body.notes,
        )  # fmt: skip
    except LookupError as e:
        raise HTTPException(status_code=404, detail=str(e)) from None
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    found = indicator_edits.resolve(store, made["id"])
    scoring.rescore(store, [f["pk"] for f in found], scorer=sc, enclave=body.enclave)
    return IndicatorCreated(**made)


@router.post("/bulk", status_code=202)
async def submit_bulk(
    request: Request,
    store: StoreDep,
    caller: CallerDep,
    live: LiveDep,
    enclave: Annotated[str, Query(min_length=1, description="Target enclave (write)")],
    source: Annotated[str, Query(min_length=1, max_length=200)] = "api-bulk",
    tags: Annotated[list[str] | None, Query(description="Tags for every row")] = None,
    tlp: Annotated[str | None, Query(description="TLP of rows that carry none")] = None,
    confidence: Annotated[int | None, Query(ge=0, le=100)] = None,
    format: Annotated[str | None, Query(description="Input format; sniffed when omitted")] = None,
    type: Annotated[str | None, Query(description="Type of every row (plain lists)")] = None,
    name: Annotated[str | None, Query(max_length=500, description="Label for the job")] = None,
) -> JobStarted:
    """Ingest the request body into ``enclave`` as a background job; returns its id.

    The body is a file in any format ingest reads (plain list, CSV/TSV, JSON,
    JSONL, STIX, MISP, gzip/zip; up to the upload limit), or, with
    ``Content-Type: application/json``, a JSON list of values or of objects
    (``value``, ``type``, ``tags``, ``tlp``, ``confidence``, ``notes``…).
    """
    check_enclave(caller, enclave, "write")
    options = IngestOptions(
        enclave=enclave, source=source, tags=tuple(tags or ()), tlp=tlp,
        confidence=confidence, format=format, type=type, actor=caller.actor,
    )  # fmt: skip
    try:
        check_options(options)
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    is_json = request.headers.get("content-type", "").split(";")[0].strip() == "application/json"
    fd, tmp = tempfile.mkstemp(prefix="spoorhound-submit-")
    path = Path(tmp)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                out.write(chunk)
        if size == 0:
            raise HTTPException(status_code=422, detail="empty body: send a file or a JSON list")
        if is_json:
            try:
                doc = orjson.loads(path.read_bytes())
            except orjson.JSONDecodeError as e:
                raise HTTPException(status_code=422, detail=f"invalid JSON: {e}") from None
            if not isinstance(doc, list):
                raise HTTPException(
                    status_code=422, detail="a JSON body must be a list of values or objects"
                )
            options = replace(options, format=format or "json")
        job_id = await run_in_threadpool(
            start_submission,
            store,
            path,
            options,
            name=name or "api-bulk",
            live=live,
            scorer=_scorer(request),
        )
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return JobStarted(job_id=job_id)


def _detail(store: Store, ref: str, scope: Collection[str] | None, type: str | None) -> list[Any]:
    if not indicator_edits._is_uuid(ref):
        # A value: lookup reads what resolve would find (the same candidates, type and
        # scope), in resolve's order.
        return sorted(
            indicator_service.lookup(store, ref, scope=scope, type=type), key=lambda d: d["type"]
        )
    found = indicator_edits.resolve(store, ref, scope=scope, type=type)
    return [
        d
        for f in found
        for d in indicator_service.lookup(store, f["value"], scope=scope, type=f["type"])
        if d["id"] == f["id"]
    ]


@router.get("/{ref:path}", response_model=IndicatorDetail)
async def get_indicator(
    ref: str, request: Request, caller: CallerDep, type: TypeParam = None
) -> Response:
    """Everything the caller may see about the indicator(s) ``ref`` (id or value) names."""
    store: Store = request.app.state.store
    try:
        # Index look-ups only: inline on SQLite (see run_read), no thread hand-off.
        detail = await run_read(store, _detail, store, ref, caller.scope, type)
    except (UnknownType, ValueError) as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    if not detail:
        raise HTTPException(status_code=404, detail="indicator not found")
    # Serialised once with orjson (the declared model documents it): validating and
    # re-encoding the nested documents cost more than reading them.
    body = orjson.dumps({"query": ref, "indicators": detail}, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, media_type="application/json")


@router.patch("/{ref:path}")
def update_indicator(
    ref: str,
    body: ObservationUpdate,
    store: StoreDep,
    caller: CallerDep,
    sc: Annotated[scoring.Scorer, Depends(_scorer)],
    type: TypeParam = None,
) -> IndicatorDetail:
    """Change tags and context of the caller's observation in ``enclave`` (write permission)."""
    check_enclave(caller, body.enclave, "write")
    found = one_indicator(store, ref, caller, type)
    changes: dict[str, Any] = {
        k: getattr(body, k) for k in ("tlp", "confidence", "notes") if k in body.model_fields_set
    }
    try:
        indicator_edits.update_observation(
            store, found["pk"], enclave=body.enclave, actor=caller.actor, source=body.source,
            changes=changes, add_tags=body.add_tags, remove_tags=body.remove_tags,
        )  # fmt: skip
    except LookupError as e:
        raise HTTPException(status_code=404, detail=str(e)) from None
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    scoring.rescore(store, [found["pk"]], scorer=sc, enclave=body.enclave)
    detail = indicator_service.lookup(store, found["value"], scope=caller.scope, type=found["type"])
    return IndicatorDetail(query=ref, indicators=detail)


@router.delete("/{ref:path}")
def delete_indicator(
    ref: str,
    store: StoreDep,
    caller: CallerDep,
    sc: Annotated[scoring.Scorer, Depends(_scorer)],
    enclave: Annotated[str, Query(min_length=1, description="Delete its observations here")],
    source: Annotated[str | None, Query(description="Only this source's observation")] = None,
    type: TypeParam = None,
) -> Deleted:
    """Delete the indicator's observations in ``enclave`` (write permission; audited).

    With none left anywhere the indicator itself is deleted. 404 when the enclave
    holds no matching observation.
    """
    check_enclave(caller, enclave, "write")
    found = one_indicator(store, ref, caller, type)
    n = indicator_edits.delete_observations(
        store, found["pk"], enclave=enclave, actor=caller.actor, source=source
    )
    if not n:
        raise HTTPException(status_code=404, detail=f"no matching observation in {enclave!r}")
    # The enclave's score goes with its last observation (the row cascades with the
    # indicator when none is left anywhere).
    if indicator_edits.resolve(store, found["id"]):
        scoring.rescore(store, [found["pk"]], scorer=sc, enclave=enclave)
    return Deleted(deleted=n)
