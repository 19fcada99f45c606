"""A MISP emulator: ``POST /attributes/restSearch`` in the documented request/response shape.

The key goes in ``Authorization``; a wrong one gets HTTP 403 with MISP's error object.
The body must be a JSON object with ``returnFormat: "json"``; ``value`` is a string or
a list (OR), ``type`` an optional string or list; ``limit``/``page`` paginate. Values
match whole attribute values or either half of a composite (``domain|ip``…),
case-insensitively, as MISP does. The last body seen is kept in ``app.state.bodies``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

API_KEY = "MISPtestKEY0123456789abcdefghijklmnopqrst"

_EVENT_1 = {
    "org_id": "1",
    "distribution": "1",
    "id": "12",
    "info": "Phishing campaign targeting finance",
    "orgc_id": "2",
    "uuid": "5e5b6f0c-0000-4000-8000-000000000012",
    "date": "2024-04-02",
}
_EVENT_2 = {
    **_EVENT_1,
    "id": "31",
    "info": "OSINT - benign infrastructure list",
    "uuid": "5e5b6f0c-0000-4000-8000-000000000031",
}


def _attr(id: str, type: str, value: str, to_ids: bool, event: dict[str, Any], tags: list[str], ts: str) -> dict[str, Any]:  # fmt: skip
    return {
        "id": id,
        "event_id": event["id"],
        "object_id": "0",
        "object_relation": None,
        "category": "Network activity" if "|" not in type or "ip" in type else "Payload delivery",
        "type": type,
        "value": value,
        "to_ids": to_ids,
        "uuid": f"6a000000-0000-4000-8000-{int(id):012d}",
        "timestamp": ts,
        "distribution": "5",
        "sharing_group_id": "0",
        "comment": f"seen in event {event['id']}",
        "deleted": False,
        "disable_correlation": False,
        "first_seen": None,
        "last_seen": None,
        "Event": {k: event[k] for k in ("org_id", "distribution", "id", "info", "orgc_id", "uuid")},
        "Tag": [
            {"id": str(n), "name": t, "colour": "#ffffff", "numerical_value": None}
            for n, t in enumerate(tags)
        ],
    }


ATTRIBUTES: list[dict[str, Any]] = [
    _attr(
        "101",
        "domain",
        "phish.example.com",
        True,
        _EVENT_1,
        ["tlp:amber", 'misp-galaxy:threat-actor="FIN7"'],
        "1712000000",
    ),
    _attr(
        "102",
        "domain|ip",
        "phish.example.com|192.0.2.66",
        False,
        _EVENT_1,
        ["tlp:amber"],
        "1712100000",
    ),
    _attr("103", "ip-dst|port", "192.0.2.66|8443", False, _EVENT_1, ["tlp:amber"], "1712100000"),
    _attr("104", "filename|sha256", "invoice.js|" + "c" * 64, True, _EVENT_1, [], "1712200000"),
    _attr(
        "201",
        "domain",
        "cdn.example.org",
        False,
        _EVENT_2,
        ['false-positive:risk="high"'],
        "1711000000",
    ),
    _attr(
        "202",
        "url",
        "https://watch.example.net/login",
        False,
        _EVENT_2,
        ["type:OSINT"],
        "1711000000",
    ),
]


def _as_list(x: Any) -> list[str]:
    if x is None:
        return []
    return [str(v) for v in (x if isinstance(x, list) else [x])]


def misp_app(api_key: str = API_KEY) -> FastAPI:
    """The MISP emulator."""
    app = FastAPI()
    app.state.bodies = []

    @app.post("/attributes/restSearch")
    async def rest_search(request: Request) -> Any:
        if request.headers.get("authorization") != api_key:
            return JSONResponse(
                {
                    "name": "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.",
                    "message": "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.",
                    "url": "/attributes/restSearch",
                },
                status_code=403,
            )
        try:
            body = await request.json()
        except ValueError:
            body = None
        app.state.bodies.append(body)
        if not isinstance(body, dict) or body.get("returnFormat", "json") != "json":
            return JSONResponse(
                {
                    "name": "Invalid format.",
                    "message": "Invalid format.",
                    "url": "/attributes/restSearch",
                },
                status_code=400,
            )
        values = {v.lower() for v in _as_list(body.get("value"))}
        types = set(_as_list(body.get("type")))
        hits = []
        for a in ATTRIBUTES:
            parts = a["value"].lower().split("|") if "|" in a["type"] else [a["value"].lower()]
            if values and not values & set(parts):
                continue
            if types and a["type"] not in types:
                continue
            hits.append(a)
        if body.get("includeEventTags") is not True:
            hits = [
                {**a, "Tag": [t for t in a["Tag"] if not t["name"].startswith("tlp:")]}
                for a in hits
            ]
        limit, page = int(body.get("limit") or 0), int(body.get("page") or 1)
        if limit:
            hits = hits[(page - 1) * limit : page * limit]
        return {"response": {"Attribute": hits}}

    return app
