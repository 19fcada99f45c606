"""spoorhound.client against the running app (uvicorn in a thread)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from spoorhound.client import (
    AuthenticationError,
    Client,
    NotFound,
    PermissionDenied,
    SpoorhoundError,
    TransportError,
    ValidationError,
)
from tests.analysis.conftest import World
from tests.emulators.server import EmulatorServer

_V1 = ("indicators_v1", "tags_v1", "jobs_v1")


def _wire(app: FastAPI) -> None:
    """The v1 resource routers, where the app factory does not wire them yet."""
    paths = {getattr(r, "path", "") for r in app.routes}
    for name in _V1:
        module = importlib.import_module(f"spoorhound.api.{name}")
        router = module.router
        if not any(getattr(r, "path", "") in paths for r in router.routes):
            app.include_router(router)


@pytest.fixture
def server(app: FastAPI) -> Iterator[EmulatorServer]:
    _wire(app)
    with EmulatorServer(app) as srv:
        yield srv


def test_the_key_is_never_shown(
    server: EmulatorServer, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Client(server.base_url, world.alice) as api:
        secret = world.alice.split("_", 2)[2]
        assert secret not in repr(api) and world.alice.split("_")[1] in repr(api)
        api.me()
        with pytest.raises(NotFound) as e:
            api.info("secret-only.example.org")
        assert secret not in str(e.value)
    assert secret not in caplog.text


def test_errors_map_to_the_tree(server: EmulatorServer, world: World) -> None:
    with Client(server.base_url) as anonymous:
        assert anonymous.health()["status"] == "ok"
    with (
        pytest.raises(AuthenticationError) as e,
        Client(server.base_url, world.alice[:-2] + "zz") as bad,
    ):
        bad.me()
    assert e.value.status == 401
    with Client(server.base_url, world.bob) as bob:
        with pytest.raises(PermissionDenied):
            bob.create_indicator("new.example.com", "shared")
        with pytest.raises(ValidationError):
            bob.explore("valu = 1")
    with pytest.raises(TransportError), Client("http://127.0.0.1:9", world.bob, timeout=2) as down:
        down.health()
    assert issubclass(TransportError, SpoorhoundError)


def test_the_api_through_the_client(server: EmulatorServer, world: World) -> None:
    with Client(server.base_url, world.admin) as admin:
        admin.create_user("carol", "analyst")
        assert "carol" in {u["name"] for u in admin.users()}
        admin.set_member("shared", "carol", "write")
        made = admin.create_key(user="carol", scope="write", name="ci")
        assert made["key"].startswith("sk_")
        assert all("key" not in k for k in admin.keys(all=True))
        assert {e["name"] for e in admin.enclaves()} >= {"shared", "secret"}
    with Client(server.base_url, made["key"]) as carol:
        assert carol.me()["enclaves"] == {"shared": "write"}
        created = carol.create_indicator("fresh.example.com", "shared", tags=["seen"])
        assert created["new"] is True
        assert carol.indicator("fresh.example.com")["indicators"][0]["id"] == created["id"]
        job_id = carol.submit_bulk(
            "bulk1.example.com\nbulk2.example.com\n", "shared", type="domain"
        )
        job = carol.wait_job(job_id, timeout=30, poll=0.1)
        assert job["status"] not in ("running", "queued")
        assert carol.add_tag("triage", "shared", "ioc=bulk*.example.com") == 2
        found = {r["value"] for r in carol.iter_search("tag=triage", page_size=1)}
        assert found == {"bulk1.example.com", "bulk2.example.com"}
        assert carol.remove_tag("triage", "shared", "ioc=bulk1.example.com") == 1
        assert carol.search("tag=triage")["indicators"][0]["value"] == "bulk2.example.com"
        # Pulsedive-style analysis.
        assert carol.info("evil.example.com")["indicators"][0]["tags"] == ["malware:zeus"]
        rows = carol.explore("threat=zeus and type=domain")["results"]
        assert [r["value"] for r in rows] == ["evil.example.com"]
        data = carol.analyze_and_wait("evil.example.com", timeout=20)
        assert data["stored"] is True and data["providers"]["fakerep"]["verdict"] == "malicious"
        timeline = carol.history("evil.example.com", provider="fakerep")
        assert list(timeline["indicators"][0]["providers"]) == ["fakerep"]
        with pytest.raises(NotFound):
            carol.indicator("secret-only.example.org")
    with Client(server.base_url, world.admin) as admin:
        admin.revoke_key(made["id"])
    with pytest.raises(AuthenticationError), Client(server.base_url, made["key"]) as gone:
        gone.me()
