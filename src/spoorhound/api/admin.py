"""Users, API keys, enclaves and membership, and the audit log: ``/api/v1/…``.

Who may do what (docs/security.md has the full table):

* ``/users``: administrators; any caller may read ``/users/me`` and themselves.
* ``/keys``: callers manage their own keys; a new key is never more powerful than
  the key creating it (scope, enclaves). Administrators manage everyone's keys.
* ``/enclaves``: list what the caller can see; administrators create enclaves;
  enclave admins (effective ``admin`` permission) manage members.
* ``/audit``: administrators.

Every change is written to the audit log by the service that makes it; a key's
secret appears in exactly one response, the one that creates it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from spoorhound.api.auth import CallerDep, check_enclave, require_admin
from spoorhound.services import access
from spoorhound.services import audit as audit_service
from spoorhound.services import enclaves as enclave_service
from spoorhound.services import indicators as indicator_service
from spoorhound.services.access import Caller, KeyScope, Permission, Role
from spoorhound.services.jobs import now
from spoorhound.storage.engine import Store

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")

AdminRead = Annotated[Caller, Depends(require_admin())]
AdminWrite = Annotated[Caller, Depends(require_admin(write=True))]


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(_store)]


def _http(e: Exception) -> HTTPException:
    """Map a service error onto its status code."""
    if isinstance(e, access.NotFound):
        return HTTPException(status_code=404, detail=str(e))
    if isinstance(e, access.Forbidden):
        return HTTPException(status_code=403, detail=str(e))
    if isinstance(e, access.Conflict | enclave_service.EnclaveExists):
        return HTTPException(status_code=409, detail=str(e))
    return HTTPException(status_code=422, detail=str(e))


_ERRORS = (access.AccessError, ValueError)


# --- schemas -------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserOut(BaseModel):
    """A user and their enclave permissions (membership, before role and key caps)."""

    name: str
    role: Role
    disabled: bool
    created_at: int
    enclaves: dict[str, Permission]
    active_keys: int | None = None


class MeOut(BaseModel):
    """The caller: who they are and what this key may do, per enclave."""

    name: str
    role: Role
    key_prefix: str | None
    key_scope: KeyScope
    restricted: bool
    admin: bool = Field(description="Global administrator through this key")
    enclaves: dict[str, Permission] = Field(description="Effective permission per enclave")


class UserCreate(_In):
    """A new user (give them a key with ``POST /api/v1/keys`` and ``user``)."""

    name: str = Field(min_length=1, max_length=100)
    role: Role = "analyst"


class UserUpdate(_In):
    """Change a user's role or disable / re-enable them."""

    role: Role | None = None
    disabled: bool | None = None


class KeyOut(BaseModel):
    """An API key as listed: never its secret or hash."""

    id: int
    user: str
    prefix: str
    name: str | None
    scope: KeyScope
    enclaves: list[str] | None = Field(description="Restricted to these enclaves; null: all")
    created_at: int
    last_used_at: int | None
    expires_at: int | None
    revoked_at: int | None


class KeyCreate(_In):
    """A new key: for the caller, or (administrators) for ``user``."""

    name: str | None = Field(default=None, max_length=200)
    scope: KeyScope = "read"
    enclaves: list[str] | None = Field(
        default=None, description="Restrict the key to these enclaves (default: all the user's)"
    )
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    user: str | None = Field(default=None, description="Administrators: issue for this user")


class KeyCreated(BaseModel):
    """The new key. ``key`` is shown once and cannot be retrieved again."""

    id: int
    user: str
    prefix: str
    key: str
    scope: KeyScope
    enclaves: list[str] | None
    expires_at: int | None
    warning: str = "Store this key now: it is not stored and cannot be shown again."


class EnclaveOut(BaseModel):
    """An enclave the caller can see, with the caller's effective permission in it."""

    name: str
    description: str | None
    created_at: int
    indicators: int
    permission: Permission


class EnclaveCreate(_In):
    """A new enclave."""

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)


class MemberOut(BaseModel):
    """A member of an enclave."""

    user: str
    role: Role
    disabled: bool
    permission: Permission
    created_at: int


class MemberSet(_In):
    """The permission to give a member."""

    permission: Permission = "read"


class AuditOut(BaseModel):
    """One audit-log entry."""

    id: int
    at: int
    actor: str
    action: str
    target: str | None
    details: dict[str, Any] | None


# --- users ---------------------------------------------------------------------------


