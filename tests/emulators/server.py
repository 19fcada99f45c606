"""Run a provider emulator as a real HTTP server on 127.0.0.1, in a thread.

Each emulator is an ASGI app (FastAPI) answering in the provider's documented
shapes. :class:`EmulatorServer` serves it with uvicorn on a free loopback port and
adds a switchable fault layer, so tests can make any provider misbehave the ways
real ones do::

    with EmulatorServer(virustotal_app()) as srv:
        srv.base_url            # "http://127.0.0.1:PORT"
        srv.fault = "html"      # next requests get an HTML error page
        srv.requests            # every (method, path, query) seen, for assertions

Faults: ``html`` (200 text/html page), ``garbage`` (200 non-JSON bytes),
``hang`` (no answer for ``hang_seconds``), ``huge`` (a 200 JSON body of
``huge_bytes``), ``429`` (with ``Retry-After: retry_after``), ``500``, ``401``,
``error200`` (200 with ``{"error": ...}``), ``reset`` (connection closed).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send


class _Faults:
    def __init__(self, app: ASGIApp, server: EmulatorServer) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        srv = self.server
        srv.requests.append(
            (scope["method"], scope["path"], scope.get("query_string", b"").decode())
        )
        fault = srv.fault
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault == "hang":
            await asyncio.sleep(srv.hang_seconds)
            fault = "500"
        if fault == "reset":
            raise ConnectionResetError("emulated reset")
        status, headers, body = {
            "html": (
                200,
                [(b"content-type", b"text/html")],
                b"<html><body>Service Unavailable</body></html>",
            ),
            "garbage": (200, [(b"content-type", b"application/json")], b"\x00\x01{not json"),
            "huge": (
                200,
                [(b"content-type", b"application/json")],
                b'{"data": "' + b"x" * srv.huge_bytes + b'"}',
            ),
            "429": (
                429,
                [(b"retry-after", str(srv.retry_after).encode())],
                b'{"error": "rate limited"}',
            ),
            "500": (500, [(b"content-type", b"application/json")], b'{"error": "internal"}'),
            "401": (401, [(b"content-type", b"application/json")], b'{"error": "bad key"}'),
            "error200": (
                200,
                [(b"content-type", b"application/json")],
                b'{"error": "emulated error"}',
            ),
        }[fault]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmulatorServer:
    """A uvicorn server for ``app`` on 127.0.0.1, started and stopped as a context manager."""

    def __init__(self, app: ASGIApp) -> None:
        self.fault: str | None = None
        self.hang_seconds = 30.0
        self.huge_bytes = 16 << 20
        self.retry_after = 1
        self.requests: list[tuple[str, str, str]] = []
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            _Faults(app, self),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> EmulatorServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("emulator did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
