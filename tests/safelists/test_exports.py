"""Exports leave safelisted indicators out unless asked for."""

from __future__ import annotations

import orjson
import sqlalchemy as sa

from spoorhound.services import enclaves, exports
from spoorhound.services import safelists as sl
from spoorhound.services.indicator_edits import create_indicator
from spoorhound.storage import schema
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client

Api = tuple[Client, dict[str, str]]


def _values(store: Store, **kw: object) -> set[str]:
    return {r.value for r in exports.export_rows(store, "", ceiling="amber", **kw)}  # type: ignore[arg-type]


def test_a_safelisted_value_is_never_exported_unless_asked(store: Store) -> None:
    enclaves.create_enclave(store, "e", actor="t")
    for v in ("evil.example.net", "cdn.ours.example.com", "203.0.113.9", "flagged.example.org"):
        create_indicator(store, v, enclave="e", actor="t")
    sl.create_safelist(store, "ours")
    sl.add_entry(store, "ours", "*.ours.example.com")
    sl.add_entry(store, "ours", "203.0.113.0/24")
    # what scoring flags (e.g. a warninglist veto) is honoured too
    with store.write() as conn:
        conn.execute(
            schema.indicator.update()
            .where(schema.indicator.c.value == "flagged.example.org")
            .values(safelisted=True)
        )
    assert _values(store) == {"evil.example.net"}
    assert _values(store, include_safelisted=True) == {
        "evil.example.net", "cdn.ours.example.com", "203.0.113.9", "flagged.example.org"
    }  # fmt: skip
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.indicator)).scalar() == 4


def test_api_export_flag(store: Store, api: Api) -> None:
    client, keys = api
    for v in ("evil.example.net", "cdn.ours.example.com"):
        r = client.post(
            "/api/v1/indicators", key=keys["analyst"], json={"enclave": "red", "value": v}
        )
        assert r.status_code == 201, r.text
    sl.create_safelist(store, "ours")
    sl.add_entry(store, "ours", "*.ours.example.com")
    for fmt in ("jsonl", "csv", "stix", "misp", "plain"):
        r = client.get("/api/v1/exports", key=keys["reader"], params={"format": fmt})
        assert r.status_code == 200
        assert b"evil.example.net" in r.content and b"ours.example.com" not in r.content, fmt
    r = client.get(
        "/api/v1/exports",
        key=keys["reader"],
        params={"format": "jsonl", "include_safelisted": "true"},
    )
    values = {orjson.loads(line)["value"] for line in r.content.splitlines()}
    assert values == {"evil.example.net", "cdn.ours.example.com"}
