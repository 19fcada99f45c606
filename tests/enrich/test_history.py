"""Enrichment history: storing only changes, diffs, the current view, quotas, watchlists,
and the CLI / API surfaces that show them. Services run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx
import orjson
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi import FastAPI

from spoorhound.api.enrichment import router
from spoorhound.cli import enrich_cmd
from spoorhound.cli.main import State
from spoorhound.config import Settings
from spoorhound.enrich.provider import Verdict
from spoorhound.enrich.runtime import create_enrich_job
from spoorhound.services import access, enrichment, provider_usage, watchlists
from spoorhound.services.enrichment import Answer, Selection
from spoorhound.services.indicators import SearchFilter
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage import schema
from spoorhound.storage.engine import Store


def _pk(store: Store, value: str) -> int:
    with store.read() as conn:
        return int(
            conn.execute(
                sa.select(schema.indicator.c.pk).where(schema.indicator.c.value == value)
            ).scalar_one()
        )


def _seed(store: Store, *values: str, tlp: str | None = None) -> None:
    data = "\n".join(values).encode()
    assert ingest(store, io.BytesIO(data), IngestOptions(tlp=tlp)).status == "done"


def _store(store: Store, answers: list[Answer], provider: str = "p") -> enrichment.StoreCounts:
    job = create_enrich_job(store, Selection())
    with store.write() as conn:
        return enrichment.store_results(conn, job, provider, answers, at=int(time.time()))


def test_diff_and_rendering() -> None:
    old = {
        "status": "ok",
        "verdict": "unknown",
        "score": 0,
        "tags": ["a"],
        "attributes": {"asn": "AS1", "geo": {"cc": "NL"}, "a": ["1.1.1.1"]},
        "related": [{"relation": "resolves-to", "type": "ipv4", "value": "1.1.1.1"}],
    }
    new = {
        "status": "ok",
        "verdict": "malicious",
        "score": 12,
        "tags": ["b"],
        "attributes": {"asn": "AS2", "geo": {"cc": "DE"}, "a": ["2.2.2.2"]},
        "related": [{"relation": "resolves-to", "type": "ipv4", "value": "2.2.2.2"}],
    }
    text = [enrichment.render_change(c) for c in enrichment.diff(old, new)]
    assert text == [
        "verdict unknown → malicious",
        "score 0 → 12",
        "tags +b, -a",
        "related +resolves-to 2.2.2.2, -resolves-to 1.1.1.1",
        "attributes.a +2.2.2.2, -1.1.1.1",
        "attributes.asn AS1 → AS2",
        "attributes.geo.cc NL → DE",
    ]
    assert enrichment.diff(old, old) == []


def test_only_changes_add_rows_and_failures_never_replace_the_current_answer(
    store: Store,
) -> None:
    _seed(store, "203.0.113.9")
    pk = _pk(store, "203.0.113.9")
    t = int(time.time())
    first = Answer(pk, "ok", t, verdict="benign", score=0, attributes={"asn": "AS1"})
    assert _store(store, [first]).stored == 1
    # Same answer (tags/attributes in another order count as the same).
    same = Answer(pk, "ok", t + 5, verdict="benign", score=0, attributes={"asn": "AS1"})
    assert _store(store, [same]).unchanged == 1
    failed = Answer(pk, "error", t + 6, error="p: HTTP 503")
    assert _store(store, [failed]).failed == 1
    changed = Answer(pk, "ok", t + 7, verdict="malicious", score=80, attributes={"asn": "AS2"})
    counts = _store(store, [changed])
    assert counts.stored == 1 and counts.changes == 1

    rows = enrichment.history(store, "203.0.113.9")[0]["providers"]["p"]
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    assert rows[1]["error"] == "p: HTTP 503"
    assert rows[2]["summary"] == [
        "verdict benign → malicious",
        "score 0 → 80",
        "attributes.asn AS1 → AS2",
    ]
    # A later failure leaves the current view on the last good answer.
    _store(store, [Answer(pk, "rate_limited", t + 9, error="p: rate limited (429)")])
    cur = enrichment.current(store, "203.0.113.9")[0]["results"]["p"]
    assert cur["verdict"] == "malicious" and cur["score"] == 80
    with store.read() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(schema.enrichment_change)).scalar()
    assert n == 1


_ATTRIBUTES: list[dict[Any, Any]] = [
    {"s": "x", "n": 3, "f": 0.5, "b": True, "none": None, "top": (1 << 64) - 1},
    {"nan": float("nan"), "inf": float("inf")},  # no JSON for these: stored as null
    {"t": (1, 2), "nested": {"a": [1]}, 5: "int key"},
    {"verdict": Verdict.BENIGN, "when": datetime(2026, 1, 2, tzinfo=UTC)},
]


@pytest.mark.parametrize("attributes", _ATTRIBUTES)
def test_the_same_answer_again_adds_no_row(store: Store, attributes: dict[Any, Any]) -> None:
    values = [f"198.51.100.{i}" for i in range(1, 7)]
    _seed(store, *values)
    pks = [_pk(store, v) for v in values]
    t = int(time.time())
    # A whole run of keys (as the runner stores them) and a sparse pair.
    for group in (pks, [pks[0], pks[-1]]):
        answers = [Answer(pk, "ok", t, attributes=attributes) for pk in group]
        assert _store(store, answers, provider=f"p{len(group)}").stored == len(group)
        again = [Answer(pk, "ok", t + 1, attributes=attributes) for pk in group]
        counts = _store(store, again, provider=f"p{len(group)}")
        assert (counts.unchanged, counts.stored) == (len(group), 0)
        # Another verdict, same attributes: the change event names the verdict only.
        bad = [Answer(pk, "ok", t + 2, verdict="malicious", attributes=attributes) for pk in group]
        assert _store(store, bad, provider=f"p{len(group)}").changes == len(group)
        C = schema.enrichment_change
        with store.read() as conn:
            events = conn.execute(
                sa.select(C.c.summary).where(C.c.provider == f"p{len(group)}")
            ).scalars()
            assert [[enrichment.render_change(c) for c in e] for e in events] == [
                ["verdict ∅ → malicious"]
            ] * len(group)
    stored = enrichment.current(store, values[0])[0]["results"]["p6"]["attributes"]
    expected = orjson.loads(orjson.dumps(attributes, option=orjson.OPT_NON_STR_KEYS, default=str))
    assert stored == expected


def test_selection_respects_tlp_and_cache(store: Store) -> None:
    _seed(store, "203.0.113.10", "203.0.113.11")
    _seed(store, "203.0.113.12", tlp="red")
    pks = [_pk(store, f"203.0.113.{n}") for n in (10, 11, 12)]
    with store.read() as conn:
        tlps = enrichment.max_tlps(conn, pks, None)
    assert tlps[pks[2]] == "red" and tlps[pks[0]] == "clear"
    with store.read() as conn:  # only the indicators asked about, not their neighbours
        assert enrichment.max_tlps(conn, [pks[0], pks[2]], None).keys() == {pks[0], pks[2]}
    _store(store, [Answer(pks[0], "not_found", int(time.time()))])
    _store(store, [Answer(pks[1], "ok", int(time.time()))], provider="q")
    with store.read() as conn:
        assert enrichment.fresh_pks(conn, "p", pks, int(time.time()) - 60) == {pks[0]}
        assert enrichment.fresh_pks(conn, "q", [pks[0], pks[2]], int(time.time()) - 60) == set()
    ranges, types = enrichment.plan_ranges(store, Selection(SearchFilter(type="ipv4")), 2)
    assert len(ranges) == 2 and types == {"ipv4": 3}


def test_quota_reservation_is_atomic_and_resets(store: Store) -> None:
    now = 1_000_000.0
    got = provider_usage.reserve(store, "vt", {"day": 5}, 3, now=now, lengths={"day": 10})
    assert got == (3, 0.0)
    granted, wait = provider_usage.reserve(
        store, "vt", {"day": 5}, 3, now=now + 1, lengths={"day": 10}
    )
    assert granted == 2 and 0 < wait <= 10
    assert (
        provider_usage.reserve(store, "vt", {"day": 5}, 1, now=now + 2, lengths={"day": 10})[0] == 0
    )
    # The next period starts with the whole quota.
    assert (
        provider_usage.reserve(store, "vt", {"day": 5}, 5, now=now + 10, lengths={"day": 10})[0]
        == 5
    )
    with store.write() as conn:
        provider_usage.set_last_call(conn, "vt", 123.4561)
    with store.read() as conn:
        assert provider_usage.last_call(conn, "vt") == pytest.approx(123.457)


def test_watchlists(store: Store) -> None:
    sel = Selection(SearchFilter(tag="campaign:ddos"))
    watchlists.add_watchlist(store, "ddos", sel, interval_seconds=3600)
    with pytest.raises(ValueError, match="exists"):
        watchlists.add_watchlist(store, "ddos", sel, interval_seconds=3600)
    with pytest.raises(ValueError, match="filter"):
        watchlists.add_watchlist(store, "all", Selection(), interval_seconds=3600)
    (w,) = watchlists.due(store, 10_000)
    assert Selection.from_dict(w["filter"]).filter.tag == "campaign:ddos"
    watchlists.mark_run(store, w["id"], 10_000)
    assert watchlists.due(store, 10_100) == []
    assert len(watchlists.due(store, 13_600)) == 1
    assert watchlists.remove_watchlist(store, "ddos")
    assert not watchlists.remove_watchlist(store, "ddos")


@pytest.fixture
def cli_env(tmp_path: Path) -> tuple[click.Group, Store, Path]:
    settings = Settings.build(tmp_path)
    store = Store(settings.database_url)
    store.upgrade()

    @click.group()
    @click.pass_context
    def group(ctx: click.Context) -> None:
        ctx.obj = State(settings)

    enrich_cmd.register(group)
    return group, store, tmp_path


def test_cli_history_watch_and_jobs(cli_env: tuple[click.Group, Store, Path]) -> None:
    group, store, _ = cli_env
    _seed(store, "203.0.113.20")
    pk = _pk(store, "203.0.113.20")
    t = int(time.time())
    _store(
        store, [Answer(pk, "ok", t, verdict="unknown", score=0, attributes={"asn": "AS1"})], "vt"
    )
    _store(store, [Answer(pk, "ok", t + 1, verdict="malicious", score=12)], "vt")
    run = CliRunner()
    res = run.invoke(group, ["history", "203.0.113.20"])
    assert res.exit_code == 0, res.output
    assert "verdict unknown → malicious" in res.output and "score 0 → 12" in res.output
    res = run.invoke(group, ["history", "203.0.113.20", "--json"])
    assert json.loads(res.stdout)[0]["providers"]["vt"][1]["score"] == 12
    assert run.invoke(group, ["history", "198.18.0.1"]).exit_code == 1

    res = run.invoke(group, ["watch", "add", "ddos", "--tag", "ddos", "--every", "6h"])
    assert res.exit_code == 0, res.output
    res = run.invoke(group, ["watch", "list", "--json"])
    assert json.loads(res.stdout)[0]["every"] == "21600s"
    assert run.invoke(group, ["watch", "remove", "ddos"]).exit_code == 0
    assert run.invoke(group, ["watch", "remove", "ddos"]).exit_code != 0

    job = create_enrich_job(store, Selection())
    res = run.invoke(group, ["jobs", "show", job, "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["kind"] == "enrich"
    res = run.invoke(group, ["providers", "--json"])
    assert res.exit_code == 0
    for row in json.loads(res.stdout):
        assert set(row) >= {"name", "kind", "types", "max_tlp", "limits", "enabled", "key"}


def test_api_history_and_jobs(cli_env: tuple[click.Group, Store, Path]) -> None:
    _, store, _ = cli_env
    _seed(store, "203.0.113.30")
    pk = _pk(store, "203.0.113.30")
    t = int(time.time())
    _store(store, [Answer(pk, "ok", t, verdict="benign", score=1)], "otx")
    _store(store, [Answer(pk, "ok", t, verdict="benign", score=5)], "otx")
    app = FastAPI()
    app.state.store = store
    app.include_router(router)
    key = access.ensure_admin(store)
    assert key is not None
    auth = {"Authorization": f"Bearer {key}"}

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=auth) as c:
            return [
                await c.get("/api/indicators/203.0.113.30/history"),
                await c.get("/api/indicators/198.18.0.2/history"),
                await c.post("/api/enrich", json={"type": "nonsense"}),
                await c.post("/api/enrich", json={"type": "ipv4", "providers": ["x"]}),
            ]

    hist, missing, bad, ok = asyncio.run(go())
    assert hist.status_code == 200
    rows: list[dict[str, Any]] = hist.json()["indicators"][0]["providers"]["otx"]
    assert rows[-1]["summary"] == ["score 1 → 5"]
    assert missing.status_code == 404
    assert bad.status_code == 422
    assert ok.status_code == 202
    job_id = ok.json()["job_id"]

    async def job() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return [
                await c.get(f"/api/jobs/{job_id}", headers=auth),
                await c.get(f"/api/jobs/{job_id}"),
            ]

    got, anonymous = asyncio.run(job())
    assert got.status_code == 200 and got.json()["status"] == "running"
    assert anonymous.status_code == 401
