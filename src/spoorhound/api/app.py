"""The web application: an app factory, one router per resource.

Every ``/api`` route needs an API key (``Authorization: Bearer sk_…`` or
``X-API-Key``) except ``/health``; reads are scoped to the caller's enclaves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from pydantic import BaseModel

from spoorhound import __version__
from spoorhound.api.admin import router as admin_router
from spoorhound.api.analysis_v1 import router as analysis_router
from spoorhound.api.auth import CallerDep, install_limits, run_read
from spoorhound.api.enrichment import router as enrichment_router
from spoorhound.api.errors import document_errors
from spoorhound.api.exports_v1 import router as exports_v1_router
from spoorhound.api.indicators_v1 import router as indicators_v1_router
from spoorhound.api.jobs_v1 import router as jobs_v1_router
from spoorhound.api.pulsedive_compat import router as pulsedive_router
from spoorhound.api.reports_v1 import router as reports_v1_router
from spoorhound.api.safelists_v1 import router as safelists_v1_router
from spoorhound.api.scores_v1 import router as scores_v1_router
from spoorhound.api.searches_v1 import router as searches_v1_router
from spoorhound.api.tags_v1 import router as tags_v1_router
from spoorhound.config import Settings
from spoorhound.services import indicators as indicator_service
from spoorhound.storage.engine import Store

__all__ = ["create_app", "create_app_from_env"]


async def get_store(request: Request) -> Store:
    """The store the app was created with."""
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


class IndicatorLookup(BaseModel):
    """Everything the caller may see about one value: one entry per stored indicator."""

    value: str
    indicators: list[dict[str, Any]]


health = APIRouter(tags=["health"])
indicators = APIRouter(prefix="/api/indicators", tags=["indicators"])


@health.get("/health")
def get_health(store: StoreDep) -> dict[str, Any]:
    """Liveness and schema state."""
    return {"status": "ok", "version": __version__, "schema": store.current_revision()}


@indicators.get("/{value:path}", response_model=IndicatorLookup)
async def get_indicator(
    value: str,
    request: Request,
    caller: CallerDep,
    enclave: Annotated[list[str] | None, Query(description="Only these enclaves")] = None,
    type: Annotated[str | None, Query(description="Only this indicator type")] = None,
) -> Response:
    """Everything the caller may see about one indicator value (refanged and canonicalised first)."""
    store: Store = request.app.state.store  # not a dependency: one less to solve per request
    scope: Collection[str] | None = caller.scope
    if enclave:
        # A requested enclave narrows the caller's scope; it can never widen it.
        scope = [e for e in enclave if caller.scope is None or e in caller.scope]
    try:
        # Index look-ups only: inline on SQLite (see run_read), no thread hand-off.
        found = await run_read(
            store, indicator_service.lookup, store, value, scope=scope, type=type
        )
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    if not found:
        raise HTTPException(status_code=404, detail="indicator not found")
    # Serialised once with orjson: validating and re-encoding the nested result through
    # the response model cost several times the lookup itself (measured in bench/api.py).
    body = orjson.dumps({"value": value, "indicators": found}, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, media_type="application/json")


def create_app_from_env() -> FastAPI:
    """The app of one ``spoorhound serve --workers N`` process.

    Its store comes from the ``SPOORHOUND_DATA_DIR`` / ``SPOORHOUND_DATABASE_URL``
    variables, which ``serve`` sets for its worker processes.
    """
    settings = Settings.build()
    return create_app(Store(settings.database_url), data_dir=settings.data_dir)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # Let running analyses finish cleanly on shutdown.
    queue = getattr(app.state, "analysis", None)
    if queue is not None:
        queue.close()


def create_app(store: Store, *, data_dir: Path | None = None, **limits: Any) -> FastAPI:
    """Build the application around ``store`` (no global state).

    ``limits`` override the request limits of :func:`spoorhound.api.auth.install_limits`.
    """
    app = FastAPI(
        lifespan=_lifespan,
        title="Spoorhound",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
    )
    app.state.store = store
    #: The data directory (scoring.toml, the retrained model, caches), when serving one.
    app.state.data_dir = data_dir
    app.include_router(health)
    # Before `indicators`: its `/{value:path}` route would swallow `…/history`.
    app.include_router(enrichment_router)
    app.include_router(indicators)
    app.include_router(admin_router)
    app.include_router(analysis_router)
    app.include_router(pulsedive_router)
    # `/api/v1/indicators/{ref:path}` swallows deeper paths: routers with
    # /api/v1/indicators/<x>/… sub-paths go before it.
    app.include_router(scores_v1_router)
    app.include_router(indicators_v1_router)
    app.include_router(tags_v1_router)
    app.include_router(exports_v1_router)
    app.include_router(jobs_v1_router)
    app.include_router(searches_v1_router)
    app.include_router(reports_v1_router)
    app.include_router(safelists_v1_router)
    install_limits(app, **limits)
    _document_error_details(app)
    document_errors(app)

    return app


#: What ``detail`` of a 422 holds: FastAPI's list of validation errors, the message
#: of an ``HTTPException`` raised by a route, or a query-language syntax error.
_DETAIL_422: dict[str, Any] = {
    "title": "Detail",
    "anyOf": [
        {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
        {"type": "string"},
        {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "position": {"type": "integer"},
                "text": {"type": "string"},
            },
            "required": ["message", "position", "text"],
        },
    ],
}


def _document_error_details(app: FastAPI) -> None:
    """Make the spec's 422 body say what the routes really send (not only FastAPI's list)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = generate()
            error = spec.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if error is not None:
                error["properties"]["detail"] = _DETAIL_422
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]
