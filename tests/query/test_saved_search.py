"""Saved searches: create, list, run, replace and delete by name, per owner."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from spoorhound.core.query import QuerySyntaxError
from spoorhound.services.explore import (
    SavedSearchExists,
    SavedSearchNotFound,
    delete_saved_search,
    list_saved_searches,
    run_saved_search,
    save_search,
)
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage import schema
from spoorhound.storage.engine import Store


def test_saved_search_lifecycle(store: Store) -> None:
    data = b"indicator,tags\n1.2.3.4,c2\nevil.example.com,phishing\n"
    ingest(store, io.BytesIO(data), IngestOptions(enclave="A", format="csv"), name="a.csv")
    saved = save_search(store, "c2 hosts", "tag = c2", owner="alice")
    assert saved["name"] == "c2 hosts" and saved["query"] == "tag = c2"
    save_search(store, "c2 hosts", "type = domain", owner="bob")  # same name, other owner
    with pytest.raises(SavedSearchExists):
        save_search(store, "c2 hosts", "tag = x", owner="alice")
    with pytest.raises(QuerySyntaxError):
        save_search(store, "broken", "tag = ", owner="alice")
    with pytest.raises(QuerySyntaxError):
        save_search(store, "blank", "  ", owner="alice")
    with pytest.raises(ValueError):
        save_search(store, "  ", "tag = c2", owner="alice")

    assert [r["value"] for r in run_saved_search(store, "c2 hosts", owner="alice").rows] == [
        "1.2.3.4"
    ]
    assert [r["value"] for r in run_saved_search(store, "c2 hosts", owner="bob").rows] == [
        "evil.example.com"
    ]
    assert run_saved_search(store, "c2 hosts", owner="alice", scope=["other"]).rows == []
    save_search(store, "c2 hosts", "tag = phishing", owner="alice", replace=True)
    assert [r["value"] for r in run_saved_search(store, "c2 hosts", owner="alice").rows] == [
        "evil.example.com"
    ]
    assert [(r["name"], r["query"]) for r in list_saved_searches(store, owner="alice")] == [
        ("c2 hosts", "tag = phishing")
    ]
    assert delete_saved_search(store, "c2 hosts", owner="alice") is True
    assert delete_saved_search(store, "c2 hosts", owner="alice") is False
    with pytest.raises(SavedSearchNotFound):
        run_saved_search(store, "c2 hosts", owner="alice")
    assert [r["name"] for r in list_saved_searches(store, owner="bob")] == ["c2 hosts"]
    with store.read() as conn:
        actions = list(
            conn.execute(
                sa.select(schema.audit.c.action)
                .where(schema.audit.c.action.like("saved_search.%"))
                .order_by(schema.audit.c.id)
            ).scalars()
        )
    assert actions == ["saved_search.save"] * 3 + ["saved_search.delete"]
