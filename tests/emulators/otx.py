"""AlienVault OTX emulator: ``/api/v1/indicators/{type}/{value}/general``.

Answers known indicators with pulses and validation, never-seen ones with 200 and
``pulse_info.count`` 0 (as OTX does), values that do not fit the type with 400, a
missing or wrong ``X-OTX-API-KEY`` with 403 (``{"detail": ...}``, Django REST
framework style, which the official SDK maps to ``InvalidAPIKey``) and, once the
quota is spent, 429 "Request was throttled" with ``Retry-After``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import RequestResponseEndpoint
from starlette.responses import Response

from tests.emulators._quota import Quota

API_KEY = "otx-test-key-0123456789abcdef0123456789abcdef0123456789abcdef01234567"
BAD_IP = "185.220.101.1"
ALLOW_LISTED_DOMAIN = "google.com"
BAD_HOSTNAME = "login.evil.example.co.uk"
EICAR_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
RETRY_AFTER = 42

_HASH_RE = re.compile(r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}")


def _pulse(n: int, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"65f0c0ffee{n:014x}",
        "name": name,
        "description": "",
        "created": "2024-04-01T00:00:00.000000",
        "modified": "2024-04-02T00:00:00.000000",
        "tags": ["c2"],
        "references": [],
        "public": 1,
        "adversary": "",
        "targeted_countries": [],
        "malware_families": [],
        "attack_ids": [],
        "industries": [],
        "TLP": "white",
        "author": {"username": "analyst"},
        **extra,
    }


def _general(kind: str, value: str, pulses: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "indicator": value,
        "type": kind,
        "type_title": kind,
        "base_indicator": {},
        "reputation": 0,
        "sections": ["general"],
        "validation": [],
        "false_positive": [],
        "pulse_info": {
            "count": len(pulses),
            "pulses": pulses,
            "references": [],
            "related": {
                "alienvault": {"adversary": [], "malware_families": [], "industries": []},
                "other": {"adversary": [], "malware_families": [], "industries": []},
            },
        },
        **extra,
    }


def _dataset() -> dict[tuple[str, str], dict[str, Any]]:
    bad_pulses = [
        _pulse(
            1,
            "Cobalt Strike C2 servers",
            malware_families=[{"id": "Cobalt Strike", "display_name": "Cobalt Strike"}],
            attack_ids=[{"id": "T1071.001", "name": "Web Protocols", "display_name": "x"}],
        ),
        _pulse(2, "Tor exit nodes", adversary="APT-Example"),
        *(_pulse(n, f"Botnet feed {n}") for n in range(3, 7)),
    ]
    bad_ip = _general(
        "IPv4",
        BAD_IP,
        bad_pulses,
        asn="AS64500 example bulletproof hosting",
        country_code="DE",
        reputation=3,
    )
    bad_ip["pulse_info"]["related"]["other"]["malware_families"] = ["Emotet"]
    return {
        ("IPv4", BAD_IP): bad_ip,
        ("domain", ALLOW_LISTED_DOMAIN): _general(
            "domain",
            ALLOW_LISTED_DOMAIN,
            [_pulse(7, "Phishing kit"), _pulse(8, "Shared infra")],
            validation=[
                {"source": "alexa", "message": "Alexa rank: #1", "name": "Listed on Alexa"},
                {
                    "source": "whitelist",
                    "message": "Whitelisted domain google.com",
                    "name": "Whitelisted domain",
                },
            ],
        ),
        ("hostname", BAD_HOSTNAME): _general(
            "hostname", BAD_HOSTNAME, [_pulse(9, "Credential phishing")]
        ),
        ("file", EICAR_SHA256): _general("FileHash-SHA256", EICAR_SHA256, [_pulse(10, "EICAR")]),
    }


def _valid(kind: str, value: str) -> bool:
    try:
        if kind in ("IPv4", "IPv6"):
            return ipaddress.ip_address(value).version == int(kind[-1])
    except ValueError:
        return False
    if kind == "file":
        return bool(_HASH_RE.fullmatch(value))
    return kind in ("domain", "hostname", "url", "cve") and bool(value)


def otx_app(api_key: str = API_KEY, quota: int | None = None) -> FastAPI:
    """An OTX emulator accepting ``api_key``; ``quota`` requests before 429s."""
    app = FastAPI()
    app.state.quota = Quota(quota, window_seconds=RETRY_AFTER)
    data = _dataset()

    @app.middleware("http")
    async def auth_and_quota(request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get("x-otx-api-key")
        if not key:
            return JSONResponse({"detail": "Authentication credentials were not provided."}, 403)
        if key != api_key:
            return JSONResponse({"detail": "Invalid API key."}, 403)
        if not app.state.quota.spend():
            return JSONResponse(
                {"detail": f"Request was throttled. Expected available in {RETRY_AFTER} seconds."},
                429,
                headers={"Retry-After": str(RETRY_AFTER)},
            )
        return await call_next(request)

    @app.get("/api/v1/indicators/{kind}/{value:path}/general")
    async def general(kind: str, value: str) -> JSONResponse:
        if not _valid(kind, value):
            return JSONResponse({"detail": f"Invalid {kind} indicator."}, 400)
        return JSONResponse(data.get((kind, value)) or _general(kind, value, []))

    return app
