"""The enrichment runner on DBOS, end to end: a real runtime, a real HTTP emulator.

One DBOS runtime (SQLite system database in a temp data directory) serves the
module; each test uses its own indicators (a tag per test), so tests do not
depend on each other's order.
"""

from __future__ import annotations

import io
import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import click
import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from spoorhound.cli import enrich_cmd
from spoorhound.cli.main import State
from spoorhound.config import Settings
from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich import runner, runtime
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpConfig,
    HttpProvider,
    OfflineProvider,
    Provider,
    ProviderError,
    RateLimit,
    Related,
    Status,
    Verdict,
)
from spoorhound.enrich.runner import RunnerSettings, watch_tick
from spoorhound.services import enrichment, watchlists
from spoorhound.services.enrichment import Selection
from spoorhound.services.indicators import SearchFilter
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage import schema
from spoorhound.storage.engine import Store
from tests.emulators.server import EmulatorServer

T = IndicatorType
SETTINGS: list[Settings] = []  # the module runtime's settings, for the CLI tests


class Emulator:
    """What the fake API answers, and when each request arrived."""

    def __init__(self) -> None:
        self.answers: dict[str, dict[str, Any]] = {}
        self.times: dict[str, list[float]] = {}
        self.seen: list[tuple[str, str]] = []
        self.flaky: set[str] = set()
        self.spent_until = 0.0
        # The "metered" API: `meter` calls per `meter_window` seconds, told in
        # X-RateLimit-* headers; calls beyond it are refused (and counted).
        self.meter = 3
        self.meter_window = 1.5
        self.meter_left = 0
        self.meter_reset = 0.0
        self.refused = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        # async: stamped on the event loop as the request arrives, not later on a
        # thread-pool thread (whose lag under load would distort the 1-s windows).
        @app.get("/{kind}/lookup")
        async def lookup(kind: str, value: str, request: Request) -> Any:
            self.times.setdefault(kind, []).append(time.time())
            self.seen.append((kind, value))
            if kind == "auth":
                return JSONResponse({"error": "bad key"}, status_code=401)
            if kind == "spent" and self.spent_until > time.time():
                return JSONResponse({"error": "QuotaExceededError"}, status_code=403)
            if kind == "metered":
                t = time.time()
                if t >= self.meter_reset:
                    self.meter_left, self.meter_reset = self.meter, t + self.meter_window
                quota = {
                    "X-RateLimit-Limit": str(self.meter),
                    "X-RateLimit-Remaining": str(max(0, self.meter_left - 1)),
                    "X-RateLimit-Reset": f"{self.meter_reset:.3f}",
                }
                if self.meter_left <= 0:
                    self.refused += 1
                    wait = str(math.ceil(self.meter_reset - t))
                    return JSONResponse({"error": "quota"}, 429, {**quota, "Retry-After": wait})
                self.meter_left -= 1
                answer = self.answers.get(value, {"verdict": "benign", "score": 0})
                return JSONResponse(answer, headers=quota)
            if kind == "flaky" and value in self.flaky:
                self.flaky.discard(value)
                return JSONResponse({"error": "slow down"}, 429, headers={"Retry-After": "1"})
            answer = self.answers.get(value)
            if answer is None:
                return JSONResponse({"error": "not found"}, status_code=404)
            return answer

        return app


class FakeHttp(HttpProvider):
    """Unlimited provider of the emulator's ``fast`` API."""

    name: ClassVar[str] = "fake-http"
    title: ClassVar[str] = "Fake HTTP"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({T.IPV4, T.DOMAIN})
    cache_ttl: ClassVar[int] = 3600
    kind: ClassVar[str] = "fast"

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        data = await self.request(
            client, "GET", f"/{self.kind}/lookup", params={"value": indicator.value}
        )
        if data is None:
            return self.result(indicator, Status.NOT_FOUND)
        return self.result(
            indicator,
            verdict=Verdict(data["verdict"]),
            score=data["score"],
            attributes=data.get("attributes", {}),
            related=tuple(Related(r, T.IPV4, v) for r, v in data.get("related", [])),
            raw=data,
        )


class FakePaced(FakeHttp):
    name: ClassVar[str] = "fake-paced"
    kind: ClassVar[str] = "paced"
    rate_limit: ClassVar[RateLimit] = RateLimit(per_second=5)


class FakeFlaky(FakeHttp):
    name: ClassVar[str] = "fake-flaky"
    kind: ClassVar[str] = "flaky"


