"""The authorization matrix over the analysis endpoints, and explore's listings per key."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client
from tests.access.matrix import TARGET, Endpoint, Need, Principal, build_principals, check_matrix
from tests.analysis.conftest import build
from tests.emulators.dnsserver import DnsServer

VALUE = "matrix-target.example.com"


@pytest.fixture
def setup(store: Store, tmp_path: Path, dns: DnsServer) -> Iterator[tuple[Client, list[Principal]]]:
    principals = build_principals(store)
    f = tmp_path / "alpha.txt"
    f.write_text(f"{VALUE}\n")
    ingest(store, f, IngestOptions(enclave=TARGET, source="matrix", tags=("malware:m",), tlp="red"))
    app: FastAPI = build(store, dns.port)
    client = Client(app)
    yield client, principals
    client.close()
    app.state.analysis.close()


def test_info_and_analyze_matrix(store: Store, setup: tuple[Client, list[Principal]]) -> None:
    client, principals = setup
    endpoints = [
        Endpoint("GET", f"/api/v1/info?indicator={VALUE}", Need.enclave("read")),
        Endpoint("GET", f"/api/info.php?indicator={VALUE}", Need.enclave("read")),
        Endpoint("GET", "/api/v1/explore?q=type%3Ddomain", Need.any()),
        Endpoint("POST", "/api/v1/analyze", Need.any(), body={"value": VALUE}),
    ]
    assert check_matrix(store, client, endpoints, principals) == []


def test_explore_lists_the_indicator_only_to_readers_of_its_enclave(
    setup: tuple[Client, list[Principal]],
) -> None:
    client, principals = setup
    wrong = []
    for p in principals:
        readable = p.effective() != "none"
        v1 = client.get("/api/v1/explore", params={"q": "threat=m"}, key=p.key).json()
        pd = client.get("/api/explore.php", params={"q": f"ioc={VALUE}", "key": p.key}).json()
        listed = (
            [r["value"] for r in v1["results"]] == [VALUE],
            [r["indicator"] for r in pd["results"]] == [VALUE],
        )
        if listed != (readable, readable):
            wrong.append(f"{p.label()}: listed {listed}, readable {readable}")
    assert wrong == []


def test_a_red_indicator_is_never_probed(setup: tuple[Client, list[Principal]]) -> None:
    client, principals = setup
    admin = next(p for p in principals if p.role == "admin" and p.restriction == "none")
    qid = client.post("/api/v1/analyze", json={"value": VALUE, "probe": 1}, key=admin.key).json()
    deadline = time.monotonic() + 20
    while (got := client.get(f"/api/v1/analyze?qid={qid['qid']}", key=admin.key).json())[
        "status"
    ] == "processing":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert got["data"]["tlp"] == "red"
    assert got["data"]["probe"] == {"refused": "TLP:RED indicators are never probed"}
