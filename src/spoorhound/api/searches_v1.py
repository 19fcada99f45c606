"""Saved searches: ``/api/v1/searches`` — named queries per user, run on demand.

A saved search belongs to the user whose key saved it: each user sees, runs and
deletes only their own (another user's search of the same name is a different
search, and a name the caller has not saved answers 404). Saving and deleting need
a write key of an admin or analyst; listing and running need any key. A run is an
explore with the *running* key's scope, so a search saved with a broad key and run
with a key restricted to one enclave sees only that enclave. Saving and deleting
are audited (``saved_search.save`` / ``saved_search.delete``) by the service
(:mod:`spoorhound.services.explore`), which the local CLI uses too.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from spoorhound.api.auth import CallerDep, require_role
from spoorhound.api.indicators_v1 import IndicatorRow
from spoorhound.api.inputs import CleanInput, reject_nul
from spoorhound.core.query import QuerySyntaxError
from spoorhound.services import explore as explore_service
from spoorhound.services.access import Caller
from spoorhound.storage.engine import Store

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/searches", tags=["searches"], dependencies=[Depends(reject_nul)])


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(_store)]
WriterDep = Annotated[Caller, Depends(require_role("admin", "analyst", write=True))]
SearchName = Annotated[str, Path(min_length=1, max_length=200, description="The search's name")]


class SavedSearchIn(CleanInput):
    """A query to keep under a name; ``replace`` overwrites an existing one of that name."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[^/]+$", description="No '/'")
    query: str = Field(min_length=1, max_length=4000, description="Query language (docs/query.md)")
    replace: bool = False


class SavedSearch(BaseModel):
    """A saved search of the caller."""

    name: str
    query: str
    owner: str
    created_at: int


class SearchRun(BaseModel):
    """One page of a run; pass ``cursor`` back for the next (null on the last page)."""

    name: str
    query: str
    indicators: list[IndicatorRow]
    cursor: str | None


def _syntax_error(e: QuerySyntaxError) -> HTTPException:
    return HTTPException(
        status_code=422, detail={"message": e.message, "position": e.position, "text": str(e)}
    )


def _own(store: Store, caller: Caller, name: str) -> dict[str, Any]:
    for s in explore_service.list_saved_searches(store, owner=caller.name):
        if s["name"] == name.strip():
            return s
    raise HTTPException(status_code=404, detail=f"no saved search named {name.strip()!r}")


@router.get("")
def list_searches(store: StoreDep, caller: CallerDep) -> list[SavedSearch]:
    """The caller's saved searches, by name."""
    return [SavedSearch(**s) for s in explore_service.list_saved_searches(store, owner=caller.name)]


@router.post("", status_code=201)
def save_search(body: SavedSearchIn, store: StoreDep, caller: WriterDep) -> SavedSearch:
    """Save a query under a name (409 when the name is taken, unless ``replace``)."""
    try:
        saved = explore_service.save_search(
            store, body.name, body.query, owner=caller.name, replace=body.replace
        )
    except QuerySyntaxError as e:
        raise _syntax_error(e) from None
    except explore_service.SavedSearchExists as e:
        raise HTTPException(status_code=409, detail=str(e)) from None
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    return SavedSearch(**saved)


@router.get("/{name}")
def get_search(name: SearchName, store: StoreDep, caller: CallerDep) -> SavedSearch:
    """One of the caller's saved searches."""
    return SavedSearch(**_own(store, caller, name))


@router.get("/{name}/run")
def run_search(
    name: SearchName,
    store: StoreDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=explore_service.MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(description="The previous page's cursor")] = None,
) -> SearchRun:
    """Run a saved search in the caller's enclaves: one page, newest last-seen first."""
    saved = _own(store, caller, name)
    try:
        page = explore_service.run_saved_search(
            store, saved["name"], owner=caller.name, scope=caller.scope, limit=limit, cursor=cursor
        )
    except explore_service.SavedSearchNotFound as e:
        raise HTTPException(status_code=404, detail=str(e)) from None
    except QuerySyntaxError as e:
        raise _syntax_error(e) from None
    except explore_service.InvalidCursor as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    return SearchRun(
        name=saved["name"],
        query=saved["query"],
        indicators=[IndicatorRow(**r) for r in page.rows],
        cursor=page.cursor,
    )


@router.delete("/{name}", status_code=204)
def delete_search(name: SearchName, store: StoreDep, caller: WriterDep) -> Response:
    """Delete one of the caller's saved searches (404 when there is none of that name)."""
    if not explore_service.delete_saved_search(store, name, owner=caller.name):
        raise HTTPException(status_code=404, detail=f"no saved search named {name.strip()!r}")
    return Response(status_code=204)
