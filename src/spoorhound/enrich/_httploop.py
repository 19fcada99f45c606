"""One event loop thread per runtime for every HTTP provider call.

Steps run in DBOS's worker threads; instead of each step starting its own event
loop and connection pool (``asyncio.run`` per batch), they hand their coroutines
to this loop and wait. One loop means one pool per provider whose keep-alive
connections outlive a batch, and no event loops competing for the GIL.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import httpx

from spoorhound.enrich._transport import FastClient, KeepAliveTransport
from spoorhound.enrich.provider import HttpProvider

__all__ = ["HttpLoop"]

T = TypeVar("T")

_new_loop: Callable[[], asyncio.AbstractEventLoop]
try:
    # uvloop (installed with uvicorn where it exists): its sockets and callbacks cost a
    # fraction of the default loop's per request.
    import uvloop

    _new_loop = uvloop.new_event_loop
except ImportError:  # pragma: no cover - Windows has no uvloop
    _new_loop = asyncio.new_event_loop


class HttpLoop:
    """A private asyncio loop in a daemon thread, with one httpx client per provider."""

    def __init__(self, max_connections: int) -> None:
        self._max_connections = max_connections
        self._loop = _new_loop()
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._running = 0
        self._count_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="spoorhound-http", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (from any other thread)."""
        with self._count_lock:
            self._running += 1
        try:
            return asyncio.run_coroutine_threadsafe(coro, self._loop).result()
        finally:
            with self._count_lock:
                self._running -= 1

    def client(self, p: HttpProvider) -> httpx.AsyncClient:
        """The shared client for ``p`` (created on first use; only used on the loop)."""
        c = self._clients.get(p.name)
        if c is None:
            c = _client(p, self._max_connections)
            self._clients[p.name] = c
        return c

    def close(self) -> None:
        """Close every client and stop the loop, unless calls are still in flight.

        A step still calling when the runtime stops must neither hang on a stopped
        loop nor fail (a failed step would end its workflow instead of leaving it to
        be resumed): the loop then stays up as a daemon thread and dies with the
        process.
        """
        with self._count_lock:
            if self._running:
                return

        async def close_all() -> None:
            for c in self._clients.values():
                await c.aclose()

        if self._thread.is_alive():
            self.run(close_all())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()


def _client(p: HttpProvider, max_connections: int) -> httpx.AsyncClient:
    """A :class:`FastClient` for ``p``, unless the environment routes its base URL
    through a proxy: only httpx's own transport speaks to proxies."""
    url = urlsplit(p.http.base_url)
    if getproxies().get(url.scheme) and not proxy_bypass(url.hostname or ""):
        limits = httpx.Limits(max_connections=max_connections)
        return httpx.AsyncClient(verify=p.http.verify_tls, limits=limits)
    transport = KeepAliveTransport(verify=p.http.verify_tls, max_connections=max_connections)
    return FastClient(transport, verify=p.http.verify_tls)