@router.get("/users/me", tags=["users"])
def get_me(caller: CallerDep) -> MeOut:
    """The caller and what this key may do."""
    return MeOut(
        name=caller.name,
        role=caller.role,
        key_prefix=caller.key_prefix,
        key_scope=caller.key_scope,
        restricted=caller.restricted,
        admin=caller.is_admin,
        enclaves=dict(caller.permissions),
    )


@router.get("/users", tags=["users"])
def list_users(store: StoreDep, _: AdminRead) -> list[UserOut]:
    """Every user (administrators)."""
    return [UserOut(**u) for u in access.list_users(store)]


@router.post("/users", status_code=201, tags=["users"])
def create_user(body: UserCreate, store: StoreDep, caller: AdminWrite) -> UserOut:
    """Create a user (administrators)."""
    try:
        return UserOut(**access.create_user(store, body.name, body.role, actor=caller.actor))
    except _ERRORS as e:
        raise _http(e) from None


@router.get("/users/{name}", tags=["users"])
def get_user(name: str, store: StoreDep, caller: CallerDep) -> UserOut:
    """One user: administrators see anyone, other callers themselves."""
    if name != caller.name and not caller.is_admin:
        raise HTTPException(status_code=403, detail="only administrators can see other users")
    try:
        return UserOut(**access.get_user(store, name))
    except _ERRORS as e:
        raise _http(e) from None


@router.patch("/users/{name}", tags=["users"])
def update_user(name: str, body: UserUpdate, store: StoreDep, caller: AdminWrite) -> UserOut:
    """Change a user's role or disable / re-enable them (administrators)."""
    try:
        found = access.update_user(
            store, name, role=body.role, disabled=body.disabled, actor=caller.actor
        )
    except _ERRORS as e:
        raise _http(e) from None
    return UserOut(**found)


# --- keys ----------------------------------------------------------------------------


@router.get("/keys", tags=["keys"])
def list_keys(
    store: StoreDep,
    caller: CallerDep,
    user: Annotated[str | None, Query(description="Administrators: this user's keys")] = None,
    all: Annotated[bool, Query(description="Administrators: every user's keys")] = False,
) -> list[KeyOut]:
    """The caller's keys (administrators: any user's, or all)."""
    if (all or (user is not None and user != caller.name)) and not caller.is_admin:
        raise HTTPException(status_code=403, detail="only administrators can list others' keys")
    owner = None if all else (user or caller.name)
    return [KeyOut(**k) for k in access.list_keys(store, owner)]


def _key_enclaves(caller: Caller, body: KeyCreate, target: str) -> list[str] | None:
    """The enclaves the new key is restricted to; never wider than the creating key."""
    if target != caller.name:
        return body.enclaves  # an administrator's unrestricted key; the service validates
    if body.enclaves is not None:
        for name in body.enclaves:
            if caller.permission(name) is None:
                raise HTTPException(status_code=404, detail=f"enclave {name!r} not found")
        return body.enclaves
    if caller.restricted:
        if not caller.permissions:
            raise HTTPException(status_code=403, detail="this key has no enclave left to delegate")
        return sorted(caller.permissions)
    return None


@router.post("/keys", status_code=201, tags=["keys"])
def create_key(
    body: KeyCreate, store: StoreDep, caller: CallerDep, response: Response
) -> KeyCreated:
    """Create an API key; the response is the only time the key is shown.

    A key can create keys no more powerful than itself: a read key creates read keys,
    a key restricted to enclaves creates keys restricted to (some of) the same.
    """
    target = body.user or caller.name
    if target != caller.name and not (caller.is_admin and caller.can_change):
        raise HTTPException(
            status_code=403, detail="only administrators can create keys for other users"
        )
    if body.scope == "write" and caller.key_scope != "write":
        raise HTTPException(status_code=403, detail="a read key cannot create a write key")
    enclaves = _key_enclaves(caller, body, target)
    expires = now() + body.expires_in_days * 86400 if body.expires_in_days else None
    try:
        new = access.create_key(
            store,
            target,
            scope=body.scope,
            enclaves=enclaves,
            name=body.name,
            expires_at=expires,
            actor=caller.actor,
        )
    except _ERRORS as e:
        raise _http(e) from None
    response.headers["Cache-Control"] = "no-store"
    return KeyCreated(
        id=new.id,
        user=new.user,
        prefix=new.prefix,
        key=new.key,
        scope=new.scope,
        enclaves=new.enclaves,
        expires_at=new.expires_at,
    )


#: A key id in the path: a positive INTEGER (a larger one was a 500 from the driver).
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Key id")]


