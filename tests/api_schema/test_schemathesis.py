"""Schemathesis against the OpenAPI spec of the in-process app, on SQLite and PostgreSQL.

Every operation gets a bounded number of generated requests (positive and negative
data) with the admin key; each response must not be a 5xx, its status code must be
one the spec declares for the operation, and it must match the declared schema and
content type. The operations that start outbound work run too, kept off the
internet: the analysis queue has offline providers only and a probe guard that
refuses every address but 127.0.0.1 (resolving through a local DNS server), and
enrichment jobs are only queued (no worker runs here).
"""

from __future__ import annotations

import ipaddress
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from spoorhound.api.app import create_app
from spoorhound.config import Settings
from spoorhound.enrich.provider import Provider
from spoorhound.enrich.providers.offline_domain import DomainProvider
from spoorhound.enrich.providers.offline_ipclass import IpClassProvider
from spoorhound.services import access
from spoorhound.services.analyze import AnalysisQueue
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.services.netguard import IPAddress, NetGuard, Refused
from spoorhound.storage.engine import Store
from tests.conftest import _truncate_pg
from tests.emulators.dnsserver import DnsServer

pytestmark = pytest.mark.fuzz

SEED = """\
evil.example.com
198.51.100.7
http://evil.example.com/gate.php?id=1
44d88612fea8a8f36de82e1278abb02f
attacker@bad.example.net
"""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]

LOCAL = ipaddress.ip_network("127.0.0.1/32")


class LoopbackOnly(NetGuard):
    """The probe may reach 127.0.0.1 only: public addresses are refused too."""

    def check(self, ip: IPAddress, host: str | None = None) -> None:
        """Refuse every address outside 127.0.0.1."""
        if ip not in LOCAL:
            raise Refused(f"refused {host or ip}: only 127.0.0.1 in this test")


def _offline() -> dict[str, Provider]:
    return {"domain": DomainProvider(), "ipclass": IpClassProvider()}


def _seed(store: Store, tmp: Path) -> str:
    key = access.ensure_admin(store)
    assert key
    seed = tmp / "seed.txt"
    seed.write_text(SEED)
    ingest(store, seed, IngestOptions(enclave="alpha", tags=("c2", "phishing"), safelist=False))
    ingest(store, seed, IngestOptions(enclave="beta", source="osint", safelist=False))
    access.create_user(store, "ana", "analyst", actor="test")
    access.set_member(store, "alpha", "ana", "write", actor="test")
    return key


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    """A local DNS server: every name it does not know is NXDOMAIN, nothing leaves."""
    with DnsServer({"local.example.net": {"A": ["127.0.0.1"]}}) as srv:
        yield srv


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A migrated SQLite database with an admin and a few indicators, built once."""
    path = tmp_path_factory.mktemp("schema") / "template.db"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    key = _seed(store, path.parent)
    store.dispose()
    return path, key


@pytest.fixture(scope="module")
def pg_seeded(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, str]]:
    """The worker's PostgreSQL database, seeded once for the module (operations share it)."""
    store = Store(pg_url)
    _truncate_pg(store)
    key = _seed(store, tmp_path_factory.mktemp("pgseed"))
    yield store, key
    store.dispose()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def seeded(
    request: pytest.FixtureRequest, template: tuple[Path, str], tmp_path: Path, dns: DnsServer
) -> Iterator[tuple[FastAPI, str]]:
    """The app on each dialect with the admin key, its analyses and enrichments kept local."""
    if request.param == "sqlite":
        path, key = template
        db = tmp_path / "spoorhound.db"
        shutil.copyfile(path, db)
        store = Store(f"sqlite:///{db}")
    else:
        store, key = request.getfixturevalue("pg_seeded")
    app = create_app(store)
    # Enrichment jobs are queued in a local SQLite file and no worker runs them.
    app.state.settings = Settings.build(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}")
    guard = LoopbackOnly.build(["127.0.0.1/32"], nameservers=["127.0.0.1"], port=dns.port,
                               timeout=1.0)  # fmt: skip
    app.state.analysis = AnalysisQueue(store, guard=guard, providers=_offline, probe_timeout=2.0)
    yield app, key
    app.state.analysis.close()
    if request.param == "sqlite":
        store.dispose()


def _spec_app() -> FastAPI:
    """An app only to serve the spec (it never touches its store)."""
    return create_app(Store("sqlite://"))


# pytest 9 breaks schemathesis.pytest.from_fixture: the schema comes from a spec-only
# app and every operation's requests go to its own app (``app=`` below).
schema = schemathesis.openapi.from_asgi("/api/openapi.json", _spec_app())


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms(case: schemathesis.Case, seeded: tuple[FastAPI, str]) -> None:
    app, key = seeded
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
