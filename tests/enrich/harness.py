"""What the provider tests share: emulators, providers pointed at them, a client per call.

:class:`Emulators` starts each emulator server on first use and resets it on every
use; :func:`configured` builds any HTTP provider pointed at one; :func:`run`,
:func:`run_batch` and :func:`fails` call a provider over a fresh ``httpx.AsyncClient``,
as the runner does. Used by ``test_reputation`` (through ``reputation_harness``),
``test_feeds`` and ``test_feeds_dns``; the ``emulators`` fixture is in ``conftest``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich._transport import FastClient, KeepAliveTransport
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpProvider,
    ProviderError,
    Related,
)
from tests.emulators.server import EmulatorServer

R = TypeVar("R")


@dataclass
class Emulators:
    """Emulator servers started on first use, reset on every use, stopped by :meth:`close`."""

    apps: dict[str, FastAPI] = field(default_factory=dict)
    running: dict[str, EmulatorServer] = field(default_factory=dict)

    def get(self, name: str, factory: Callable[[], FastAPI]) -> EmulatorServer:
        """The server named ``name`` (started from ``factory`` the first time), with no
        fault set and no requests recorded."""
        if name not in self.running:
            app = factory()
            self.apps[name], self.running[name] = app, EmulatorServer(app).__enter__()
        srv = self.running[name]
        srv.fault = None
        srv.requests.clear()
        return srv

    def close(self) -> None:
        """Stop every server."""
        for srv in self.running.values():
            srv.fault = None
            srv.__exit__(None, None, None)


def configured(
    cls: type[HttpProvider], base_url: str, api_key: str | None, **settings: Any
) -> HttpProvider:
    """An enabled ``cls`` pointed at ``base_url``; no key when ``api_key`` is None or ""."""
    if api_key:
        settings["api_key"] = SecretStr(api_key)
    return cls(cls.config_model(enabled=True, base_url=base_url, **settings))


#: The client the provider tests use: ``"fast"`` is the runner's (httpx on Spoorhound's
#: keep-alive transport, with the lean path of ``HttpProvider.request``); ``"httpx"`` is
#: a stock ``httpx.AsyncClient``. test_transport runs the fault battery over both.
CLIENT = {"kind": "fast"}


def new_client() -> httpx.AsyncClient:
    """A client of the kind selected in :data:`CLIENT`."""
    if CLIENT["kind"] == "httpx":
        return httpx.AsyncClient()
    return FastClient(KeepAliveTransport())


def _with_client(call: Callable[[httpx.AsyncClient], Awaitable[R]]) -> R:
    async def go() -> R:
        async with new_client() as client:
            return await call(client)

    return asyncio.run(go())


def run(provider: HttpProvider, indicator: Indicator) -> EnrichmentResult:
    """One ``enrich`` through a fresh client, as the runner does it."""
    return _with_client(lambda client: provider.enrich(client, indicator))


def run_batch(provider: HttpProvider, indicators: list[Indicator]) -> list[EnrichmentResult]:
    """One ``enrich_batch`` call through a fresh client."""
    return _with_client(lambda client: provider.enrich_batch(client, indicators))


def fails(provider: HttpProvider, indicator: Indicator) -> ProviderError:
    """The ProviderError a lookup raises (and nothing else)."""
    with pytest.raises(ProviderError) as info:
        run(provider, indicator)
    return info.value


def rel(relation: str, type: IndicatorType, value: str) -> Related:
    """Shorthand for an expected pivot."""
    return Related(relation, type, value)
