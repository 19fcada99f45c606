"""Access control: users, roles, enclave membership, API keys, and the :class:`Caller`.

The model (see docs/security.md):

* A **user** has a role: ``admin`` (every enclave, every change, user management),
  ``analyst`` (what memberships grant) or ``read-only`` (reads what memberships
  grant, never writes).
* An **enclave member** row gives a user ``read``, ``write`` or ``admin`` (manage
  members) in one enclave.
* An **API key** belongs to a user, has a scope (``read`` or ``write``) and may be
  restricted to some of the user's enclaves. Keys look like ``sk_<prefix>_<secret>``;
  only the SHA-256 of the whole key is stored, and the key is shown once.

A caller's effective permission in an enclave is the lowest of three caps: the
membership (admins: ``admin`` everywhere), the role (``read-only`` caps at ``read``)
and the key (a ``read`` key caps at ``read``); a restricted key sees nothing outside
its enclaves. Services get ``Caller.scope``: the names of readable enclaves, or None
for an unrestricted administrator (the same meaning None has for the local CLI).

Errors: :class:`AccessError` is the base; :class:`NotFound` (unknown user, key or
enclave), :class:`Conflict` (duplicate, or the change would leave no active admin),
:class:`InvalidKey` (authentication failed; its message is safe to show the client)
and :class:`Forbidden` (authenticated, but not allowed).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from spoorhound.services import audit
from spoorhound.services.jobs import now
from spoorhound.storage import rawread, schema
from spoorhound.storage.engine import Store

__all__ = [
    "KEY_SCOPES",
    "PERMISSIONS",
    "ROLES",
    "AccessError",
    "Caller",
    "Conflict",
    "Forbidden",
    "InvalidKey",
    "KeyCache",
    "KeyScope",
    "NewKey",
    "NotFound",
    "Permission",
    "Role",
    "authenticate",
    "create_key",
    "create_user",
    "ensure_admin",
    "get_key",
    "get_user",
    "list_keys",
    "list_members",
    "list_users",
    "record_use",
    "remove_member",
    "revoke_key",
    "set_member",
    "update_user",
]

log = logging.getLogger(__name__)

Role = Literal["admin", "analyst", "read-only"]
Permission = Literal["read", "write", "admin"]
KeyScope = Literal["read", "write"]

ROLES: tuple[Role, ...] = ("admin", "analyst", "read-only")
PERMISSIONS: tuple[Permission, ...] = ("read", "write", "admin")
KEY_SCOPES: tuple[KeyScope, ...] = ("read", "write")

_RANK: dict[str, int] = {"read": 1, "write": 2, "admin": 3}
_ROLE_CAP: dict[str, Permission] = {"admin": "admin", "analyst": "admin", "read-only": "read"}
_KEY_CAP: dict[str, Permission] = {"read": "read", "write": "admin"}

_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_LEN = 8
_KEY_FORMAT = re.compile(r"^sk_([a-z0-9]{8})_([A-Za-z0-9_-]{32,128})$")
# Writing last_used_at on every request would make each read a write (SQLite has one
# writer); minute precision is what an operator needs to spot unused keys.
_LAST_USED_PRECISION = 60
# Compared against when a prefix is unknown, so both failure paths do the same work.
_DUMMY_HASH = hashlib.sha256(b"spoorhound-no-such-key").hexdigest()

U = schema.user
M = schema.enclave_member
K = schema.api_key
E = schema.enclave


class AccessError(Exception):
    """Base of the access-control errors."""


class NotFound(AccessError, LookupError):
    """No such user, key or enclave."""


class Conflict(AccessError, ValueError):
    """The change contradicts existing data (duplicate name, last active admin, …)."""


class InvalidKey(AccessError):
    """Authentication failed; the message says why and is safe to show the client."""


class Forbidden(AccessError):
    """The caller is authenticated but not allowed to do this."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, and what they may do: the result of authenticating a key.

    ``permissions`` holds the *effective* permission per enclave name (membership,
    role and key caps already applied); an enclave missing from it is invisible.
    """

    user_id: int
    name: str
    role: Role
    key_scope: KeyScope
    restricted: bool = False
    key_id: int | None = None
    key_prefix: str | None = None
    permissions: Mapping[str, Permission] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        """A global administrator: admin role with a key not restricted to enclaves."""
        return self.role == "admin" and not self.restricted

    @property
    def can_change(self) -> bool:
        """Whether this caller may change anything at all (write key, role not read-only)."""
        return self.key_scope == "write" and self.role != "read-only"

    @property
    def actor(self) -> str:
        """The name recorded in the audit log."""
        return self.name

    def permission(self, enclave: str) -> Permission | None:
        """The effective permission in ``enclave``, or None when it is invisible."""
        return self.permissions.get(enclave)

    def can(self, enclave: str, perm: Permission) -> bool:
        """Whether the caller holds at least ``perm`` in ``enclave``."""
        have = self.permissions.get(enclave)
        return have is not None and _RANK[have] >= _RANK[perm]

    def enclaves(self, perm: Permission = "read") -> frozenset[str]:
        """Names of the enclaves where the caller holds at least ``perm``."""
        return frozenset(e for e, p in self.permissions.items() if _RANK[p] >= _RANK[perm])

    @property
    def scope(self) -> frozenset[str] | None:
        """The ``scope`` argument for service reads: readable enclave names, None = all."""
        return None if self.is_admin else self.enclaves("read")


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: ``key`` is the only time the secret exists outside the client."""

    id: int
    user: str
    prefix: str
    key: str = field(repr=False)
    scope: KeyScope
    enclaves: list[str] | None
    expires_at: int | None


