"""Explore benchmark: query-language queries returning 100 rows from 1,000,000 indicators.

Usage::

    .venv/bin/python bench/explore.py [--rows 1000000] [--runs 50] [--out bench/out]

Generates the same reproducible CSV as ``bench/ingest.py`` (seed 20261124: every main
indicator type with tags, first seen, confidence, TLP and source), ingests it with the
real ingest service into enclave ``bench`` of an embedded SQLite database (kept in
``--out`` and reused by later runs), plus its first 20,000 rows into enclave
``partner``, then times :func:`spoorhound.services.explore.explore` for a set of
typical queries, unscoped (local administrator) and scoped to ``bench`` (an API
caller), each ``--runs`` times after one warm-up: p50 / p99 / max in milliseconds
and the rows returned. The last lines time walking ten pages with the cursor.

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from spoorhound.services.explore import explore  # noqa: E402
from spoorhound.services.ingest import IngestOptions, ingest  # noqa: E402
from spoorhound.storage.engine import Store  # noqa: E402

QUERIES = [
    "",
    "type = domain",
    "tag = c2",
    "threat = emotet",
    "value ~ '*.xyz'",
    "ioc=*.ru and risk!=high",
    "ip in 10.0.0.0/8",
    "cidr contains 1.2.3.4",
    "tlp >= amber and confidence > 80",
    "last_seen > -30d and type = url",
    "first_seen < 2024-01-01 and (tag = ddos or tag = botnet)",
    "source = osint and not tag = spam",
    "enclave = partner and type in (md5, sha1, sha256)",
]
#: Queries with few or no matches: the walk down the last-seen index cannot stop early.
SPARSE = [
    "value = hxxp://evil[.]example[.]com/gate.php",
    "enclave = partner and type = md5",
    "enclave = nowhere",
    "risk = critical",
]


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("bench_ingest", ROOT / "bench" / "ingest.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def prepare(out: Path, rows: int) -> Store:
    """The benchmark database, built once (CSV generation + ingest) and then reused."""
    db = out / f"explore-{rows}.db"
    store = Store(f"sqlite:///{db}")
    if db.exists() and store.current_revision() == store.head_revision():
        return store
    if db.exists():
        store.dispose()
        db.unlink()
        store = Store(f"sqlite:///{db}")
    store.upgrade()
    data = out / f"ingest-{rows}.csv"
    if not data.exists():
        _generator().generate(data, rows)  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    r = ingest(store, data, IngestOptions(enclave="bench", source="bench", safelist=False))
    print(f"ingested {r.accepted:,} rows in {time.perf_counter() - t0:.1f}s ({r.status})")
    partner = out / "explore-partner.csv"
    with data.open() as src, partner.open("w") as dst:
        for i, line in enumerate(src):
            if i > 20_000:
                break
            dst.write(line)
    ingest(store, partner, IngestOptions(enclave="partner", source="partner", safelist=False))
    with store.write() as conn:
        conn.exec_driver_sql("ANALYZE")
    return store


def timed(store: Store, query: str, scope: list[str] | None, runs: int) -> tuple[list[float], int]:
    """Milliseconds per run and the number of rows of the first page."""
    page = explore(store, query, scope=scope, limit=100)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        explore(store, query, scope=scope, limit=100)
        times.append((time.perf_counter() - t0) * 1000)
    return times, len(page.rows)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    store = prepare(args.out, args.rows)
    print(
        f"\n{args.rows:,} indicators, SQLite, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print(f"{args.runs} runs per query after one warm-up; times in ms for a 100-row page\n")
    print("| query | scope | rows | p50 | p99 | max |")
    print("|---|---|---:|---:|---:|---:|")
    for query in QUERIES + SPARSE:
        for scope in (None, ["bench"]):
            times, n = timed(store, query, scope, args.runs)
            q = sorted(times)
            p99 = q[min(len(q) - 1, round(0.99 * (len(q) - 1)))]
            print(
                f"| `{query or '(all)'}` | {'bench' if scope else 'all'} | {n} | "
                f"{statistics.median(q):.1f} | {p99:.1f} | {q[-1]:.1f} |"
            )
    for query in ("", "tag = c2"):
        t0 = time.perf_counter()
        page = explore(store, query, scope=["bench"], limit=100)
        for _ in range(9):
            assert page.cursor
            page = explore(store, query, scope=["bench"], limit=100, cursor=page.cursor)
        ms = (time.perf_counter() - t0) * 1000
        print(
            f"\nten pages of `{query or '(all)'}` (scope bench): {ms:.0f} ms, {ms / 10:.1f} ms/page"
        )
    store.dispose()


if __name__ == "__main__":
    main()
