"""Bulk-ingest benchmark: 1,000,000 distinct mixed indicators with context.

Usage::

    .venv/bin/python bench/ingest.py [--rows 1000000] [--pg] [--out bench/out]

Generates a reproducible CSV (seed 20261124; every main indicator type, some
defanged, with tags, first seen, confidence, TLP, source and notes), then runs
each phase as a real ``spoorhound ingest`` process on a fresh embedded SQLite
database, measuring wall time and peak RSS (``wait4``):

1. first ingest (all new);
2. re-ingest of the same file (all updated, zero new);
3. the floor: ``csv.reader`` + one ``executemany`` into an un-indexed SQLite table,
   same rows, same pragmas, in a child process too;
4. with ``--pg``: the first ingest into a fresh PostgreSQL database at
   127.0.0.1:5432 (``COPY`` + upsert).

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SPOORHOUND = [PY, "-m", "spoorhound.cli"]

TLDS = [
    "com",
    "net",
    "org",
    "ru",
    "info",
    "xyz",
    "top",
    "io",
    "cn",
    "de",
    "biz",
    "online",
    "site",
    "club",
]
SYL = [
    "ka",
    "lo",
    "mi",
    "ne",
    "tor",
    "vex",
    "qua",
    "zen",
    "pri",
    "mus",
    "dal",
    "ora",
    "sec",
    "up",
    "net",
    "bit",
]
TAGS = [
    "ddos",
    "APT28",
    "phishing",
    "botnet",
    "c2",
    "ransomware",
    "actor:APT29",
    "malware:Emotet",
    "spam",
]
SOURCES = ["feed-alpha", "feed-bravo", "osint", "sandbox", "partner-isac"]
TLPS = ["clear", "green", "amber", "amber+strict"]


def _domain(rng: random.Random, i: int) -> str:
    name = "".join(rng.choice(SYL) for _ in range(rng.randint(2, 4)))
    sub = f"{rng.choice(SYL)}{i % 97}." if rng.random() < 0.3 else ""
    return f"{sub}{name}{i:x}.{rng.choice(TLDS)}"


def _value(rng: random.Random, i: int) -> str:
    r = rng.random()
    h = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
    if r < 0.20:
        n = (i * 2654435761 + 16777216) % (1 << 32)
        v = f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        return v.replace(".", "[.]") if rng.random() < 0.05 else v
    if r < 0.23:
        return f"2001:db8:{i >> 16:x}:{i & 0xFFFF:x}::{rng.randrange(1, 0xFFFF):x}"
    if r < 0.48:
        d = _domain(rng, i)
        return d.replace(".", "[.]", 1) if rng.random() < 0.05 else d
    if r < 0.66:
        scheme = rng.choice(["http", "https"])
        url = f"{scheme}://{_domain(rng, i)}/{rng.choice(SYL)}/{rng.choice(['gate', 'index', 'panel'])}.php?id={i}"
        return url.replace("http", "hxxp", 1) if rng.random() < 0.05 else url
    if r < 0.69:
        return f"{rng.choice(SYL)}.{rng.choice(SYL)}{i}@{_domain(rng, i)}"
    if r < 0.74:
        return hashlib.md5(h.encode()).hexdigest()
    if r < 0.79:
        return hashlib.sha1(h.encode()).hexdigest()
    if r < 0.93:
        return h
    if r < 0.95:
        return f"C:\\Users\\Public\\{rng.choice(SYL)}{i}.exe"
    if r < 0.97:
        return f"HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\{rng.choice(SYL)}{i}"
    if r < 0.98:
        return f"AS{100000 + i}"
    return f"CVE-{2015 + i % 11}-{10000 + i}"


def generate(path: Path, rows: int, seed: int = 20261124) -> None:
    """Write ``rows`` distinct indicators with context as CSV."""
    rng = random.Random(seed)
    base = 1_700_000_000
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["indicator", "tags", "first_seen", "confidence", "tlp", "source", "notes"])
        for i in range(rows):
            tags = ",".join(rng.sample(TAGS, rng.randint(1, 2)))
            first = time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + rng.randrange(0, 60_000_000))
            )
            notes = f"seen in campaign {i % 500}" if rng.random() < 0.1 else ""
            w.writerow(
                [
                    _value(rng, i),
                    tags,
                    first,
                    rng.randint(0, 100),
                    rng.choice(TLPS),
                    rng.choice(SOURCES),
                    notes,
                ]
            )


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run ``cmd``; return (wall seconds, peak RSS in MB, stdout)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
        out.seek(0)
        return wall, usage.ru_maxrss // 1024, out.read().decode()


FLOOR = r"""
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[2], isolation_level=None)
for p in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
    db.execute("PRAGMA " + p)
