"""Shodan REST API emulator: ``GET /shodan/host/{ip}?key=…``.

Answers known hosts with the documented host record (``minify=true`` drops the
``data`` banners), others with 404 ``{"error": "No information available for that
IP."}``, a missing or wrong ``key`` with 401 ``{"error": ...}`` and, once the quota
is spent, 429 with Shodan's "Request rate limit reached" error and ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import RequestResponseEndpoint
from starlette.responses import Response

from tests.emulators._quota import Quota

API_KEY = "shodan-test-key-0123456789ABCDEF"
VULNERABLE_IP = "198.51.100.20"
C2_IP = "185.220.101.1"
QUIET_IP = "8.8.8.8"


def _host(ip: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ip_str": ip,
        "ip": sum(int(o) << (8 * (3 - n)) for n, o in enumerate(ip.split("."))),
        "ports": [],
        "hostnames": [],
        "domains": [],
        "tags": [],
        "org": None,
        "isp": None,
        "asn": None,
        "os": None,
        "country_code": None,
        "city": None,
        "last_update": "2024-05-01T12:00:00.000000",
        "data": [{"port": 0, "transport": "tcp", "data": "banner"}],
    }
    return {**base, **fields}


_HOSTS = {
    VULNERABLE_IP: _host(
        VULNERABLE_IP,
        ports=[443, 22, 80, 22],
        hostnames=["mail.example.org", "not a host"],
        domains=["example.org"],
        vulns=["CVE-2021-44228", "CVE-2023-44487", "not-a-cve"],
        tags=["cloud", "self-signed"],
        org="Example Org",
        isp="Example ISP",
        asn="AS64501",
        os="Linux",
        country_code="NL",
        city="Amsterdam",
    ),
    C2_IP: _host(C2_IP, ports=[443, 50050], tags=["c2"], org="Bulletproof", asn="AS64500"),
    QUIET_IP: _host(QUIET_IP, ports=[53, 443], hostnames=["dns.google"], asn="AS15169"),
}


def shodan_app(api_key: str = API_KEY, quota: int | None = None) -> FastAPI:
    """A Shodan emulator accepting ``api_key``; ``quota`` requests before 429s."""
    app = FastAPI()
    app.state.quota = Quota(quota, window_seconds=1)

    @app.middleware("http")
    async def auth_and_quota(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.query_params.get("key") != api_key:
            return JSONResponse(
                {"error": "Please provide a valid API key to access this resource."}, 401
            )
        if not app.state.quota.spend():
            return JSONResponse(
                {
                    "error": "Request rate limit reached (1/second). Please wait a second "
                    "before trying again and slow down your API calls."
                },
                429,
                headers={"Retry-After": "1"},
            )
        return await call_next(request)

    @app.get("/shodan/host/{ip}")
    async def host(ip: str, minify: bool = False) -> JSONResponse:
        found = _HOSTS.get(ip)
        if found is None:
            return JSONResponse({"error": "No information available for that IP."}, 404)
        if minify:
            found = {k: v for k, v in found.items() if k != "data"}
        return JSONResponse(found)

    return app
