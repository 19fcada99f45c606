"""An authorization matrix: every endpoint × role × membership × key scope × key restriction.

Reusable for any router. Describe each endpoint with the permission it needs::

    Endpoint("GET", "/api/v1/enclaves/{enclave}/members", Need.enclave("admin"))
    Endpoint("POST", "/api/v1/users", Need.admin(write=True), body=lambda v: {...})

then ``check_matrix(store, client, endpoints)`` builds one user per role × membership
in the target enclave and one key per scope × restriction for each, sends every
request with every key, and returns the mismatches (an empty list is a pass).

The expected outcome is computed here from the specification, independently of
``services.access``: the effective permission in the target enclave is the lowest
of the membership (admins: ``admin`` everywhere), the role cap (read-only: ``read``)
and the key cap (read key: ``read``); a key restricted to other enclaves sees
nothing in the target. Allowed requests must answer with a status in ``ok``;
refused ones with 403, or 404 when the enclave is invisible to the caller; and every
endpoint answers 401 without a key.

Principals are created through the services the way they arise in practice: keys
for enclaves the user later leaves, and write keys of users later made read-only,
are issued first and the membership or role changed afterwards.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spoorhound.services import access
from spoorhound.services import enclaves as enclave_service
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client

ROLES = ("admin", "analyst", "read-only")
MEMBERSHIPS = ("none", "read", "write", "admin")
KEY_SCOPES = ("read", "write")
RESTRICTIONS = ("none", "target", "other")
TARGET = "alpha"
OTHER = "beta"
_RANK = {"none": 0, "read": 1, "write": 2, "admin": 3}
ACTOR = "matrix"


@dataclass(frozen=True)
class Principal:
    """One combination: a user's role and membership in the target, and a key."""

    role: str
    membership: str
    scope: str
    restriction: str
    user: str
    key: str = field(repr=False)

    def effective(self) -> str:
        """The permission this key should have in the target enclave, per the spec."""
        if self.restriction == "other":
            return "none"
        base = "admin" if self.role == "admin" else self.membership
        caps = [base]
        if self.role == "read-only" or self.scope == "read":
            caps.append("read")
        return min(caps, key=_RANK.__getitem__)

    def label(self) -> str:
        """A readable name for failure messages."""
        return f"{self.role}/{self.membership}/key:{self.scope}/restrict:{self.restriction}"


@dataclass(frozen=True)
class Need:
    """What an endpoint needs: any key, a permission in the target, or global admin."""

    kind: str  # "any" | "enclave" | "admin"
    perm: str = "read"
    write: bool = False

    @classmethod
    def any(cls) -> Need:
        """Any valid key."""
        return cls("any")

    @classmethod
    def enclave(cls, perm: str) -> Need:
        """At least ``perm`` in the target enclave (``{enclave}`` in the path)."""
        return cls("enclave", perm)

    @classmethod
    def admin(cls, *, write: bool = False) -> Need:
        """A global administrator (admin role, unrestricted key; write key with ``write``)."""
        return cls("admin", write=write)

    def allows(self, p: Principal) -> bool:
        """Whether ``p`` should be let through."""
        if self.kind == "any":
            return True
        if self.kind == "enclave":
            return _RANK[p.effective()] >= _RANK[self.perm]
        return (
            p.role == "admin" and p.restriction == "none" and (not self.write or p.scope == "write")
        )

    def denial(self, p: Principal) -> set[int]:
        """The statuses a refusal may have for ``p``."""
        if self.kind == "enclave" and p.effective() == "none":
            return {404}
        return {403}


Prepare = Callable[[Store, "Principal | None"], Mapping[str, str]]


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the matrix.

    ``path`` may use ``{enclave}`` (target), ``{other}``, ``{user}`` (the caller's
    name) and any name ``prepare`` returns; ``prepare`` runs before each request
    (given the principal, or None for the request without a key) to create what it needs (a fresh user, a fresh key …). ``body`` is JSON, or a
    function of the substitutions giving JSON.
    """

    method: str
    path: str
    need: Need | Callable[[Principal], bool]
    body: Any = None
    prepare: Prepare | None = None
    ok: frozenset[int] = frozenset(range(200, 300))

    def allows(self, p: Principal) -> bool:
        """Whether ``p`` should be let through."""
        return self.need.allows(p) if isinstance(self.need, Need) else self.need(p)

    def denial(self, p: Principal) -> set[int]:
        """Statuses acceptable as a refusal."""
        return self.need.denial(p) if isinstance(self.need, Need) else {403, 404}


def fresh(prefix: str) -> str:
    """A unique name."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def build_principals(store: Store) -> list[Principal]:
    """Users for each role × target membership, each with a key per scope × restriction.

    Creates the enclaves ``alpha`` (target) and ``beta`` (other) if missing.
    """
    existing = {e["name"] for e in enclave_service.list_enclaves(store)}
    for name in (TARGET, OTHER):
        if name not in existing:
            enclave_service.create_enclave(store, name, actor=ACTOR)
    out = []
    for role, membership in itertools.product(ROLES, MEMBERSHIPS):
        user = fresh(f"{role}-{membership}")
        # Issue every key while the user can hold it, then set the real role/membership.
        access.create_user(store, user, "admin" if role == "admin" else "analyst", actor=ACTOR)
        access.set_member(store, TARGET, user, "admin", actor=ACTOR)
        access.set_member(store, OTHER, user, "read", actor=ACTOR)
        keys = {}
        for scope, restriction in itertools.product(KEY_SCOPES, RESTRICTIONS):
            enclaves = {"none": None, "target": [TARGET], "other": [OTHER]}[restriction]
            keys[scope, restriction] = access.create_key(
                store,
                user,
                scope=scope,
                enclaves=enclaves,
                actor=ACTOR,  # type: ignore[arg-type]
            ).key
        if membership == "none":
            access.remove_member(store, TARGET, user, actor=ACTOR)
        else:
            access.set_member(store, TARGET, user, membership, actor=ACTOR)  # type: ignore[arg-type]
        if role == "read-only":
            access.update_user(store, user, role="read-only", actor=ACTOR)
        for (scope, restriction), key in keys.items():
            out.append(Principal(role, membership, scope, restriction, user, key))
    return out


def _send(client: Client, store: Store, ep: Endpoint, p: Principal | None) -> tuple[str, int, str]:
    values: dict[str, str] = {"enclave": TARGET, "other": OTHER, "user": p.user if p else "x"}
    if ep.prepare is not None:
        values.update(ep.prepare(store, p))
    path = ep.path.format(**values)
    body = ep.body(values) if callable(ep.body) else ep.body
    r = client.request(ep.method, path, key=p.key if p else None, json=body)
    return path, r.status_code, r.text[:200]


def check_matrix(
    store: Store,
    client: Client,
    endpoints: Iterable[Endpoint],
    principals: list[Principal] | None = None,
) -> list[str]:
    """Send every endpoint with every principal's key; return the mismatches."""
    principals = principals if principals is not None else build_principals(store)
    failures = []
    for ep in endpoints:
        path, status, _ = _send(client, store, ep, None)
        if status != 401:
            failures.append(f"{ep.method} {path} without a key: {status}, expected 401")
        for p in principals:
            path, status, text = _send(client, store, ep, p)
            allowed = ep.allows(p)
            expected = ep.ok if allowed else ep.denial(p)
            if status not in expected:
                verdict = "allow" if allowed else f"refuse with {sorted(expected)}"
                failures.append(
                    f"{ep.method} {path} as {p.label()}: {status}, expected to {verdict}: {text}"
                )
    return failures