def _min_perm(*perms: Permission) -> Permission:
    return min(perms, key=lambda p: _RANK[p])


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _check_choice(value: str, allowed: Collection[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"invalid {what} {value!r}: use one of {', '.join(allowed)}")


# --- users -------------------------------------------------------------------------


def _user(conn: Connection, name: str) -> dict[str, Any]:
    row = conn.execute(sa.select(U).where(U.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(f"no user {name!r}")
    return dict(row)


def _enclave_id(conn: Connection, name: str) -> int:
    ident = conn.execute(sa.select(E.c.id).where(E.c.name == name)).scalar()
    if ident is None:
        raise NotFound(f"no enclave {name!r}")
    return int(ident)


def _memberships(conn: Connection, user_id: int) -> dict[str, Permission]:
    q = (
        sa.select(E.c.name, M.c.permission)
        .join(M, M.c.enclave_id == E.c.id)
        .where(M.c.user_id == user_id)
    )
    return {r.name: cast(Permission, r.permission) for r in conn.execute(q)}


def _insert_user(conn: Connection, name: str, role: Role) -> int:
    if not _USER_NAME.match(name):
        raise ValueError(f"invalid user name {name!r}: use 1-100 letters, digits or . _ @ -")
    _check_choice(role, ROLES, "role")
    if conn.execute(sa.select(U.c.id).where(U.c.name == name)).first():
        raise Conflict(f"user {name!r} already exists")
    ident = conn.execute(
        U.insert().values(name=name, role=role, disabled=False, created_at=now())
    ).inserted_primary_key
    return int(ident[0]) if ident else 0


def create_user(store: Store, name: str, role: Role = "analyst", *, actor: str) -> dict[str, Any]:
    """Create user ``name`` with ``role`` and return it (see :func:`get_user`)."""
    with store.write() as conn:
        _insert_user(conn, name, role)
    audit.record(
        store, actor=actor, action="user.create", target=f"user:{name}", details={"role": role}
    )
    return get_user(store, name)


def get_user(store: Store, name: str) -> dict[str, Any]:
    """One user with its enclave permissions and number of active keys."""
    with store.read() as conn:
        row = _user(conn, name)
        row["enclaves"] = _memberships(conn, row["id"])
        row["active_keys"] = _count_active_keys(conn, row["id"])
    return row


def _count_active_keys(conn: Connection, user_id: int) -> int:
    q = sa.select(sa.func.count()).where(K.c.user_id == user_id, K.c.revoked_at.is_(None))
    return int(conn.execute(q).scalar() or 0)


def list_users(store: Store) -> list[dict[str, Any]]:
    """Every user, by name, with enclave permissions."""
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(U).order_by(U.c.name)).mappings()]
        for r in rows:
            r["enclaves"] = _memberships(conn, r["id"])
    return rows


def _active_admins(conn: Connection) -> int:
    q = sa.select(sa.func.count()).where(U.c.role == "admin", U.c.disabled.is_(sa.false()))
    return int(conn.execute(q).scalar() or 0)


def update_user(
    store: Store,
    name: str,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
    actor: str,
) -> dict[str, Any]:
    """Change a user's role and/or disable or re-enable them.

    Raises :class:`Conflict` when the change would leave no active administrator
    (nobody could manage users any more).
    """
    if role is not None:
        _check_choice(role, ROLES, "role")
    with store.write() as conn:
        row = _user(conn, name)
        values: dict[str, Any] = {}
        if role is not None and role != row["role"]:
            values["role"] = role
        if disabled is not None and disabled != row["disabled"]:
            values["disabled"] = disabled
        if not values:
            return {**get_user(store, name), "changed": False}
        was_active_admin = row["role"] == "admin" and not row["disabled"]
        stays_active_admin = values.get("role", row["role"]) == "admin" and not values.get(
            "disabled", row["disabled"]
        )
        if was_active_admin and not stays_active_admin and _active_admins(conn) <= 1:
            raise Conflict(f"{name!r} is the last active admin; promote another user first")
        conn.execute(U.update().where(U.c.id == row["id"]).values(**values))
    audit.record(store, actor=actor, action="user.update", target=f"user:{name}", details=values)
    return {**get_user(store, name), "changed": True}


# --- enclave membership ------------------------------------------------------------


def set_member(
    store: Store, enclave: str, user: str, permission: Permission, *, actor: str
) -> None:
    """Give ``user`` ``permission`` in ``enclave`` (adds or updates the membership)."""
    _check_choice(permission, PERMISSIONS, "permission")
    with store.write() as conn:
        enclave_id = _enclave_id(conn, enclave)
        user_id = _user(conn, user)["id"]
        updated = conn.execute(
            M.update()
            .where(M.c.enclave_id == enclave_id, M.c.user_id == user_id)
            .values(permission=permission)
        ).rowcount
        if not updated:
            conn.execute(
                M.insert().values(
                    enclave_id=enclave_id,
                    user_id=user_id,
                    permission=permission,
                    created_at=now(),
                )
            )
    audit.record(
        store,
        actor=actor,
        action="enclave.grant",
        target=f"enclave:{enclave}",
        details={"user": user, "permission": permission},
    )


def remove_member(store: Store, enclave: str, user: str, *, actor: str) -> bool:
    """Remove ``user`` from ``enclave``; False when they were not a member."""
    with store.write() as conn:
        enclave_id = _enclave_id(conn, enclave)
        user_id = _user(conn, user)["id"]
        removed = conn.execute(
            M.delete().where(M.c.enclave_id == enclave_id, M.c.user_id == user_id)
        ).rowcount
    if removed:
        audit.record(
            store,
            actor=actor,
            action="enclave.revoke",
            target=f"enclave:{enclave}",
            details={"user": user},
        )
    return bool(removed)


def list_members(store: Store, enclave: str) -> list[dict[str, Any]]:
    """The members of ``enclave`` with their permission and role, by name."""
    q = (
        sa.select(U.c.name.label("user"), U.c.role, U.c.disabled, M.c.permission, M.c.created_at)
        .join(M, M.c.user_id == U.c.id)
        .where(M.c.enclave_id == sa.bindparam("enclave_id"))
        .order_by(U.c.name)
    )
    with store.read() as conn:
        enclave_id = _enclave_id(conn, enclave)
        return [dict(r) for r in conn.execute(q, {"enclave_id": enclave_id}).mappings()]


# --- API keys ----------------------------------------------------------------------


def _new_key() -> tuple[str, str]:
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_LEN))
    return prefix, f"sk_{prefix}_{secrets.token_urlsafe(32)}"


