"""info / explore / analyze under /api/v1, in-process: scope, storage, probe."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.access.apiclient import Client
from tests.analysis.conftest import World
from tests.emulators.server import EmulatorServer


@pytest.fixture
def client(app: FastAPI) -> Iterator[Client]:
    c = Client(app)
    yield c
    c.close()


def wait(client: Client, qid: int, key: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        r = client.get(f"/api/v1/analyze?qid={qid}", key=key)
        assert r.status_code == 200, r.text
        if r.json()["status"] != "processing":
            return dict(r.json())
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_every_route_needs_a_key(client: Client) -> None:
    for method, path in [
        ("GET", "/api/v1/info?indicator=evil.example.com"),
        ("GET", "/api/v1/explore?q=type=domain"),
        ("POST", "/api/v1/analyze"),
        ("GET", "/api/v1/analyze?qid=1"),
    ]:
        assert client.request(method, path, json={}).status_code == 401


def test_info_shows_only_the_callers_enclaves(client: Client, world: World) -> None:
    r = client.get("/api/v1/info?indicator=evil[.]example.com", key=world.alice)
    assert r.status_code == 200
    (sheet,) = r.json()["indicators"]
    assert sheet["value"] == "evil.example.com" and sheet["type"] == "domain"
    assert sheet["tags"] == ["malware:zeus"]
    assert sheet["threats"] == [{"name": "zeus", "category": "malware"}]
    assert [s["source"] for s in sheet["sources"]] == ["feed-a"]
    assert sheet["risk_factors"] == [] and sheet["risk"] == "unknown"
    assert "hidden" not in r.text and "secret" not in r.text
    admin = client.get("/api/v1/info?indicator=evil.example.com", key=world.admin).json()
    assert admin["indicators"][0]["tags"] == ["actor:hidden", "malware:zeus"]
    # Invisible: the same answer as a value nobody has.
    for q in ("indicator=secret-only.example.org", "indicator=never.example.org"):
        r = client.get(f"/api/v1/info?{q}", key=world.alice)
        assert r.status_code == 404 and r.json() == {"detail": "indicator not found"}
    iid = client.get("/api/v1/info?indicator=secret-only.example.org", key=world.admin).json()[
        "indicators"
    ][0]["id"]
    assert client.get(f"/api/v1/info?iid={iid}", key=world.alice).status_code == 404
    assert client.get(f"/api/v1/info?iid={iid}", key=world.admin).status_code == 200


def test_explore_lists_only_visible_indicators(client: Client, world: World) -> None:
    def values(key: str, q: str) -> set[str]:
        r = client.get("/api/v1/explore", params={"q": q}, key=key)
        assert r.status_code == 200, r.text
        return {row["value"] for row in r.json()["results"]}

    assert values(world.alice, "ioc=*.example.org") == set()
    assert values(world.admin, "ioc=*.example.org") == {"secret-only.example.org"}
    assert values(world.alice, "threat=hidden") == set()
    assert values(world.alice, "threat=zeus and type=domain") == {"evil.example.com"}
    r = client.get("/api/v1/explore", params={"q": "", "mode": "threats"}, key=world.alice)
    assert r.json()["results"] == [{"name": "zeus", "category": "malware", "indicators": 3}]
    r = client.get("/api/v1/explore", params={"q": "valu = x"}, key=world.alice)
    assert r.status_code == 422 and r.json()["detail"]["position"] == 0


def test_analyze_runs_providers_and_stores_for_writers(client: Client, world: World) -> None:
    r = client.post("/api/v1/analyze", json={"value": "evil.example.com"}, key=world.alice)
    assert r.status_code == 202
    qid = r.json()["qid"]
    done = wait(client, qid, world.alice)
    assert done["status"] == "done"
    data = done["data"]
    assert data["stored"] is True and data["tlp"] == "clear"
    assert data["providers"]["fakerep"]["verdict"] == "malicious"
    assert data["providers"]["greenonly"]["verdict"] == "malicious"
    assert data["probe"] is None
    # Someone else's qid does not exist for them.
    assert client.get(f"/api/v1/analyze?qid={qid}", key=world.bob).status_code == 404
    history = client.get("/api/indicators/evil.example.com/history", key=world.alice).json()
    assert "fakerep" in history["indicators"][0]["providers"]
    # The administrator sees the secret enclave's TLP:AMBER: the green-only provider is withheld.
    data = wait(
        client,
        client.post("/api/v1/analyze", json={"value": "evil.example.com"}, key=world.admin).json()[
            "qid"
        ],
        world.admin,
    )["data"]
    assert data["tlp"] == "amber" and "greenonly" in data["withheld"]
    assert "greenonly" not in data["providers"]


def test_read_only_callers_get_answers_without_storing(client: Client, world: World) -> None:
    qid = client.post("/api/v1/analyze", json={"value": "198.51.100.7"}, key=world.bob).json()[
        "qid"
    ]
    data = wait(client, qid, world.bob)["data"]
    assert data["stored"] is False and data["providers"]["fakerep"]["verdict"] == "benign"
    history = client.get("/api/indicators/198.51.100.7/history", key=world.admin).json()
    assert history["indicators"][0]["providers"] == {}


def test_analyze_refuses_non_indicators(client: Client, world: World) -> None:
    r = client.post("/api/v1/analyze", json={"value": "not an indicator at all"}, key=world.alice)
    assert r.status_code == 422
    r = client.post("/api/v1/analyze", json={"value": "x.example.com", "probe": 2}, key=world.alice)
    assert r.status_code == 422


def test_probe_through_the_api(client: Client, world: World, target: EmulatorServer) -> None:
    url = f"http://local.example.net:{target.port}/r1"
    qid = client.post("/api/v1/analyze", json={"value": url, "probe": 1}, key=world.alice).json()[
        "qid"
    ]
    probe = wait(client, qid, world.alice)["data"]["probe"]
    assert probe["http"]["status"] == 200 and probe["http"]["title"] == "Probe & Target"
    assert len(probe["redirects"]) == 1
    # A stored indicator's probe is stored as provider "probe" (here: it does not resolve).
    qid = client.post(
        "/api/v1/analyze", json={"value": "evil.example.com", "probe": 1}, key=world.alice
    ).json()["qid"]
    probe = wait(client, qid, world.alice)["data"]["probe"]
    assert "does not resolve" in probe["refused"]
    sheet = client.get("/api/v1/info?indicator=evil.example.com", key=world.alice).json()
    props = sheet["indicators"][0]["properties"]
    assert "does not resolve" in props["probe"]["attributes"]["refused"]
    assert sheet["indicators"][0]["probed_at"] is not None
