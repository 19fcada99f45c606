"""Pulsedive-style analysis under ``/api/v1``: ``info``, ``explore`` and ``analyze``.

* ``GET /api/v1/info?indicator=VALUE`` (or ``?iid=ID``): the information sheet of
  each matching indicator (:func:`spoorhound.services.analysis_info.info`); 404 when
  nothing visible matches. Risk factors are an empty list until scoring lands.
* ``GET /api/v1/explore?q=QUERY&limit=&cursor=``: indicators matching a
  query-language query (Pulsedive's Explore syntax included), newest first, with a
  cursor; ``mode=threats`` groups the first :data:`~spoorhound.services.explore.MAX_LIMIT`
  matches by threat instead.
* ``POST /api/v1/analyze`` ``{"value": …, "probe": 0|1}`` → 202 ``{"qid": N}``;
  ``GET /api/v1/analyze?qid=N`` → ``{"status": "processing"}`` or
  ``{"status": "done", "data": …}`` (:mod:`spoorhound.services.analyze`).

Every route needs an API key and answers within the caller's enclaves. Analysis
answers are stored as enrichments only for admins and analysts with a write key
(others get them returned, not stored). The analysis queue is built on first use
from ``app.state.analysis`` if the app set one, else from the environment:
``SPOORHOUND_PROBE_ALLOW`` (comma-separated allow-ranges for the probe, e.g. an
internal sandbox network; empty by default) and the enabled providers.
"""

from __future__ import annotations

import os
import threading
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from spoorhound.api.auth import CallerDep, run_query
from spoorhound.api.enrichment import _settings
from spoorhound.core.indicators import InvalidIndicator
from spoorhound.core.query import QuerySyntaxError
from spoorhound.enrich import runtime
from spoorhound.enrich.provider import Provider
from spoorhound.services import analysis_info
from spoorhound.services import explore as explore_service
from spoorhound.services.access import Caller
from spoorhound.services.analyze import AnalysisQueue, QueueFull
from spoorhound.services.netguard import NetGuard
from spoorhound.storage.engine import Store

__all__ = ["AnalyzeRequest", "analysis_queue", "can_store", "explore_threats", "router"]

router = APIRouter(prefix="/api/v1", tags=["analysis"])

_BUILD_LOCK = threading.Lock()


def analysis_queue(request: Request) -> AnalysisQueue:
    """The app's analysis queue, built on first use (see the module docstring)."""
    queue: AnalysisQueue | None = getattr(request.app.state, "analysis", None)
    if queue is not None:
        return queue
    with _BUILD_LOCK:
        queue = getattr(request.app.state, "analysis", None)
        if queue is None:
            store: Store = request.app.state.store
            allow = os.environ.get("SPOORHOUND_PROBE_ALLOW", "").split(",")
            settings = _settings(request, store)

            def providers() -> dict[str, Provider]:
                return runtime.default_providers(settings)

            queue = AnalysisQueue(store, guard=NetGuard.build(allow), providers=providers)
            request.app.state.analysis = queue
    return queue


def can_store(caller: Caller) -> bool:
    """Whether the caller's analyses are stored (the rule of ``POST /api/enrich``)."""
    return caller.can_change and caller.role in ("admin", "analyst")


def explore_threats(store: Store, query: str, scope: frozenset[str] | None) -> list[dict[str, Any]]:
    """Threats among the first matches of ``query``, with how many matches name each."""
    page = explore_service.explore(store, query, scope=scope, limit=explore_service.MAX_LIMIT)
    counts: dict[tuple[str, str], int] = {}
    for row in page.rows:
        for t in analysis_info.threats_of(row["tags"]):
            key = (t["name"], t["category"])
            counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"name": n, "category": c, "indicators": k} for (n, c), k in ranked]


class AnalyzeRequest(BaseModel):
    """A value to analyze; ``probe`` 1 adds the active probe."""

    value: str = Field(min_length=1, max_length=8192)
    probe: Literal[0, 1] = 0


@router.get("/info")
def get_info(
    request: Request,
    caller: CallerDep,
    indicator: Annotated[str | None, Query(max_length=8192, description="Value")] = None,
    iid: Annotated[str | None, Query(max_length=64, description="Public id")] = None,
    history: Annotated[bool, Query(description="Include the enrichment history")] = True,
) -> dict[str, Any]:
    """Everything about one indicator: risk, factors, properties, tags, threats, sources, links, history."""
    if not indicator and not iid:
        raise HTTPException(status_code=422, detail="give indicator= or iid=")
    store: Store = request.app.state.store
    try:
        found = analysis_info.info(store, indicator, iid=iid, scope=caller.scope, history=history)
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    if not found:
        raise HTTPException(status_code=404, detail="indicator not found")
    return {"indicators": found}


@router.get("/explore", response_model=dict[str, Any])
async def get_explore(
    request: Request,
    caller: CallerDep,
    q: Annotated[str, Query(max_length=4000, description="Query-language query")] = "",
    limit: Annotated[int, Query(ge=1, le=explore_service.MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    mode: Annotated[Literal["indicators", "threats"], Query()] = "indicators",
) -> Response:
    """Indicators (or threats) matching ``q``, within the caller's enclaves."""
    store: Store = request.app.state.store
    # `async` so authentication runs on the event loop; the query itself may scan an
    # index (a query matching nothing), so it runs in a worker thread (run_query).
    try:
        if mode == "threats":
            found = await run_query(request, explore_threats, store, q, caller.scope)
            return _json({"results": found, "cursor": None})
        page = await run_query(
            request,
            explore_service.explore,
            store,
            q,
            scope=caller.scope,
            limit=limit,
            cursor=cursor,
        )
    except QuerySyntaxError as e:
        raise HTTPException(
            status_code=422, detail={"message": e.message, "position": e.position, "text": str(e)}
        ) from None
    except explore_service.InvalidCursor as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    return _json({"results": page.rows, "cursor": page.cursor})


def _json(body: dict[str, Any]) -> Response:
    # Serialised once with orjson: through the declared model, pydantic's encoding of
    # 100 untyped rows cost more than the query (bench/api.py).
    return Response(
        orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS), media_type="application/json"
    )


@router.post("/analyze", status_code=202)
def post_analyze(body: AnalyzeRequest, request: Request, caller: CallerDep) -> dict[str, Any]:
    """Queue an analysis (passive enrichment, and the probe with ``probe: 1``); returns its qid."""
    queue = analysis_queue(request)
    try:
        qid = queue.submit(
            body.value,
            owner=caller.user_id,
            probe=bool(body.probe),
            scope=caller.scope,
            can_store=can_store(caller),
        )
    except (InvalidIndicator, ValueError) as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    except QueueFull as e:
        raise HTTPException(status_code=429, detail=str(e), headers={"Retry-After": "5"}) from None
    return {"qid": qid}


@router.get("/analyze")
def get_analyze(
    request: Request,
    caller: CallerDep,
    qid: Annotated[int, Query(ge=1, le=2**31)],
) -> dict[str, Any]:
    """The analysis' status: ``processing``, or ``done`` with ``data``."""
    got = analysis_queue(request).poll(qid, owner=caller.user_id)
    if got is None:
        raise HTTPException(status_code=404, detail="analysis not found")
    return got
