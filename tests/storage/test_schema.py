"""Migrations produce exactly the declared schema, on both dialects."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from spoorhound.storage.engine import Store
from spoorhound.storage.schema import metadata


def test_migrations_match_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert store.current_revision() == store.head_revision()


def test_upgrade_is_idempotent(store: Store) -> None:
    store.upgrade()
    store.upgrade()
    assert store.current_revision() == store.head_revision()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_store: Store) -> None:
    with sqlite_store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 10_000


def test_a_failed_write_leaves_nothing(store: Store) -> None:
    from spoorhound.storage import schema

    try:
        with store.write() as conn:
            conn.execute(schema.enclave.insert().values(name="half", created_at=1))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with store.read() as conn:
        assert conn.execute(schema.enclave.select()).first() is None
