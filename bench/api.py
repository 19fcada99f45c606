"""API benchmark: ``spoorhound serve`` on the embedded SQLite default with 1,000,000 indicators.

Usage::

    .venv/bin/python bench/api.py [--rows 1000000] [--duration 10] [--conns 1,8,32,64] [--workers 1,2]

or ``make bench-api`` (installs ``wrk`` with apt-get when it is missing).

Reuses the database of ``bench/explore.py`` (``bench/out/explore-<rows>.db``, built
by that script when missing) copied once to ``bench/out/api-<rows>/spoorhound.db``,
brought to the code's schema and its stored scores brought up to date (``spoorhound
score sweep``, what ``serve`` runs first: on a fresh copy or after a model change it
takes minutes, which a deployment spends once, not per request). For each ``--workers`` value in turn it starts ``spoorhound serve --workers
N`` on a free loopback port with ``SPOORHOUND_DATA_DIR`` pointing there, takes the
admin key it prints on a first start (or mints one through the access service) and a
read key of ``bench-analyst`` (a reader of enclave ``bench`` only), waits until the
server is idle (its startup score sweep done) and loads it with ``wrk`` (2 threads,
``--duration`` seconds per run) at each concurrency of ``--conns``:

(a) ``GET /api/indicators/{value}`` for random stored values (each checked to answer
    200 before the run), with the admin key (every enclave) and with the analyst's
    key (one enclave: the scoped reads), and ``GET /api/v1/indicators/{value}`` with
    the admin key;
(b) ``GET /api/v1/explore?q=type%3Ddomain&limit=100`` (first two levels);

then (c) a bare FastAPI app with one endpoint returning a constant (``def`` and
``async def``), served the same way (uvicorn, one process, defaults) in the same run.

Client and server share the machine's cores. "server CPU µs/req" is the CPU time of
the server's processes (the ``serve`` supervisor with the durable runtime, and its
API workers) per request: other load disturbs it less than req/s. Everything is on
127.0.0.1 and every process stops by itself (``wrk -d``, servers terminated at the
end). Prints a Markdown table for docs/benchmarks.md; phases are logged on stderr.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
KEY_RE = re.compile(r"\bsk_[A-Za-z0-9_\-]+")

BARE_APP = """
import sys
import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/const")
def const() -> dict[str, bool]:
    return {"ok": True}


@app.get("/const-async")
async def const_async() -> dict[str, bool]:
    return {"ok": True}


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""

WRK_LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
wrk.headers["Authorization"] = "Bearer %(key)s"
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT requests=%%d duration_us=%%d non2xx=%%d errors=%%d p50_us=%%d p99_us=%%d max_us=%%d\\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Result:
    """One wrk run."""

    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    bad: int
    #: CPU time of the server's processes per request (less sensitive to other load).
    cpu_us: float = float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(out: Path, rows: int) -> Path:
    """The data directory holding a copy of the explore benchmark's database."""
    data_dir = out / f"api-{rows}"
    db = data_dir / "spoorhound.db"
    if db.exists():
        return data_dir
    src = out / f"explore-{rows}.db"
    if not src.exists():
        # Builds explore-<rows>.db (CSV generation + ingest with the real service).
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "explore.py"),
                "--rows",
                str(rows),
                "--runs",
                "1",
            ],
            check=True,
            timeout=3600,
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, db)
    return data_dir


def ready_for_serving(data_dir: Path) -> None:
    """Bring the copy to the code's schema and its stored scores up to date, as a
    deployment's are between two sweeps.

    ``spoorhound score sweep`` is what ``serve`` runs first when it starts: it scores
    what is unscored (all of a fresh copy: minutes) and computes model features the
    current model has not seen (after a model change: minutes too). Run here, before
    the server starts, it leaves ``serve`` a sweep with nothing to do, so the runs
    measure the steady state, not a one-off catch-up (about 10-20 s when up to date).
    """
    from spoorhound.storage.engine import Store

    store = Store(f"sqlite:///{data_dir / 'spoorhound.db'}")
    try:
        if store.current_revision() != store.head_revision():
            store.upgrade()
    finally:
        store.dispose()
    t0 = time.monotonic()
    subprocess.run(
        [str(VENV_BIN / "spoorhound"), "score", "sweep"],
        env=dict(os.environ, SPOORHOUND_DATA_DIR=str(data_dir)),
        check=True,
        timeout=3600,
        stdout=subprocess.DEVNULL,
    )
    log(f"scores up to date (spoorhound score sweep: {time.monotonic() - t0:.0f} s)")


