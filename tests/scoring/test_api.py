"""The score endpoints: what a caller sees, who may change it, and that nothing leaks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spoorhound.api.app import create_app
from spoorhound.services import access, enclaves, scoring
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.services.jobs import now
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client


@pytest.fixture
def env(
    store: Store, tmp_path: Path, scoring_data_dir: Path
) -> Iterator[tuple[Client, dict[str, str]]]:
    admin = access.ensure_admin(store)
    assert admin
    for name in ("red-team", "blue-team"):
        enclaves.create_enclave(store, name, actor="test")
    for user, enclave, perm in (
        ("ana", "red-team", "write"),
        ("rob", "red-team", "read"),
        ("eve", "blue-team", "write"),
    ):
        access.create_user(store, user, "analyst", actor="test")
        access.set_member(store, enclave, user, perm, actor="test")  # type: ignore[arg-type]
    keys = {"admin": admin}
    for user in ("ana", "rob", "eve"):
        keys[user] = access.create_key(store, user, scope="write", actor="test").key
    scorer = scoring.Scorer.load(store, scoring_data_dir)
    for enclave, body, tlp in (
        ("red-team", "c2.bad-actor-zq.com\n", "red"),
        ("blue-team", "shared.bad-actor-zq.com\n", None),
        ("red-team", "shared.bad-actor-zq.com\n", "red"),
    ):
        since = now()
        f = tmp_path / "in.txt"
        f.write_text(body)
        assert (
            ingest(
                store, f, IngestOptions(enclave=enclave, source=f"feed-{enclave}", tlp=tlp)
            ).status
            == "done"
        )
        scoring.rescore_since(store, enclave=enclave, since=since, scorer=scorer)
    app = create_app(store)
    app.state.scorer = scorer
    c = Client(app)
    yield c, keys
    c.close()


def test_a_reader_sees_the_score_with_factors(env: tuple[Client, dict[str, str]]) -> None:
    c, k = env
    r = c.get("/api/v1/indicators/c2.bad-actor-zq.com/score", key=k["rob"])
    assert r.status_code == 200, r.text
    s = r.json()["score"]
    assert s["risk"] in ("low", "medium") and s["enclave"] == "red-team"
    assert any("feed-red-team" in f["text"] for f in s["risk_factors"])
    detail = c.get("/api/v1/indicators/c2.bad-actor-zq.com", key=k["rob"]).json()
    assert detail["indicators"][0]["risk_detail"]["score"] == s["score"]


def test_outsiders_get_404_and_never_see_red_evidence(env: tuple[Client, dict[str, str]]) -> None:
    c, k = env
    assert c.get("/api/v1/indicators/c2.bad-actor-zq.com/score", key=k["eve"]).status_code == 404
    shared = c.get("/api/v1/indicators/shared.bad-actor-zq.com/score", key=k["eve"]).json()["score"]
    assert shared["enclave"] == "blue-team"
    assert not any("red-team" in f["text"] for f in shared["risk_factors"])
    # A verdict in red-team moves red's score, never blue's.
    r = c.post(
        "/api/v1/indicators/shared.bad-actor-zq.com/verdicts",
        key=k["ana"],
        json={"verdict": "malicious", "enclave": "red-team", "comment": "seen in IR"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["score"]["score"] >= 90
    again = c.get("/api/v1/indicators/shared.bad-actor-zq.com/score", key=k["eve"]).json()["score"]
    assert again == shared
    assert c.get("/api/v1/indicators/shared.bad-actor-zq.com/verdicts", key=k["eve"]).json() == []


def test_writes_need_write_permission(env: tuple[Client, dict[str, str]]) -> None:
    c, k = env
    body = {"verdict": "benign", "enclave": "red-team"}
    assert (
        c.post(
            "/api/v1/indicators/c2.bad-actor-zq.com/verdicts", key=k["rob"], json=body
        ).status_code
        == 403
    )
    assert c.post("/api/v1/indicators/c2.bad-actor-zq.com/verdicts", json=body).status_code == 401
    assert (
        c.request(
            "PUT",
            "/api/v1/indicators/c2.bad-actor-zq.com/pin",
            key=k["eve"],
            json={"risk": "none", "enclave": "red-team"},
        ).status_code
        == 404
    )
    fp = {"verdict": "false_positive", "enclave": "red-team", "safelist": "ours"}
    assert (
        c.post("/api/v1/indicators/c2.bad-actor-zq.com/verdicts", key=k["ana"], json=fp).status_code
        == 403
    )


def test_pin_unpin_and_sighting_round_trip(env: tuple[Client, dict[str, str]]) -> None:
    c, k = env
    path = "/api/v1/indicators/c2.bad-actor-zq.com"
    r = c.request(
        "PUT",
        f"{path}/pin",
        key=k["ana"],
        json={"risk": "critical", "enclave": "red-team", "comment": "case 7"},
    )
    assert r.status_code == 200, r.text
    s = r.json()["score"]
    assert (
        s["risk"] == "critical"
        and s["pinned"]["by"] == "ana"
        and s["risk_recommended"] != "critical"
    )
    r = c.post(
        f"{path}/sightings", key=k["ana"], json={"enclave": "red-team", "location": "proxy-3"}
    )
    assert r.status_code == 201
    assert r.json()["score"]["risk"] == "critical"  # the pin holds
    r = c.request("DELETE", f"{path}/pin?enclave=red-team", key=k["ana"])
    assert r.status_code == 200
    s = r.json()["score"]
    assert s["pinned"] is None and any("sighted" in f["text"] for f in s["risk_factors"])
    assert c.request("DELETE", f"{path}/pin?enclave=red-team", key=k["ana"]).status_code == 404


def test_sources_are_scoped_and_reliability_is_admin_only(
    env: tuple[Client, dict[str, str]],
) -> None:
    c, k = env
    names = {s["name"] for s in c.get("/api/v1/sources", key=k["eve"]).json()}
    assert names == {"feed-blue-team"}
    assert (
        c.request(
            "PUT", "/api/v1/sources/feed-red-team", key=k["ana"], json={"reliability": 5}
        ).status_code
        == 403
    )
    r = c.request("PUT", "/api/v1/sources/feed-red-team", key=k["admin"], json={"reliability": 5})
    assert r.status_code == 200 and r.json()["reliability"] == 5
    s = c.get("/api/v1/indicators/c2.bad-actor-zq.com/score", key=k["rob"]).json()["score"]
    assert any("reliability 5/5" in f["text"] for f in s["risk_factors"])


def test_info_and_pulsedive_info_carry_the_factors(env: tuple[Client, dict[str, str]]) -> None:
    c, k = env
    c.request(
        "PUT",
        "/api/v1/indicators/c2.bad-actor-zq.com/pin",
        key=k["ana"],
        json={"risk": "high", "enclave": "red-team"},
    )
    r = c.get("/api/v1/info?indicator=c2.bad-actor-zq.com", key=k["rob"])
    assert r.status_code == 200, r.text
    body = r.json()
    sheet = body["indicators"][0]
    assert sheet["risk"] == "high" and sheet["pinned"]["by"] == "ana"
    assert any("feed-red-team" in f["text"] for f in sheet["risk_factors"])
    pd = c.get(f"/api/info.php?indicator=c2.bad-actor-zq.com&key={k['rob']}").json()
    assert pd["risk"] == "high" and pd["manualrisk"] == 1
    assert pd["risk_recommended"] != "high"
    assert any("feed-red-team" in f["description"] for f in pd["riskfactors"])
