"""Access-control services: users, memberships, keys, authentication, scope, audit."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from spoorhound.services import access, audit
from spoorhound.services import enclaves as enclave_service
from spoorhound.services import indicators as indicator_service
from spoorhound.services.access import Conflict, Forbidden, InvalidKey, NotFound
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.services.jobs import now
from spoorhound.storage import schema
from spoorhound.storage.engine import Store


def _enclaves(store: Store, *names: str) -> None:
    for n in names:
        enclave_service.create_enclave(store, n, actor="t")


def test_user_lifecycle(store: Store) -> None:
    u = access.create_user(store, "alice", "analyst", actor="t")
    assert (u["name"], u["role"], u["disabled"], u["enclaves"]) == ("alice", "analyst", False, {})
    with pytest.raises(Conflict):
        access.create_user(store, "alice", actor="t")
    with pytest.raises(ValueError, match="invalid user name"):
        access.create_user(store, "no spaces", actor="t")
    with pytest.raises(ValueError, match="invalid role"):
        access.create_user(store, "bob", "root", actor="t")  # type: ignore[arg-type]
    assert access.update_user(store, "alice", role="read-only", actor="t")["role"] == "read-only"
    assert access.update_user(store, "alice", disabled=True, actor="t")["disabled"] is True
    assert access.update_user(store, "alice", disabled=True, actor="t")["changed"] is False
    assert [u["name"] for u in access.list_users(store)] == ["alice"]
    with pytest.raises(NotFound):
        access.get_user(store, "nobody")


def test_the_last_active_admin_cannot_be_demoted_or_disabled(store: Store) -> None:
    access.ensure_admin(store)
    with pytest.raises(Conflict, match="last active admin"):
        access.update_user(store, "admin", role="analyst", actor="t")
    with pytest.raises(Conflict, match="last active admin"):
        access.update_user(store, "admin", disabled=True, actor="t")
    access.create_user(store, "root2", "admin", actor="t")
    access.update_user(store, "admin", disabled=True, actor="t")


def test_key_is_shown_once_and_stored_only_as_a_hash(store: Store, tmp_path: Path) -> None:
    access.create_user(store, "alice", actor="t")
    new = access.create_key(store, "alice", scope="read", name="laptop", actor="t")
    assert new.key.startswith(f"sk_{new.prefix}_") and len(new.key) > 40
    assert new.key not in repr(new)
    secret = new.key.split("_", 2)[2]
    with store.read() as conn:
        row = conn.execute(sa.select(schema.api_key)).mappings().one()
        assert row["hash"] == hashlib.sha256(new.key.encode()).hexdigest()
        dump = repr([list(conn.execute(sa.select(t))) for t in schema.metadata.sorted_tables])
    assert secret not in dump and new.key not in dump
    listed = access.list_keys(store, "alice")
    assert secret not in repr(listed) and "hash" not in listed[0]
    assert listed[0]["prefix"] == new.prefix and listed[0]["name"] == "laptop"
    if store.dialect == "sqlite":
        # Not in the database file or its write-ahead log either.
        db = Path(store.engine.url.database or "")
        for f in (db, db.with_name(db.name + "-wal")):
            if f.exists():
                assert secret.encode() not in f.read_bytes()


def test_authentication_outcomes(store: Store) -> None:
    access.create_user(store, "alice", actor="t")
    good = access.create_key(store, "alice", actor="t")
    caller = access.authenticate(store, good.key)
    assert (caller.name, caller.key_prefix, caller.key_scope) == ("alice", good.prefix, "read")
    tampered = good.key[:-2] + ("AA" if not good.key.endswith("AA") else "BB")
    for bad in (tampered, "sk_nope", "", good.key + "x", f"sk_zzzzzzzz_{'a' * 43}"):
        with pytest.raises(InvalidKey, match=r"^invalid API key$"):
            access.authenticate(store, bad)

    expiring = access.create_key(store, "alice", expires_at=now() + 100, actor="t")
    access.authenticate(store, expiring.key)
    with pytest.raises(InvalidKey, match="expired"):
        access.authenticate(store, expiring.key, at=now() + 101)

    access.revoke_key(store, good.id, actor="t")
    assert access.revoke_key(store, good.id, actor="t") is False
    with pytest.raises(InvalidKey, match="revoked"):
        access.authenticate(store, good.key)

    other = access.create_key(store, "alice", actor="t")
    access.update_user(store, "alice", disabled=True, actor="t")
    with pytest.raises(InvalidKey, match="disabled"):
        access.authenticate(store, other.key)


def test_last_used_is_recorded_at_minute_precision(store: Store) -> None:
    access.create_user(store, "alice", actor="t")
    new = access.create_key(store, "alice", actor="t")
    t0 = now()
    access.authenticate(store, new.key, at=t0)
    access.authenticate(store, new.key, at=t0 + 30)
    assert access.get_key(store, new.id)["last_used_at"] == t0
    access.authenticate(store, new.key, at=t0 + 61)
    assert access.get_key(store, new.id)["last_used_at"] == t0 + 61


ROLE_MEMBERSHIP = [
    (role, perm)
    for role in ("admin", "analyst", "read-only")
    for perm in (None, "read", "write", "admin")
]


@pytest.mark.parametrize(("role", "membership"), ROLE_MEMBERSHIP)
@pytest.mark.parametrize("key_scope", ["read", "write"])
def test_scope_for_each_role_membership_and_key(
    store: Store, role: str, membership: str | None, key_scope: str
) -> None:
    _enclaves(store, "a", "b")
    access.create_user(store, "u", "admin" if role == "admin" else "analyst", actor="t")
    if membership:
        access.set_member(store, "a", "u", membership, actor="t")  # type: ignore[arg-type]
    key = access.create_key(store, "u", scope=key_scope, actor="t").key  # type: ignore[arg-type]
    if role == "read-only":
        access.update_user(store, "u", role="read-only", actor="t")
    c = access.authenticate(store, key)

    if role == "admin":
        assert c.scope is None and c.is_admin
        expected = {"a": "admin", "b": "admin"}
    else:
        assert not c.is_admin
        expected = {"a": membership} if membership else {}
    cap = "read" if role == "read-only" or key_scope == "read" else None
    if cap:
        expected = {e: cap for e in expected}
    assert dict(c.permissions) == expected
    if role != "admin":
        assert c.scope == frozenset(expected)
    assert c.can_change == (role != "read-only" and key_scope == "write")
    assert c.enclaves("write") == {e for e, p in expected.items() if p in ("write", "admin")}


def test_key_restricted_to_one_enclave_cannot_read_another(store: Store, tmp_path: Path) -> None:
    _enclaves(store, "a", "b")
    f = tmp_path / "iocs.txt"
    f.write_text("only-in-b.example.com\n")
    ingest(store, f, IngestOptions(enclave="b"))
    access.create_user(store, "u", actor="t")
    access.set_member(store, "a", "u", "write", actor="t")
    access.set_member(store, "b", "u", "write", actor="t")
    wide = access.authenticate(store, access.create_key(store, "u", actor="t").key)
    narrow_key = access.create_key(store, "u", scope="write", enclaves=["a"], actor="t")
    narrow = access.authenticate(store, narrow_key.key)
    assert narrow.restricted and dict(narrow.permissions) == {"a": "write"}
    assert indicator_service.lookup(store, "only-in-b.example.com", scope=wide.scope)
    assert indicator_service.lookup(store, "only-in-b.example.com", scope=narrow.scope) == []
    # Restrictions must be a subset of the user's enclaves, and existing ones.
    with pytest.raises(NotFound):
        access.create_key(store, "u", enclaves=["a", "c-missing"], actor="t")
    enclave_service.create_enclave(store, "c", actor="t")
    with pytest.raises(Forbidden, match="not a member"):
        access.create_key(store, "u", enclaves=["c"], actor="t")
    # Losing the membership takes effect at once, even for a key restricted to it.
    access.remove_member(store, "a", "u", actor="t")
    assert dict(access.authenticate(store, narrow_key.key).permissions) == {}


def test_read_only_users_get_read_keys_only(store: Store) -> None:
    access.create_user(store, "ro", "read-only", actor="t")
    with pytest.raises(Conflict, match="read-only"):
        access.create_key(store, "ro", scope="write", actor="t")


def test_every_change_is_audited_without_secrets(store: Store) -> None:
    _enclaves(store, "a")
    access.create_user(store, "alice", actor="root")
    access.update_user(store, "alice", role="read-only", actor="root")
    access.set_member(store, "a", "alice", "read", actor="root")
    new = access.create_key(store, "alice", actor="root")
    access.revoke_key(store, new.id, actor="root")
    access.remove_member(store, "a", "alice", actor="root")
    entries = audit.recent(store)
    actions = [(e["actor"], e["action"], e["target"]) for e in reversed(entries)]
    assert actions == [
        ("t", "enclave.create", "enclave:a"),
        ("root", "user.create", "user:alice"),
        ("root", "user.update", "user:alice"),
        ("root", "enclave.grant", "enclave:a"),
        ("root", "key.create", f"key:{new.prefix}"),
        ("root", "key.revoke", f"key:{new.prefix}"),
        ("root", "enclave.revoke", "enclave:a"),
    ]
    assert all(e["at"] >= now() - 60 for e in entries)
    assert new.key.split("_", 2)[2] not in repr(entries)


def test_secrets_are_never_logged(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = access.ensure_admin(store)
    assert key is not None
    access.create_user(store, "alice", actor="admin")
    new = access.create_key(store, "alice", actor="admin")
    access.authenticate(store, new.key)
    with pytest.raises(InvalidKey):
        access.authenticate(store, new.key + "x")
    secrets = [k.split("_", 2)[2] for k in (key, new.key)]
    assert any(new.prefix in r.getMessage() for r in caplog.records)
    assert not any(s in caplog.text for s in secrets)


def test_first_start_creates_one_admin_once(store: Store) -> None:
    key = access.ensure_admin(store)
    assert key is not None
    caller = access.authenticate(store, key)
    assert caller.name == "admin" and caller.is_admin and caller.can_change
    assert access.ensure_admin(store) is None
    assert [u["name"] for u in access.list_users(store)] == ["admin"]
    assert len(access.list_keys(store)) == 1