class FakeAuth(FakeHttp):
    name: ClassVar[str] = "fake-auth"
    kind: ClassVar[str] = "auth"


class FakeQuota(FakeHttp):
    name: ClassVar[str] = "fake-quota"
    kind: ClassVar[str] = "quota"
    rate_limit: ClassVar[RateLimit] = RateLimit(per_day=3)


class FakeSpent(FakeHttp):
    """Reports its own quota as spent (403 with a quota error) until a reset."""

    name: ClassVar[str] = "fake-spent"
    kind: ClassVar[str] = "spent"

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        try:
            return await super().enrich(client, indicator)
        except ProviderError as e:
            if e.status is Status.AUTH_FAILED:
                raise ProviderError(Status.QUOTA_EXCEEDED, "quota spent", 1.5) from None
            raise


class FakeMetered(FakeHttp):
    """No declared limits: it learns its quota from the answers' headers."""

    name: ClassVar[str] = "fake-metered"
    kind: ClassVar[str] = "metered"


class FakeOffline(OfflineProvider):
    name: ClassVar[str] = "fake-offline"
    title: ClassVar[str] = "Fake offline"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({T.IPV4, T.DOMAIN})
    answers: ClassVar[dict[str, int]] = {}

    def enrich_many(self, indicators: Any) -> list[EnrichmentResult]:
        return [
            self.result(i, score=self.answers.get(i.value, 0), attributes={"len": len(i.value)})
            for i in indicators
        ]


@pytest.fixture(scope="module")
def emu() -> Iterator[tuple[Emulator, EmulatorServer]]:
    e = Emulator()
    with EmulatorServer(e.app()) as srv:
        yield e, srv


@pytest.fixture(scope="module")
def rt(
    tmp_path_factory: pytest.TempPathFactory, emu: tuple[Emulator, EmulatorServer]
) -> Iterator[Store]:
    data: Path = tmp_path_factory.mktemp("runner")
    settings = Settings.build(data)
    store = Store(settings.database_url)
    store.upgrade()
    _, srv = emu
    cfg = HttpConfig(enabled=True, base_url=srv.base_url, timeout=5)
    providers: dict[str, Provider] = {"fake-offline": FakeOffline()}
    for cls in (FakeHttp, FakePaced, FakeFlaky, FakeAuth, FakeQuota, FakeSpent, FakeMetered):
        providers[cls.name] = cls(cfg)
    SETTINGS.append(settings)
    lock = runtime.worker_lock(settings)  # the CLI then hands its jobs to this runtime
    lock.__enter__()
    runtime.start_runtime(
        settings,
        store=store,
        providers=providers,
        runner_settings=RunnerSettings(
            http_batch=4,
            backoff=0.05,
            quota_lengths={"day": 3},
            polling_interval=0.05,
            # Declared (exercises the schedule API) but due only on 1 January.
            watch_schedule="0 0 0 1 1 *",
        ),
    )
    yield store
    runtime.stop_runtime()
    lock.__exit__(None, None, None)
    store.dispose()


def _ingest(store: Store, tag: str, values: list[str], tlp: str | None = None) -> None:
    data = "\n".join(values).encode()
    res = ingest(store, io.BytesIO(data), IngestOptions(tags=(tag,), tlp=tlp), name=tag)
    assert res.status == "done", res.error


def _run(store: Store, tag: str, providers: list[str], force: bool = False) -> dict[str, Any]:
    sel = Selection(SearchFilter(tag=tag))
    job_id = runtime.submit(store, sel, providers=providers, force=force)
    job = runtime.wait_for(store, job_id, poll=0.1, timeout=60)
    assert job["status"] == "done", job
    return job


