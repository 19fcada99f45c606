"""Schemathesis against the OpenAPI spec of the in-process app (SQLite, admin key).

Every operation gets a bounded number of generated requests (positive and negative
data); each response must not be a 5xx and, where its status code is documented,
must match the declared response schema and content type. Operations that start
background work against the outside world are left out (see ``EXCLUDED``).
"""

from __future__ import annotations

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
)

from spoorhound.api.app import create_app
from spoorhound.services import access
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage.engine import Store

pytestmark = pytest.mark.fuzz

#: Operations that start slow background work which may reach out of the machine
#: (enrichment providers, the active probe of analyze): not fuzzed here.
EXCLUDED = {
    ("POST", "/api/enrich"),
    ("POST", "/api/v1/analyze"),
    ("POST", "/api/analyze.php"),
}

SEED = """\
evil.example.com
198.51.100.7
http://evil.example.com/gate.php?id=1
44d88612fea8a8f36de82e1278abb02f
attacker@bad.example.net
"""

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A migrated SQLite database with an admin and a few indicators, built once."""
    path = tmp_path_factory.mktemp("schema") / "template.db"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    key = access.ensure_admin(store)
    assert key
    seed = path.with_name("seed.txt")
    seed.write_text(SEED)
    ingest(store, seed, IngestOptions(enclave="alpha", tags=("c2", "phishing")))
    ingest(store, seed, IngestOptions(enclave="beta", source="osint"))
    access.create_user(store, "ana", "analyst", actor="test")
    access.set_member(store, "alpha", "ana", "write", actor="test")
    store.dispose()
    return path, key


@pytest.fixture
def seeded(template: tuple[Path, str], tmp_path: Path) -> Iterator[tuple[FastAPI, str]]:
    """A fresh copy of the template database for each operation, its app and the admin key."""
    path, key = template
    db = tmp_path / "spoorhound.db"
    shutil.copyfile(path, db)
    store = Store(f"sqlite:///{db}")
    yield create_app(store), key
    store.dispose()


def _spec_app() -> FastAPI:
    """An app only to serve the spec (it never touches its store)."""
    return create_app(Store("sqlite://"))


# pytest 9 breaks schemathesis.pytest.from_fixture: the schema comes from a spec-only
# app and every operation's requests go to its own app (``app=`` below).
schema = schemathesis.openapi.from_asgi("/api/openapi.json", _spec_app())
for _method, _path in EXCLUDED:
    schema = schema.exclude(method=_method, path=_path)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms(case: schemathesis.Case, seeded: tuple[FastAPI, str]) -> None:
    app, key = seeded
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