def _insert_key(
    conn: Connection,
    user: dict[str, Any],
    *,
    scope: KeyScope,
    enclaves: Collection[str] | None,
    name: str | None,
    expires_at: int | None,
) -> NewKey:
    _check_choice(scope, KEY_SCOPES, "key scope")
    if scope == "write" and user["role"] == "read-only":
        raise Conflict(f"user {user['name']!r} is read-only: only read keys can be issued")
    enclave_ids: list[int] | None = None
    names: list[str] | None = None
    if enclaves is not None:
        names = sorted(set(enclaves))
        if not names:
            raise ValueError("a key restricted to enclaves needs at least one enclave")
        ids = {n: _enclave_id(conn, n) for n in names}
        if user["role"] != "admin":
            missing = set(names) - set(_memberships(conn, user["id"]))
            if missing:
                raise Forbidden(
                    f"user {user['name']!r} is not a member of {', '.join(sorted(missing))}: "
                    "a key can only be restricted to the user's own enclaves"
                )
        enclave_ids = sorted(ids.values())
    if expires_at is not None and expires_at <= now():
        raise ValueError("expiry must be in the future")
    prefix, key = _new_key()
    ident = conn.execute(
        K.insert().values(
            user_id=user["id"],
            prefix=prefix,
            hash=_hash(key),
            name=name,
            scope=scope,
            enclaves=enclave_ids,
            created_at=now(),
            expires_at=expires_at,
        )
    ).inserted_primary_key
    return NewKey(
        id=int(ident[0]) if ident else 0,
        user=user["name"],
        prefix=prefix,
        key=key,
        scope=scope,
        enclaves=names,
        expires_at=expires_at,
    )


