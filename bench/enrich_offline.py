"""Offline-enrichment benchmark: every built-in offline provider over 1,000,000 indicators.

Usage::

    .venv/bin/python bench/enrich_offline.py [--count 1000000] [--batch 10000]
        [--cache-dir bench/out/cache]

Generates mixed indicators with ``bench/ingest.py``'s value generator (same seed,
same mix: IPv4/IPv6, domains, URLs, e-mails, hashes, paths, registry keys, ASNs,
CVEs), parses them, then hands each batch to every offline provider's
``enrich_many`` in turn (as the runner does), single process. Reference data is
loaded before timing and its load times are printed separately; ``--cache-dir``
keeps the built warninglist index and bigram model between runs (the first run
builds them).

Prints a Markdown table: per provider the indicators it accepted, its time, and its
rate over *all* indicators handed to it and over the ones it accepted; then the
overall rate (indicators / total time of all providers).
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import ingest  # noqa: E402 - the sibling benchmark's generator
from spoorhound.core.indicators import Indicator, InvalidIndicator, parse  # noqa: E402
from spoorhound.enrich.lexical import bigram_model  # noqa: E402
from spoorhound.enrich.provider import OfflineProvider  # noqa: E402
from spoorhound.enrich.providers.builtin_offline import OFFLINE_PROVIDERS  # noqa: E402
from spoorhound.enrich.providers.offline_data import (  # noqa: E402
    OfflineDataConfig,
    geoip,
    psl,
    safelist_index,
)
from spoorhound.enrich.providers.offline_lexical import LexicalConfig  # noqa: E402

#: Protected brands for the look-alike check (a realistic small list).
PROTECTED = [
    "paypal.com",
    "google.com",
    "microsoft.com",
    "apple.com",
    "amazon.com",
    "facebook.com",
    "netflix.com",
    "dhl.com",
    "wellsfargo.com",
    "bankofamerica.com",
]


def indicators(count: int, seed: int = 20261124) -> list[Indicator]:
    """``count`` parsed indicators from the ingest benchmark's generator."""
    rng = random.Random(seed)
    out: list[Indicator] = []
    for i in range(count):
        try:
            out.append(parse(ingest._value(rng, i)))
        except InvalidIndicator:
            continue
    return out


def _timed(label: str, fn: object) -> None:
    t = time.perf_counter()
    fn()  # type: ignore[operator]
    print(f"load {label:<22} {time.perf_counter() - t:6.2f} s")


def main() -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--cache-dir", type=Path, default=ROOT / "bench" / "out" / "cache")
    args = ap.parse_args()
    cache = args.cache_dir

    t = time.perf_counter()
    values = indicators(args.count)
    print(f"generated and parsed {len(values):,} indicators in {time.perf_counter() - t:.1f} s")

    _timed("geoip2fast", geoip)
    _timed("public suffix list", psl)
    _timed("warninglist index", lambda: safelist_index(cache))
    _timed("tranco bigram model", lambda: bigram_model(cache))

    # The runner streams indicators from the store batch by batch; this script holds
    # all of them (and the reference tables) in memory, which would make every
    # cyclic-GC pass walk millions of long-lived objects. Freeze them, so the
    # collector sees only what a runner's heap would hold: the batch in flight.
    gc.collect()
    gc.freeze()

    providers: list[OfflineProvider] = []
    for cls in OFFLINE_PROVIDERS:
        if cls.config_model is LexicalConfig:
            cfg: OfflineDataConfig | None = LexicalConfig(
                cache_dir=cache, protected_domains=PROTECTED
            )
        elif issubclass(cls.config_model, OfflineDataConfig):
            cfg = OfflineDataConfig(cache_dir=cache)
        else:
            cfg = None
        p = cls(cfg)
        assert isinstance(p, OfflineProvider)
        providers.append(p)

    spent = {p.name: 0.0 for p in providers}
    cpu = {p.name: 0.0 for p in providers}
    accepted = {p.name: 0 for p in providers}
    for start in range(0, len(values), args.batch):
        batch = values[start : start + args.batch]
        for p in providers:
            t, c = time.perf_counter(), time.process_time()
            results = p.enrich_many(batch)
            spent[p.name] += time.perf_counter() - t
            cpu[p.name] += time.process_time() - c
            accepted[p.name] += len(results)

    # CPU time is what this process used; wall time also counts waiting for a core
    # when the machine is shared, so compare the two before trusting either.
    n = len(values)
    total, total_cpu = sum(spent.values()), sum(cpu.values())
    print()
    print(
        "| provider | accepted | wall (s) | CPU (s) | indicators/s (all, wall) "
        "| indicators/s (all, CPU) | accepted/s (wall) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for p in providers:
        w, c = spent[p.name], cpu[p.name]
        print(
            f"| {p.name} | {accepted[p.name]:,} | {w:.2f} | {c:.2f} | {n / w:,.0f} "
            f"| {n / c:,.0f} | {accepted[p.name] / w:,.0f} |"
        )
    print(
        f"| **all offline providers** | {sum(accepted.values()):,} results | {total:.2f} "
        f"| {total_cpu:.2f} | **{n / total:,.0f}** | **{n / total_cpu:,.0f}** | |"
    )


if __name__ == "__main__":
    main()
