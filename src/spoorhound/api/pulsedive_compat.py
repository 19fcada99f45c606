"""Pulsedive's own API paths, parameters and shapes, served by Spoorhound.

Existing Pulsedive integrations (the PyPI ``pulsedive`` client, IntelOwl, SOAR
playbooks) can point their base URL at ``https://spoorhound.example/api``:

* ``GET /api/info.php?indicator=VALUE`` (or ``iid=``), ``pretty=1``, ``get=properties``
  / ``get=links`` → the indicator object (``iid``, ``indicator``, ``type``, ``risk``,
  ``risk_recommended``, ``manualrisk``, ``retired``, ``stamp_*``, ``recent``,
  ``submissions``, ``umbrella_rank``, ``riskfactors``, ``redirects``, ``threats``,
  ``feeds``, ``comments``, ``attributes``, ``properties``); unknown or invisible →
  404 ``{"error": "Indicator not found."}``;
* ``GET /api/explore.php?q=QUERY&limit=N`` → ``{"results": [...]}``; a bad query →
  400 ``{"error": "..."}``;
* ``POST /api/analyze.php`` (form: ``value`` plain or ``ioc`` base64, ``probe`` 0/1)
  → ``{"success": "Added request to queue.", "qid": N}``;
  ``GET /api/analyze.php?qid=N`` → ``{"qid": N, "status": "processing"}`` or
  ``{"qid": N, "status": "done", "data": {indicator object}}``; unknown →
  404 ``{"error": "Request not found."}``.

The key comes as Pulsedive sends it — ``key=`` in the query string or the form —
or in the usual headers. Unlike pulsedive.com a key is required (401
``{"error": "Invalid API key."}`` / ``{"error": "API key required."}``), and failed
keys are throttled like every other route (429). Since the key travels in URLs,
the first request through this router masks ``key=`` in uvicorn's access log.
Differences from Pulsedive are listed in docs/pulsedive.md.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import parse_qs

import orjson
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from spoorhound.api.analysis_v1 import analysis_queue, can_store
from spoorhound.api.auth import AuthThrottle
from spoorhound.core.indicators import InvalidIndicator
from spoorhound.core.query import QuerySyntaxError
from spoorhound.services import access, analysis_info
from spoorhound.services import explore as explore_service
from spoorhound.services.access import Caller, InvalidKey
from spoorhound.services.analyze import QueueFull
from spoorhound.storage.engine import Store

__all__ = ["PulsediveError", "analysis_data", "pulsedive_type", "router", "stamp"]

router = APIRouter(prefix="/api", tags=["pulsedive"])

_PD_TYPES = {"ipv4": "ip", "ipv6": "ipv6", "domain": "domain", "url": "url"}
_RECENT = 30 * 86_400
_KEY_IN_QUERY = re.compile(r"([?&]key=)[^&#\s\"']*", re.IGNORECASE)
_FORM = {
    "requestBody": {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "value": {"type": "string"},
                        "ioc": {"type": "string", "description": "base64 of the value"},
                        "probe": {"type": "integer", "enum": [0, 1]},
                        "key": {"type": "string"},
                    },
                }
            }
        }
    }
}


class PulsediveError(HTTPException):
    """An error answered the way Pulsedive does: ``{"error": message}``."""


class _MaskKey(logging.Filter):
    """Masks ``key=`` values in access-log records (the key is in Pulsedive URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _KEY_IN_QUERY.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


_MASK = _MaskKey()


def _factor_risk(points: float) -> str:
    """Pulsedive labels each risk factor with a level: ours carry score points."""
    if points >= 30:
        return "high"
    if points >= 10:
        return "medium"
    return "low" if points > 0 else "none"


def stamp(epoch: int | None) -> str | None:
    """Pulsedive's time format (``2024-06-01 00:00:00``, UTC) from epoch seconds."""
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def pulsedive_type(t: str) -> str:
    """Pulsedive's indicator type for ours (``ipv4`` → ``ip``; non-network → ``artifact``)."""
    return _PD_TYPES.get(t, "artifact")


def _answer(body: Any, status: int = 200, pretty: bool = False) -> Response:
    option = orjson.OPT_INDENT_2 if pretty else 0
    return Response(
        orjson.dumps(body, option=option, default=str), status, media_type="application/json"
    )


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=dict(headers or {}))


def _caller(request: Request, form_key: str | None = None) -> Caller:
    """Authenticate ``key=`` (query or form) or the usual headers; throttle failures."""
    logging.getLogger("uvicorn.access").addFilter(_MASK)  # idempotent
    key = request.query_params.get("key") or form_key
    if not key:
        auth = request.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        key = value.strip() if scheme.lower() == "bearer" else request.headers.get("x-api-key")
    if not key:
        raise PulsediveError(401, "API key required.")
    throttle: AuthThrottle | None = getattr(request.app.state, "auth_throttle", None)
    if throttle is None:
        throttle = request.app.state.auth_throttle = AuthThrottle()
    client = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(client)
    if wait is not None:
        raise PulsediveError(
            429, f"Too many failed attempts. Retry in {wait} s.", {"Retry-After": str(wait)}
        )
    try:
        return access.authenticate(request.app.state.store, key.strip())
    except InvalidKey:
        throttle.failed(client)
        raise PulsediveError(401, "Invalid API key.") from None