def _rows(store: Store, value: str, provider: str) -> list[dict[str, Any]]:
    e, i = schema.enrichment, schema.indicator
    q = (
        sa.select(e)
        .join(i, i.c.pk == e.c.indicator_pk)
        .where(i.c.value == value, e.c.provider == provider)
        .order_by(e.c.id)
    )
    with store.read() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def test_offline_and_http_results_are_stored_append_only_with_diffs(
    rt: Store, emu: tuple[Emulator, EmulatorServer]
) -> None:
    e, _ = emu
    _ingest(rt, "t-append", ["198.51.100.1", "example-append.org"])
    e.answers["198.51.100.1"] = {"verdict": "unknown", "score": 0, "attributes": {"asn": "AS1"}}
    job = _run(rt, "t-append", ["fake-http", "fake-offline"])
    assert job["providers"]["fake-http"]["stored"] == 2  # one answer, one not-found
    assert job["providers"]["fake-offline"]["stored"] == 2
    first = _rows(rt, "198.51.100.1", "fake-http")
    assert [r["score"] for r in first] == [0]

    # Same answer again (cache bypassed): no new row, only checked_at moves.
    time.sleep(1.1)
    job = _run(rt, "t-append", ["fake-http"], force=True)
    assert job["providers"]["fake-http"]["unchanged"] == 2
    again = _rows(rt, "198.51.100.1", "fake-http")
    assert len(again) == 1 and again[0]["checked_at"] > first[0]["checked_at"]

    # A different answer: a new row, a change event, and the diff in the history.
    e.answers["198.51.100.1"] = {
        "verdict": "malicious",
        "score": 12,
        "attributes": {"asn": "AS2"},
        "related": [["resolves-to", "192.0.2.7"]],
    }
    _run(rt, "t-append", ["fake-http"], force=True)
    rows = _rows(rt, "198.51.100.1", "fake-http")
    assert [r["score"] for r in rows] == [0, 12]
    with rt.read() as conn:
        changes = conn.execute(
            sa.select(schema.enrichment_change.c.summary).where(
                schema.enrichment_change.c.enrichment_id == rows[1]["id"]
            )
        ).all()
    assert len(changes) == 1
    timeline = enrichment.history(rt, "198.51.100.1", provider="fake-http")
    summary = timeline[0]["providers"]["fake-http"][-1]["summary"]
    assert "verdict unknown → malicious" in summary
    assert "score 0 → 12" in summary
    assert "attributes.asn AS1 → AS2" in summary
    assert "related +resolves-to 192.0.2.7" in summary


def test_cache_skips_recent_answers(rt: Store, emu: tuple[Emulator, EmulatorServer]) -> None:
    e, _ = emu
    _ingest(rt, "t-cache", ["198.51.100.2"])
    e.answers["198.51.100.2"] = {"verdict": "benign", "score": 1}
    _run(rt, "t-cache", ["fake-http"])
    before = sum(1 for _, v in e.seen if v == "198.51.100.2")
    job = _run(rt, "t-cache", ["fake-http"])
    assert job["providers"]["fake-http"]["cached"] == 1
    assert sum(1 for _, v in e.seen if v == "198.51.100.2") == before


def test_tlp_red_is_never_sent(rt: Store, emu: tuple[Emulator, EmulatorServer]) -> None:
    e, _ = emu
    _ingest(rt, "t-red", ["198.51.100.3"], tlp="red")
    job = _run(rt, "t-red", ["fake-http", "fake-offline"])
    assert job["providers"]["fake-http"]["withheld"] == 1
    assert not any(v == "198.51.100.3" for _, v in e.seen)
    # Offline providers keep everything on the box, so they may see it.
    assert job["providers"]["fake-offline"]["stored"] == 1


def test_429_retry_after_is_honoured(rt: Store, emu: tuple[Emulator, EmulatorServer]) -> None:
    e, _ = emu
    _ingest(rt, "t-429", ["198.51.100.4"])
    e.answers["198.51.100.4"] = {"verdict": "suspicious", "score": 40}
    e.flaky.add("198.51.100.4")
    e.times.pop("flaky", None)
    job = _run(rt, "t-429", ["fake-flaky"])
    assert job["providers"]["fake-flaky"]["stored"] == 1
    t = e.times["flaky"]
    assert len(t) == 2 and t[1] - t[0] >= 0.95


def test_auth_failure_gives_one_message_and_skips_the_rest(
    rt: Store, emu: tuple[Emulator, EmulatorServer]
) -> None:
    e, _ = emu
    values = [f"198.51.101.{n}" for n in range(1, 13)]
    _ingest(rt, "t-auth", values)
    job = _run(rt, "t-auth", ["fake-auth"])
    p = job["providers"]["fake-auth"]
    assert p["failed"] == 1 and p["skipped"] == len(values) - 1
    assert len([m for m in job["messages"] if "fake-auth" in m]) == 1
    assert "authentication failed" in (job["error"] or "")
    # No retries: at most one request per concurrently started call of the first batch.
    assert sum(1 for k, _ in e.seen if k == "auth") <= 4


