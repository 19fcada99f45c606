"""The web application: an app factory, one router per resource.

This is the minimal API of the foundation (health and indicator lookup). API keys
and per-caller enclave scoping arrive with the REST API issue; until then the
server binds to loopback by default and serves the local administrator.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request

from spoorhound import __version__
from spoorhound.services import indicators as indicator_service
from spoorhound.storage.engine import Store

__all__ = ["create_app"]


def get_store(request: Request) -> Store:
    """The store the app was created with."""
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]

health = APIRouter(tags=["health"])
indicators = APIRouter(prefix="/api/indicators", tags=["indicators"])


@health.get("/health")
def get_health(store: StoreDep) -> dict[str, Any]:
    """Liveness and schema state."""
    return {"status": "ok", "version": __version__, "schema": store.current_revision()}


@indicators.get("/{value:path}")
def get_indicator(
    value: str,
    store: StoreDep,
    enclave: Annotated[list[str] | None, Query(description="Only these enclaves")] = None,
    type: Annotated[str | None, Query(description="Only this indicator type")] = None,
) -> dict[str, Any]:
    """Everything stored about one indicator value (refanged and canonicalised first)."""
    try:
        found = indicator_service.lookup(store, value, scope=enclave, type=type)
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    if not found:
        raise HTTPException(status_code=404, detail="indicator not found")
    return {"value": value, "indicators": found}


def create_app(store: Store) -> FastAPI:
    """Build the application around ``store`` (no global state)."""
    app = FastAPI(
        title="Spoorhound",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
    )
    app.state.store = store
    app.include_router(health)
    app.include_router(indicators)
    return app
