"""Shared fixtures: a fresh store on SQLite and on PostgreSQL for each test.

PostgreSQL runs at 127.0.0.1:5432 on this machine type (trust auth). Each xdist
worker creates its own database once and truncates it between tests. Where
PostgreSQL is absent the ``pg`` tests skip, except under ``CI=true``, where its
absence is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from spoorhound.storage.engine import Store
from spoorhound.storage.schema import metadata

PG_ADMIN_URL = os.environ.get(
    "SPOORHOUND_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "data" / "samples"


def _pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this worker, dropped at the end."""
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 and CI=true requires it")
        pytest.skip("PostgreSQL not available")
    name = f"spoorhound_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    store = Store(url)
    store.upgrade()
    store.dispose()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def _truncate_pg(store: Store) -> None:
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with store.write() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store on each dialect."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'spoorhound.db'}")
        s.upgrade()
    else:
        s = Store(request.getfixturevalue("pg_url"))
        _truncate_pg(s)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated SQLite store (for tests that are about SQLite itself)."""
    s = Store(f"sqlite:///{tmp_path / 'spoorhound.db'}")
    s.upgrade()
    yield s
    s.dispose()


@pytest.fixture(scope="session")
def samples() -> Path:
    """The shared sample folder; skip (fail under CI) when it is missing."""
    if not SAMPLES.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared sample data missing at {SAMPLES}")
        pytest.skip("shared sample data not present")
    return SAMPLES


@pytest.fixture(scope="session")
def maltrail() -> Path:
    """maltrail's ``indicators.jsonl`` in the shared data (what ``model train`` reads);
    skip (fail under CI) when it is missing."""
    path = SHARED / "data" / "maltrail" / "indicators.jsonl"
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared maltrail data missing at {path}")
        pytest.skip("shared maltrail data not present")
    return path


@pytest.fixture(scope="session")
def safelist_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warninglist index cache per worker (building it takes seconds)."""
    return tmp_path_factory.mktemp("cache")
