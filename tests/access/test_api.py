"""The access-control API in-process: authentication, keys, enclaves, audit."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Depends

from spoorhound.api.auth import require_enclave, require_role
from spoorhound.services import access
from spoorhound.services import enclaves as enclave_service
from spoorhound.storage import schema
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client, build_app


def test_health_is_open_and_every_admin_route_needs_a_key(client: Client) -> None:
    assert client.get("/health").status_code == 200
    r = client.get("/api/v1/users/me")
    assert r.status_code == 401
    assert r.json() == {
        "detail": "missing API key: send 'Authorization: Bearer sk_…' or 'X-API-Key: sk_…'"
    }
    assert r.headers["www-authenticate"].startswith("Bearer")
    spec = client.get("/api/openapi.json").json()
    v1 = [
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method in ops
    ]
    assert len(v1) >= 15
    for method, path in v1:
        path = path.replace("{key_id}", "1").replace("{", "").replace("}", "")
        got = client.request(method, path, json={})
        assert got.status_code == 401, (method, path, got.status_code)


def test_bearer_and_x_api_key_headers(client: Client, admin_key: str) -> None:
    assert client.get("/api/v1/users/me", key=admin_key).json()["name"] == "admin"
    r = client.get("/api/v1/users/me", headers={"X-API-Key": admin_key})
    assert r.status_code == 200 and r.json()["admin"] is True
    r = client.get("/api/v1/users/me", headers={"Authorization": f"bearer {admin_key}"})
    assert r.status_code == 200
    r = client.get("/api/v1/users/me", key=admin_key[:-1] + "?")
    assert r.status_code == 401 and r.json() == {"detail": "invalid API key"}


def test_key_is_returned_once_and_lists_never_show_it(
    client: Client, admin_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert client.post("/api/v1/users", key=admin_key, json={"name": "alice"}).status_code == 201
    r = client.post(
        "/api/v1/keys", key=admin_key, json={"user": "alice", "scope": "write", "name": "ci"}
    )
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    created = r.json()
    key = created["key"]
    assert (
        key.startswith(f"sk_{created['prefix']}_") and "cannot be shown again" in created["warning"]
    )
    me = client.get("/api/v1/users/me", key=key).json()
    assert me["name"] == "alice" and me["key_scope"] == "write" and me["enclaves"] == {}
    for path in ("/api/v1/keys?all=true", f"/api/v1/keys/{created['id']}", "/api/v1/audit"):
        body = client.get(path, key=admin_key).text
        assert key not in body and key.split("_", 2)[2] not in body
    assert key.split("_", 2)[2] not in caplog.text


def test_revoked_expired_and_disabled_keys_are_refused(
    store: Store, client: Client, admin_key: str
) -> None:
    access.create_user(store, "alice", actor="t")
    k1, k2, k3 = (access.create_key(store, "alice", actor="t") for _ in range(3))
    r = client.request("DELETE", f"/api/v1/keys/{k1.id}", key=k1.key)
    assert r.status_code == 204  # anyone may revoke their own key, even a read key
    assert client.get("/api/v1/users/me", key=k1.key).json() == {"detail": "API key revoked"}
    with store.write() as conn:
        conn.execute(
            schema.api_key.update().where(schema.api_key.c.id == k2.id).values(expires_at=1)
        )
    assert client.get("/api/v1/users/me", key=k2.key).json() == {"detail": "API key expired"}
    r = client.request("PATCH", "/api/v1/users/alice", key=admin_key, json={"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    r = client.get("/api/v1/users/me", key=k3.key)
    assert r.status_code == 401 and r.json() == {"detail": "user disabled"}


def test_read_key_cannot_write(store: Store, client: Client, admin_key: str) -> None:
    read_key = access.create_key(store, "admin", scope="read", actor="t").key
    assert client.get("/api/v1/users", key=read_key).status_code == 200
    r = client.post("/api/v1/enclaves", key=read_key, json={"name": "x"})
    assert r.status_code == 403 and "read key" in r.json()["detail"]
    r = client.post("/api/v1/keys", key=read_key, json={"scope": "write"})
    assert r.status_code == 403 and r.json()["detail"] == "a read key cannot create a write key"
    assert client.post("/api/v1/keys", key=read_key, json={"scope": "read"}).status_code == 201


def test_restricted_key_sees_only_its_enclaves_and_delegates_no_more(
    store: Store, client: Client, admin_key: str
) -> None:
    for name in ("a", "b"):
        enclave_service.create_enclave(store, name, actor="t")
    access.create_user(store, "alice", actor="t")
    access.set_member(store, "a", "alice", "admin", actor="t")
    access.set_member(store, "b", "alice", "admin", actor="t")
    narrow = access.create_key(store, "alice", scope="write", enclaves=["a"], actor="t").key
    assert client.get("/api/v1/enclaves/a/members", key=narrow).status_code == 200
    r = client.get("/api/v1/enclaves/b/members", key=narrow)
    assert r.status_code == 404 and r.json() == {"detail": "enclave 'b' not found"}
    assert [e["name"] for e in client.get("/api/v1/enclaves", key=narrow).json()] == ["a"]
    r = client.post("/api/v1/keys", key=narrow, json={"scope": "write"})
    assert r.status_code == 201 and r.json()["enclaves"] == ["a"]
    r = client.post("/api/v1/keys", key=narrow, json={"enclaves": ["b"]})
    assert r.status_code == 404


def test_enclave_admin_manages_members_and_everything_is_audited(
    store: Store, client: Client, admin_key: str
) -> None:
    r = client.post("/api/v1/enclaves", key=admin_key, json={"name": "team", "description": "d"})
    assert r.status_code == 201 and r.json()["permission"] == "admin"
    assert client.post("/api/v1/enclaves", key=admin_key, json={"name": "team"}).status_code == 409
    for name in ("lead", "bob"):
        assert client.post("/api/v1/users", key=admin_key, json={"name": name}).status_code == 201
    r = client.request(
        "PUT", "/api/v1/enclaves/team/members/lead", key=admin_key, json={"permission": "admin"}
    )
    assert r.status_code == 200 and r.json()["permission"] == "admin"
    lead = client.post(
        "/api/v1/keys", key=admin_key, json={"user": "lead", "scope": "write"}
    ).json()["key"]
    r = client.request(
        "PUT", "/api/v1/enclaves/team/members/bob", key=lead, json={"permission": "write"}
    )
    assert r.status_code == 200
    r = client.request("PUT", "/api/v1/enclaves/team/members/ghost", key=lead, json={})
    assert r.status_code == 404
    members = client.get("/api/v1/enclaves/team/members", key=lead).json()
    assert {(m["user"], m["permission"]) for m in members} == {("lead", "admin"), ("bob", "write")}
    assert (
        client.request("DELETE", "/api/v1/enclaves/team/members/bob", key=lead).status_code == 204
    )
    assert (
        client.request("DELETE", "/api/v1/enclaves/team/members/bob", key=lead).status_code == 404
    )
    assert client.get("/api/v1/audit", key=lead).status_code == 403
    audit = client.get("/api/v1/audit?limit=50", key=admin_key).json()
    seen = [(a["actor"], a["action"], a["target"]) for a in reversed(audit)]
    assert ("admin", "enclave.create", "enclave:team") in seen
    assert ("lead", "enclave.grant", "enclave:team") in seen
    assert ("lead", "enclave.revoke", "enclave:team") in seen
    assert sum(a == "key.create" for _, a, _ in seen) == 2  # the first-start key and lead's


def test_user_admin_errors(client: Client, admin_key: str) -> None:
    r = client.request("PATCH", "/api/v1/users/admin", key=admin_key, json={"role": "analyst"})
    assert r.status_code == 409 and "last active admin" in r.json()["detail"]
    assert client.post("/api/v1/users", key=admin_key, json={"name": "admin"}).status_code == 409
    assert (
        client.post("/api/v1/users", key=admin_key, json={"name": "x", "role": "root"}).status_code
        == 422
    )
    assert (
        client.post("/api/v1/users", key=admin_key, json={"name": "x", "bogus": 1}).status_code
        == 422
    )
    assert client.get("/api/v1/users/nobody", key=admin_key).status_code == 404


def test_no_secret_reaches_the_database_through_the_api(
    store: Store, client: Client, admin_key: str
) -> None:
    key = client.post("/api/v1/keys", key=admin_key, json={"scope": "read"}).json()["key"]
    secret = key.split("_", 2)[2]
    with store.read() as conn:
        dump = repr([list(conn.execute(sa.select(t))) for t in schema.metadata.sorted_tables])
    assert secret not in dump and admin_key.split("_", 2)[2] not in dump


def test_dependencies_for_other_routers(store: Store, admin_key: str) -> None:
    router = APIRouter()

    @router.get("/api/v1/probe/analysts", dependencies=[Depends(require_role("admin", "analyst"))])
    def analysts() -> dict[str, bool]:
        return {"ok": True}

    @router.post(
        "/api/v1/probe/{enclave}/things",
        dependencies=[Depends(require_enclave("enclave", "write"))],
    )
    def write_thing(enclave: str) -> dict[str, str]:
        return {"enclave": enclave}

    app = build_app(store)
    app.include_router(router)
    enclave_service.create_enclave(store, "a", actor="t")
    access.create_user(store, "ro", "read-only", actor="t")
    access.set_member(store, "a", "ro", "write", actor="t")
    ro = access.create_key(store, "ro", actor="t").key
    c = Client(app)
    try:
        assert c.get("/api/v1/probe/analysts", key=admin_key).status_code == 200
        r = c.get("/api/v1/probe/analysts", key=ro)
        assert (
            r.status_code == 403
            and r.json()["detail"] == "needs role admin or analyst; you are read-only"
        )
        assert c.post("/api/v1/probe/a/things", key=admin_key).json() == {"enclave": "a"}
        r = c.post("/api/v1/probe/a/things", key=ro)
        assert r.status_code == 403 and "this key has read" in r.json()["detail"]
        assert c.post("/api/v1/probe/zz/things", key=ro).status_code == 404
        assert c.post("/api/v1/probe/a/things").status_code == 401
    finally:
        c.close()
