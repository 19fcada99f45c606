"""A synchronous client for an app in-process (httpx.ASGITransport), one event loop."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from spoorhound.api.app import create_app
from spoorhound.storage.engine import Store


def build_app(store: Store, **limits: Any) -> FastAPI:
    """The application as ``create_app`` will be wired: admin router plus limits."""
    return create_app(store, **limits)


class Client:
    """Requests against ``app`` from address ``client_ip``, with an optional API key."""

    def __init__(self, app: FastAPI, client_ip: str = "127.0.0.1") -> None:
        self._runner = asyncio.Runner()
        transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
        self._client = httpx.AsyncClient(transport=transport, base_url="http://test")

    def request(
        self, method: str, path: str, *, key: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send one request; ``key`` goes in ``Authorization: Bearer``."""
        headers = dict(kwargs.pop("headers", None) or {})
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return self._runner.run(self._client.request(method, path, headers=headers, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET ``path``."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST ``path``."""
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        """Close the client and its event loop."""
        self._runner.run(self._client.aclose())
        self._runner.close()
