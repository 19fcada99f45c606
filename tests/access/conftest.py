"""Fixtures for access-control tests: an app with the admin router, a client, an admin key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from spoorhound.services import access
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client, build_app


@pytest.fixture
def app(store: Store) -> FastAPI:
    """The app around ``store`` with the admin router and default limits."""
    return build_app(store)


@pytest.fixture
def client(app: FastAPI) -> Iterator[Client]:
    """A client for ``app``."""
    c = Client(app)
    yield c
    c.close()


@pytest.fixture
def admin_key(store: Store) -> str:
    """The first-start administrator's key."""
    key = access.ensure_admin(store)
    assert key is not None
    return key
