"""Pulsedive's paths and shapes, exercised with the PyPI ``pulsedive`` client.

The client (0.1.0) has no base-URL option: it formats every request from the module
constant ``pulsedive.client.PULSEDIVE_URL``, which the test points at the server
(uvicorn in a thread). It has no ``explore`` call (it predates explore.php), so
explore.php and IntelOwl's plain ``value=`` POST are exercised with raw requests.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import pulsedive
import pulsedive.client
import pytest
import requests
from fastapi import FastAPI

from tests.analysis.conftest import World
from tests.emulators.server import EmulatorServer


@pytest.fixture
def server(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    with EmulatorServer(app) as srv:
        monkeypatch.setattr(pulsedive.client, "PULSEDIVE_URL", f"{srv.base_url}/api")
        yield srv


def results(pud: pulsedive.Pulsedive, qid: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        got: dict[str, Any] = pud.analyze.results(qid)
        if got["status"] != "processing":
            return got
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_indicator_info_in_pulsedive_shape(server: EmulatorServer, world: World) -> None:
    pud = pulsedive.Pulsedive(world.alice)
    ind = pud.indicator(value="evil.example.com")
    for field in (
        "iid", "indicator", "type", "risk", "risk_recommended", "manualrisk", "retired",
        "stamp_added", "stamp_updated", "stamp_seen", "stamp_probed", "recent",
        "submissions", "umbrella_rank", "riskfactors", "redirects", "threats", "feeds",
        "comments", "attributes", "properties",
    ):  # fmt: skip
        assert field in ind, field
    assert ind["indicator"] == "evil.example.com" and ind["type"] == "domain"
    assert ind["risk"] == "unknown" and ind["riskfactors"] == []
    assert [t["name"] for t in ind["threats"]] == ["zeus"]
    assert [(f["name"], f["organization"]) for f in ind["feeds"]] == [("feed-a", "shared")]
    assert len(ind["stamp_seen"]) == len("2024-06-01 00:00:00")
    assert pud.indicator(iid=ind["iid"])["indicator"] == "evil.example.com"
    ip = pud.indicator(value="198.51.100.7")
    assert ip["type"] == "ip"
    # The key went in the query string, as Pulsedive clients send it.
    assert any("key=sk_" in q for _, p, q in server.requests if p == "/api/info.php")


def test_not_found_and_bad_keys_answer_like_pulsedive(server: EmulatorServer, world: World) -> None:
    pud = pulsedive.Pulsedive(world.alice)
    with pytest.raises(requests.HTTPError):
        pud.indicator(value="secret-only.example.org")
    for value in ("secret-only.example.org", "never.example.org"):
        r = pud.indicator(value=value, raw=True)
        assert r.status_code == 404 and r.json() == {"error": "Indicator not found."}
    r = pulsedive.Pulsedive(world.alice[:-2] + "xx").indicator(value="evil.example.com", raw=True)
    assert r.status_code == 401 and r.json() == {"error": "Invalid API key."}
    r = pulsedive.Pulsedive().indicator(value="evil.example.com", raw=True)
    assert r.status_code == 401 and r.json() == {"error": "API key required."}
    r = requests.get(
        f"{server.base_url}/api/info.php",
        params={"indicator": "evil.example.com", "pretty": 1, "key": world.alice},
        timeout=10,
    )
    assert r.status_code == 200 and r.text.startswith("{\n  ")


def test_analyze_with_the_client(server: EmulatorServer, world: World) -> None:
    pud = pulsedive.Pulsedive(world.alice)
    queued = pud.analyze("evil.example.com")  # sends ioc=<base64>
    assert queued["success"] == "Added request to queue." and isinstance(queued["qid"], int)
    done = results(pud, queued["qid"])
    assert done["status"] == "done" and done["qid"] == queued["qid"]
    data = done["data"]
    assert data["indicator"] == "evil.example.com" and data["risk"] == "high"
    assert data["properties"]["fakerep"] == {} and data["riskfactors"] == []
    assert [t["name"] for t in data["threats"]] == ["testbot"]
    # Another caller cannot read it.
    r = pulsedive.Pulsedive(world.bob).analyze.results(queued["qid"], raw=True)
    assert r.status_code == 404 and r.json() == {"error": "Request not found."}


def test_intelowl_style_plain_value_with_probe(
    server: EmulatorServer, world: World, target: EmulatorServer
) -> None:
    url = f"http://local.example.net:{target.port}/r1"
    r = requests.post(
        f"{server.base_url}/api/analyze.php",
        data=f"value={url}&probe=1&key={world.alice}",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    done = results(pulsedive.Pulsedive(world.alice), r.json()["qid"])
    props = done["data"]["properties"]
    assert props["http"]["++code"] == 200 and props["http"]["++title"] == "Probe & Target"
    assert props["dns"] == {"A": ["127.0.0.1"]}
    assert done["data"]["redirects"]["to"] == [{"iid": None, "indicator": "/"}]
    bad = requests.post(
        f"{server.base_url}/api/analyze.php",
        data={"ioc": base64.b64encode(b"no such thing").decode(), "key": world.alice},
        timeout=10,
    )
    assert bad.status_code == 400 and bad.json() == {"error": "Invalid indicator value."}


def test_explore_php(server: EmulatorServer, world: World) -> None:
    def explore(key: str, q: str) -> requests.Response:
        return requests.get(
            f"{server.base_url}/api/explore.php", params={"q": q, "limit": 10, "key": key},
            timeout=10,
        )  # fmt: skip

    r = explore(world.alice, "ioc=*.example.com and type=domain")
    assert r.status_code == 200
    rows = r.json()["results"]
    assert {x["indicator"] for x in rows} == {"evil.example.com"}
    assert set(rows[0]) >= {"iid", "indicator", "type", "risk", "stamp_seen"}
    assert explore(world.alice, "ioc=secret-only.example.org").json() == {"results": []}
    assert explore(world.admin, "ioc=secret-only.example.org").json()["results"]
    r = explore(world.alice, "attribute=port")
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid query:")
