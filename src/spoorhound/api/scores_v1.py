"""Risk scores: ``/api/v1/indicators/{ref}/score|verdicts|pin|sightings`` and ``/api/v1/sources``.

* ``GET …/score`` — the stored score the caller sees: level, score, HIGH PRIORITY, the
  formula's recommendation, the pin and the risk factors (from the caller's
  enclaves only; nothing is computed on read).
* ``POST …/verdicts`` — an analyst verdict (``malicious``, ``false_positive`` with an
  optional safelist, ``benign``) in an enclave the caller can write; ``GET`` lists
  the verdicts of the caller's enclaves.
* ``PUT …/pin`` / ``DELETE …/pin`` — pin or unpin a level in an enclave.
* ``POST …/sightings`` — the indicator was seen in our network (restarts decay).
* ``GET /api/v1/sources``; ``PUT /api/v1/sources/{name}`` (admins) sets a source's
  reliability 1–5 and rescores its indicators.

Invisible indicators and enclaves answer 404 exactly like missing ones; a read-only
key or membership answers 403 on writes. Every change is audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from spoorhound.api.auth import CallerDep, check_enclave, require_admin
from spoorhound.api.indicators_v1 import one_indicator as _one
from spoorhound.api.inputs import CleanInput, reject_nul
from spoorhound.services import scoring, sources, verdicts
from spoorhound.services.access import Caller
from spoorhound.services.jobs import now
from spoorhound.storage.engine import Store

__all__ = ["router", "scorer"]

router = APIRouter(prefix="/api/v1", tags=["scores"], dependencies=[Depends(reject_nul)])

_ERR = {"model": dict[str, str]}
_READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key", **_ERR},
    404: {"description": "Indicator (or enclave) not found or not visible", **_ERR},
    409: {"description": "The value names several indicators: add ?type=", **_ERR},
    422: {"description": "Invalid input"},
    429: {"description": "Too many failed authentications", **_ERR},
}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_READ_ERRORS,
    403: {"description": "No write permission in the enclave, or a read-only key", **_ERR},
}


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def scorer(request: Request) -> scoring.Scorer:
    """The app's scorer (configuration, model, safelists), loaded on first use."""
    sc: scoring.Scorer | None = getattr(request.app.state, "scorer", None)
    if sc is None:
        data_dir: Path | None = getattr(request.app.state, "data_dir", None)
        sc = request.app.state.scorer = scoring.Scorer.load(_store(request), data_dir)
    return sc


StoreDep = Annotated[Store, Depends(_store)]
ScorerDep = Annotated[scoring.Scorer, Depends(scorer)]
TypeParam = Annotated[str | None, Query(description="Indicator type, when the value names several")]


class Factor(BaseModel):
    """One reason behind a score, with its contribution in score points."""

    kind: str = Field(
        description="source, provider, model, sighting, popularity, verdict, safelist, pin, decay"
    )
    text: str
    points: float
    detail: list[dict[str, Any]] | None = None


class Pinned(BaseModel):
    by: str
    at: int
    until: int | None


class Score(BaseModel):
    """The score a caller sees: from the visible enclave with a pin, else the highest."""

    score: int = Field(ge=0, le=100)
    risk: Literal["unknown", "none", "low", "medium", "high", "critical"]
    score_recommended: int = Field(ge=0, le=100)
    risk_recommended: Literal["unknown", "none", "low", "medium", "high", "critical"]
    high_priority: bool
    risk_factors: list[Factor]
    model_p: float | None = Field(description="The priority model's probability, if it applies")
    pinned: Pinned | None
    enclave: str
    scored_at: int


class IndicatorScore(BaseModel):
    id: str
    type: str
    value: str
    score: Score | None = Field(description="null until the indicator has been scored")


class VerdictIn(CleanInput):
    verdict: Literal["malicious", "false_positive", "benign"]
    enclave: str = Field(min_length=1, max_length=200)
    comment: str | None = Field(default=None, max_length=4000)
    safelist: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="False positives: add to this safelist",
    )


class VerdictOut(BaseModel):
    verdict: str
    comment: str | None
    actor: str
    at: int
    enclave: str


class PinIn(CleanInput):
    risk: Literal["unknown", "none", "low", "medium", "high", "critical"]
    enclave: str = Field(min_length=1, max_length=200)
    comment: str | None = Field(default=None, max_length=4000)
    expires_at: int | None = Field(default=None, description="Epoch seconds; null: until unpinned")


class SightingIn(CleanInput):
    enclave: str = Field(min_length=1, max_length=200)
    seen_at: int | None = Field(default=None, ge=0, description="Epoch seconds; default now")
    location: str | None = Field(default=None, max_length=1000)
    count: int = Field(default=1, ge=1, le=1_000_000_000)


class SourceOut(BaseModel):
    name: str
    reliability: int = Field(ge=1, le=5)
    indicators: int


class ReliabilityIn(CleanInput):
    reliability: int = Field(ge=1, le=5, description="1 unreliable … 5 fully trusted")


def _score(store: Store, ind: dict[str, Any], caller: Caller) -> IndicatorScore:
    with store.read() as conn:
        v = scoring.view(conn, ind["pk"], caller.scope)
    return IndicatorScore(
        id=ind["id"], type=ind["type"], value=ind["value"], score=None if v is None else Score(**v)
    )


