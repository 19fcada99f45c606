"""Fixtures for the analysis endpoints: an app with the analysis routers, two callers in
different enclaves, a local DNS server and a local HTTP server for the probe."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse

from spoorhound.api.app import create_app
from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import EnrichmentResult, OfflineProvider, Provider, Verdict
from spoorhound.services import access
from spoorhound.services.analyze import AnalysisQueue
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.services.netguard import NetGuard
from spoorhound.storage.engine import Store
from tests.emulators.dnsserver import DnsServer
from tests.emulators.server import EmulatorServer

ZONE: dict[str, dict[str, list[str]]] = {
    "local.example.net": {"A": ["127.0.0.1"]},
    "rebind.example.net": {"A": ["127.0.0.1"]},
    "mixed.example.net": {"A": ["127.0.0.1", "10.1.2.3"]},
    "private.example.net": {"A": ["10.1.2.3"]},
    "meta.example.net": {"A": ["169.254.169.254"]},
}


class FakeReputation(OfflineProvider):
    """Calls anything with ``evil`` in it malicious with a threat tag."""

    name: ClassVar[str] = "fakerep"
    title: ClassVar[str] = "Fake reputation"
    types: ClassVar[frozenset[IndicatorType]] = frozenset(IndicatorType)

    def enrich_many(self, indicators: Sequence[Indicator]) -> list[EnrichmentResult]:
        """One verdict per indicator."""
        return [
            self.result(i, verdict=Verdict.MALICIOUS, score=90, tags=("malware:testbot",))
            if "evil" in i.value
            else self.result(i, verdict=Verdict.BENIGN, score=0)
            for i in indicators
        ]


class GreenOnly(FakeReputation):
    """A provider that may only see TLP:GREEN and below."""

    name: ClassVar[str] = "greenonly"
    max_tlp: ClassVar[str] = "green"


def providers() -> dict[str, Provider]:
    """The providers the test queue runs."""
    return {"fakerep": FakeReputation(), "greenonly": GreenOnly()}


@dataclass
class World:
    """The seeded store: keys and the local servers."""

    admin: str
    alice: str  # analyst, write in "shared" only
    bob: str  # read-only in "shared"
    dns_port: int


def _seed(store: Store, tmp: Path) -> None:
    f = tmp / "shared.txt"
    f.write_text("evil.example.com\n198.51.100.7\nhttp://evil.example.com/login\n")
    ingest(store, f, IngestOptions(enclave="shared", source="feed-a", tags=("malware:zeus",)))
    g = tmp / "secret.txt"
    g.write_text("secret-only.example.org\nevil.example.com\n")
    ingest(
        store,
        g,
        IngestOptions(enclave="secret", source="feed-s", tags=("actor:hidden",), tlp="amber"),
    )


def make_world(store: Store, tmp: Path, dns_port: int) -> World:
    """Seed ``store`` and create the callers."""
    _seed(store, tmp)
    admin = access.ensure_admin(store)
    assert admin is not None
    access.create_user(store, "alice", actor="t")
    access.set_member(store, "shared", "alice", "write", actor="t")
    access.create_user(store, "bob", "read-only", actor="t")
    access.set_member(store, "shared", "bob", "read", actor="t")
    alice = access.create_key(store, "alice", scope="write", actor="t").key
    bob = access.create_key(store, "bob", scope="read", actor="t").key
    return World(admin, alice, bob, dns_port)


def build(store: Store, dns_port: int, allow: Sequence[str] = ("127.0.0.1/32",)) -> FastAPI:
    """The app with the analysis routers and a test queue (local DNS, allow-ranges)."""
    app = create_app(store)
    guard = NetGuard.build(allow, nameservers=["127.0.0.1"], port=dns_port, timeout=2.0)
    app.state.analysis = AnalysisQueue(store, guard=guard, providers=providers, probe_timeout=5.0)
    return app


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    """A DNS server answering :data:`ZONE`."""
    with DnsServer(ZONE) as srv:
        yield srv


@pytest.fixture
def world(store: Store, tmp_path: Path, dns: DnsServer) -> World:
    """The seeded store."""
    return make_world(store, tmp_path, dns.port)


@pytest.fixture
def app(store: Store, world: World) -> Iterator[FastAPI]:
    """The app around the seeded store."""
    a = build(store, world.dns_port)
    yield a
    a.state.analysis.close()


def target_app() -> FastAPI:
    """What the probe looks at: a page with a title, redirects, a redirect to a private host."""
    t = FastAPI()

    @t.get("/")
    def page() -> HTMLResponse:
        return HTMLResponse("<html><head><title> Probe &amp; Target </title></head></html>")

    @t.get("/r1")
    def r1() -> RedirectResponse:
        return RedirectResponse("/", status_code=302)

    @t.get("/toprivate")
    def toprivate() -> RedirectResponse:
        return RedirectResponse("http://10.0.0.1/", status_code=302)

    @t.get("/tometa")
    def tometa() -> RedirectResponse:
        return RedirectResponse("http://meta.example.net/latest/meta-data/", status_code=302)

    @t.get("/loop")
    def loop() -> RedirectResponse:
        return RedirectResponse("/loop", status_code=302)

    return t


@pytest.fixture(scope="module")
def target() -> Iterator[EmulatorServer]:
    """The probe target on 127.0.0.1."""
    with EmulatorServer(target_app()) as srv:
        yield srv
