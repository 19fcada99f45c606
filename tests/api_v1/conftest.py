"""Fixtures for the v1 indicator, tag, export and job routers: an app, a client, principals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from spoorhound.services import access, enclaves, submissions
from spoorhound.storage import schema
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client, build_app


def build_v1_app(store: Store) -> FastAPI:
    """``create_app`` plus the routers under test (as create_app will include them)."""
    return build_app(store)


@pytest.fixture
def client(store: Store) -> Iterator[Client]:
    """A client for the app with the v1 routers."""
    c = Client(build_v1_app(store))
    yield c
    c.close()
    wait_for_jobs(store)


def wait_for_jobs(store: Store, timeout: float = 30.0) -> None:
    """Wait until no submission is running (so no thread outlives its test's store)."""
    deadline = time.monotonic() + timeout
    q = sa.select(sa.func.count()).where(
        schema.job.c.status == "running", schema.job.c.kind == submissions.KIND
    )
    while time.monotonic() < deadline:
        with store.read() as conn:
            if not conn.execute(q).scalar_one():
                return
        time.sleep(0.05)
    raise AssertionError("a job is still running")


@dataclass(frozen=True)
class Keys:
    """Keys of the usual people: admin, a writer and a reader of ``red``, an outsider."""

    admin: str
    writer: str
    reader: str
    outsider: str
    writer_read_key: str


@pytest.fixture
def keys(store: Store) -> Keys:
    """Enclaves ``red-team`` and ``blue-team``; ana writes red, rob reads red, eve has blue."""
    admin = access.ensure_admin(store)
    assert admin
    for name in ("red-team", "blue-team"):
        enclaves.create_enclave(store, name, actor="test")
    for user, enclave, perm in (
        ("ana", "red-team", "write"),
        ("rob", "red-team", "read"),
        ("eve", "blue-team", "write"),
    ):
        access.create_user(store, user, "analyst", actor="test")
        access.set_member(store, enclave, user, perm, actor="test")  # type: ignore[arg-type]

    def key(user: str, scope: str = "write") -> str:
        return access.create_key(store, user, scope=scope, actor="test").key  # type: ignore[arg-type]

    return Keys(admin, key("ana"), key("rob"), key("eve"), key("ana", "read"))
