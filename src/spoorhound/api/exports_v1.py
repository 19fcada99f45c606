"""Exports: ``GET /api/v1/exports?q=…&format=…`` — the indicators a query matches, streamed.

Any key may export what it can read. TLP is enforced here for everyone, also for
members of the enclave: TLP:RED and TLP:AMBER+STRICT observations never leave
their enclave, so an export drops them, and an indicator whose only visible
observations are RED / AMBER+STRICT is not exported at all. The export carries
the most restrictive TLP of what it includes: in the ``X-TLP`` header, per row
(CSV, JSONL), per object with its marking definition (STIX), as the event tag
(MISP). Safelisted indicators are left out unless ``include_safelisted=true``.
See :mod:`spoorhound.services.exports`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from spoorhound.api.auth import CallerDep
from spoorhound.api.inputs import reject_nul
from spoorhound.core.query import QuerySyntaxError
from spoorhound.services import exports as export_service
from spoorhound.storage.engine import Store

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/exports", tags=["exports"], dependencies=[Depends(reject_nul)])

Format = Literal["csv", "jsonl", "stix", "misp", "plain"]
_EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "stix": "json", "misp": "json", "plain": "txt"}


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(_store)]


@router.get(
    "",
    response_class=StreamingResponse,
    responses={200: {"description": "The export, streamed", "content": {
        "text/csv": {}, "application/x-ndjson": {}, "application/stix+json": {},
        "application/json": {}, "text/plain": {}}}},
)  # fmt: skip
def export_indicators(
    store: StoreDep,
    caller: CallerDep,
    q: Annotated[str, Query(max_length=4000, description="Query language (docs/query.md)")] = "",
    format: Annotated[Format, Query(description="csv, jsonl, stix, misp or plain")] = "csv",
    enclave: Annotated[list[str] | None, Query(description="Only these enclaves")] = None,
    include_safelisted: Annotated[
        bool, Query(description="Also export safelisted indicators (left out by default)")
    ] = False,
) -> StreamingResponse:
    """Stream the indicators ``q`` matches in the caller's enclaves, without RED / AMBER+STRICT."""
    scope: Collection[str] | None = caller.scope
    if enclave:
        # A requested enclave narrows the caller's scope; it can never widen it.
        scope = [e for e in enclave if caller.scope is None or e in caller.scope]
    try:
        out = export_service.export(
            store, q, format, scope=scope, include_safelisted=include_safelisted
        )
    except QuerySyntaxError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    headers = {
        "Content-Disposition": f'attachment; filename="spoorhound-export.{_EXTENSIONS[format]}"',
        "X-TLP": (out.tlp or "unmarked").upper(),
    }
    return StreamingResponse(
        out.chunks,
        media_type=export_service.MEDIA_TYPES[format],
        headers=headers,
    )
