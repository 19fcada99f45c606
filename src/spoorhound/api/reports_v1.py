"""Reports: ``/api/v1/reports`` — documents ingested through the extractor, read only.

A report lives in one enclave: it is listed and shown only to callers who can read
that enclave, whatever its TLP (a TLP:RED advisory never leaves its enclave), and
to anyone else it does not exist (404). A report's linked indicators are those the
caller can see: one whose observations all sit in enclaves the caller cannot read
is left out, and the counts say only what is shown.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel

from spoorhound.api.auth import CallerDep
from spoorhound.api.inputs import reject_nul
from spoorhound.services import reports as report_service
from spoorhound.storage.engine import Store

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=[Depends(reject_nul)])


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(_store)]


class _Report(BaseModel):
    id: str
    title: str
    kind: str
    sha256: str | None
    tlp: str | None
    created_at: int
    enclave: str
    source: str | None


class ReportRow(_Report):
    """A report in a list; ``indicators`` counts the linked indicators the caller sees."""

    indicators: int


class ReportPage(BaseModel):
    """One page of reports, newest first; pass ``cursor`` back for the next (null at the end)."""

    reports: list[ReportRow]
    cursor: str | None


class LinkedIndicator(BaseModel):
    """An indicator the report mentions: how often, and the text around its first mention."""

    id: str
    type: str
    value: str
    occurrences: int
    context: str | None


class ReportDetail(_Report):
    """A report with the linked indicators the caller can see, most mentioned first."""

    indicators: list[LinkedIndicator]


@router.get("")
def list_reports(
    store: StoreDep,
    caller: CallerDep,
    enclave: Annotated[str | None, Query(min_length=1, description="Only this enclave")] = None,
    limit: Annotated[int, Query(ge=1, le=report_service.MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(description="The previous page's cursor")] = None,
) -> ReportPage:
    """Reports in the caller's enclaves, newest first, by pages."""
    try:
        rows, next_cursor = report_service.list_reports(
            store, scope=caller.scope, enclave=enclave, limit=limit, cursor=cursor
        )
    except report_service.InvalidCursor as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    return ReportPage(reports=[ReportRow(**r) for r in rows], cursor=next_cursor)


@router.get("/{report_id}")
def get_report(
    report_id: Annotated[str, Path(min_length=1, max_length=100)],
    store: StoreDep,
    caller: CallerDep,
) -> ReportDetail:
    """One report with its linked indicators (404 when it is not visible to the caller)."""
    found = report_service.get_report(store, report_id, scope=caller.scope)
    if found is None:
        raise HTTPException(status_code=404, detail="report not found")
    return ReportDetail(**found)