@router.get("/indicators/{ref:path}/score", responses=_READ_ERRORS)
def get_score(
    ref: str, store: StoreDep, caller: CallerDep, type: TypeParam = None
) -> IndicatorScore:
    """The stored score of the indicator, as the caller's enclaves see it."""
    return _score(store, _one(store, ref, caller, type), caller)


@router.get("/indicators/{ref:path}/verdicts", responses=_READ_ERRORS)
def list_verdicts(
    ref: str, store: StoreDep, caller: CallerDep, type: TypeParam = None
) -> list[VerdictOut]:
    """Analyst verdicts on the indicator in the caller's enclaves, newest first."""
    ind = _one(store, ref, caller, type)
    rows = verdicts.verdicts(store, ind["id"], scope=caller.scope)
    return [VerdictOut(**r) for r in rows]


@router.post("/indicators/{ref:path}/verdicts", status_code=201, responses=_WRITE_ERRORS)
def add_verdict(
    ref: str,
    body: VerdictIn,
    store: StoreDep,
    caller: CallerDep,
    sc: ScorerDep,
    type: TypeParam = None,
) -> IndicatorScore:
    """Record a verdict in an enclave the caller can write; returns the new score."""
    check_enclave(caller, body.enclave, "write")
    # Safelists are global: changing one is an administrator's act.
    if body.safelist and not caller.is_admin:
        raise HTTPException(status_code=403, detail="only administrators change safelists")
    ind = _one(store, ref, caller, type)
    try:
        verdicts.record_verdict(
            store, ind["id"], body.verdict, enclave=body.enclave, actor=caller.actor, scorer=sc,
            comment=body.comment, safelist=body.safelist,
        )  # fmt: skip
    except LookupError as e:
        raise HTTPException(status_code=404, detail=str(e)) from None
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    return _score(store, ind, caller)


@router.put("/indicators/{ref:path}/pin", responses=_WRITE_ERRORS)
def pin_level(
    ref: str, body: PinIn, store: StoreDep, caller: CallerDep, sc: ScorerDep, type: TypeParam = None
) -> IndicatorScore:
    """Pin the indicator's level in an enclave; ``risk_recommended`` keeps the formula's."""
    check_enclave(caller, body.enclave, "write")
    ind = _one(store, ref, caller, type)
    if body.expires_at is not None and body.expires_at <= now():
        raise HTTPException(status_code=422, detail="the pin's expiry is in the past")
    try:
        verdicts.pin(
            store, ind["id"], body.risk, enclave=body.enclave, actor=caller.actor, scorer=sc,
            comment=body.comment, expires_at=body.expires_at,
        )  # fmt: skip
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    return _score(store, ind, caller)


@router.delete("/indicators/{ref:path}/pin", responses=_WRITE_ERRORS)
def unpin_level(
    ref: str,
    store: StoreDep,
    caller: CallerDep,
    sc: ScorerDep,
    enclave: Annotated[str, Query(min_length=1, max_length=200)],
    type: TypeParam = None,
) -> IndicatorScore:
    """Remove the pin in ``enclave`` (404 when there is none)."""
    check_enclave(caller, enclave, "write")
    ind = _one(store, ref, caller, type)
    if not verdicts.unpin(store, ind["id"], enclave=enclave, actor=caller.actor, scorer=sc):
        raise HTTPException(status_code=404, detail="no pin in that enclave")
    return _score(store, ind, caller)


@router.post("/indicators/{ref:path}/sightings", status_code=201, responses=_WRITE_ERRORS)
def add_sighting(
    ref: str,
    body: SightingIn,
    store: StoreDep,
    caller: CallerDep,
    sc: ScorerDep,
    type: TypeParam = None,
) -> IndicatorScore:
    """Record that the indicator was seen (in the caller's network); restarts decay."""
    check_enclave(caller, body.enclave, "write")
    ind = _one(store, ref, caller, type)
    try:
        verdicts.record_sighting(
            store, ind["id"], enclave=body.enclave, actor=caller.actor, scorer=sc,
            seen_at=body.seen_at, location=body.location, count=body.count,
        )  # fmt: skip
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e)) from None
    return _score(store, ind, caller)


@router.get("/sources", responses=_READ_ERRORS)
def list_sources(store: StoreDep, caller: CallerDep) -> list[SourceOut]:
    """Sources with observations in the caller's enclaves, their reliability and counts there."""
    return [SourceOut(**r) for r in sources.list_sources(store, scope=caller.scope)]


@router.put(
    "/sources/{name}",
    responses=_WRITE_ERRORS,
    dependencies=[Depends(require_admin(write=True))],
)
def set_source_reliability(
    name: str, body: ReliabilityIn, store: StoreDep, caller: CallerDep, sc: ScorerDep
) -> SourceOut:
    """Set a source's reliability (administrators) and rescore its indicators."""
    try:
        sources.set_reliability(store, name, body.reliability, actor=caller.actor, scorer=sc)
    except LookupError as e:
        raise HTTPException(status_code=404, detail=str(e)) from None
    row = next(r for r in sources.list_sources(store) if r["name"] == name)
    return SourceOut(**row)
