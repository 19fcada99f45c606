"""An RDAP server emulator (RFC 9082 paths, RFC 9083 JSON) for domains and IP networks.

``GET /domain/{name}`` and ``GET /ip/{address}``; unknown objects get HTTP 404 with an
RFC 9083 error object. ``freshsite.com`` is registered five days before "now" so the
age computation can be checked; ``oldsite.com`` since 1995.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

RDAP_JSON = "application/rdap+json"


def _vcard(*props: list[Any]) -> list[Any]:
    return ["vcard", [["version", {}, "text", "4.0"], *props]]


def _registrar(name: str, iana: str) -> dict[str, Any]:
    return {
        "objectClassName": "entity",
        "handle": iana,
        "roles": ["registrar"],
        "publicIds": [{"type": "IANA Registrar ID", "identifier": iana}],
        "vcardArray": _vcard(["fn", {}, "text", name]),
        "entities": [
            {
                "objectClassName": "entity",
                "roles": ["abuse"],
                "vcardArray": _vcard(
                    ["fn", {}, "text", "Abuse Desk"],
                    ["tel", {"type": "voice"}, "uri", "tel:+1.5555550100"],
                    ["email", {}, "text", "abuse@registrar.example"],
                ),
            }
        ],
    }


def _domain(name: str, registered: datetime) -> dict[str, Any]:
    return {
        "objectClassName": "domain",
        "handle": f"{name.upper()}-EXAMPLE",
        "ldhName": name.upper(),
        "status": ["client transfer prohibited", "active"],
        "events": [
            {"eventAction": "registration", "eventDate": registered.strftime("%Y-%m-%dT%H:%M:%SZ")},
            {"eventAction": "expiration", "eventDate": "2030-01-01T00:00:00Z"},
            {"eventAction": "last changed", "eventDate": "2024-05-05T05:05:05Z"},
            {"eventAction": "last update of RDAP database", "eventDate": "2024-06-01T00:00:00Z"},
        ],
        "entities": [
            _registrar("Example Registrar, Inc.", "9999"),
            {
                "objectClassName": "entity",
                "roles": ["registrant"],
                "vcardArray": _vcard(["fn", {}, "text", "REDACTED FOR PRIVACY"]),
            },
        ],
        "nameservers": [
            {"objectClassName": "nameserver", "ldhName": "NS1.EXAMPLE.NET"},
            {"objectClassName": "nameserver", "ldhName": "NS2.EXAMPLE.NET"},
        ],
        "secureDNS": {"delegationSigned": False},
        "rdapConformance": ["rdap_level_0"],
        "notices": [{"title": "Terms of Use", "description": ["Emulated."]}],
    }


NETWORK: dict[str, Any] = {
    "objectClassName": "ip network",
    "handle": "NET-192-0-2-0-1",
    "startAddress": "192.0.2.0",
    "endAddress": "192.0.2.255",
    "ipVersion": "v4",
    "name": "TEST-NET-1",
    "type": "ASSIGNED",
    "country": "US",
    "parentHandle": "NET-192-0-0-0-0",
    "cidr0_cidrs": [{"v4prefix": "192.0.2.0", "length": 24}],
    "status": ["active"],
    "events": [{"eventAction": "registration", "eventDate": "2010-01-01T00:00:00Z"}],
    "entities": [
        {
            "objectClassName": "entity",
            "handle": "ABUSE-EX",
            "roles": ["abuse"],
            "vcardArray": _vcard(["email", {}, "text", "abuse@net.example"]),
        }
    ],
    "rdapConformance": ["rdap_level_0", "cidr0"],
}


def _not_found(what: str) -> JSONResponse:
    return JSONResponse(
        {"errorCode": 404, "title": "Not Found", "description": [f"{what} not found"]},
        status_code=404,
        media_type=RDAP_JSON,
    )


def rdap_app() -> FastAPI:
    """The RDAP emulator."""
    app = FastAPI()

    @app.get("/domain/{name}")
    async def domain(name: str) -> Any:
        now = datetime.now(UTC)
        known = {
            "freshsite.com": now - timedelta(days=5),
            "oldsite.com": datetime(1995, 8, 14, tzinfo=UTC),
        }
        if name.lower() not in known:
            return _not_found(name)
        return JSONResponse(_domain(name.lower(), known[name.lower()]), media_type=RDAP_JSON)

    @app.get("/ip/{address}")
    async def ip(address: str) -> Any:
        try:
            inside = ipaddress.ip_address(address) in ipaddress.ip_network("192.0.2.0/24")
        except ValueError:
            return JSONResponse({"errorCode": 400, "title": "Bad Request"}, status_code=400)
        return JSONResponse(NETWORK, media_type=RDAP_JSON) if inside else _not_found(address)

    return app
