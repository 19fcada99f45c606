"""The authorization matrix over the access-control endpoints (users, keys, enclaves, audit)."""

from __future__ import annotations

from collections.abc import Mapping

from spoorhound.services import access
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client
from tests.access.matrix import (
    ACTOR,
    TARGET,
    Endpoint,
    Need,
    Principal,
    build_principals,
    check_matrix,
    fresh,
)


def _new_name(store: Store, p: Principal | None) -> Mapping[str, str]:
    return {"new": fresh("new")}


def _victim(store: Store, p: Principal | None) -> Mapping[str, str]:
    name = fresh("victim")
    access.create_user(store, name, "analyst", actor=ACTOR)
    return {"victim": name}


def _member(store: Store, p: Principal | None) -> Mapping[str, str]:
    victim = _victim(store, p)
    access.set_member(store, TARGET, victim["victim"], "read", actor=ACTOR)
    return victim


def _victim_key(store: Store, p: Principal | None) -> Mapping[str, str]:
    victim = _victim(store, p)
    return {"key_id": str(access.create_key(store, victim["victim"], actor=ACTOR).id)}


def _own_key(store: Store, p: Principal | None) -> Mapping[str, str]:
    if p is None:
        return _victim_key(store, p)
    return {"key_id": str(access.create_key(store, p.user, actor=ACTOR).id)}


def _global_admin_write(p: Principal) -> bool:
    return p.role == "admin" and p.restriction == "none" and p.scope == "write"


def _can_delegate(p: Principal) -> bool:
    # A key restricted to an enclave the user has left has nothing to pass on.
    return not (p.restriction == "target" and p.effective() == "none")


ENDPOINTS = [
    Endpoint("GET", "/api/v1/users/me", Need.any()),
    Endpoint("GET", "/api/v1/users", Need.admin()),
    Endpoint(
        "POST",
        "/api/v1/users",
        Need.admin(write=True),
        body=lambda v: {"name": v["new"], "role": "analyst"},
        prepare=_new_name,
    ),
    Endpoint("GET", "/api/v1/users/{user}", Need.any()),
    Endpoint("GET", "/api/v1/users/{victim}", Need.admin(), prepare=_victim),
    Endpoint(
        "PATCH",
        "/api/v1/users/{victim}",
        Need.admin(write=True),
        body={"role": "read-only"},
        prepare=_victim,
    ),
    Endpoint("GET", "/api/v1/keys", Need.any()),
    Endpoint("POST", "/api/v1/keys", _can_delegate, body={"scope": "read"}),
    Endpoint("DELETE", "/api/v1/keys/{key_id}", Need.any(), prepare=_own_key),
    Endpoint("DELETE", "/api/v1/keys/{key_id}", _global_admin_write, prepare=_victim_key),
    Endpoint("GET", "/api/v1/enclaves", Need.any()),
    Endpoint(
        "POST",
        "/api/v1/enclaves",
        Need.admin(write=True),
        body=lambda v: {"name": v["new"]},
        prepare=_new_name,
    ),
    Endpoint("GET", "/api/v1/enclaves/{enclave}/members", Need.enclave("admin")),
    Endpoint(
        "PUT",
        "/api/v1/enclaves/{enclave}/members/{victim}",
        Need.enclave("admin"),
        body={"permission": "write"},
        prepare=_victim,
    ),
    Endpoint(
        "DELETE",
        "/api/v1/enclaves/{enclave}/members/{victim}",
        Need.enclave("admin"),
        prepare=_member,
    ),
    Endpoint("GET", "/api/v1/audit", Need.admin()),
]


def test_admin_endpoints_authorization_matrix(store: Store, client: Client) -> None:
    principals = build_principals(store)
    assert len(principals) == 3 * 4 * 2 * 3
    failures = check_matrix(store, client, ENDPOINTS, principals)
    assert failures == [], "\n".join(failures[:40])


def test_enclave_listing_shows_exactly_the_visible_enclaves(store: Store, client: Client) -> None:
    for p in build_principals(store):
        r = client.get("/api/v1/enclaves", key=p.key)
        assert r.status_code == 200
        listed = {e["name"]: e["permission"] for e in r.json()}
        expected = p.effective()
        if expected == "none":
            assert TARGET not in listed, p.label()
        else:
            assert listed[TARGET] == expected, p.label()