def test_quota_exhausted_waits_instead_of_failing(
    rt: Store, emu: tuple[Emulator, EmulatorServer]
) -> None:
    e, _ = emu
    values = [f"198.51.102.{n}" for n in range(1, 8)]
    for v in values:
        e.answers[v] = {"verdict": "benign", "score": 2}
    _ingest(rt, "t-quota", values)
    e.times.pop("quota", None)
    job = _run(rt, "t-quota", ["fake-quota"])
    assert job["providers"]["fake-quota"]["stored"] == len(values)
    assert job["providers"]["fake-quota"]["failed"] == 0
    t = sorted(e.times["quota"])
    # 3 per 3-second period: 7 calls span at least two resets.
    assert t[-1] - t[0] >= 3


def test_rate_limit_is_never_exceeded_in_any_second(
    rt: Store, emu: tuple[Emulator, EmulatorServer]
) -> None:
    e, _ = emu
    values = [f"198.51.103.{n}" for n in range(1, 21)]
    for v in values:
        e.answers[v] = {"verdict": "benign", "score": 3}
    _ingest(rt, "t-paced", values)
    e.times.pop("paced", None)
    job = _run(rt, "t-paced", ["fake-paced"])
    assert job["providers"]["fake-paced"]["stored"] == len(values)
    t = sorted(e.times["paced"])
    worst = max(sum(1 for u in t[i:] if u - s < 1.0) for i, s in enumerate(t))
    assert worst <= 5


def test_a_re_executed_store_step_adds_no_row(rt: Store) -> None:
    _ingest(rt, "t-once", ["198.51.104.1"])
    with rt.read() as conn:
        pk = conn.execute(
            sa.select(schema.indicator.c.pk).where(schema.indicator.c.value == "198.51.104.1")
        ).scalar_one()
    answer = enrichment.Answer(pk, "ok", int(time.time()), verdict="benign", score=5)
    job_id = runtime.create_enrich_job(rt, Selection())
    for _ in range(2):
        with rt.write() as conn:
            enrichment.store_results(conn, job_id, "fake-once", [answer], at=int(time.time()))
    assert len(_rows(rt, "198.51.104.1", "fake-once")) == 1
    # Even with a different answer on re-execution, the attempt key holds.
    other = enrichment.Answer(pk, "ok", int(time.time()), verdict="malicious", score=90)
    with rt.write() as conn:
        enrichment.store_results(conn, job_id, "fake-once", [other], at=int(time.time()))
    assert len(_rows(rt, "198.51.104.1", "fake-once")) == 1


def test_an_offline_range_counts_cached_answers_and_is_stored_once(rt: Store) -> None:
    _ingest(rt, "t-offline", ["198.51.105.1", "198.51.105.2", "offline-once.org"])
    first = _run(rt, "t-offline", ["fake-offline"])["providers"]["fake-offline"]
    assert (first["total"], first["done"], first["stored"], first["cached"]) == (3, 3, 3, 0)
    # Within the cache lifetime nothing is enriched again; every indicator is counted.
    again = _run(rt, "t-offline", ["fake-offline"])
    c = again["providers"]["fake-offline"]
    assert (c["done"], c["cached"]) == (0, 3)
    # The step re-executed after a crash (its transaction committed): no second row.
    forced = _run(rt, "t-offline", ["fake-offline"], force=True)
    assert forced["providers"]["fake-offline"]["unchanged"] == 3
    B = schema.enrichment_batch
    with rt.read() as conn:
        key = conn.execute(
            sa.select(B.c.batch_key).where(
                B.c.job_id == forced["id"], B.c.batch_key.like("range:%")
            )
        ).scalar_one()
    lo, hi = (int(x) for x in key.removeprefix("range:").split("-"))
    assert runner._offline_part(forced["id"], "fake-offline", lo, hi) == {}
    assert len(_rows(rt, "198.51.105.1", "fake-offline")) == 1
    assert runtime.wait_for(rt, forced["id"])["providers"]["fake-offline"]["unchanged"] == 3


