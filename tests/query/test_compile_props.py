"""Every AST the parser can produce compiles and runs, scoped and unscoped."""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings

from spoorhound.core.query import Node, to_text
from spoorhound.services.explore import explore
from spoorhound.storage import schema
from spoorhound.storage.engine import Store
from tests.query.test_parser_props import _nodes


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_nodes())
def test_every_ast_compiles_and_runs(sqlite_store: Store, node: Node) -> None:
    # An empty enclave A, so that scoped queries compile every term too; the store
    # is otherwise only read, so sharing it between examples is safe.
    with sqlite_store.write() as conn:
        if conn.execute(sa.select(schema.enclave.c.id)).first() is None:
            conn.execute(schema.enclave.insert().values(name="A", created_at=0))
    for scope in (None, ["A"]):
        page = explore(sqlite_store, to_text(node), scope=scope, limit=5)
        assert page.rows == [] and page.cursor is None
