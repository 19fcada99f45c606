"""Safelist matcher benchmark: matches per second against the named lists and the warninglists.

Usage::

    .venv/bin/python bench/safelists.py [--values 200000] [--entries 1000]

Creates a throw-away SQLite store with one named list of ``3 × --entries + 20``
entries (wildcard domains, CIDRs, exact addresses and 20 regexes), loads a
:class:`~spoorhound.services.safelists.SafelistMatcher` and times
``match(type, value)`` over a reproducible mix of domains, IPv4 addresses, URLs and
SHA-256 values (a quarter of them hit): first against the named lists alone
(``warninglists=False``), then with the vetoing MISP warninglists (index cached in
``bench/out/cache``), then ``popularity()`` on the domains. Prints a Markdown table
for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from spoorhound.services import safelists
from spoorhound.storage.engine import Store

ROOT = Path(__file__).resolve().parents[1]


def _values(n: int) -> list[tuple[str, str]]:
    q = n // 4
    return (
        [("domain", f"h{i}.x{i % 50}.example.net") for i in range(q)]
        + [("ipv4", f"11.{i % 250}.{i // 250 % 250}.1") for i in range(q)]
        + [("url", f"https://a{i}.corp{i % 2000}.example.com/x") for i in range(q)]
        + [("sha256", f"{i:064x}") for i in range(n - 3 * q)]
    )


def _rate(matcher: safelists.SafelistMatcher, values: list[tuple[str, str]]) -> tuple[float, int]:
    start = time.perf_counter()
    hits = sum(1 for t, v in values if matcher.match(t, v) is not None)
    return len(values) / (time.perf_counter() - start), hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--values", type=int, default=200_000)
    ap.add_argument("--entries", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.upgrade()
        safelists.create_safelist(store, "bench")
        for i in range(args.entries):
            safelists.add_entry(store, "bench", f"*.corp{i}.example.com")
            safelists.add_entry(store, "bench", f"10.{i % 250}.{i // 250}.0/24")
            safelists.add_entry(store, "bench", f"203.0.{i % 250}.{i // 250 + 1}")
        for i in range(20):
            safelists.add_entry(store, "bench", f"re:beacon{i}-[0-9]+\\.evil\\.net")
        values = _values(args.values)
        n_entries = 3 * args.entries + 20
        print("| matcher | entries | values | matches/s | hits |")
        print("|---|---:|---:|---:|---:|")
        rate, hits = _rate(safelists.load_matcher(store, warninglists=False), values)
        print(f"| named lists only | {n_entries:,} | {len(values):,} | {rate:,.0f} | {hits:,} |")
        cache = ROOT / "bench" / "out" / "cache"
        full = safelists.load_matcher(store, cache_dir=cache)
        rate, hits = _rate(full, values)
        print(
            f"| named + vetoing warninglists | {n_entries:,} | {len(values):,} | {rate:,.0f} | {hits:,} |"
        )
        domains = [v for t, v in values if t == "domain"]
        full.popularity("domain", "example.org")  # build or load the index first
        start = time.perf_counter()
        for d in domains:
            full.popularity("domain", d)
        rate = len(domains) / (time.perf_counter() - start)
        print(f"| popularity() on domains | | {len(domains):,} | {rate:,.0f} | |")
        store.dispose()


if __name__ == "__main__":
    main()