def test_due_watchlists_are_re_enriched_with_change_events(
    rt: Store, emu: tuple[Emulator, EmulatorServer]
) -> None:
    e, _ = emu
    _ingest(rt, "t-watch", ["198.51.105.1"])
    e.answers["198.51.105.1"] = {"verdict": "benign", "score": 1}
    _run(rt, "t-watch", ["fake-http"])
    e.answers["198.51.105.1"] = {"verdict": "malicious", "score": 70}
    watchlists.add_watchlist(
        rt,
        "t-watch",
        Selection(SearchFilter(tag="t-watch")),
        providers=["fake-http"],
        interval_seconds=3600,
    )
    watch_tick(datetime.now(UTC), None)  # what the cron schedule runs every minute
    watch_tick(datetime.now(UTC), None)  # not due again: no second job
    with rt.read() as conn:
        jobs = [
            r.id
            for r in conn.execute(sa.select(schema.job.c.id, schema.job.c.params))
            if (r.params or {}).get("watchlist") == "t-watch"
        ]
    assert len(jobs) == 1
    job = runtime.wait_for(rt, jobs[0], poll=0.1, timeout=60)
    assert job["providers"]["fake-http"]["stored"] == 1  # cache bypassed
    (summary,) = [
        c["summary"]
        for c in enrichment.history(rt, "198.51.105.1")[0]["providers"]["fake-http"][-1:]
    ]
    assert summary == ["verdict benign → malicious", "score 1 → 70"]
    with rt.read() as conn:
        n = conn.execute(
            sa.select(sa.func.count())
            .select_from(schema.enrichment_change)
            .where(schema.enrichment_change.c.provider == "fake-http")
            .where(
                schema.enrichment_change.c.indicator_pk
                == sa.select(schema.indicator.c.pk)
                .where(schema.indicator.c.value == "198.51.105.1")
                .scalar_subquery()
            )
        ).scalar()
    assert n == 1


def test_a_quota_the_provider_reports_spent_defers_the_work(
    rt: Store, emu: tuple[Emulator, EmulatorServer]
) -> None:
    e, _ = emu
    values = [f"198.51.106.{n}" for n in range(1, 4)]
    for v in values:
        e.answers[v] = {"verdict": "benign", "score": 4}
    _ingest(rt, "t-spent", values)
    e.spent_until = time.time() + 1.0
    start = time.time()
    job = _run(rt, "t-spent", ["fake-spent"])
    assert job["providers"]["fake-spent"]["stored"] == len(values)
    assert job["providers"]["fake-spent"]["failed"] == 0
    assert time.time() - start >= 1.5  # waited for the Retry-After, then succeeded


def test_quota_headers_pause_the_queue_until_the_reset(
    rt: Store, emu: tuple[Emulator, EmulatorServer]
) -> None:
    e, _ = emu
    values = [f"198.51.107.{n}" for n in range(1, 9)]
    _ingest(rt, "t-metered", values)
    e.times.pop("metered", None)
    e.refused = 0
    job = _run(rt, "t-metered", ["fake-metered"])
    assert job["providers"]["fake-metered"]["stored"] == len(values)
    assert job["providers"]["fake-metered"]["failed"] == 0
    # Paused at "remaining 0" and resumed after each reset: no call was refused.
    assert e.refused == 0
    t = sorted(e.times["metered"])
    assert len(t) == len(values)
    per_window = Counter(int((u - t[0]) // e.meter_window) for u in t)
    assert max(per_window.values()) <= e.meter
    assert len(per_window) >= 3  # 8 calls at 3 per window: three windows at least


def test_cli_enrich_and_ingest_enrich_hand_jobs_to_the_running_worker(rt: Store) -> None:
    settings = SETTINGS[-1]

    @click.group()
    @click.pass_context
    def group(ctx: click.Context) -> None:
        ctx.obj = State(settings)

    @group.command("after-ingest")
    @click.argument("job_id")
    @click.pass_context
    def after_ingest(ctx: click.Context, job_id: str) -> None:
        job = enrich_cmd.enrich_ingested(
            ctx, job_id, enclave="default", source="feed-x", providers=["fake-offline"], quiet=True
        )
        click.echo(json.dumps(job))

    enrich_cmd.register(group)
    _ingest(rt, "t-cli", ["198.51.107.1"])
    res = CliRunner().invoke(group, ["enrich", "--tag", "t-cli", "--json"])
    assert res.exit_code == 0, res.output
    job = json.loads(res.stdout)
    assert job["status"] == "done" and job["providers"]["fake-offline"]["stored"] == 1
    bad = CliRunner().invoke(group, ["enrich", "--provider", "no-such-provider"])
    assert bad.exit_code == 2 and "unknown provider" in bad.output

    # `ingest --enrich`: only what that ingest touched.
    data = io.BytesIO(b"198.51.107.2\n198.51.107.3\n")
    done = ingest(rt, data, IngestOptions(source="feed-x"), name="feed-x")
    res = CliRunner().invoke(group, ["after-ingest", done.job_id])
    assert res.exit_code == 0, res.output
    job = json.loads(res.stdout.strip().splitlines()[-1])
    assert job["providers"]["fake-offline"]["total"] == 2
