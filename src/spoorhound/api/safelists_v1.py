"""Named safelists: ``/api/v1/safelists…``.

Any authenticated caller may read the lists and check a value; only global
administrators (with a write key) may change them. Every change is audited by the
service; after an entry is added or removed, or a list deleted, the indicators
whose veto changes are rescored before the answer is sent, and the app's cached
scorer is replaced so later scoring sees the change. Patterns, expiry and what
vetoes: ``docs/safelists.md``.
"""

from __future__ import annotations

import logging
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from spoorhound.api.auth import CallerDep, require_admin
from spoorhound.api.inputs import reject_nul
from spoorhound.core.indicators import UnknownType
from spoorhound.services import safelists
from spoorhound.services import scoring as scoring_service
from spoorhound.services.access import Caller
from spoorhound.storage.engine import Store

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1/safelists", tags=["safelists"], dependencies=[Depends(reject_nul)]
)

AdminWrite = Annotated[Caller, Depends(require_admin(write=True))]
Kind = Literal["value", "domain", "cidr", "regex"]

_ERR: dict[str, Any] = {"model": dict[str, str]}
_READ: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key", **_ERR},
    404: {"description": "No such safelist or entry", **_ERR},
    422: {"description": "Invalid input"},
}
_WRITE: dict[int | str, dict[str, Any]] = {
    **_READ,
    403: {"description": "Not a global administrator, or a read-only key", **_ERR},
    409: {"description": "The safelist or entry already exists", **_ERR},
}


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(_store)]


def _data_dir(request: Request) -> FsPath | None:
    """The app's data directory (``app.state.data_dir``, else its settings'), if known."""
    state = request.app.state
    data_dir = getattr(state, "data_dir", None)
    if data_dir is None:
        data_dir = getattr(getattr(state, "settings", None), "data_dir", None)
    return None if data_dir is None else FsPath(data_dir)


def _cache_dir(request: Request) -> FsPath | None:
    data_dir = _data_dir(request)
    return None if data_dir is None else data_dir / "cache"


def _http(e: Exception) -> HTTPException:
    if isinstance(e, LookupError):
        return HTTPException(status_code=404, detail=str(e))
    if isinstance(e, safelists.SafelistExists | safelists.EntryExists):
        return HTTPException(status_code=409, detail=str(e))
    return HTTPException(status_code=422, detail=str(e))


def _rescore(request: Request, store: Store) -> int | None:
    """Rescore what the change affects with a fresh scorer, which replaces the app's."""
    try:
        scorer = scoring_service.Scorer.load(store, _data_dir(request))
        request.app.state.scorer = scorer
        return scoring_service.rescore_matching_safelist_change(store, scorer=scorer)
    except (OSError, ValueError):
        # The change itself is committed; the next sweep or event rescores.
        log.exception("rescoring after a safelist change failed")
        return None


# --- schemas -------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SafelistCreate(_In):
    """A new, empty safelist."""

    name: str = Field(min_length=1, max_length=100, examples=["corporate"])
    description: str | None = Field(
        default=None, max_length=1000, examples=["Our own domains and address ranges"]
    )


class SafelistOut(BaseModel):
    """A safelist with its number of live and expired entries."""

    name: str = Field(examples=["corporate"])
    description: str | None = Field(examples=["Our own domains and address ranges"])
    created_at: int = Field(description="Epoch seconds", examples=[1795500000])
    entries: int = Field(description="Entries that have not expired", examples=[12])
    expired: int = Field(default=0, description="Expired entries (kept, never matched)")


class EntryCreate(_In):
    """A pattern to add: kind detected unless given (docs/safelists.md)."""

    pattern: str = Field(
        min_length=1,
        max_length=safelists.MAX_PATTERN,
        description="A value, *.domain, CIDR, or re:regex / /regex/",
        examples=["*.example.com", "10.0.0.0/8", "re:^cdn[0-9]+\\.example\\.net$", "8.8.8.8"],
    )
    kind: Kind | None = Field(default=None, description="value, domain, cidr or regex")
    type: str | None = Field(
        default=None, description="Indicator type a value is normalised as", examples=["domain"]
    )
    reason: str | None = Field(
        default=None, max_length=1000, examples=["our corporate domain (ticket 4711)"]
    )
    expires: str | None = Field(
        default=None,
        max_length=64,
        description="A duration from now (30d, 12h, 2w) or a date/time",
        examples=["30d", "2026-12-31"],
    )


class EntryOut(BaseModel):
    """One safelist entry; ``pattern`` is its canonical form."""

    id: int = Field(examples=[7])
    kind: Kind = Field(examples=["domain"])
    pattern: str = Field(examples=["*.example.com"])
    reason: str | None = Field(examples=["our corporate domain"])
    actor: str = Field(examples=["admin"])
    created_at: int = Field(examples=[1795500000])
    expires_at: int | None = Field(examples=[1798092000])
    expired: bool = Field(examples=[False])


