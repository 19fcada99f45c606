"""Regressions found by the schemathesis run (tests/api_schema/test_schemathesis.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis

from spoorhound.api.app import create_app
from spoorhound.services import access
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client


@pytest.fixture
def admin(store: Store) -> Iterator[tuple[Client, str]]:
    key = access.ensure_admin(store)
    assert key
    c = Client(create_app(store))
    yield c, key
    c.close()


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize(
    "key_id", ["2147483648", "9223372036854775808", "99999999999999999999999", "0"]
)
def test_key_id_out_of_range_is_a_422_not_a_500(
    admin: tuple[Client, str], method: str, key_id: str
) -> None:
    client, key = admin
    r = client.request(method, f"/api/v1/keys/{key_id}", key=key)
    assert r.status_code == 422, r.text


def test_largest_key_id_is_a_404(admin: tuple[Client, str]) -> None:
    client, key = admin
    r = client.get(f"/api/v1/keys/{2**31 - 1}", key=key)
    assert r.status_code == 404, r.text


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("q=type%20%3D&limit=10", dict),  # query syntax error: message, position, text
        ("cursor=not-a-cursor", str),  # a route's own message
        ("limit=0", list),  # FastAPI's validation errors
    ],
)
def test_explore_422_bodies_match_the_spec(
    store: Store, admin: tuple[Client, str], query: str, detail: type
) -> None:
    client, key = admin
    r = client.get(f"/api/v1/explore?{query}", key=key)
    assert r.status_code == 422 and isinstance(r.json()["detail"], detail), r.text
    spec = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(store))
    spec["/api/v1/explore"]["GET"].validate_response(r)
