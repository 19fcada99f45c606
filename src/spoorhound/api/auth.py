"""Authentication, authorization and request limits for the API.

* :func:`current_caller` is the dependency every ``/api/*`` route takes (directly, as
  ``CallerDep``, or through :func:`require_role`, :func:`require_admin` or
  :func:`require_enclave`). The key comes from ``Authorization: Bearer sk_…`` or
  ``X-API-Key: sk_…``; a missing or refused key is a 401 with a JSON ``detail``.
* Failed authentications are throttled per client address by a token bucket
  (:class:`AuthThrottle`): once a client has spent its failures, *every* attempt
  from it is a 429 with ``Retry-After`` until the bucket refills, valid key or not;
  otherwise the answer would still tell a guesser when a guess was right.
* :func:`install_limits` adds the request-body size limit and the throttle to an app.

Status codes: 401 no or bad key; 403 authenticated but not allowed; 404 for an
enclave the caller cannot see (its existence is not confirmed); 413 body too large;
429 throttled.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Annotated, ParamSpec, TypeVar

import orjson
from anyio import CapacityLimiter, to_thread
from fastapi import Depends, FastAPI, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spoorhound.services import access
from spoorhound.services.access import Caller, InvalidKey, KeyCache, Permission, Role
from spoorhound.services.jobs import now
from spoorhound.storage.engine import Store

__all__ = [
    "AuthThrottle",
    "BodyLimitMiddleware",
    "CallerDep",
    "check_enclave",
    "current_caller",
    "install_limits",
    "require_admin",
    "require_enclave",
    "require_role",
    "run_query",
    "run_read",
]

MiB = 1024 * 1024
DEFAULT_MAX_JSON_BYTES = 1 * MiB
DEFAULT_MAX_UPLOAD_BYTES = 64 * MiB
DEFAULT_AUTH_FAILURES = 10
DEFAULT_AUTH_PERIOD = 60.0

_P = ParamSpec("_P")
_T = TypeVar("_T")

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="spoorhound"'}
_MISSING = "missing API key: send 'Authorization: Bearer sk_…' or 'X-API-Key: sk_…'"


class AuthThrottle:
    """A token bucket per client address, spent by failed authentications.

    Each client may fail ``failures`` times in a burst; the bucket refills at
    ``failures`` per ``period`` seconds. At most ``max_clients`` buckets are kept
    (least recently touched dropped first), so a spray of source addresses cannot
    grow memory without bound. Thread-safe: sync dependencies run in a pool.
    """

    def __init__(
        self,
        failures: int = DEFAULT_AUTH_FAILURES,
        period: float = DEFAULT_AUTH_PERIOD,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self.capacity = float(failures)
        self.rate = failures / period
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _tokens(self, client: str, at: float) -> float:
        tokens, updated = self._buckets.get(client, (self.capacity, at))
        return min(self.capacity, tokens + (at - updated) * self.rate)

    def retry_after(self, client: str) -> int | None:
        """Seconds ``client`` must wait before its next attempt, or None if it may try."""
        with self._lock:
            tokens = self._tokens(client, self.clock())
        if tokens >= 1.0:
            return None
        return max(1, math.ceil((1.0 - tokens) / self.rate))

    def failed(self, client: str) -> None:
        """Record one failed authentication by ``client``."""
        with self._lock:
            at = self.clock()
            tokens = self._tokens(client, at)
            self._buckets[client] = (max(0.0, tokens - 1.0), at)
            self._buckets.move_to_end(client)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)


def _throttle(request: Request) -> AuthThrottle:
    throttle: AuthThrottle | None = getattr(request.app.state, "auth_throttle", None)
    if throttle is None:
        # An app built without install_limits still gets the default throttle.
        throttle = request.app.state.auth_throttle = AuthThrottle()
    return throttle


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = request.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def _key_cache(request: Request) -> KeyCache:
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    if cache is None:
        cache = request.app.state.key_cache = KeyCache()
    return cache


async def run_read(
    store: Store, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """Run the short read ``fn(*args, **kwargs)``: inline on SQLite, in the thread pool otherwise.

    On the embedded SQLite an indexed read takes tens of microseconds and never waits
    for the writer (WAL), so handing it to a worker thread costs more than the read
    (the hand-off, and the threads then contend for the GIL); a PostgreSQL query waits
    on the network, so it goes to the pool. Only for reads bounded by index look-ups:
    anything that may scan runs in the pool (``run_in_threadpool``) on both.
    """
    if store.dialect == "sqlite":
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


async def run_query(
    request: Request, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """Run the read ``fn(*args, **kwargs)``, which may scan, in a worker thread.

    On SQLite such reads run one at a time per process (in arrival order): they are
    CPU-bound in this process, and threads running them together take turns on the
    GIL, each waiting for it again after every SQL call, so all of them end late
    (``bench/api.py``: explore's p99 at 8 connections was three times higher with two
    threads than with one). A PostgreSQL query runs in the database server, so it goes
    to the thread pool.
    """
    store: Store = request.app.state.store
    if store.dialect != "sqlite":
        return await run_in_threadpool(fn, *args, **kwargs)
    limiter: CapacityLimiter | None = getattr(request.app.state, "query_limiter", None)
    if limiter is None:
        limiter = request.app.state.query_limiter = CapacityLimiter(1)
    return await to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=limiter)


async def current_caller(request: Request) -> Caller:
    """Authenticate the request's API key; 401 without a valid one, 429 when throttled.

    Verified keys are kept for a few seconds (:class:`~spoorhound.services.access.KeyCache`):
    a revoked key, a disabled user or a changed membership still takes effect on the
    next request.
    """
    key = _presented_key(request)
    if key is None:
        raise HTTPException(status_code=401, detail=_MISSING, headers=_CHALLENGE)
    throttle = _throttle(request)
    client = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(client)
    if wait is not None:
        raise HTTPException(
            status_code=429,
            detail=f"too many failed authentication attempts from {client}; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    store: Store = request.app.state.store
    at = now()
    try:
        caller, due = await run_read(store, _key_cache(request).authenticate, store, key, at=at)
    except InvalidKey as e:
        throttle.failed(client)
        raise HTTPException(status_code=401, detail=str(e), headers=_CHALLENGE) from None
    if due:
        # A write (it may wait for the SQLite writer): never on the event loop.
        await run_in_threadpool(access.record_use, store, caller, at)
    request.state.caller = caller
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


def _forbid_read_key(caller: Caller) -> None:
    if not caller.can_change:
        why = "a read-only user" if caller.role == "read-only" else "a read key"
        raise HTTPException(status_code=403, detail=f"this change is not allowed with {why}")


def require_role(*roles: Role, write: bool = False) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency: the caller's role is one of ``roles`` (and, with ``write``, may change)."""

    # `async`, as every check here: no I/O, so no hand-off to the thread pool.
    async def dependency(caller: CallerDep) -> Caller:
        if caller.role not in roles:
            raise HTTPException(
                status_code=403, detail=f"needs role {' or '.join(roles)}; you are {caller.role}"
            )
        if write:
            _forbid_read_key(caller)
        return caller

    return dependency