db.execute("CREATE TABLE t (value TEXT, tags TEXT, first_seen TEXT, confidence TEXT, tlp TEXT, source TEXT, notes TEXT)")
with open(sys.argv[1], newline="") as f:
    r = csv.reader(f)
    next(r)
    db.execute("BEGIN")
    db.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?)", r)
    db.execute("COMMIT")
"""


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument(
        "--pg", action="store_true", help="also ingest into PostgreSQL at 127.0.0.1:5432"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / f"ingest-{args.rows}.csv"
    if not data.exists():
        t0 = time.perf_counter()
        generate(data, args.rows)
        print(
            f"generated {data} ({data.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f}s"
        )
    work = Path(tempfile.mkdtemp(prefix="spoorhound-bench-"))
    results: list[tuple[str, float, int, dict[str, int]]] = []
    try:
        env = {**os.environ, "SPOORHOUND_DATA_DIR": str(work / "sqlite")}
        env.pop("SPOORHOUND_DATABASE_URL", None)
        run_child([*SPOORHOUND, "init"], env)
        for phase in ("SQLite, first ingest", "SQLite, re-ingest same file"):
            wall, rss, out = run_child(
                [*SPOORHOUND, "ingest", str(data), "--enclave", "bench", "--json"], env
            )
            res = json.loads(out)
            results.append(
                (phase, wall, rss, {k: res[k] for k in ("accepted", "new", "updated", "rejected")})
            )
        floor_db = work / "floor.db"
        wall, rss, _ = run_child([PY, "-c", FLOOR, str(data), str(floor_db)])
        results.append(("floor: csv + executemany, no index", wall, rss, {}))
        if args.pg:
            dbname = f"spoorhound_bench_{os.getpid()}"
            psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c"]
            subprocess.run([*psql, f"CREATE DATABASE {dbname}"], check=True)
            try:
                pg_env = {
                    **env,
                    "SPOORHOUND_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{dbname}",
                }
                run_child([*SPOORHOUND, "init"], pg_env)
                for phase in ("PostgreSQL, first ingest", "PostgreSQL, re-ingest same file"):
                    wall, rss, out = run_child(
                        [*SPOORHOUND, "ingest", str(data), "--enclave", "bench", "--json"], pg_env
                    )
                    res = json.loads(out)
                    results.append(
                        (
                            phase,
                            wall,
                            rss,
                            {k: res[k] for k in ("accepted", "new", "updated", "rejected")},
                        )
                    )
            finally:
                subprocess.run(
                    [*psql, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"], check=False
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    floor = next(w for p, w, _, _ in results if p.startswith("floor"))
    print(f"\n{args.rows:,} rows, {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print(
        "| phase | wall s | rows/s | peak RSS MB | × floor time | accepted | new | updated | rejected |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for phase, wall, rss, c in results:
        print(
            f"| {phase} | {wall:.1f} | {args.rows / wall:,.0f} | {rss} | {wall / floor:.2f} | "
            f"{c.get('accepted', '')} | {c.get('new', '')} | {c.get('updated', '')} | {c.get('rejected', '')} |"
        )


if __name__ == "__main__":
    main()
