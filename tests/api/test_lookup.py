"""The one-indicator read (``lookup``) on its DBAPI path, on SQLite and PostgreSQL.

``lookup`` runs hand-written SQL on the driver (``storage.rawread``) for speed. The
oracle here is the SQLAlchemy implementation it replaced, kept verbatim: for every
caller scope the document must be the same, so seen-times, tags, reports,
sightings and the stored score still come only from the caller's enclaves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spoorhound.api.app import create_app
from spoorhound.services import access, scoring, verdicts
from spoorhound.services.enrichment import Answer, store_results
from spoorhound.services.indicators import _indicator_rows, lookup
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.services.jobs import create_job, now
from spoorhound.storage import schema
from spoorhound.storage.engine import Store
from spoorhound.storage.query_sql import candidate_values

SCORER = scoring.Scorer()
I = schema.indicator  # noqa: E741
O = schema.observation  # noqa: E741
E = schema.enclave
T = schema.tag
IT = schema.indicator_tag
S = schema.source


# --- the SQLAlchemy implementation lookup had before its DBAPI path ---------------------


def _oracle(
    store: Store, value: str, *, scope: Collection[str] | None = None, type: str | None = None
) -> list[dict[str, Any]]:
    where = I.c.value.in_(candidate_values(value))
    if type:
        where = where & (I.c.type == type)
    with store.read() as conn:
        rows = _indicator_rows(conn, where, scope)
        return [_oracle_detail(conn, row, scope) for row in rows]


def _oracle_detail(
    conn: Connection, row: dict[str, Any], scope: Collection[str] | None
) -> dict[str, Any]:
    pk = row.pop("pk")
    obs_q = (
        sa.select(
            E.c.name.label("enclave"),
            S.c.name.label("source"),
            S.c.reliability,
            O.c.confidence,
            O.c.tlp,
            O.c.first_seen,
            O.c.last_seen,
            O.c.times_reported,
            O.c.notes,
            O.c.attributes,
        )
        .join(E, E.c.id == O.c.enclave_id)
        .join(S, S.c.id == O.c.source_id)
        .where(O.c.indicator_pk == pk)
        .order_by(E.c.name, S.c.name)
    )
    tag_q = (
        sa.select(E.c.name, T.c.name)
        .select_from(IT.join(E, E.c.id == IT.c.enclave_id).join(T, T.c.id == IT.c.tag_id))
        .where(IT.c.indicator_pk == pk)
        .order_by(E.c.name, T.c.name)
    )
    rep_q = (
        sa.select(schema.report.c.id, schema.report.c.title, E.c.name.label("enclave"))
        .join(schema.report_indicator, schema.report_indicator.c.report_id == schema.report.c.id)
        .join(E, E.c.id == schema.report.c.enclave_id)
        .where(schema.report_indicator.c.indicator_pk == pk)
    )
    sight_q = (
        sa.select(
            E.c.name.label("enclave"),
            schema.sighting.c.seen_at,
            schema.sighting.c.location,
            schema.sighting.c.count,
        )
        .join(E, E.c.id == schema.sighting.c.enclave_id)
        .where(schema.sighting.c.indicator_pk == pk)
        .order_by(schema.sighting.c.seen_at.desc())
    )
    if scope is not None:
        vis = E.c.name.in_(list(scope))
        obs_q, tag_q, rep_q, sight_q = (q.where(vis) for q in (obs_q, tag_q, rep_q, sight_q))
    observations = [dict(r) for r in conn.execute(obs_q).mappings()]
    tags: dict[str, list[str]] = {}
    for enclave, name in conn.execute(tag_q):
        tags.setdefault(enclave, []).append(name)
    if scope is not None and observations:
        row["first_seen"] = min(o["first_seen"] for o in observations)
        row["last_seen"] = max(o["last_seen"] for o in observations)
    row["observations"] = observations
    row["tags"] = tags
    row["reports"] = [dict(r) for r in conn.execute(rep_q).mappings()]
    enr_q = (
        sa.select(
            schema.enrichment.c.provider,
            schema.enrichment.c.fetched_at,
            schema.enrichment.c.verdict,
            schema.enrichment.c.score,
        )
        .where(schema.enrichment.c.indicator_pk == pk)
        .order_by(schema.enrichment.c.fetched_at.desc())
    )
    row["enrichments"] = [dict(r) for r in conn.execute(enr_q).mappings()]
    row["sightings"] = [dict(r) for r in conn.execute(sight_q).mappings()]
    risk = scoring.view(conn, pk, scope)
    row["score"] = None if risk is None else risk["score"]
    row["risk"] = "unknown" if risk is None else risk["risk"]
    row["risk_detail"] = risk
    return row


# --- data: one value in three enclaves, with everything lookup shows -------------------


def _world(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("value,first_seen,last_seen\nevil.example.net,2024-01-01,2024-02-01\n")
    ingest(store, f, IngestOptions(enclave="secret", source="feed-a", tags=("apt", "c2")))
    ingest(store, f, IngestOptions(enclave="secret", source="feed-b", tlp="red"))
    g = tmp_path / "b.csv"
    g.write_text("value,first_seen,last_seen\nevil.example.net,2025-03-01,2025-04-01\n")
    ingest(store, g, IngestOptions(enclave="shared", source="feed-c", tags=("seen",)))
    ingest(store, g, IngestOptions(enclave="quiet", source="feed-c"))
    # A 32-hex string names indicators of several types: two rows for one value.
    h = tmp_path / "c.txt"
    h.write_text("d41d8cd98f00b204e9800998ecf8427f\n")
    ingest(store, h, IngestOptions(enclave="shared", type="md5"))
    ingest(store, h, IngestOptions(enclave="secret", type="ja3"))
    scoring.rescore_all(store, scorer=SCORER)
    at = now()
    verdicts.pin(store, "evil.example.net", "critical", enclave="secret", actor="t", scorer=SCORER)
    # An expired pin shows as no pin.
    verdicts.pin(
        store, "evil.example.net", "low", enclave="quiet", actor="t", scorer=SCORER,
        expires_at=at + 3600,
    )  # fmt: skip
    with store.write() as conn:
        conn.execute(
            schema.risk_override.update()
            .where(schema.risk_override.c.risk == "low")
            .values(expires_at=at - 10)
        )
    verdicts.record_sighting(
        store, "evil.example.net", enclave="secret", actor="t", scorer=SCORER,
        location="dmz-proxy", count=3, seen_at=at - 100,
    )  # fmt: skip
    verdicts.record_sighting(
        store, "evil.example.net", enclave="shared", actor="t", scorer=SCORER, seen_at=at - 50
    )
    with store.write() as conn:
        pk, ja3 = (
            conn.execute(sa.select(I.c.pk).where(I.c.value == v)).scalars().first()
            for v in ("evil.example.net", "d41d8cd98f00b204e9800998ecf8427f")
        )
        ids = {n: i for i, n in conn.execute(sa.select(E.c.id, E.c.name))}
        for rid, enclave in (("r-secret", "secret"), ("r-shared", "shared")):
            conn.execute(
                schema.report.insert().values(
                    id=rid, enclave_id=ids[enclave], title=f"report {enclave}", kind="text",
                    created_at=at,
                )
            )  # fmt: skip
            conn.execute(schema.report_indicator.insert().values(report_id=rid, indicator_pk=pk))
    job = create_job(store, "enrich", {})
    with store.write() as conn:
        store_results(
            conn, job, "virustotal",
            [Answer(indicator_pk=pk, status="ok", fetched_at=at, verdict="malicious", score=90),
             Answer(indicator_pk=ja3, status="ok", fetched_at=at, verdict="benign", score=0)],
            at=at,
        )  # fmt: skip


SCOPES: list[list[str] | None] = [
    None,
    ["shared"],
    ["secret"],
    ["quiet"],
    ["shared", "quiet"],
    ["secret", "shared", "quiet"],
    ["nowhere"],
    [],
]


@pytest.mark.parametrize(
    "value", ["evil.example.net", "evil[.]example[.]net", "d41d8cd98f00b204e9800998ecf8427f"]
)
def test_lookup_returns_the_same_document_as_the_sqlalchemy_reads(
    store: Store, tmp_path: Path, value: str
) -> None:
    _world(store, tmp_path)
    for scope in SCOPES:
        for type in (None, "domain", "md5", "ja3"):
            got = lookup(store, value, scope=scope, type=type)
            want = _oracle(store, value, scope=scope, type=type)
            key = (scope, type)
            assert sorted(got, key=lambda d: d["id"]) == sorted(want, key=lambda d: d["id"]), key
            # Same keys in the same order: the JSON documents are identical.
            assert [list(d) for d in got] == [list(d) for d in want], key


def test_lookup_shows_only_the_callers_enclaves(store: Store, tmp_path: Path) -> None:
    _world(store, tmp_path)
    [shared] = lookup(store, "evil.example.net", scope=["shared"])
    assert {o["enclave"] for o in shared["observations"]} == {"shared"}
    assert shared["tags"] == {"shared": ["seen"]}
    assert [r["enclave"] for r in shared["reports"]] == ["shared"]
    assert [s["enclave"] for s in shared["sightings"]] == ["shared"]
    # Seen-times of the shared observation, not secret's earlier ones.
    assert shared["first_seen"] > 1_735_000_000  # 2025, not 2024
    # Secret's critical pin stays in secret.
    assert shared["risk_detail"]["enclave"] == "shared"
    assert shared["risk_detail"]["pinned"] is None
    assert shared["risk"] != "critical"
    [secret] = lookup(store, "evil.example.net", scope=["secret"])
    assert secret["risk"] == "critical" and secret["risk_detail"]["pinned"]["by"] == "t"
    assert secret["first_seen"] < 1_735_000_000
    assert lookup(store, "evil.example.net", scope=["nowhere"]) == []
    assert lookup(store, "evil.example.net", scope=[]) == []
    # The expired pin in quiet is no pin.
    [quiet] = lookup(store, "evil.example.net", scope=["quiet"])
    assert quiet["risk_detail"]["pinned"] is None


def _get(app: Any, path: str, key: str) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test",
            headers={"Authorization": f"Bearer {key}"},
        ) as client:
            return await client.get(path)

    return asyncio.run(go())


def test_get_indicator_is_scoped_and_honours_revocation_on_the_next_request(
    store: Store, tmp_path: Path
) -> None:
    _world(store, tmp_path)
    access.ensure_admin(store)
    access.create_user(store, "ana", "analyst", actor="test")
    access.set_member(store, "shared", "ana", "read", actor="test")
    key = access.create_key(store, "ana", actor="test")
    app = create_app(store)  # one app: its key cache lives across the requests
    for path in ("/api/indicators/evil.example.net", "/api/v1/indicators/evil.example.net"):
        r = _get(app, path, key.key)
        assert r.status_code == 200, r.text
        [ind] = r.json()["indicators"] if "indicators" in r.json() else [r.json()]
        assert {o["enclave"] for o in ind["observations"]} == {"shared"}
        assert ind["risk_detail"]["enclave"] == "shared" and ind["risk"] != "critical"
    # Secret only: invisible to ana, answered as absent.
    assert (
        _get(app, "/api/indicators/d41d8cd98f00b204e9800998ecf8427f?type=ja3", key.key).status_code
        == 404
    )
    access.revoke_key(store, key.id, actor="test")
    r = _get(app, "/api/indicators/evil.example.net", key.key)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
