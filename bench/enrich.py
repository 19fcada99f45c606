"""Enrichment runner benchmark: throughput, rate-limit compliance, crash recovery.

Usage::

    .venv/bin/python bench/enrich.py [--offline 1000000] [--offline-providers ipclass,geoip]
                                      [--lookups 20000] [--limited 50] [--crash 100000]
                                      [--repeat 3] [--skip a|b|c]

(a) offline providers through the runner over ``--offline`` stored IPv4 indicators:
    indicators/s per provider from job submission to done (selection, TLP, cache,
    ``enrich_many``, storing every answer, job progress).

(b) an HTTP provider against a local emulator (a separate process, raw ASGI on
    uvicorn with httptools and uvloop) with no limit: lookups/s end to end through
    the DBOS queue — from job submission to the job being done, every answer stored —
    with one request per indicator (``--repeat`` runs over fresh indicators, best
    kept) and once through a bulk endpoint (100 per request); then with a limit of
    N/s: the most requests the emulator saw in any 1-second sliding window (must be
    ≤ N) and the count per wall-clock second. First, as the reference measured in the
    same run, a bare HTTP/1.1 client loop (``bench/http_ceiling.py``'s ``raw``, 8
    connections) against the same emulator: what the emulator can serve, so the
    runner's figure can be read as a share of it.
(c) a worker process enriches ``--crash`` indicators with an offline provider; it is
    killed with SIGKILL part-way, a new worker is started, and when the job is done
    the rows per (indicator, provider, job) are counted: every indicator exactly once.

Each run uses a fresh data directory (embedded SQLite store + SQLite DBOS database).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import httpx
import sqlalchemy as sa

from http_ceiling import best, raw_client, wait_until_up
from spoorhound.config import Settings
from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich import runtime
from spoorhound.enrich.plugins import available_providers
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpConfig,
    HttpProvider,
    Provider,
    RateLimit,
    Verdict,
)
from spoorhound.enrich.runner import RunnerSettings
from spoorhound.services.enrichment import Selection
from spoorhound.services.indicators import SearchFilter
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

ROOT = Path(__file__).resolve().parents[1]


# -- the emulator (runs in its own process) ----------------------------------------------

_TIMES: list[float] = []


async def emulator_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A minimal JSON API: GET /one?value=, POST /bulk, GET /times (request times)."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/times":
        body = json.dumps(_TIMES).encode()
    elif path == "/reset":
        _TIMES.clear()
        body = b"{}"
    elif path == "/bulk":
        _TIMES.append(time.time())
        chunks = []
        more = True
        while more:
            msg = await receive()
            chunks.append(msg.get("body", b""))
            more = msg.get("more_body", False)
        values = json.loads(b"".join(chunks))["values"]
        body = json.dumps({"results": [{"value": v, "score": len(v)} for v in values]}).encode()
    else:
        _TIMES.append(time.time())
        qs = scope.get("query_string", b"").decode()
        body = json.dumps({"value": qs[6:], "score": len(qs), "verdict": "benign"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _serve(port: int) -> None:
    import uvicorn

    uvicorn.run(emulator_app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- providers ------------------------------------------------------------------------------


class BenchHttp(HttpProvider):
    """One request per indicator, no limit."""

    name: ClassVar[str] = "bench-http"
    title: ClassVar[str] = "Benchmark HTTP"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({IndicatorType.IPV4})

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        data = await self.request(client, "GET", "/one", params={"value": indicator.value})
        return self.result(indicator, verdict=Verdict.BENIGN, score=data["score"] % 100)


class BenchBulk(BenchHttp):
    """A bulk endpoint: 100 indicators per request."""

    name: ClassVar[str] = "bench-bulk"
    batch_size: ClassVar[int] = 100

    async def enrich_batch(
        self, client: httpx.AsyncClient, indicators: Sequence[Indicator]
    ) -> list[EnrichmentResult]:
        data = await self.request(
            client, "POST", "/bulk", json={"values": [i.value for i in indicators]}
        )
        return [
            self.result(i, score=r["score"] % 100)
            for i, r in zip(indicators, data["results"], strict=True)
        ]


def _limited(n: int) -> type[BenchHttp]:
    class BenchLimited(BenchHttp):
        name: ClassVar[str] = "bench-limited"
        rate_limit: ClassVar[RateLimit] = RateLimit(per_second=n)

    return BenchLimited


# -- helpers --------------------------------------------------------------------------------


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ingest(store: Store, n: int, offset: int = 0, tag: str | None = None) -> None:
    lines = "\n".join(
        f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}" for i in range(offset, offset + n)
    )
    opts = IngestOptions(tags=(tag,) if tag else ())
    res = ingest(store, io.BytesIO(lines.encode()), opts, name=tag or "bench")
    assert res.status == "done" and res.accepted == n, res.error


def _fresh(
    tmp: Path, name: str, n: int, offset: int = 0, tag: str | None = None
) -> tuple[Settings, Store]:
    data = tmp / name
    settings = Settings.build(data)
    store = Store(settings.database_url)
    store.upgrade()
    _ingest(store, n, offset, tag)
    return settings, store


def _run_job(
    store: Store, provider: str, *, force: bool = False, tag: str | None = None
) -> tuple[float, dict[str, Any], float]:
    """Submit a job and wait for it: wall seconds, the job, and this process's CPU
    seconds meanwhile (the runtime runs in this process; every thread counts)."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    sel = Selection(SearchFilter(tag=tag) if tag else SearchFilter(type="ipv4"))
    job_id = runtime.submit(store, sel, providers=[provider], force=force)
    job = runtime.wait_for(store, job_id, poll=0.05)
    return time.perf_counter() - t0, job, time.process_time() - c0


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_b(tmp: Path, lookups: int, limit: int, repeat: int) -> None:
    port = _port()
    emu = subprocess.Popen([sys.executable, __file__, "_serve", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        # The reference, in the same run: a bare HTTP/1.1 client loop against the same
        # emulator (8 connections, like the runner) — what the emulator can serve here.
        ceiling = best(partial(raw_client, base, 4000, 8, "/one?value=10.0.0."), repeat)
        print(f"(b) load average {_load()}; bare client against the emulator: {ceiling:,.0f} req/s")
        httpx.get(base + "/reset")
        settings, store = _fresh(tmp, "b", lookups, tag="http-0")
        for r in range(1, repeat):
            _ingest(store, lookups, offset=r << 16, tag=f"http-{r}")
        _ingest(store, lookups, offset=repeat << 16, tag="bulk")
        cfg = HttpConfig(enabled=True, base_url=base, timeout=30)
        limited = _limited(limit)
        providers: dict[str, Provider] = {
            "bench-http": BenchHttp(cfg),
            "bench-bulk": BenchBulk(cfg),
            "bench-limited": limited(cfg),
        }
        runtime.start_runtime(
            settings,
            store=store,
            providers=providers,
            runner_settings=RunnerSettings(watch_schedule=None),
        )
        try:
            rates = []
            for r in range(repeat):
                secs, job, cpu = _run_job(store, "bench-http", tag=f"http-{r}")
                stored = job["providers"]["bench-http"]["stored"]
                rates.append(stored / secs)
                print(
                    f"(b) bench-http run {r + 1}: {stored:,} lookups stored in {secs:.2f}s = "
                    f"{stored / secs:,.0f} lookups/s end to end through the queue; runner CPU "
                    f"{cpu:.2f}s = {1000 * cpu / stored:.3f} ms per lookup "
                    f"(load average {_load()})"
                )
            top = max(rates)
            print(
                f"(b) bench-http best: {top:,.0f} lookups/s = {top / ceiling:.2f} of the bare "
                f"client's {ceiling:,.0f} req/s"
            )
            secs, job, _ = _run_job(store, "bench-bulk", tag="bulk")
            stored = job["providers"]["bench-bulk"]["stored"]
            print(
                f"(b) bench-bulk: {stored:,} lookups stored in {secs:.2f}s = "
                f"{stored / secs:,.0f} lookups/s end to end through the queue"
            )
            httpx.get(base + "/reset")
            # A separate set of limit × 12 indicators for the limited run (~12 s).
            lines = "\n".join(f"172.16.{i >> 8}.{i & 255}" for i in range(limit * 12))
            ingest(store, io.BytesIO(lines.encode()), IngestOptions(tags=("limited",)))
            t0 = time.perf_counter()
            job_id = runtime.submit(
                store, Selection(SearchFilter(tag="limited")), providers=["bench-limited"]
            )
            job = runtime.wait_for(store, job_id, poll=0.1)
            secs = time.perf_counter() - t0
            times = sorted(httpx.get(base + "/times").json())
            worst = 0
            j = 0
            for i, t in enumerate(times):
                while times[j] <= t - 1.0:
                    j += 1
                worst = max(worst, i - j + 1)
            hist = Counter(int(t - times[0]) for t in times)
            done = job["providers"]["bench-limited"]["stored"]
            print(
                f"(b) bench-limited at {limit}/s: {done:,} lookups in {secs:.1f}s; "
                f"max requests in any 1-s sliding window = {worst} (limit {limit})"
            )
            print("    requests per second: " + " ".join(str(hist[s]) for s in sorted(hist)))
        finally:
            runtime.stop_runtime()
    finally:
        emu.terminate()
        emu.wait()


# -- (c) crash recovery -----------------------------------------------------------------------

CRASH_PROVIDER = "ipclass"


def _worker(data_dir: str) -> None:
    settings = Settings.build(data_dir)
    cls = available_providers()[CRASH_PROVIDER]
    runtime.start_runtime(
        settings,
        providers={CRASH_PROVIDER: cls()},
        runner_settings=RunnerSettings(offline_chunk=1000, watch_schedule=None),
    )
    signal.sigwait({signal.SIGTERM})


def bench_c(tmp: Path, n: int) -> None:
    settings, store = _fresh(tmp, "c", n)
    job_id = runtime.create_enrich_job(
        store, Selection(SearchFilter(type="ipv4")), providers=[CRASH_PROVIDER]
    )
    runtime.enqueue_job(settings, job_id)
    e, b = schema.enrichment, schema.enrichment_batch

    def done() -> int:
        with store.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(b.c.done), 0)).where(
                        b.c.job_id == job_id
                    )
                ).scalar_one()
            )

    cmd = [sys.executable, __file__, "_worker", str(settings.data_dir)]
    t0 = time.perf_counter()
    w = subprocess.Popen(cmd)
    while done() < n * 0.4:
        time.sleep(0.05)
    w.kill()
    w.wait()
    killed_at = done()
    print(f"(c) worker killed with SIGKILL after {killed_at:,}/{n:,} indicators")
    w = subprocess.Popen(cmd)
    job = runtime.wait_for(store, job_id, poll=0.2, timeout=600)
    secs = time.perf_counter() - t0
    w.send_signal(signal.SIGTERM)
    w.wait()
    with store.read() as conn:
        per = conn.execute(
            sa.select(e.c.indicator_pk, sa.func.count().label("n"))
            .where(e.c.provider == CRASH_PROVIDER, e.c.attempt_key.like(f"{job_id}:%"))
            .group_by(e.c.indicator_pk)
        ).all()
    counts = Counter(int(k) for _, k in per)
    print(
        f"(c) after restart: job {job['status']} in {secs:.1f}s; indicators enriched: "
        f"{len(per):,}/{n:,}; rows per (indicator, provider, job): "
        + ", ".join(f"{k} row(s) × {v:,}" for k, v in sorted(counts.items()))
        + f"; job counters done={job['providers'][CRASH_PROVIDER]['done']:,}"
    )