class EntryChange(EntryOut):
    """The entry added or removed, and how many indicator scores were recomputed."""

    rescored: int | None = Field(
        default=None, description="Score rows rewritten (null: rescoring failed)", examples=[3]
    )


class SafelistDetail(BaseModel):
    """A safelist with every entry, expired ones flagged."""

    name: str = Field(examples=["corporate"])
    description: str | None = Field(examples=["Our own domains and address ranges"])
    created_at: int = Field(examples=[1795500000])
    entries: list[EntryOut]


class CheckOut(BaseModel):
    """Whether a value is vetoed, and by which named-list entry or warninglist."""

    value: str = Field(description="The canonical value checked", examples=["a.example.com"])
    type: str = Field(examples=["domain"])
    safelisted: bool = Field(examples=[True])
    list: str | None = Field(description="Safelist or warninglist name", examples=["corporate"])
    reason: str | None = Field(examples=["our corporate domain"])
    source: Literal["safelist", "warninglist"] | None = Field(examples=["safelist"])
    pattern: str | None = Field(description="The entry that matched", examples=["*.example.com"])
    entry_id: int | None = Field(examples=[7])
    popularity: str | None = Field(
        default=None,
        description="Popularity list a domain is on: a benign factor, never a veto",
        examples=["tranco"],
    )


# --- routes --------------------------------------------------------------------------


@router.get("/check", responses=_READ)
def check_value(
    request: Request,
    store: StoreDep,
    caller: CallerDep,
    value: Annotated[str, Query(min_length=1, max_length=4000, description="The value")],
    type: Annotated[str | None, Query(description="Indicator type (default: detected)")] = None,
    warninglists: Annotated[bool, Query(description="Also the MISP warninglists")] = True,
    popularity: Annotated[bool, Query(description="Also name a popularity list")] = False,
) -> CheckOut:
    """Which safelist entry or vetoing warninglist would veto ``value`` (if any)."""
    matcher = safelists.load_matcher(
        store, warninglists=warninglists, cache_dir=_cache_dir(request)
    )
    try:
        return CheckOut(**safelists.check(matcher, value, itype=type, popularity=popularity))
    except (ValueError, UnknownType) as e:
        raise HTTPException(status_code=422, detail=str(e)) from None


@router.get("", responses=_READ)
def list_safelists(store: StoreDep, caller: CallerDep) -> list[SafelistOut]:
    """Every safelist with its number of entries."""
    return [SafelistOut(**r) for r in safelists.list_safelists(store)]


@router.post("", status_code=201, responses=_WRITE)
def create_safelist(body: SafelistCreate, store: StoreDep, caller: AdminWrite) -> SafelistOut:
    """Create an empty safelist (administrators)."""
    try:
        row = safelists.create_safelist(store, body.name, body.description, actor=caller.name)
    except ValueError as e:
        raise _http(e) from None
    return SafelistOut(**row)


@router.get("/{name}", responses=_READ)
def get_safelist(name: str, store: StoreDep, caller: CallerDep) -> SafelistDetail:
    """One safelist with all its entries."""
    try:
        return SafelistDetail(**safelists.get_safelist(store, name))
    except LookupError as e:
        raise _http(e) from None


@router.delete("/{name}", status_code=204, responses=_WRITE)
def delete_safelist(name: str, request: Request, store: StoreDep, caller: AdminWrite) -> Response:
    """Delete a safelist and its entries (administrators); affected indicators are rescored."""
    try:
        safelists.delete_safelist(store, name, actor=caller.name)
    except LookupError as e:
        raise _http(e) from None
    _rescore(request, store)
    return Response(status_code=204)


@router.post("/{name}/entries", status_code=201, responses=_WRITE)
def add_entry(
    name: str, body: EntryCreate, request: Request, store: StoreDep, caller: AdminWrite
) -> EntryChange:
    """Add a pattern (administrators); affected indicators are rescored."""
    try:
        entry = safelists.add_entry(
            store, name, body.pattern, kind=body.kind, itype=body.type, reason=body.reason,
            expires=body.expires, actor=caller.name,
        )  # fmt: skip
    except (ValueError, LookupError) as e:
        raise _http(e) from None
    return EntryChange(**entry, rescored=_rescore(request, store))


@router.delete("/{name}/entries/{entry_id}", responses=_WRITE)
def remove_entry(
    name: str,
    entry_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    store: StoreDep,
    caller: AdminWrite,
) -> EntryChange:
    """Remove entry ``entry_id`` (administrators); affected indicators are rescored."""
    try:
        entry = safelists.remove_entry_id(store, name, entry_id, actor=caller.name)
    except LookupError as e:
        raise _http(e) from None
    return EntryChange(**entry, rescored=_rescore(request, store))
