"""The minimal API, in-process through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from spoorhound.api.app import create_app
from spoorhound.services import access
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage.engine import Store


def _get(store: Store, path: str, key: str | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(store))
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            return await client.get(path)

    return asyncio.run(go())


def test_health(store: Store) -> None:
    r = _get(store, "/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.json()["schema"] == store.head_revision()


def test_indicator_lookup_needs_a_key(store: Store) -> None:
    access.ensure_admin(store)
    r = _get(store, "/api/indicators/evil.example.com")
    assert r.status_code == 401
    assert _get(store, "/api/indicators/evil.example.com", key="sk_bogus_key").status_code == 401


def test_indicator_lookup_is_scoped_to_the_callers_enclaves(store: Store, tmp_path: Path) -> None:
    admin = access.ensure_admin(store)
    assert admin
    f = tmp_path / "a.txt"
    f.write_text("evil.example.com\n")
    ingest(store, f, IngestOptions(enclave="secret", tags=("c2",)))
    ingest(store, f, IngestOptions(enclave="shared", tags=("seen",)))
    access.create_user(store, "ana", "analyst", actor="test")
    access.set_member(store, "shared", "ana", "read", actor="test")
    key = access.create_key(store, "ana", actor="test").key
    [ind] = _get(store, "/api/indicators/evil.example.com", key=key).json()["indicators"]
    assert ind["tags"] == {"shared": ["seen"]}
    assert [o["enclave"] for o in ind["observations"]] == ["shared"]
    # asking for another enclave never widens the scope
    assert (
        _get(store, "/api/indicators/evil.example.com?enclave=secret", key=key).status_code == 404
    )


def test_indicator_lookup_found_defanged_and_missing(store: Store, tmp_path: Path) -> None:
    key = access.ensure_admin(store)
    f = tmp_path / "a.txt"
    f.write_text("evil.example.com\nhttp://evil.example.com/a/b?c=1\n")
    ingest(store, f, IngestOptions(enclave="e1", tags=("c2",)))
    r = _get(store, "/api/indicators/evil[.]example[.]com", key=key)
    assert r.status_code == 200
    [ind] = r.json()["indicators"]
    assert ind["type"] == "domain" and ind["tags"] == {"e1": ["c2"]}
    r = _get(store, "/api/indicators/http://evil.example.com/a/b%3Fc=1", key=key)
    assert r.status_code == 200 and r.json()["indicators"][0]["type"] == "url"
    assert _get(store, "/api/indicators/nope.example.org", key=key).status_code == 404
    assert _get(store, "/api/indicators/evil.example.com?enclave=other", key=key).status_code == 404
    assert _get(store, "/api/openapi.json").status_code == 200
