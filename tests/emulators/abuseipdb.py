"""AbuseIPDB API v2 emulator: the CHECK endpoint in the documented shapes.

``GET /api/v2/check?ipAddress=…`` answers every valid address (never-reported ones
with score 0), invalid ones with 422, a missing or wrong ``Key`` header with 401,
and, once the daily quota is spent, 429 "Daily rate limit … exceeded" with
``Retry-After`` and ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (also sent on
every successful answer), as documented at https://docs.abuseipdb.com/.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import RequestResponseEndpoint
from starlette.responses import Response

from tests.emulators._quota import Quota

API_KEY = "abuseipdb-test-key-0123456789abcdef0123456789abcdef0123456789abcdef"
BAD_IP = "185.220.101.1"
WHITELISTED_IP = "8.8.8.8"
SOME_REPORTS_IP = "203.0.113.9"
DAILY_LIMIT = 1000
#: Seconds until the emulated daily reset.
RESET_IN = 29_241

_AUTH_FAILED = (
    "Authentication failed. Your API key is either missing, incorrect, or revoked. "
    "Note: The APIv2 key differs from the APIv1 key."
)


def _errors(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"detail": detail, "status": status}]}, status, headers=headers)


def _record(ip: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ipAddress": ip,
        "isPublic": True,
        "ipVersion": ipaddress.ip_address(ip).version,
        "isWhitelisted": False,
        "abuseConfidenceScore": 0,
        "countryCode": None,
        "usageType": None,
        "isp": None,
        "domain": None,
        "hostnames": [],
        "isTor": False,
        "totalReports": 0,
        "numDistinctUsers": 0,
        "lastReportedAt": None,
    }
    return {**base, **fields}


_DATA = {
    BAD_IP: _record(
        BAD_IP,
        abuseConfidenceScore=100,
        countryCode="DE",
        usageType="Data Center/Web Hosting/Transit",
        isp="Example Hosting GmbH",
        domain="example-hosting.de",
        hostnames=["tor-exit-1.example-hosting.de", "not a hostname!"],
        isTor=True,
        totalReports=1534,
        numDistinctUsers=312,
        lastReportedAt="2024-05-01T10:00:00+00:00",
    ),
    WHITELISTED_IP: _record(
        WHITELISTED_IP,
        isWhitelisted=True,
        abuseConfidenceScore=0,
        countryCode="US",
        usageType="Content Delivery Network",
        isp="Google LLC",
        domain="google.com",
        hostnames=["dns.google"],
        totalReports=12,
        numDistinctUsers=5,
    ),
    SOME_REPORTS_IP: _record(SOME_REPORTS_IP, abuseConfidenceScore=40, totalReports=3),
}


def abuseipdb_app(api_key: str = API_KEY, quota: int | None = None) -> FastAPI:
    """An AbuseIPDB v2 emulator accepting ``api_key``; ``quota`` CHECKs per "day"."""
    app = FastAPI()
    app.state.quota = Quota(quota, window_seconds=RESET_IN)

    def limit_headers() -> dict[str, str]:
        q: Quota = app.state.quota
        return {
            "X-RateLimit-Limit": str(q.limit if q.limit is not None else DAILY_LIMIT),
            "X-RateLimit-Remaining": str(q.remaining),
            "X-RateLimit-Reset": str(q.reset_epoch),
        }

    @app.middleware("http")
    async def auth_and_quota(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.headers.get("key") != api_key:
            return _errors(401, _AUTH_FAILED)
        if not app.state.quota.spend():
            headers = {**limit_headers(), "Retry-After": str(RESET_IN)}
            limit = headers["X-RateLimit-Limit"]
            return _errors(
                429,
                f"Daily rate limit of {limit} requests exceeded for this endpoint. "
                "See headers for additional details.",
                headers,
            )
        response = await call_next(request)
        response.headers.update(limit_headers())
        return response

    @app.get("/api/v2/check")
    async def check(ipAddress: str = "", maxAgeInDays: int = 30) -> JSONResponse:
        try:
            ip = str(ipaddress.ip_address(ipAddress))
        except ValueError:
            return JSONResponse(
                {
                    "errors": [
                        {
                            "detail": "The ip address must be a valid IPv4 or IPv6 address "
                            "(e.g. 8.8.8.8 or 2001:4860:4860::8888).",
                            "status": 422,
                            "source": {"parameter": "ipAddress"},
                        }
                    ]
                },
                422,
            )
        return JSONResponse({"data": _DATA.get(ip) or _record(ip)})

    return app