def _own_key(store: Store, caller: Caller, key_id: int) -> dict[str, Any]:
    try:
        key = access.get_key(store, key_id)
    except access.NotFound as e:
        raise _http(e) from None
    if key["user"] != caller.name and not caller.is_admin:
        # Not "forbidden": whether someone else's key id exists is not the caller's business.
        raise HTTPException(status_code=404, detail=f"no key {key_id}")
    return key


@router.get("/keys/{key_id}", tags=["keys"])
def get_key(key_id: KeyId, store: StoreDep, caller: CallerDep) -> KeyOut:
    """One key (the caller's own; administrators any)."""
    return KeyOut(**_own_key(store, caller, key_id))


@router.delete("/keys/{key_id}", status_code=204, tags=["keys"])
def revoke_key(key_id: KeyId, store: StoreDep, caller: CallerDep) -> Response:
    """Revoke a key at once. Anyone may revoke their own keys (even with a read key);
    administrators revoke anyone's with a write key."""
    key = _own_key(store, caller, key_id)
    if key["user"] != caller.name and not caller.can_change:
        raise HTTPException(status_code=403, detail="revoking others' keys needs a write key")
    access.revoke_key(store, key_id, actor=caller.actor)
    return Response(status_code=204)


# --- enclaves ------------------------------------------------------------------------


@router.get("/enclaves", tags=["enclaves"])
def list_enclaves(store: StoreDep, caller: CallerDep) -> list[EnclaveOut]:
    """The enclaves the caller can see, with their effective permission in each."""
    return [
        EnclaveOut(**e, permission=perm)
        for e in enclave_service.list_enclaves(store)
        if (perm := caller.permission(e["name"])) is not None
    ]


class StatsOut(BaseModel):
    """Indicator counts per name, largest first (within what the caller can see)."""

    type: dict[str, int]
    enclave: dict[str, int]
    tag: dict[str, int]
    source: dict[str, int]


@router.get("/stats", tags=["enclaves"])
def get_stats(store: StoreDep, caller: CallerDep) -> StatsOut:
    """Indicator counts by type, enclave, tag and source within the caller's enclaves."""
    counts = indicator_service.stats(store, scope=caller.scope)
    return StatsOut(**{by: dict(pairs) for by, pairs in counts.items()})


@router.post("/enclaves", status_code=201, tags=["enclaves"])
def create_enclave(body: EnclaveCreate, store: StoreDep, caller: AdminWrite) -> EnclaveOut:
    """Create an enclave (administrators)."""
    try:
        enclave_service.create_enclave(store, body.name, body.description, actor=caller.actor)
    except _ERRORS as e:
        raise _http(e) from None
    created = next(e for e in enclave_service.list_enclaves(store) if e["name"] == body.name)
    return EnclaveOut(**created, permission="admin")


@router.get("/enclaves/{enclave}/members", tags=["enclaves"])
def list_members(enclave: str, store: StoreDep, caller: CallerDep) -> list[MemberOut]:
    """The members of an enclave (enclave admins)."""
    check_enclave(caller, enclave, "admin")
    return [MemberOut(**m) for m in access.list_members(store, enclave)]


@router.put("/enclaves/{enclave}/members/{user}", tags=["enclaves"])
def set_member(
    enclave: str, user: str, body: MemberSet, store: StoreDep, caller: CallerDep
) -> MemberOut:
    """Add a member or change their permission (enclave admins)."""
    check_enclave(caller, enclave, "admin")
    try:
        access.set_member(store, enclave, user, body.permission, actor=caller.actor)
        member = next(m for m in access.list_members(store, enclave) if m["user"] == user)
    except _ERRORS as e:
        raise _http(e) from None
    return MemberOut(**member)


@router.delete("/enclaves/{enclave}/members/{user}", status_code=204, tags=["enclaves"])
def remove_member(enclave: str, user: str, store: StoreDep, caller: CallerDep) -> Response:
    """Remove a member (enclave admins); 404 when they were not one."""
    check_enclave(caller, enclave, "admin")
    try:
        removed = access.remove_member(store, enclave, user, actor=caller.actor)
    except _ERRORS as e:
        raise _http(e) from None
    if not removed:
        raise HTTPException(status_code=404, detail=f"{user!r} is not a member of {enclave!r}")
    return Response(status_code=204)


# --- audit ---------------------------------------------------------------------------


@router.get("/audit", tags=["audit"])
def list_audit(
    store: StoreDep,
    _: AdminRead,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    """The newest audit-log entries, newest first (administrators)."""
    return [AuditOut(**a) for a in audit_service.recent(store, limit)]