def _guard(request: Request, form_key: str | None = None) -> Caller | JSONResponse:
    try:
        return _caller(request, form_key)
    except PulsediveError as e:
        return _error(e.status_code, str(e.detail), e.headers)


def _indicator(sheet: Mapping[str, Any], now: int) -> dict[str, Any]:
    """Our information sheet in Pulsedive's indicator shape."""
    redirects_to = [
        {"iid": None, "indicator": link["value"]}
        for link in sheet["links"]
        if link.get("relation") == "redirects-to"
    ]
    feeds = [
        {
            "fid": None,
            "name": s["source"],
            "category": "general",
            "organization": s["enclave"],
            "pricing": "private",
            "stamp_linked": stamp(s["first_seen"]),
        }
        for s in sheet["sources"]
    ]
    properties: dict[str, Any] = {}
    for name, p in sheet["properties"].items():
        properties[name] = p["attributes"]
    risk = sheet["risk"]
    return {
        "iid": sheet["id"],
        "type": pulsedive_type(sheet["type"]),
        "indicator": sheet["value"],
        "risk": risk,
        "risk_recommended": sheet.get("risk_recommended") or risk,
        "manualrisk": int(sheet.get("pinned") is not None),
        "retired": "retired" if sheet["retired"] else None,
        "stamp_added": stamp(sheet["created_at"]),
        "stamp_updated": stamp(sheet["updated_at"]),
        "stamp_seen": stamp(sheet["last_seen"]),
        "stamp_probed": stamp(sheet["probed_at"]),
        "stamp_retired": None,
        "recent": int(now - sheet["last_seen"] <= _RECENT),
        "submissions": sum(int(s.get("times_reported") or 0) for s in sheet["sources"]),
        "umbrella_rank": 0,
        "umbrella_domain": "",
        "riskfactors": [
            {"rfid": i, "description": f["text"], "risk": _factor_risk(f["points"])}
            for i, f in enumerate(sheet.get("risk_factors") or [], 1)
        ],
        "redirects": {"from": [], "to": redirects_to},
        "threats": [
            {"tid": None, "name": t["name"], "category": t["category"], "risk": risk}
            for t in sheet["threats"]
        ],
        "feeds": feeds,
        "comments": [],
        "attributes": sheet["attributes"],
        "properties": properties,
        "tags": sheet["tags"],
    }


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes")


def _limit(text: str) -> int:
    """Pulsedive's ``limit``: a number (clamped to 1…1000); anything else means the default."""
    t = text.strip()
    return max(1, min(int(t), explore_service.MAX_LIMIT)) if t.isdigit() else 100


def _now() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp())


@router.get("/info.php")
def info_php(
    request: Request,
    indicator: Annotated[str | None, Query(max_length=8192)] = None,
    iid: Annotated[str | None, Query(max_length=64)] = None,
    get: Annotated[str | None, Query(max_length=32)] = None,
    pretty: Annotated[str, Query(max_length=8, description="1: indented JSON")] = "0",
    key: Annotated[str | None, Query(description="API key (Pulsedive style)")] = None,
) -> Response:
    """Pulsedive ``info.php``: one indicator by value or id."""
    caller = _guard(request)
    if isinstance(caller, JSONResponse):
        return caller
    if not indicator and not iid:
        return _error(400, "Please specify an indicator or iid.")
    store: Store = request.app.state.store
    try:
        found = analysis_info.info(store, indicator, iid=iid, scope=caller.scope, history=False)
    except ValueError:
        found = []
    if not found:
        return _error(404, "Indicator not found.")
    doc = _indicator(found[0], _now())
    if get == "properties":
        doc = {"iid": doc["iid"], "properties": doc["properties"]}
    elif get == "links":
        links: dict[str, list[dict[str, Any]]] = {}
        for link in found[0]["links"]:
            links.setdefault(link["relation"], []).append(
                {"indicator": link["value"], "type": pulsedive_type(link["type"])}
            )
        doc = {"iid": doc["iid"], "links": links}
    return _answer(doc, pretty=_flag(pretty))


@router.get("/explore.php")
def explore_php(
    request: Request,
    q: Annotated[str, Query(max_length=4000)] = "",
    limit: Annotated[str, Query(max_length=8, description="1-1000")] = "100",
    pretty: Annotated[str, Query(max_length=8, description="1: indented JSON")] = "0",
    key: Annotated[str | None, Query(description="API key (Pulsedive style)")] = None,
) -> Response:
    """Pulsedive ``explore.php``: indicators matching a query."""
    caller = _guard(request)
    if isinstance(caller, JSONResponse):
        return caller
    store: Store = request.app.state.store
    try:
        page = explore_service.explore(store, q, scope=caller.scope, limit=_limit(limit))
    except QuerySyntaxError as e:
        return _error(400, f"Invalid query: {e.message} (at {e.position}).")
    results = [
        {
            "iid": r["id"],
            "indicator": r["value"],
            "type": pulsedive_type(r["type"]),
            "risk": r.get("risk") or "unknown",
            "stamp_seen": stamp(r["last_seen"]),
            "summary": {"threats": analysis_info.threats_of(r["tags"]), "tags": r["tags"]},
        }
        for r in page.rows
    ]
    return _answer({"results": results}, pretty=_flag(pretty))