def sample_values(db: Path, n: int) -> list[str]:
    """``n`` random stored values (by primary key, so no full scan)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        (top,) = conn.execute("SELECT max(pk) FROM indicator").fetchone()
        rng = random.Random(20261124)
        pks = rng.sample(range(1, top + 1), min(n * 2, top))
        values: list[str] = []
        for pk in pks:
            row = conn.execute(
                "SELECT value FROM indicator WHERE pk = ? AND NOT retired", (pk,)
            ).fetchone()
            if row:
                values.append(row[0])
            if len(values) == n:
                break
        return values
    finally:
        conn.close()


class Server:
    """A subprocess writing its output to a file (not a pipe this process must drain)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                args, env=env, stdout=out, stderr=subprocess.STDOUT, text=True, cwd=ROOT
            )

    @property
    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def wait_ready(self, url: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + "\n".join(self.lines))
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout}s:\n" + "\n".join(self.lines))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def admin_key(server: Server, data_dir: Path) -> tuple[str, str]:
    """The key ``spoorhound serve`` printed on its first start, else a new admin key."""
    for line in server.lines:
        m = KEY_RE.search(line)
        if m:
            return m.group(0), "printed by `spoorhound serve` on its first start"
    from spoorhound.services import access
    from spoorhound.storage.engine import Store

    store = Store(f"sqlite:///{data_dir / 'spoorhound.db'}")
    try:
        # Users exist (an earlier run): a fresh key for an administrator.
        admins = [u for u in access.list_users(store) if u["role"] == "admin"]
        return access.create_key(
            store, admins[0]["name"], actor="bench"
        ).key, "minted (not a first start)"
    finally:
        store.dispose()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def settle(server: Server, *, below: float = 0.4, timeout: float = 180) -> tuple[float, float]:
    """Wait until the server's processes use less than ``below`` cores (its startup
    score sweep done); return (seconds waited, cores used while idle)."""
    t0 = time.monotonic()
    prev = cpu_seconds(server.proc.pid)
    rate = float("nan")
    while time.monotonic() - t0 < timeout:
        time.sleep(2)
        cur = cpu_seconds(server.proc.pid)
        rate, prev = (cur - prev) / 2, cur
        if rate < below:
            break
    return time.monotonic() - t0, rate


def wrk(
    url: str, paths: list[str], key: str, conns: int, duration: int, tmp: Path, server: Server
) -> Result:
    """One wrk run over ``paths`` (picked at random per request)."""
    pfile = tmp / "paths.txt"
    pfile.write_text("\n".join(paths) + "\n")
    script = tmp / "bench.lua"
    script.write_text(WRK_LUA % {"paths": pfile, "key": key})
    threads = min(2, conns)
    cpu_before = cpu_seconds(server.proc.pid)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{conns}",
            f"-d{duration}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    ).stdout
    m = re.search(
        r"RESULT requests=(\d+) duration_us=(\d+) non2xx=(\d+) errors=(\d+) "
        r"p50_us=(\d+) p99_us=(\d+) max_us=(\d+)",
        out,
    )
    cpu = cpu_seconds(server.proc.pid) - cpu_before
    if not m:
        raise RuntimeError("no result from wrk:\n" + out)
    req, dur, non2xx, errors, p50, p99, mx = (int(g) for g in m.groups())
    return Result(
        rps=req / (dur / 1e6),
        p50_ms=p50 / 1000,
        p99_ms=p99 / 1000,
        max_ms=mx / 1000,
        requests=req,
        bad=non2xx + errors,
        cpu_us=cpu / max(1, req) * 1e6,
    )


def analyst_key(data_dir: Path) -> str:
    """A fresh read key of user ``bench-analyst``, a reader of enclave ``bench`` only."""
    from spoorhound.services import access
    from spoorhound.storage.engine import Store

    store = Store(f"sqlite:///{data_dir / 'spoorhound.db'}")
    try:
        if not any(u["name"] == "bench-analyst" for u in access.list_users(store)):
            access.create_user(store, "bench-analyst", "analyst", actor="bench")
            access.set_member(store, "bench", "bench-analyst", "read", actor="bench")
        return access.create_key(store, "bench-analyst", scope="read", actor="bench").key
    finally:
        store.dispose()


