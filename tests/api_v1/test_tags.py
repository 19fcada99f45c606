"""``/api/v1/tags/{name}/add`` and ``/remove``: tagging by query in one enclave."""

from __future__ import annotations

from spoorhound.services import audit
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client
from tests.api_v1.conftest import Keys


def _add(client: Client, key: str, enclave: str, value: str) -> None:
    r = client.post("/api/v1/indicators", key=key, json={"enclave": enclave, "value": value})
    assert r.status_code == 201, r.text


def test_add_and_remove_by_query(store: Store, client: Client, keys: Keys) -> None:
    for v in ("a.example.com", "b.example.com", "198.51.100.1"):
        _add(client, keys.writer, "red-team", v)
    _add(client, keys.outsider, "blue-team", "c.example.com")  # not in red-team: untouched
    body = {"enclave": "red-team", "query": "type = domain"}
    r = client.post("/api/v1/tags/Actor:APT28/add", key=keys.writer, json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"tag": "actor:APT28", "enclave": "red-team", "count": 2}
    again = client.post("/api/v1/tags/Actor:APT28/add", key=keys.writer, json=body)
    assert again.json()["count"] == 0  # already tagged
    found = client.get(
        "/api/v1/indicators", key=keys.reader, params={"q": "tag = actor:apt28"}
    ).json()["indicators"]
    assert sorted(i["value"] for i in found) == ["a.example.com", "b.example.com"]
    everything = {"enclave": "blue-team", "query": ""}
    assert (
        client.post("/api/v1/tags/x/add", key=keys.outsider, json=everything).json()["count"] == 1
    )
    r = client.post(
        "/api/v1/tags/actor:APT28/remove", key=keys.writer,
        json={"enclave": "red-team", "query": "value = a.example.com"},
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["count"] == 1
    actions = [e["action"] for e in audit.recent(store)]
    assert "tag.add" in actions and "tag.remove" in actions


def test_tagging_needs_write_permission(client: Client, keys: Keys) -> None:
    body = {"enclave": "red-team", "query": ""}
    assert client.post("/api/v1/tags/x/add", json=body).status_code == 401
    assert client.post("/api/v1/tags/x/add", key=keys.reader, json=body).status_code == 403
    assert (
        client.post("/api/v1/tags/x/remove", key=keys.writer_read_key, json=body).status_code == 403
    )
    r = client.post("/api/v1/tags/x/add", key=keys.outsider, json=body)
    assert r.status_code == 404 and r.json()["detail"] == "enclave 'red-team' not found"


def test_tagging_validation(client: Client, keys: Keys) -> None:
    r = client.post(
        "/api/v1/tags/x/add", key=keys.writer, json={"enclave": "red-team", "query": "type = "}
    )
    assert r.status_code == 422 and "expected a value" in r.json()["detail"]
    r = client.post("/api/v1/tags/x/add", key=keys.writer, json={"enclave": "red-team"})
    assert r.status_code == 422 and "query" in r.text
    r = client.post(
        "/api/v1/tags/%20/add", key=keys.writer, json={"enclave": "red-team", "query": ""}
    )
    assert r.status_code == 422
