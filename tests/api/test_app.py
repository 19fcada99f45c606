"""The minimal API, in-process through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from spoorhound.api.app import create_app
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage.engine import Store


def _get(store: Store, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(store))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    return asyncio.run(go())


def test_health(store: Store) -> None:
    r = _get(store, "/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.json()["schema"] == store.head_revision()


def test_indicator_lookup_found_defanged_and_missing(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("evil.example.com\nhttp://evil.example.com/a/b?c=1\n")
    ingest(store, f, IngestOptions(enclave="e1", tags=("c2",)))
    r = _get(store, "/api/indicators/evil[.]example[.]com")
    assert r.status_code == 200
    [ind] = r.json()["indicators"]
    assert ind["type"] == "domain" and ind["tags"] == {"e1": ["c2"]}
    r = _get(store, "/api/indicators/http://evil.example.com/a/b%3Fc=1")
    assert r.status_code == 200 and r.json()["indicators"][0]["type"] == "url"
    assert _get(store, "/api/indicators/nope.example.org").status_code == 404
    assert _get(store, "/api/indicators/evil.example.com?enclave=other").status_code == 404
    assert _get(store, "/api/openapi.json").status_code == 200
