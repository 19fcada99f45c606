"""Explore's rows on their DBAPI path: tags, seen-times and score per the caller's enclaves.

The oracle is the service that defines them: ``scoring.views`` for the score a
caller sees (a live pin wins in its enclave, else the highest visible score) and
the visible observations for the seen-times.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from spoorhound.services import scoring
from spoorhound.services.explore import explore
from spoorhound.storage import schema
from spoorhound.storage.engine import Store
from tests.api.test_lookup import SCOPES, _world

I = schema.indicator  # noqa: E741
O = schema.observation  # noqa: E741
E = schema.enclave


def test_explore_rows_show_the_callers_view_only(store: Store, tmp_path: Path) -> None:
    _world(store, tmp_path)
    for scope in SCOPES:
        rows = explore(store, "", scope=scope, limit=10).rows
        with store.read() as conn:
            pks = {i: pk for pk, i in conn.execute(sa.select(I.c.pk, I.c.id))}
            shown = scoring.views(conn, list(pks.values()), scope)
            seen = sa.select(
                O.c.indicator_pk, sa.func.min(O.c.first_seen), sa.func.max(O.c.last_seen)
            ).join(E, E.c.id == O.c.enclave_id)
            tags_q = (
                sa.select(schema.indicator_tag.c.indicator_pk, schema.tag.c.name)
                .join(schema.tag, schema.tag.c.id == schema.indicator_tag.c.tag_id)
                .join(E, E.c.id == schema.indicator_tag.c.enclave_id)
            )
            if scope is not None:
                seen = seen.where(E.c.name.in_(scope))
                tags_q = tags_q.where(E.c.name.in_(scope))
            envelope = {pk: (f, la) for pk, f, la in conn.execute(seen.group_by(O.c.indicator_pk))}
            tags: dict[int, set[str]] = {}
            for pk, name in conn.execute(tags_q):
                tags.setdefault(pk, set()).add(name)
        assert {r["id"] for r in rows} == {i for i, pk in pks.items() if pk in envelope}, scope
        for r in rows:
            pk = pks[r["id"]]
            want = shown.get(pk)
            assert (r["score"], r["risk"]) == (
                (None, None) if want is None else (want["score"], want["risk"])
            ), (scope, r["value"])
            assert (r["first_seen"], r["last_seen"]) == envelope[pk], (scope, r["value"])
            assert r["tags"] == sorted(tags.get(pk, set())), (scope, r["value"])
    # Secret's critical pin is secret's: a reader of shared sees shared's score.
    [evil] = [r for r in explore(store, "type = domain", scope=["shared"]).rows]
    assert evil["risk"] != "critical"
    [evil] = [r for r in explore(store, "type = domain", scope=["secret"]).rows]
    assert evil["risk"] == "critical"
