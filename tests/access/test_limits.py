"""Brute-force throttling and request body limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI, Request

from spoorhound.api.auth import AuthThrottle
from spoorhound.services import access
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client, build_app


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limited(store: Store, clock: FakeClock) -> FastAPI:
    """Small limits: 3 failures per 60 s, 1000-byte JSON, 5000-byte uploads."""
    app = build_app(
        store,
        auth_failures=3,
        auth_period=60.0,
        clock=clock,
        max_json_bytes=1000,
        max_upload_bytes=5000,
    )

    @app.post("/api/v1/test-upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return app


@pytest.fixture
def lclient(limited: FastAPI) -> Iterator[Client]:
    c = Client(limited, client_ip="203.0.113.7")
    yield c
    c.close()


def test_failed_keys_are_throttled_per_address_then_recover(
    store: Store, limited: FastAPI, lclient: Client, clock: FakeClock
) -> None:
    good = access.ensure_admin(store)
    assert good is not None
    bad = "sk_abcdefgh_" + "x" * 43
    for _ in range(5):  # a missing key is not a guess and is not counted
        assert lclient.get("/api/v1/users/me").status_code == 401
    for _ in range(3):
        assert lclient.get("/api/v1/users/me", key=bad).status_code == 401
    r = lclient.get("/api/v1/users/me", key=bad)
    assert r.status_code == 429 and r.headers["retry-after"] == "20"
    assert "too many failed authentication attempts" in r.json()["detail"]
    # Even a valid key is refused while throttled: the answer must not confirm a guess.
    assert lclient.get("/api/v1/users/me", key=good).status_code == 429
    other = Client(limited, client_ip="198.51.100.9")
    try:
        assert other.get("/api/v1/users/me", key=good).status_code == 200
    finally:
        other.close()
    clock.t += 20
    assert lclient.get("/api/v1/users/me", key=good).status_code == 200
    assert lclient.get("/api/v1/users/me", key=bad).status_code == 401
    assert lclient.get("/api/v1/users/me", key=bad).status_code == 429


def test_throttle_keeps_a_bounded_number_of_clients() -> None:
    t = AuthThrottle(2, 60.0, clock=lambda: 0.0, max_clients=3)
    for ip in ("a", "b", "c", "d"):
        t.failed(ip)
        t.failed(ip)
    assert t.retry_after("d") == 30
    assert t.retry_after("a") is None  # evicted, least recently failed


def _chunks(total: int, size: int = 400) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        sent = 0
        while sent < total:
            n = min(size, total - sent)
            sent += n
            yield b"x" * n

    return gen()


def test_json_bodies_over_the_limit_get_413(store: Store, lclient: Client) -> None:
    key = access.ensure_admin(store)
    big = {"name": "n", "description": "d" * 2000}
    r = lclient.post("/api/v1/enclaves", key=key, json=big)
    assert r.status_code == 413
    assert r.json() == {
        "detail": "request body too large: at most 1000 bytes for JSON and form bodies"
    }
    # Without a Content-Length the body is counted while it is read.
    r = lclient.post(
        "/api/v1/enclaves",
        key=key,
        content=_chunks(2000),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413 and "at most 1000 bytes" in r.json()["detail"]
    assert lclient.post("/api/v1/enclaves", key=key, json={"name": "ok"}).status_code == 201


def test_uploads_have_their_own_limit(lclient: Client) -> None:
    octet = {"Content-Type": "application/octet-stream"}
    r = lclient.post("/api/v1/test-upload", content=b"x" * 3000, headers=octet)
    assert r.status_code == 200 and r.json() == {"size": 3000}
    r = lclient.post("/api/v1/test-upload", content=b"x" * 6000, headers=octet)
    assert r.status_code == 413 and r.json()["detail"].endswith("at most 5000 bytes for uploads")
    r = lclient.post("/api/v1/test-upload", content=_chunks(6000), headers=octet)
    assert r.status_code == 413
    r = lclient.post("/api/v1/test-upload", content=_chunks(4000), headers=octet)
    assert r.status_code == 200 and r.json() == {"size": 4000}
    r = lclient.post("/api/v1/test-upload", content=b"x", headers={"Content-Length": "abc"})
    assert r.status_code == 400