def require_admin(*, write: bool = False) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency: a global administrator (admin role, key not restricted to enclaves)."""

    async def dependency(caller: CallerDep) -> Caller:
        if caller.role != "admin":
            raise HTTPException(status_code=403, detail="needs role admin")
        if caller.restricted:
            raise HTTPException(
                status_code=403,
                detail="a key restricted to enclaves cannot administer the instance",
            )
        if write:
            _forbid_read_key(caller)
        return caller

    return dependency


def check_enclave(caller: Caller, enclave: str, perm: Permission) -> None:
    """Raise 404 when ``enclave`` is invisible to ``caller``, 403 when ``perm`` is missing."""
    have = caller.permission(enclave)
    if have is None:
        raise HTTPException(status_code=404, detail=f"enclave {enclave!r} not found")
    if not caller.can(enclave, perm):
        raise HTTPException(
            status_code=403,
            detail=f"needs {perm} permission in enclave {enclave!r}; this key has {have}",
        )


def require_enclave(
    name: str = "enclave", perm: Permission = "read"
) -> Callable[[Request, Caller], Awaitable[Caller]]:
    """A dependency: ``perm`` in the enclave named by path or query parameter ``name``."""

    async def dependency(request: Request, caller: CallerDep) -> Caller:
        enclave = request.path_params.get(name) or request.query_params.get(name)
        if not enclave:
            raise HTTPException(status_code=422, detail=f"missing enclave parameter {name!r}")
        check_enclave(caller, str(enclave), perm)
        return caller

    return dependency


# --- request body limits -----------------------------------------------------------


class _BodyTooLarge(Exception):
    pass


def _small_body(content_type: str) -> bool:
    """JSON and form posts get the small limit; everything else counts as an upload."""
    ctype = content_type.split(";", 1)[0].strip().lower()
    return (
        not ctype
        or ctype == "application/json"
        or ctype.endswith("+json")
        or ctype == "application/x-www-form-urlencoded"
    )


async def _reject(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse request bodies over the limit with 413, before or while they are read.

    A declared ``Content-Length`` over the limit is refused before the body is read;
    a chunked body is counted as it arrives and the request is cut off when it
    passes the limit. The application's own answer to the interrupted read (FastAPI
    turns it into a 400) is replaced by the 413.
    """

    def __init__(self, app: ASGIApp, *, max_json_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        small = _small_body(headers.get("content-type", ""))
        limit = self.max_json_bytes if small else self.max_upload_bytes
        detail = (
            f"request body too large: at most {limit} bytes for "
            f"{'JSON and form bodies' if small else 'uploads'}"
        )
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await _reject(send, 400, "invalid Content-Length header")
                return
            if int(declared) > limit:
                await _reject(send, 413, detail)
                return
        received = 0
        exceeded = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if not exceeded:
                await send(message)
            elif message["type"] == "http.response.start" and not replaced:
                replaced = True
                await _reject(send, 413, detail)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not replaced:
            await _reject(send, 413, detail)


def install_limits(
    app: FastAPI,
    *,
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    auth_failures: int = DEFAULT_AUTH_FAILURES,
    auth_period: float = DEFAULT_AUTH_PERIOD,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Add the body-size limit middleware and the failed-authentication throttle to ``app``.

    Call once in the app factory, before the app starts. JSON and form bodies get
    ``max_json_bytes``; any other content type (file uploads, CSV, multipart) gets
    ``max_upload_bytes``. Each client address may fail ``auth_failures`` times per
    ``auth_period`` seconds.
    """
    app.add_middleware(
        BodyLimitMiddleware, max_json_bytes=max_json_bytes, max_upload_bytes=max_upload_bytes
    )
    app.state.auth_throttle = AuthThrottle(auth_failures, auth_period, clock=clock)
