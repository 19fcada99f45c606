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

TLP is a dimension too: an endpoint marked ``tlp=True`` runs once per level of
:data:`TLPS`, its ``prepare`` creating its indicator at :func:`current_tlp` (an
indicator whose only observation is TLP:RED in the target is exactly as invisible
to an outsider as a TLP:CLEAR one). A refused change must change nothing: the
store's fingerprint (row counts and latest update times) is compared around every
refused non-GET request.

Principals are created through the services the way they arise in practice: keys
for enclaves the user later leaves, and write keys of users later made read-only,
are issued first and the membership or role changed afterwards.
"""

from __future__ import annotations

import contextvars
import itertools
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from spoorhound.services import access
from spoorhound.services import enclaves as enclave_service
from spoorhound.storage import schema
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
#: The TLP levels a ``tlp`` endpoint runs at: shareable, and the two that never leave
#: their enclave (every level costs a full pass over the principals).
TLPS = ("green", "amber+strict", "red")
_TLP: contextvars.ContextVar[str | None] = contextvars.ContextVar("matrix_tlp", default="green")


def current_tlp() -> str | None:
    """The TLP a ``prepare`` function gives the indicator it creates (see ``Endpoint.tlp``)."""
    return _TLP.get()


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
    #: Run once per TLP level: ``prepare`` creates its indicator at :func:`current_tlp`.
    tlp: bool = False

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


def _request(store: Store, ep: Endpoint, p: Principal | None) -> tuple[str, Any]:
    """Run ``prepare`` and give the request's path and body."""
    values: dict[str, str] = {"enclave": TARGET, "other": OTHER, "user": p.user if p else "x"}
    if ep.prepare is not None:
        values.update(ep.prepare(store, p))
    return ep.path.format(**values), ep.body(values) if callable(ep.body) else ep.body


def _send(client: Client, store: Store, ep: Endpoint, p: Principal | None) -> tuple[str, int, str]:
    path, body = _request(store, ep, p)
    r = client.request(ep.method, path, key=p.key if p else None, json=body)
    return path, r.status_code, r.text[:200]


#: Tables whose change by a refused request would be an unauthorized write (``api_key``
#: and ``audit`` are left out: authentication stamps last-used times).
_WATCHED = tuple(t for t in schema.metadata.sorted_tables if t.name not in ("api_key", "audit"))


def _settle(store: Store, timeout: float = 30.0) -> None:
    """Wait until no job runs (an allowed bulk submission ingests in a background thread)."""
    deadline = time.monotonic() + timeout
    running = sa.select(sa.func.count()).where(schema.job.c.status == "running")
    while time.monotonic() < deadline:
        with store.read() as conn:
            if not conn.execute(running).scalar_one():
                return
        time.sleep(0.02)


def fingerprint(store: Store) -> tuple[Any, ...]:
    """Row counts of every watched table, and the content of observations and tags.

    Waits first for running jobs to finish, so only the request under test can move it.
    """
    _settle(store)
    with store.read() as conn:
        counts = tuple(
            conn.execute(
                sa.select(
                    *(sa.select(sa.func.count()).select_from(t).scalar_subquery() for t in _WATCHED)
                )
            ).one()
        )
        o = schema.observation
        observations = conn.execute(
            sa.select(
                o.c.indicator_pk,
                o.c.enclave_id,
                o.c.source_id,
                o.c.tlp,
                o.c.confidence,
                o.c.notes,
                o.c.last_seen,
            ).order_by(o.c.indicator_pk, o.c.enclave_id, o.c.source_id)
        ).all()
        tags = conn.execute(
            sa.select(
                schema.indicator_tag.c.indicator_pk,
                schema.indicator_tag.c.enclave_id,
                schema.indicator_tag.c.tag_id,
            ).order_by(*schema.indicator_tag.c)
        ).all()
    return counts, tuple(observations), tuple(tags)


def _check_one(
    client: Client, store: Store, ep: Endpoint, principals: list[Principal], tlp: str | None
) -> list[str]:
    failures = []
    where = f" (TLP {tlp or 'unmarked'})" if ep.tlp else ""
    token = _TLP.set(tlp)
    try:
        path, status, _ = _send(client, store, ep, None)
        if status != 401:
            failures.append(f"{ep.method} {path}{where} without a key: {status}, expected 401")
        for p in principals:
            allowed = ep.allows(p)
            path, body = _request(store, ep, p)
            before = fingerprint(store) if not allowed and ep.method != "GET" else None
            r = client.request(ep.method, path, key=p.key, json=body)
            status, text = r.status_code, r.text[:200]
            expected = ep.ok if allowed else ep.denial(p)
            if status not in expected:
                verdict = "allow" if allowed else f"refuse with {sorted(expected)}"
                failures.append(
                    f"{ep.method} {path}{where} as {p.label()}: {status}, "
                    f"expected to {verdict}: {text}"
                )
            elif before is not None and fingerprint(store) != before:
                failures.append(f"{ep.method} {path}{where} as {p.label()}: refused but wrote")
    finally:
        _TLP.reset(token)
    return failures


def check_matrix(
    store: Store,
    client: Client,
    endpoints: Iterable[Endpoint],
    principals: list[Principal] | None = None,
) -> list[str]:
    """Send every endpoint with every principal's key (per TLP level for ``tlp``
    endpoints); return the mismatches, refused requests that wrote included."""
    principals = principals if principals is not None else build_principals(store)
    failures = []
    for ep in endpoints:
        for tlp in TLPS if ep.tlp else ("green",):
            failures += _check_one(client, store, ep, principals, tlp)
    return failures