def _form_value(form: Mapping[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _decode_ioc(ioc: str) -> str:
    """Pulsedive's ``ioc`` is the base64 of the value; a value that is not base64 is kept."""
    try:
        raw = base64.b64decode(ioc.strip(), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ioc
    return text if text.isprintable() and text.strip() else ioc


@router.post("/analyze.php", openapi_extra=_FORM)
async def analyze_php_submit(request: Request) -> Response:
    """Pulsedive ``analyze.php`` (POST): queue a value for analysis; returns its qid."""
    body = (await request.body()).decode("utf-8", "replace")
    form = parse_qs(body, keep_blank_values=True)
    for k, v in request.query_params.multi_items():
        form.setdefault(k, []).append(v)
    caller = _guard(request, _form_value(form, "key"))
    if isinstance(caller, JSONResponse):
        return caller
    value = _form_value(form, "value")
    ioc = _form_value(form, "ioc")
    if not value and ioc:
        value = _decode_ioc(ioc)
    if not value:
        return _error(400, "Please submit a value.")
    probe = (_form_value(form, "probe") or "0").strip() == "1"
    try:
        qid = analysis_queue(request).submit(
            value,
            owner=caller.user_id,
            probe=probe,
            scope=caller.scope,
            can_store=can_store(caller),
        )
    except (InvalidIndicator, ValueError):
        return _error(400, "Invalid indicator value.")
    except QueueFull as e:
        return _error(429, str(e), {"Retry-After": "5"})
    return _answer({"success": "Added request to queue.", "qid": qid})


@router.get("/analyze.php")
def analyze_php_poll(
    request: Request,
    qid: Annotated[str | None, Query(max_length=12, description="The queue id")] = None,
    pretty: Annotated[str, Query(max_length=8, description="1: indented JSON")] = "0",
    key: Annotated[str | None, Query(description="API key (Pulsedive style)")] = None,
) -> Response:
    """Pulsedive ``analyze.php`` (GET): ``processing``, or ``done`` with the indicator object."""
    caller = _guard(request)
    if isinstance(caller, JSONResponse):
        return caller
    if not qid or not qid.strip().isdigit():
        return _error(404, "Request not found.")
    got = analysis_queue(request).poll(int(qid), owner=caller.user_id)
    if got is None:
        return _error(404, "Request not found.")
    if got["status"] == "processing":
        return _answer({"qid": int(qid), "status": "processing"})
    if got["status"] != "done":
        return _answer({"qid": int(qid), "status": "error", "error": got["data"].get("error")})
    return _answer(
        {"qid": int(qid), "status": "done", "data": analysis_data(got["data"])},
        pretty=_flag(pretty),
    )


_VERDICT_RISK = {"malicious": "high", "suspicious": "medium", "benign": "none"}
_RISK_ORDER = ("unknown", "none", "low", "medium", "high", "critical")


def analysis_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """An analysis result in Pulsedive's indicator shape (risk from the providers' verdicts)."""
    ind = data["indicator"]
    risk = "unknown"
    tags: set[str] = set()
    for r in data["providers"].values():
        cand = _VERDICT_RISK.get(r.get("verdict") or "", "unknown")
        if _RISK_ORDER.index(cand) > _RISK_ORDER.index(risk):
            risk = cand
        tags.update(r.get("tags") or [])
    properties: dict[str, Any] = {
        name: r.get("attributes") or {} for name, r in data["providers"].items()
    }
    probe = data.get("probe") or {}
    redirects: list[dict[str, Any]] = []
    if probe:
        http = probe.get("http") or {}
        properties["dns"] = probe.get("dns") or {}
        properties["http"] = {
            **{f"++{k}": v for k, v in (http.get("headers") or {}).items()},
            "++code": http.get("status"),
            "++title": http.get("title"),
        }
        properties["ssl"] = probe.get("tls") or {}
        if probe.get("refused") or probe.get("error"):
            properties["probe"] = {"error": probe.get("refused") or probe.get("error")}
        hops = [h["location"] for h in probe.get("redirects") or [] if h.get("location")]
        redirects = [{"iid": None, "indicator": loc} for loc in hops]
    return {
        "iid": ind["id"],
        "indicator": ind["value"],
        "type": pulsedive_type(ind["type"]),
        "risk": risk,
        "risk_recommended": risk,
        "riskfactors": [],
        "stamp_probed": stamp(_now()) if probe and "url" in probe else None,
        "redirects": {"from": [], "to": redirects},
        "threats": [
            {"tid": None, "name": t["name"], "category": t["category"], "risk": risk}
            for t in analysis_info.threats_of(tags)
        ],
        "feeds": [],
        "comments": [],
        "attributes": {},
        "properties": properties,
        "withheld": data.get("withheld") or {},
    }