def serve_and_load(
    workers: int, args: argparse.Namespace, data_dir: Path, values: list[str], tmp: Path
) -> tuple[list[tuple[str, int, Result]], dict[str, Any]]:
    """Start ``spoorhound serve --workers N``, let it settle, and load it with wrk."""
    levels = [int(c) for c in args.conns.split(",")]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, SPOORHOUND_DATA_DIR=str(data_dir))
    app = Server(
        [str(VENV_BIN / "spoorhound"), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env,
        tmp / f"serve-{workers}.log",
    )  # fmt: skip
    rows: list[tuple[str, int, Result]] = []
    try:
        t0 = time.monotonic()
        app.wait_ready(f"{base}/health")
        log(f"--workers {workers}: ready after {time.monotonic() - t0:.0f} s")
        key, key_source = admin_key(app, data_dir)
        reader = analyst_key(data_dir)
        # The startup score sweep runs first; measure the steady state after it.
        waited, idle = settle(app)
        log(f"--workers {workers}: settled after {waited:.0f} s more ({idle:.2f} cores)")
        paths: list[str] = []
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as c:
            # Only values that answer 200 (this also warms the page cache a little).
            for v in values:
                p = "/api/indicators/" + quote(v, safe="/:@")
                if c.get(p).status_code == 200:
                    paths.append(p)
            r = c.get(EXPLORE)
            r.raise_for_status()
            explore_rows = len(r.json()["results"])
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {reader}"}, timeout=60
        ) as c:
            scoped = sum(1 for p in paths[:50] if c.get(p).status_code == 200)
        if scoped < 40:  # the partner enclave holds a few; most values are in bench
            raise RuntimeError(f"the bench-analyst key sees {scoped} of 50 values")
        log(f"--workers {workers}: {len(paths)} paths checked; loading")
        name = f"`--workers {workers}`"
        for conns in levels:
            rows.append(
                (f"{name} GET /api/indicators/{{value}} (admin key)", conns,
                 wrk(base, paths, key, conns, args.duration, tmp, app))
            )  # fmt: skip
        v1 = [p.replace("/api/indicators/", "/api/v1/indicators/", 1) for p in paths]
        for conns in levels:
            rows.append(
                (f"{name} GET /api/v1/indicators/{{value}} (admin key)", conns,
                 wrk(base, v1, key, conns, args.duration, tmp, app))
            )  # fmt: skip
        for conns in levels:
            rows.append(
                (f"{name} GET /api/indicators/{{value}} (key reading enclave bench)", conns,
                 wrk(base, paths, reader, conns, args.duration, tmp, app))
            )  # fmt: skip
        for conns in levels[:2]:
            rows.append(
                (f"{name} GET {EXPLORE} ({explore_rows} rows)", conns,
                 wrk(base, [EXPLORE], key, conns, args.duration, tmp, app))
            )  # fmt: skip
    finally:
        app.stop()
    info = {"key": key_source, "paths": len(paths), "settle_s": waited, "idle_cores": idle}
    return rows, info


EXPLORE = "/api/v1/explore?q=type%3Ddomain&limit=100"


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--conns", default="1,8,32,64", help="concurrency levels")
    ap.add_argument("--values", type=int, default=1000, help="random stored values to GET")
    ap.add_argument(
        "--workers",
        default="1,2",
        help="spoorhound serve --workers; several (1,2) run one configuration after the other",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (apt-get install -y wrk)")
    levels = [int(c) for c in args.conns.split(",")]
    load_before = f"{os.getloadavg()[0]:.2f}"
    data_dir = prepare(args.out, args.rows)
    ready_for_serving(data_dir)
    values = sample_values(data_dir / "spoorhound.db", args.values)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    rows: list[tuple[str, int, Result]] = []
    infos: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for workers in (int(w) for w in args.workers.split(",")):
            got, infos[workers] = serve_and_load(workers, args, data_dir, values, tmp)
            rows += got
        bare_port = free_port()
        bare = f"http://127.0.0.1:{bare_port}"
        bare_script = tmp / "bare.py"
        bare_script.write_text(BARE_APP)
        bare_srv = Server(
            [sys.executable, str(bare_script), str(bare_port)], dict(os.environ), tmp / "bare.log"
        )
        try:
            bare_srv.wait_ready(f"{bare}/const")
            for path, name in (("/const", "`def`"), ("/const-async", "`async def`")):
                for conns in levels:
                    rows.append(
                        (f"bare FastAPI {name} constant (one process)", conns,
                         wrk(bare, [path], "-", conns, args.duration, tmp, bare_srv))
                    )  # fmt: skip
        finally:
            bare_srv.stop()

    bare_rps = {c: r.rps for name, c, r in rows if name.startswith("bare FastAPI `def`")}
    bare_async = {c: r.rps for name, c, r in rows if name.startswith("bare FastAPI `async")}
    print(
        f"\n{started}: {args.rows:,} indicators, embedded SQLite, `spoorhound serve` "
        f"(stored scores up to date; measured once the server is idle), "
        f"wrk on loopback, {os.cpu_count()} cores shared by client and server, "
        f"Python {sys.version.split()[0]}, {args.duration}s per run; "
        f"load average before / after: {load_before} / {os.getloadavg()[0]:.2f}"
    )
    for workers, info in infos.items():
        print(
            f"* `--workers {workers}`: {info['paths']} random stored values; admin key "
            f"{info['key']}; idle {info['settle_s']:.0f} s after start; idle server CPU "
            f"{info['idle_cores']:.2f} cores (mostly the durable runtime's queue polling)"
        )
    print(
        "\n| server / endpoint | conns | req/s | p50 ms | p99 ms | max ms | requests "
        "| non-2xx/errors | vs bare `def` | vs bare `async def` | server CPU µs/req |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    nan = float("nan")
    for name, conns, r in rows:
        print(
            f"| {name} | {conns} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
            f"{r.max_ms:.1f} | {r.requests:,} | {r.bad} | "
            f"{r.rps / bare_rps.get(conns, nan):.2f} | {r.rps / bare_async.get(conns, nan):.2f} | "
            f"{r.cpu_us:,.0f} |"
        )
    print(
        f"\ncommand: .venv/bin/python bench/api.py --rows {args.rows} --duration {args.duration} "
        f"--conns {args.conns} --workers {args.workers}"
        + ("" if args.out == ROOT / "bench" / "out" else f" --out {args.out}")
    )


if __name__ == "__main__":
    main()