def bench_a(tmp: Path, n: int, names: list[str]) -> None:
    t0 = time.perf_counter()
    settings, store = _fresh(tmp, "a", n)
    print(f"(a) {n:,} indicators stored in {time.perf_counter() - t0:.1f}s")
    classes = available_providers()
    providers: dict[str, Provider] = {name: classes[name]() for name in names}
    runtime.start_runtime(
        settings,
        store=store,
        providers=providers,
        runner_settings=RunnerSettings(watch_schedule=None),
    )
    try:
        for name in names:
            secs, job, cpu = _run_job(store, name)
            c = job["providers"][name]
            print(
                f"(a) {name}: {c['done']:,} indicators enriched and stored in {secs:.1f}s = "
                f"{c['done'] / secs:,.0f} indicators/s through the runner; CPU {cpu:.1f}s = "
                f"{c['done'] / cpu:,.0f} indicators per CPU second (load average {_load()})"
            )
    finally:
        runtime.stop_runtime()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_serve":
        _serve(int(sys.argv[2]))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "_worker":
        _worker(sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--offline", type=int, default=1_000_000)
    ap.add_argument("--offline-providers", default="ipclass,geoip")
    ap.add_argument("--lookups", type=int, default=20_000)
    ap.add_argument("--limited", type=int, default=50)
    ap.add_argument("--crash", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of (b) one-per-lookup; best")
    ap.add_argument("--skip", action="append", default=[], choices=["a", "b", "c"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="spoorhound-bench-enrich-") as tmp:
        if "a" not in args.skip:
            bench_a(Path(tmp), args.offline, args.offline_providers.split(","))
        if "b" not in args.skip:
            bench_b(Path(tmp), args.lookups, args.limited, args.repeat)
        if "c" not in args.skip:
            bench_c(Path(tmp), args.crash)


if __name__ == "__main__":
    os.environ.setdefault("SPOORHOUND_DBOS_LOG_LEVEL", "WARNING")
    main()
