"""A Pulsedive API emulator: ``info.php`` / ``indicator.php`` in the documented shape.

``GET /api/info.php?indicator=VALUE&key=KEY`` (also ``/api/indicator.php``) answers the
indicator object; unknown values get HTTP 404 ``{"error": "Indicator not found."}``
(or HTTP 200 with that body when ``app.state.not_found_status`` is 200, as older
deployments answered). A wrong key gets HTTP 401 ``{"error": "Invalid API key."}``;
no key at all is accepted (Pulsedive keys are optional). ``explore.php`` and
``analyze.php`` answer minimal documented shapes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

API_KEY = "pulsedive-test-key-abcdef0123456789"

INDICATORS: dict[str, dict[str, Any]] = {
    "bad.example.com": {
        "iid": 2,
        "type": "domain",
        "indicator": "bad.example.com",
        "risk": "high",
        "risk_recommended": "high",
        "manualrisk": 0,
        "retired": None,
        "stamp_added": "2024-01-01 00:00:00",
        "stamp_updated": "2024-06-01 00:00:00",
        "stamp_seen": "2024-06-01 00:00:00",
        "stamp_probed": "2024-06-01 00:00:00",
        "stamp_retired": None,
        "recent": 1,
        "submissions": 12,
        "umbrella_rank": 0,
        "umbrella_domain": "",
        "riskfactors": [
            {"rfid": 1, "description": "found in threat feeds", "risk": "high"},
            {"rfid": 9, "description": "newer domain", "risk": "low"},
        ],
        "redirects": {"from": [], "to": [{"iid": 7, "indicator": "https://landing.example.net/"}]},
        "threats": [
            {"tid": 1, "name": "Zeus", "category": "malware", "risk": "high"},
            {"tid": 5, "name": "Phishing Kit X", "category": "phishing", "risk": "medium"},
        ],
        "feeds": [
            {
                "fid": 1,
                "name": "Zeus Bad Domains",
                "category": "malware",
                "organization": "abuse.ch",
                "pricing": "free",
            }
        ],
        "comments": [],
        "attributes": {"port": ["80", "443"], "protocol": ["HTTP", "HTTPS"], "technology": []},
        "properties": {
            "geo": {"country": "Netherlands", "countrycode": "NL"},
            "dns": {"A": ["192.0.2.10", "192.0.2.11"], "NS": "ns1.example.net", "MX": []},
            "whois": {"registrar": "Example Registrar"},
        },
    },
    "198.51.100.77": {
        "iid": 3,
        "type": "ip",
        "indicator": "198.51.100.77",
        "risk": "none",
        "riskfactors": [],
        "threats": [],
        "feeds": [],
        "attributes": {},
        "properties": {},
    },
}


def pulsedive_app(api_key: str = API_KEY) -> FastAPI:
    """The Pulsedive emulator."""
    app = FastAPI()
    app.state.not_found_status = 404

    def denied(request: Request) -> JSONResponse | None:
        key = request.query_params.get("key")
        if key is None or key == api_key:
            return None
        return JSONResponse({"error": "Invalid API key."}, status_code=401)

    @app.get("/api/info.php")
    @app.get("/api/indicator.php")
    async def info(request: Request) -> Any:
        if (resp := denied(request)) is not None:
            return resp
        value = request.query_params.get("indicator", "")
        if value in INDICATORS:
            return INDICATORS[value]
        return JSONResponse(
            {"error": "Indicator not found."}, status_code=app.state.not_found_status
        )

    @app.get("/api/explore.php")
    async def explore(request: Request) -> Any:
        if (resp := denied(request)) is not None:
            return resp
        q = request.query_params.get("q", "")
        hits = [
            {k: i[k] for k in ("iid", "indicator", "type", "risk")}
            for v, i in INDICATORS.items()
            if f"ioc={v}" in q
        ]
        return {"results": hits}

    @app.post("/api/analyze.php")
    async def analyze_add(request: Request) -> Any:
        return {"success": "Added request to queue.", "qid": 2100254203}

    @app.get("/api/analyze.php")
    async def analyze_poll(request: Request) -> Any:
        return {"qid": int(request.query_params.get("qid", 0)), "status": "done", "data": {}}

    return app