def create_key(
    store: Store,
    user: str,
    *,
    scope: KeyScope = "read",
    enclaves: Collection[str] | None = None,
    name: str | None = None,
    expires_at: int | None = None,
    actor: str,
) -> NewKey:
    """Issue an API key for ``user``; the returned :class:`NewKey` holds the only copy.

    ``enclaves`` restricts the key to some of the user's enclaves (None: all of them,
    now and later). A read-only user gets read keys only.
    """
    with store.write() as conn:
        new = _insert_key(
            conn,
            _user(conn, user),
            scope=scope,
            enclaves=enclaves,
            name=name,
            expires_at=expires_at,
        )
    _audit_new_key(store, new, actor)
    return new


def _audit_new_key(store: Store, new: NewKey, actor: str) -> None:
    details = {"user": new.user, "scope": new.scope, "enclaves": new.enclaves}
    audit.record(
        store, actor=actor, action="key.create", target=f"key:{new.prefix}", details=details
    )
    log.info("API key %s created for user %s by %s", new.prefix, new.user, actor)


def _key_view(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = {r.id: r.name for r in conn.execute(sa.select(E.c.id, E.c.name))}
    out = []
    for r in rows:
        ids = r.pop("enclaves")
        r.pop("hash", None)
        r["enclaves"] = None if ids is None else sorted(names[i] for i in ids if i in names)
        out.append(r)
    return out


_KEY_COLUMNS = (
    U.c.name.label("user"),
    *(K.c[n] for n in ("id", "prefix", "name", "scope", "enclaves", "created_at")),
    *(K.c[n] for n in ("last_used_at", "expires_at", "revoked_at")),
)


def list_keys(store: Store, user: str | None = None) -> list[dict[str, Any]]:
    """Keys (never their hash or secret), newest first; only ``user``'s when given."""
    q = sa.select(*_KEY_COLUMNS).join(U, U.c.id == K.c.user_id).order_by(K.c.id.desc())
    if user is not None:
        q = q.where(U.c.name == user)
    with store.read() as conn:
        return _key_view(conn, [dict(r) for r in conn.execute(q).mappings()])


def get_key(store: Store, key_id: int) -> dict[str, Any]:
    """One key by id (never its hash or secret)."""
    q = sa.select(*_KEY_COLUMNS).join(U, U.c.id == K.c.user_id).where(K.c.id == key_id)
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
        if not rows:
            raise NotFound(f"no key {key_id}")
        return _key_view(conn, rows)[0]


def revoke_key(store: Store, key_id: int, *, actor: str) -> bool:
    """Revoke key ``key_id`` (immediately); False when it was already revoked."""
    with store.write() as conn:
        row = conn.execute(sa.select(K.c.prefix, K.c.revoked_at).where(K.c.id == key_id)).first()
        if row is None:
            raise NotFound(f"no key {key_id}")
        if row.revoked_at is not None:
            return False
        conn.execute(K.update().where(K.c.id == key_id).values(revoked_at=now()))
    audit.record(store, actor=actor, action="key.revoke", target=f"key:{row.prefix}")
    return True


# --- authentication ----------------------------------------------------------------


def authenticate(store: Store, key: str, *, at: int | None = None) -> Caller:
    """The :class:`Caller` holding ``key``; raises :class:`InvalidKey` otherwise.

    The key's hash is compared in constant time, and an unknown prefix costs the same
    hash and comparison as a wrong secret. Why a key is refused (revoked, expired,
    user disabled) is only said once the secret has been proven. Records the key's
    last use (at minute precision).
    """
    at = now() if at is None else at
    caller, _expires, last = _verify(store, key, _hash(key), at)
    if last is None or at - last >= _LAST_USED_PRECISION:
        record_use(store, caller, at)
    return caller


def record_use(store: Store, caller: Caller, at: int) -> None:
    """Record that ``caller``'s key was used at ``at`` (epoch seconds)."""
    with store.write() as conn:
        conn.execute(K.update().where(K.c.id == caller.key_id).values(last_used_at=at))


_KEY_ROW = (
    sa.select(K, U.c.name.label("user_name"), U.c.role, U.c.disabled)
    .join(U, U.c.id == K.c.user_id)
    .where(K.c.prefix == sa.bindparam("prefix"))
)


def _verify(
    store: Store, key: str, computed: str, at: int
) -> tuple[Caller, int | None, int | None]:
    """(caller, key expiry, key last used) for ``key`` whose SHA-256 is ``computed``."""
    m = _KEY_FORMAT.match(key)
    with store.read() as conn:
        found = conn.execute(_KEY_ROW, {"prefix": m.group(1)}).mappings().first() if m else None
        row = dict(found) if found is not None else None
        stored = row["hash"] if row is not None else _DUMMY_HASH
        if not hmac.compare_digest(stored, computed) or row is None:
            raise InvalidKey("invalid API key")
        if row["revoked_at"] is not None:
            raise InvalidKey("API key revoked")
        if row["expires_at"] is not None and row["expires_at"] <= at:
            raise InvalidKey("API key expired")
        if row["disabled"]:
            raise InvalidKey("user disabled")
        return _caller(conn, row), row["expires_at"], row["last_used_at"]


#: The newest audit entry and the newest enclave: every change that can alter what a
#: key may do (users, roles, memberships, keys, enclaves) writes an audit entry, and
#: ingest may create enclaves without one. Both are primary-key maxima (index look-ups).
_ACCESS_MARK = sa.select(
    sa.select(sa.func.max(schema.audit.c.id)).scalar_subquery(),
    sa.select(sa.func.max(E.c.id)).scalar_subquery(),
)


@dataclass(frozen=True, slots=True)
class _Verified:
    caller: Caller
    expires_at: int | None
    mark: tuple[Any, ...]
    until: float


class KeyCache:
    """Verified keys and their :class:`Caller`, for a server answering many requests per key.

    Verifying a key costs a hash comparison and three or four queries, several times a
    whole indicator lookup; :meth:`authenticate` keeps the answer per key (by SHA-256,
    never the key itself) and, on each use, re-checks in one query that nothing
    changed access since: the newest audit entry and the newest enclave. So a key
    revoked, a user disabled or a membership changed through Spoorhound (the API, the
    CLI, another server process) takes effect on the next request. A change made
    behind Spoorhound's back (SQL on the database) takes effect within ``ttl``
    seconds, after which a key is verified again. Expiry is checked on every use.
    Failed keys are never kept. At most ``max_keys`` keys are kept (oldest out).

    The last-used time is written at minute precision, at most once a minute per key
    and process: :meth:`authenticate` says when it is due and the caller writes it
    (:func:`record_use`) off the hot path.
    """

    def __init__(
        self,
        ttl: float = 5.0,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_keys = max_keys
        self.clock = clock
        self._verified: dict[str, _Verified] = {}
        self._used: dict[int, int] = {}
        # Requests on PostgreSQL authenticate in worker threads.
        self._lock = threading.Lock()

    def authenticate(self, store: Store, key: str, *, at: int | None = None) -> tuple[Caller, bool]:
        """``(caller, last use due)`` for ``key``; raises :class:`InvalidKey` like :func:`authenticate`.

        When the second item is true the caller should :func:`record_use` at ``at``.
        Never writes, so it can run wherever a read can.
        """
        at = now() if at is None else at
        digest = _hash(key)
        # On the driver: through SQLAlchemy this one query cost more than the rest of
        # a cached authentication (bench/api.py).
        with rawread.cursor(store) as cur:
            cur.execute(rawread.compiled(_ACCESS_MARK, store))
            mark = tuple(cur.fetchone())
        hit = self._verified.get(digest)
        if hit is None or hit.mark != mark or hit.until <= self.clock():
            self._verified.pop(digest, None)
            caller, expires_at, last = _verify(store, key, digest, at)
            hit = _Verified(caller, expires_at, mark, self.clock() + self.ttl)
            with self._lock:
                if len(self._verified) >= self.max_keys:
                    self._verified.pop(next(iter(self._verified)), None)
                self._verified[digest] = hit
                if last is not None and caller.key_id is not None:
                    self._used.setdefault(caller.key_id, last)
        elif hit.expires_at is not None and hit.expires_at <= at:
            raise InvalidKey("API key expired")
        key_id = hit.caller.key_id
        if key_id is None:
            return hit.caller, False
        last_used = self._used.get(key_id)
        if last_used is not None and at - last_used < _LAST_USED_PRECISION:
            return hit.caller, False
        with self._lock:
            if len(self._used) >= self.max_keys:
                self._used.clear()
            self._used[key_id] = at
        return hit.caller, True


def _caller(conn: Connection, row: Mapping[str, Any]) -> Caller:
    role = cast(Role, row["role"])
    scope = cast(KeyScope, row["scope"])
    if role == "admin":
        base: dict[str, Permission] = {
            n: "admin" for n in conn.execute(sa.select(E.c.name)).scalars()
        }
    else:
        base = _memberships(conn, row["user_id"])
    restriction = row["enclaves"]
    if restriction is not None:
        allowed = set(
            conn.execute(sa.select(E.c.name).where(E.c.id.in_(list(restriction)))).scalars()
        )
        base = {n: p for n, p in base.items() if n in allowed}
    cap = _min_perm(_ROLE_CAP[role], _KEY_CAP[scope])
    return Caller(
        user_id=int(row["user_id"]),
        name=str(row["user_name"]),
        role=role,
        key_scope=scope,
        restricted=restriction is not None,
        key_id=int(row["id"]),
        key_prefix=str(row["prefix"]),
        permissions=MappingProxyType({n: _min_perm(p, cap) for n, p in base.items()}),
    )


def ensure_admin(store: Store, name: str = "admin") -> str | None:
    """On first start (no user at all) create admin ``name`` and return a one-time key.

    Returns None when any user exists, so calling it on every start is safe; two
    processes starting at once create one admin (the second insert conflicts).
    """
    try:
        with store.write() as conn:
            if conn.execute(sa.select(U.c.id).limit(1)).first() is not None:
                return None
            user_id = _insert_user(conn, name, "admin")
            new = _insert_key(
                conn,
                {"id": user_id, "name": name, "role": "admin"},
                scope="write",
                enclaves=None,
                name="first start",
                expires_at=None,
            )
    except (IntegrityError, Conflict):
        return None
    audit.record(
        store,
        actor="system",
        action="user.create",
        target=f"user:{name}",
        details={"role": "admin", "first_start": True},
    )
    _audit_new_key(store, new, "system")
    return new.key
