"""VirusTotal API v3 emulator: object reports in the documented shapes.

Serves ``/api/v3/ip_addresses/{ip}``, ``/domains/{domain}``, ``/urls/{id}`` and
``/files/{hash}`` for a small built-in dataset, answers unknown objects with
``404 NotFoundError``, a missing ``x-apikey`` with ``401 AuthenticationRequiredError``,
a wrong one with ``401 WrongCredentialsError`` and, once its quota is spent,
``429 QuotaExceededError`` with ``Retry-After`` (errors as documented at
https://docs.virustotal.com/reference/errors).
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import RequestResponseEndpoint
from starlette.responses import Response

from tests.emulators._quota import Quota

API_KEY = "vt-test-key-0123456789abcdef"
BAD_IP = "185.220.101.1"
GOOD_IP = "8.8.8.8"
BAD_DOMAIN = "evil.example.com"
BAD_URL = "http://evil.example.com/gate.php?id=1"
EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"
EICAR_SHA1 = "3395856ce81f2b7382dee72602f798b642f14140"
EICAR_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


def _stats(malicious: int, suspicious: int, harmless: int, undetected: int) -> dict[str, int]:
    return {
        "harmless": harmless,
        "malicious": malicious,
        "suspicious": suspicious,
        "undetected": undetected,
        "timeout": 0,
    }


def _object(kind: str, oid: str, attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        "data": {
            "id": oid,
            "type": kind,
            "links": {"self": f"https://www.virustotal.com/api/v3/{kind}s/{oid}"},
            "attributes": {"last_analysis_date": 1_714_000_000, "reputation": 0, **attributes},
        }
    }


def _dataset() -> dict[tuple[str, str], dict[str, Any]]:
    url_id = base64.urlsafe_b64encode(BAD_URL.encode()).decode().rstrip("=")
    eicar = _object(
        "file",
        EICAR_SHA256,
        {
            "md5": EICAR_MD5,
            "sha1": EICAR_SHA1,
            "sha256": EICAR_SHA256,
            "meaningful_name": "eicar.com",
            "names": ["eicar.com", "eicar.txt"],
            "size": 68,
            "type_description": "Text",
            "tags": ["text", "attachment"],
            "last_analysis_stats": _stats(62, 0, 0, 8),
            "popular_threat_classification": {
                "suggested_threat_label": "virus.eicar/test",
                "popular_threat_category": [{"count": 30, "value": "virus"}],
                "popular_threat_name": [{"count": 40, "value": "eicar"}],
            },
            "reputation": 3122,
        },
    )
    return {
        ("ip_addresses", BAD_IP): _object(
            "ip_address",
            BAD_IP,
            {
                "as_owner": "Example Bulletproof Hosting",
                "asn": 64500,
                "country": "DE",
                "continent": "EU",
                "network": "185.220.101.0/24",
                "tags": ["tor"],
                "last_analysis_stats": _stats(12, 2, 60, 20),
                "reputation": -42,
                "total_votes": {"harmless": 0, "malicious": 9},
            },
        ),
        ("ip_addresses", GOOD_IP): _object(
            "ip_address",
            GOOD_IP,
            {
                "as_owner": "GOOGLE",
                "asn": 15169,
                "country": "US",
                "network": "8.8.8.0/24",
                "last_analysis_stats": _stats(0, 0, 62, 30),
                "reputation": 529,
            },
        ),
        ("domains", BAD_DOMAIN): _object(
            "domain",
            BAD_DOMAIN,
            {
                "registrar": "Example Registrar",
                "categories": {"Forcepoint ThreatSeeker": "malicious web sites"},
                "last_dns_records": [
                    {"type": "A", "value": BAD_IP, "ttl": 300},
                    {"type": "AAAA", "value": "2001:db8::66", "ttl": 300},
                    {"type": "NS", "value": "ns1.example.net", "ttl": 3600},
                    {"type": "MX", "value": "mail.example.net", "ttl": 3600},
                    {"type": "TXT", "value": "v=spf1 -all", "ttl": 3600},
                    {"type": "A", "value": "not-an-ip", "ttl": 300},
                ],
                "last_analysis_stats": _stats(3, 1, 55, 30),
            },
        ),
        ("urls", url_id): _object(
            "url",
            url_id,
            {
                "url": BAD_URL,
                "last_final_url": "http://evil.example.com/landing.php",
                "title": "Login",
                "last_http_response_code": 200,
                "last_analysis_stats": _stats(9, 1, 50, 30),
            },
        ),
        ("files", EICAR_MD5): eicar,
        ("files", EICAR_SHA1): eicar,
        ("files", EICAR_SHA256): eicar,
    }


def virustotal_app(api_key: str = API_KEY, quota: int | None = None) -> FastAPI:
    """A VirusTotal v3 emulator accepting ``api_key``; ``quota`` requests before 429s."""
    app = FastAPI()
    app.state.quota = Quota(quota, window_seconds=60)
    data = _dataset()

    @app.middleware("http")
    async def auth_and_quota(request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get("x-apikey")
        if not key:
            return _error(401, "AuthenticationRequiredError", "X-Apikey header is missing")
        if key != api_key:
            return _error(401, "WrongCredentialsError", "Wrong API key")
        if not app.state.quota.spend():
            return _error(429, "QuotaExceededError", "Quota exceeded", **{"Retry-After": "60"})
        return await call_next(request)

    @app.get("/api/v3/{collection}/{oid}")
    async def report(collection: str, oid: str) -> JSONResponse:
        found = data.get((collection, oid.lower() if collection == "files" else oid))
        if found is None:
            kind = {"ip_addresses": "IP address", "urls": "URL"}.get(collection, collection[:-1])
            return _error(404, "NotFoundError", f'{kind} "{oid}" not found')
        return JSONResponse(found)

    return app
