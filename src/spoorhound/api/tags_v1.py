"""Tags: ``POST /api/v1/tags/{name}/add`` and ``/remove`` — bulk tagging by query.

The body names the enclave the tag is attached in (``write`` permission there:
404 when it is invisible, 403 when the permission is short) and a query in the
query language (docs/query.md). The query runs within that enclave alone, so it
reaches only indicators observed there; the answer is how many indicators gained
(lost) the tag. Audited as ``tag.add`` / ``tag.remove``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, Field

from spoorhound.api.auth import CallerDep, check_enclave
from spoorhound.api.inputs import CleanInput, reject_nul
from spoorhound.core.context import normalize_tag
from spoorhound.core.query import QuerySyntaxError
from spoorhound.services import indicator_edits
from spoorhound.storage.engine import Store

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/tags", tags=["tags"], dependencies=[Depends(reject_nul)])


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(_store)]
TagName = Annotated[str, Path(min_length=1, max_length=200, description="The tag")]


class TagChange(CleanInput):
    """Which indicators, in which enclave."""

    enclave: str = Field(min_length=1, description="The enclave the tag is attached in (write)")
    query: str = Field(
        max_length=4000, description="Query language; blank: every indicator in the enclave"
    )


class TagCount(BaseModel):
    """How many indicators changed; ``tag`` in canonical form."""

    tag: str
    enclave: str
    count: int


def _change(name: str, body: TagChange, store: Store, caller: CallerDep, *, add: bool) -> TagCount:
    check_enclave(caller, body.enclave, "write")
    try:
        name = normalize_tag(name)
        n = indicator_edits.tag_matching(
            store, name, body.query, enclave=body.enclave, add=add, actor=caller.actor
        )
    except QuerySyntaxError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    except LookupError as e:
        raise HTTPException(status_code=404, detail=str(e)) from None
    except ValueError as e:
        raise HTTPException(status_code=422, detail=f"bad tag: {e}") from None
    return TagCount(tag=name, enclave=body.enclave, count=n)


@router.post("/{name}/add")
def add_tag(name: TagName, body: TagChange, store: StoreDep, caller: CallerDep) -> TagCount:
    """Attach tag ``name`` in ``enclave`` to every indicator ``query`` matches there."""
    return _change(name, body, store, caller, add=True)


@router.post("/{name}/remove")
def remove_tag(name: TagName, body: TagChange, store: StoreDep, caller: CallerDep) -> TagCount:
    """Detach tag ``name`` in ``enclave`` from every indicator ``query`` matches there."""
    return _change(name, body, store, caller, add=False)
