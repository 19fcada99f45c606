"""GreyNoise emulator: the v3 Community API and the v3 multi-IP quick lookup.

* ``GET /v3/community/{ip}`` — works without a key (a wrong key is a 401); known
  addresses answer with ``noise``/``riot``/``classification``/``name``/``link``/
  ``last_seen``/``"message": "Success"``, others with 404 "IP not observed scanning
  the internet or contained in RIOT data set.", non-IPv4 input with 400; a spent
  quota gives 429 with the plan's message and ``Retry-After``.
* ``POST /v3/ip?quick=true`` with ``{"ips": [...]}`` — needs the key; answers
  ``{"data": [...], "request_metadata": {"ips_not_found": [...]}}``.

Shapes from https://docs.greynoise.io/reference/getcommunityip and the official SDK.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import RequestResponseEndpoint
from starlette.responses import Response

from tests.emulators._quota import Quota

API_KEY = "greynoise-test-key-0123456789"
BAD_IP = "185.220.101.1"
RIOT_IP = "8.8.8.8"
BENIGN_SCANNER_IP = "198.20.69.74"
UNKNOWN_SCANNER_IP = "203.0.113.50"
#: Seconds until the emulated weekly allowance resets.
RESET_IN = 86_400

_RECORDS: dict[str, dict[str, Any]] = {
    BAD_IP: {"noise": True, "riot": False, "classification": "malicious", "name": "unknown"},
    RIOT_IP: {
        "noise": False,
        "riot": True,
        "classification": "benign",
        "name": "Google Public DNS",
        "trust_level": "1",
    },
    BENIGN_SCANNER_IP: {
        "noise": True,
        "riot": False,
        "classification": "benign",
        "name": "Shodan.io",
    },
    UNKNOWN_SCANNER_IP: {
        "noise": True,
        "riot": False,
        "classification": "unknown",
        "name": "unknown",
    },
}


def _community(ip: str, rec: dict[str, Any]) -> dict[str, Any]:
    kind = "riot" if rec["riot"] else "ip"
    return {
        "ip": ip,
        "noise": rec["noise"],
        "riot": rec["riot"],
        "classification": rec["classification"],
        "name": rec["name"],
        "link": f"https://viz.greynoise.io/{kind}/{ip}",
        "last_seen": "2024-05-01",
        "message": "Success",
    }


def _quick(ip: str, rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "ip": ip,
        "business_service_intelligence": {
            "found": rec["riot"],
            "trust_level": rec.get("trust_level", "") if rec["riot"] else "",
        },
        "internet_scanner_intelligence": {
            "found": rec["noise"],
            "classification": rec["classification"] if rec["noise"] else "",
        },
    }


def greynoise_app(api_key: str = API_KEY, quota: int | None = None) -> FastAPI:
    """A GreyNoise emulator accepting ``api_key``; ``quota`` lookups before 429s."""
    app = FastAPI()
    app.state.quota = Quota(quota, window_seconds=RESET_IN)

    @app.middleware("http")
    async def auth_and_quota(request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get("key")
        community = request.url.path.startswith("/v3/community/")
        if (key or not community) and key != api_key:
            return JSONResponse({"message": "Invalid API key"}, 401)
        if not app.state.quota.spend():
            if community:
                body = {
                    "plan": "community",
                    "rate-limit": "50-searches/week",
                    "plan_url": "https://viz.greynoise.io/account/plans",
                    "message": "You have hit your weekly rate limit of 50 searches. "
                    "Upgrade to a paid plan for more.",
                }
                return JSONResponse(body, 429, headers={"Retry-After": str(RESET_IN)})
            return JSONResponse({"message": "Too Many Requests"}, 429, {"Retry-After": "1"})
        return await call_next(request)

    @app.get("/v3/community/{ip}")
    async def community(ip: str) -> JSONResponse:
        try:
            if ipaddress.ip_address(ip).version != 4:
                raise ValueError(ip)
        except ValueError:
            return JSONResponse({"message": "Request is not a valid routable IPv4 address"}, 400)
        rec = _RECORDS.get(ip)
        if rec is None:
            return JSONResponse(
                {
                    "ip": ip,
                    "noise": False,
                    "riot": False,
                    "message": "IP not observed scanning the internet or contained in RIOT "
                    "data set.",
                },
                404,
            )
        return JSONResponse(_community(ip, rec))

    @app.post("/v3/ip")
    async def multi(quick: bool = False, payload: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        ips = payload.get("ips")
        if not isinstance(ips, list):
            return JSONResponse({"message": "ips must be a list"}, 400)
        found = [_quick(ip, _RECORDS[ip]) for ip in ips if ip in _RECORDS]
        missing = [ip for ip in ips if ip not in _RECORDS]
        return JSONResponse(
            {
                "data": found,
                "request_metadata": {"restricted_ips": [], "ips_not_found": missing},
            }
        )

    return app
