"""``/api/v1/searches``: saved searches per user, run with the running key's scope."""

from __future__ import annotations

from spoorhound.services import access, audit
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client
from tests.api_v1.conftest import Keys


def _add(client: Client, key: str, enclave: str, value: str, tlp: str | None = None) -> None:
    body = {"enclave": enclave, "value": value, "tlp": tlp}
    r = client.post("/api/v1/indicators", key=key, json=body)
    assert r.status_code == 201, r.text


def test_save_list_get_run_delete(store: Store, client: Client, keys: Keys) -> None:
    _add(client, keys.writer, "red-team", "a.example.com", "red")
    _add(client, keys.writer, "red-team", "198.51.100.9")
    _add(client, keys.outsider, "blue-team", "b.example.com")
    body = {"name": "domains", "query": "type = domain"}
    r = client.post("/api/v1/searches", key=keys.writer, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["owner"] == "ana" and r.json()["query"] == "type = domain"
    assert client.post("/api/v1/searches", key=keys.writer, json=body).status_code == 409
    replaced = {**body, "query": "type = domain or type = ipv4", "replace": True}
    assert client.post("/api/v1/searches", key=keys.writer, json=replaced).status_code == 201
    listed = client.get("/api/v1/searches", key=keys.writer).json()
    assert [(s["name"], s["query"]) for s in listed] == [("domains", replaced["query"])]
    got = client.get("/api/v1/searches/domains", key=keys.writer).json()
    assert got["query"] == replaced["query"]
    run = client.get("/api/v1/searches/domains/run", key=keys.writer).json()
    assert {i["value"] for i in run["indicators"]} == {"a.example.com", "198.51.100.9"}
    assert run["cursor"] is None and run["name"] == "domains"
    page = client.get("/api/v1/searches/domains/run", key=keys.writer, params={"limit": 1}).json()
    assert len(page["indicators"]) == 1 and page["cursor"]
    rest = client.get(
        "/api/v1/searches/domains/run", key=keys.writer, params={"cursor": page["cursor"]}
    ).json()
    assert len(rest["indicators"]) == 1 and rest["cursor"] is None
    assert client.request("DELETE", "/api/v1/searches/domains", key=keys.writer).status_code == 204
    assert client.request("DELETE", "/api/v1/searches/domains", key=keys.writer).status_code == 404
    assert client.get("/api/v1/searches/domains", key=keys.writer).status_code == 404
    actions = [(e["action"], e["actor"]) for e in audit.recent(store)]
    assert ("saved_search.save", "ana") in actions and ("saved_search.delete", "ana") in actions


def test_searches_belong_to_their_owner(store: Store, client: Client, keys: Keys) -> None:
    _add(client, keys.writer, "red-team", "a.example.com")
    body = {"name": "mine", "query": "type = domain"}
    assert client.post("/api/v1/searches", key=keys.writer, json=body).status_code == 201
    # eve (blue-team) neither sees nor runs nor deletes ana's search
    assert client.get("/api/v1/searches", key=keys.outsider).json() == []
    for method, path in (
        ("GET", "/api/v1/searches/mine"),
        ("GET", "/api/v1/searches/mine/run"),
        ("DELETE", "/api/v1/searches/mine"),
    ):
        assert client.request(method, path, key=keys.outsider).status_code == 404
    # eve's own search of the same name is a different one, and runs in her enclaves only
    assert client.post("/api/v1/searches", key=keys.outsider, json=body).status_code == 201
    run = client.get("/api/v1/searches/mine/run", key=keys.outsider).json()
    assert run["indicators"] == []
    assert client.get("/api/v1/searches/mine", key=keys.writer).json()["owner"] == "ana"


def test_a_run_uses_the_running_keys_scope(store: Store, client: Client, keys: Keys) -> None:
    _add(client, keys.writer, "red-team", "a.example.com")
    _add(client, keys.outsider, "blue-team", "b.example.com")
    access.set_member(store, "blue-team", "ana", "read", actor="test")
    wide = access.create_key(store, "ana", scope="write", actor="test").key
    narrow = access.create_key(store, "ana", enclaves=["red-team"], actor="test").key
    body = {"name": "all domains", "query": "type = domain"}
    assert client.post("/api/v1/searches", key=wide, json=body).status_code == 201
    both = client.get("/api/v1/searches/all%20domains/run", key=wide).json()["indicators"]
    assert {i["value"] for i in both} == {"a.example.com", "b.example.com"}
    one = client.get("/api/v1/searches/all%20domains/run", key=narrow).json()["indicators"]
    assert [i["value"] for i in one] == ["a.example.com"]


def test_saving_needs_a_write_key_and_a_valid_query(client: Client, keys: Keys) -> None:
    body = {"name": "x", "query": "type = domain"}
    r = client.post("/api/v1/searches", key=keys.writer_read_key, json=body)
    assert r.status_code == 403
    assert client.get("/api/v1/searches", key=keys.writer_read_key).status_code == 200
    bad = client.post("/api/v1/searches", key=keys.writer, json={"name": "x", "query": "type = ("})
    assert bad.status_code == 422 and {"message", "position"} <= bad.json()["detail"].keys()
    slash = client.post("/api/v1/searches", key=keys.writer, json={"name": "a/b", "query": "tag=x"})
    assert slash.status_code == 422
    assert client.get("/api/v1/searches").status_code == 401
