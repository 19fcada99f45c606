"""An emulator of the three abuse.ch APIs, in their documented request/response shapes.

One app, three prefixes standing for the three hosts (the paths under each are the real
ones): ``/urlhaus`` (urlhaus-api.abuse.ch: ``POST /v1/url/``, ``/v1/host/``,
``/v1/payload/``, form-encoded), ``/threatfox`` (threatfox-api.abuse.ch: ``POST
/api/v1/`` with a JSON body) and ``/bazaar`` (mb-api.abuse.ch: ``POST /api/v1/``,
form-encoded). Every request needs the ``Auth-Key`` header; a wrong or missing key gets
HTTP 401 with ``{"query_status": "unknown_auth_key"}`` (or HTTP 200 with that body when
``app.state.auth_failure_status`` is set to 200, as some endpoints do).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

AUTH_KEY = "abusech-test-key-0123456789"

MOZI_SHA256 = "0c4a7bf1d1e6e4a6c1b5e57b4b8d9e1c2f3a4b5c6d7e8f90112233445566778a"
MOZI_MD5 = "5f4dcc3b5aa765d61d8327deb882cf99"
QAKBOT_SHA256 = "7d1a0b9c8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b"
QAKBOT_MD5 = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
QAKBOT_SHA1 = "3395856ce81f2b7382dee72602f798b642f14140"

URLHAUS_URLS: dict[str, dict[str, Any]] = {
    "http://malware.example.com/bins/mozi.m": {
        "id": "2905934",
        "urlhaus_reference": "https://urlhaus.abuse.ch/url/2905934/",
        "url": "http://malware.example.com/bins/mozi.m",
        "url_status": "online",
        "host": "malware.example.com",
        "date_added": "2024-06-01 10:11:12 UTC",
        "last_online": "2024-06-02 08:00:00 UTC",
        "threat": "malware_download",
        "blacklists": {"spamhaus_dbl": "not listed", "surbl": "not listed"},
        "reporter": "lrz_urlhaus",
        "larted": "true",
        "takedown_time_seconds": None,
        "tags": ["elf", "Mozi"],
        "payloads": [
            {
                "firstseen": "2024-06-01",
                "filename": "mozi.m",
                "file_type": "elf",
                "response_size": "307960",
                "response_md5": MOZI_MD5,
                "response_sha256": MOZI_SHA256,
                "urlhaus_download": f"https://urlhaus-api.abuse.ch/v1/download/{MOZI_SHA256}/",
                "signature": "Mozi",
                "virustotal": None,
                "imphash": None,
                "ssdeep": None,
                "tlsh": None,
            }
        ],
    },
    "http://198.51.100.23/x.exe": {
        "id": "1000001",
        "urlhaus_reference": "https://urlhaus.abuse.ch/url/1000001/",
        "url": "http://198.51.100.23/x.exe",
        "url_status": "offline",
        "host": "198.51.100.23",
        "date_added": "2023-01-01 00:00:00 UTC",
        "last_online": None,
        "threat": "malware_download",
        "blacklists": {"spamhaus_dbl": "not listed", "surbl": "not listed"},
        "reporter": "abuse_ch",
        "larted": "false",
        "takedown_time_seconds": 3600,
        "tags": ["exe"],
        "payloads": [],
    },
}

URLHAUS_HOSTS: dict[str, dict[str, Any]] = {
    "malware.example.com": {
        "urlhaus_reference": "https://urlhaus.abuse.ch/host/malware.example.com/",
        "host": "malware.example.com",
        "firstseen": "2024-06-01 10:11:12 UTC",
        "url_count": "1",
        "blacklists": {"spamhaus_dbl": "abused_legit_malware", "surbl": "listed"},
        "urls": [
            {
                k: URLHAUS_URLS["http://malware.example.com/bins/mozi.m"][k]
                for k in (
                    "id",
                    "urlhaus_reference",
                    "url",
                    "url_status",
                    "date_added",
                    "threat",
                    "reporter",
                    "larted",
                    "takedown_time_seconds",
                    "tags",
                )
            }
        ],
    },
    "198.51.100.23": {
        "urlhaus_reference": "https://urlhaus.abuse.ch/host/198.51.100.23/",
        "host": "198.51.100.23",
        "firstseen": "2023-01-01 00:00:00 UTC",
        "url_count": "1",
        "blacklists": {"spamhaus_dbl": "not listed", "surbl": "not listed"},
        "urls": [
            {
                "id": "1000001",
                "urlhaus_reference": "https://urlhaus.abuse.ch/url/1000001/",
                "url": "http://198.51.100.23/x.exe",
                "url_status": "offline",
                "date_added": "2023-01-01 00:00:00 UTC",
                "threat": "malware_download",
                "reporter": "abuse_ch",
                "larted": "false",
                "takedown_time_seconds": 3600,
                "tags": ["exe"],
            }
        ],
    },
}

URLHAUS_PAYLOAD: dict[str, Any] = {
    "md5_hash": MOZI_MD5,
    "sha256_hash": MOZI_SHA256,
    "file_type": "elf",
    "file_size": "307960",
    "signature": "Mozi",
    "firstseen": "2024-06-01 10:11:12",
    "lastseen": "2024-06-02 08:00:00",
    "url_count": "1",
    "urlhaus_download": f"https://urlhaus-api.abuse.ch/v1/download/{MOZI_SHA256}/",
    "virustotal": {"result": "41 / 64", "percent": "64.06", "link": "https://vt.example/"},
    "imphash": None,
    "ssdeep": None,
    "tlsh": None,
    "urls": [
        {
            "url_id": "2905934",
            "url": "http://malware.example.com/bins/mozi.m",
            "url_status": "online",
            "urlhaus_reference": "https://urlhaus.abuse.ch/url/2905934/",
            "filename": "mozi.m",
            "firstseen": "2024-06-01",
            "lastseen": "2024-06-02",
        }
    ],
}

_C2 = {
    "threat_type": "botnet_cc",
    "threat_type_desc": "Indicator that identifies a botnet command&control server (C&C)",
    "malware": "win.cobalt_strike",
    "malware_printable": "Cobalt Strike",
    "malware_alias": "Agentemis,BEACON,CobaltStrike",
    "malware_malpedia": "https://malpedia.caad.fkie.fraunhofer.de/details/win.cobalt_strike",
    "first_seen": "2024-05-01 12:00:00 UTC",
    "last_seen": None,
    "reference": "https://example.org/report",
    "reporter": "abuse_ch",
    "is_compromised": False,
}
THREATFOX_IOCS: list[dict[str, Any]] = [
    {
        **_C2,
        "id": "1001",
        "ioc": "evil-c2.example.net",
        "ioc_type": "domain",
        "ioc_type_desc": "Domain that is used for botnet Command&control (C&C)",
        "confidence_level": 75,
        "tags": ["c2", "CobaltStrike"],
        "malware_samples": [
            {
                "time_stamp": "2024-05-01 12:00:00",
                "md5_hash": QAKBOT_MD5,
                "sha256_hash": QAKBOT_SHA256,
                "malware_bazaar": f"https://bazaar.abuse.ch/sample/{QAKBOT_SHA256}/",
            }
        ],
    },
    # Substring search: "not-evil-c2.example.net" must not count for "evil-c2.example.net".
    {
        **_C2,
        "id": "1002",
        "ioc": "not-evil-c2.example.net",
        "ioc_type": "domain",
        "confidence_level": 100,
        "tags": None,
        "malware_samples": [],
    },
    {
        **_C2,
        "id": "1003",
        "ioc": "203.0.113.50:443",
        "ioc_type": "ip:port",
        "malware": "win.qakbot",
        "malware_printable": "QakBot",
        "confidence_level": 100,
        "tags": ["qakbot"],
        "malware_samples": [],
    },
]
THREATFOX_BY_HASH = {QAKBOT_SHA256: ["1001", "1003"], QAKBOT_MD5: ["1001", "1003"]}

BAZAAR_SAMPLE: dict[str, Any] = {
    "sha256_hash": QAKBOT_SHA256,
    "sha3_384_hash": "ab" * 48,
    "sha1_hash": QAKBOT_SHA1,
    "md5_hash": QAKBOT_MD5,
    "first_seen": "2024-05-01 11:59:00",
    "last_seen": "2024-05-03 07:00:00",
    "file_name": "invoice_0423.dll",
    "file_size": 1187840,
    "file_type_mime": "application/x-dosexec",
    "file_type": "dll",
    "reporter": "abuse_ch",
    "origin_country": "NL",
    "anonymous": 0,
    "signature": "QakBot",
    "imphash": "f34d5f2d4577ed6d9ceec516c1f5a744",
    "tlsh": "T1" + "A5B3C2D1E0F9" * 5 + "A5B3C2D1E0",
    "telfhash": None,
    "gimphash": None,
    "ssdeep": "24576:a+JraNvsgzsVqSwHq9:tJuOgzsko",
    "dhash_icon": None,
    "comment": None,
    "archive_pw": None,
    "delivery_method": "email_attachment",
    "intelligence": {"clamav": ["Win.Malware.Qakbot-1"], "downloads": "42", "uploads": "1"},
    "file_information": [],
    "ole_information": [],
    "yara_rules": [
        {"rule_name": "win_qakbot_auto", "author": "Felix Bilstein", "description": None}
    ],
    "vendor_intel": {},
    "tags": ["dll", "QakBot", "TR"],
    "code_sign": [],
}


def _form(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}


def abusech_app(auth_key: str = AUTH_KEY) -> FastAPI:
    """The URLhaus + ThreatFox + MalwareBazaar emulator."""
    app = FastAPI()
    app.state.auth_failure_status = 401

    def denied(request: Request) -> JSONResponse | None:
        if request.headers.get("auth-key") == auth_key:
            return None
        return JSONResponse(
            {"query_status": "unknown_auth_key"}, status_code=app.state.auth_failure_status
        )

    @app.post("/urlhaus/v1/{endpoint}/")
    async def urlhaus(endpoint: str, request: Request) -> Any:
        if (resp := denied(request)) is not None:
            return resp
        form = _form(await request.body())
        if endpoint == "url":
            url = form.get("url", "")
            if not url.startswith(("http://", "https://")):
                return {"query_status": "invalid_url"}
            return (
                {"query_status": "ok", **URLHAUS_URLS[url]}
                if url in URLHAUS_URLS
                else {"query_status": "no_results"}
            )
        if endpoint == "host":
            host = form.get("host", "")
            if host in URLHAUS_HOSTS:
                return {"query_status": "ok", **URLHAUS_HOSTS[host]}
            return {"query_status": "no_results" if host else "invalid_host"}
        if endpoint == "payload":
            h = form.get("md5_hash") or form.get("sha256_hash") or ""
            if h in (MOZI_MD5, MOZI_SHA256):
                return {"query_status": "ok", **URLHAUS_PAYLOAD}
            if "md5_hash" in form and len(h) != 32:
                return {"query_status": "invalid_md5"}
            return {"query_status": "no_results"}
        return JSONResponse({"query_status": "unknown_query"}, status_code=404)

    @app.post("/threatfox/api/v1/")
    async def threatfox(request: Request) -> Any:
        if (resp := denied(request)) is not None:
            return resp
        try:
            body = await request.json()
        except ValueError:
            return {"query_status": "no_query", "data": "Please provide a query"}
        query = body.get("query") if isinstance(body, dict) else None
        if query == "search_ioc":
            term = str(body.get("search_term", ""))
            if len(term) < 3:
                return {"query_status": "illegal_search_term", "data": None}
            hits = [i for i in THREATFOX_IOCS if term.lower() in i["ioc"].lower()]
        elif query == "search_hash":
            ids = THREATFOX_BY_HASH.get(str(body.get("hash", "")).lower(), [])
            hits = [i for i in THREATFOX_IOCS if i["id"] in ids]
        else:
            return {"query_status": "unknown_query", "data": None}
        if not hits:
            return {"query_status": "no_result", "data": "Your search did not yield any results"}
        return {"query_status": "ok", "data": hits}

    @app.post("/bazaar/api/v1/")
    async def bazaar(request: Request) -> Any:
        if (resp := denied(request)) is not None:
            return resp
        form = _form(await request.body())
        if form.get("query") != "get_info":
            return {"query_status": "unknown_operation"}
        h = form.get("hash", "").lower()
        if not h:
            return {"query_status": "no_hash_provided"}
        if len(h) not in (32, 40, 64, 96):
            return {"query_status": "illegal_hash"}
        if h in (QAKBOT_SHA256, QAKBOT_MD5, QAKBOT_SHA1):
            return {"query_status": "ok", "data": [BAZAAR_SAMPLE]}
        return {"query_status": "hash_not_found"}

    return app
