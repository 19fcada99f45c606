"""Priority-model throughput: ``featurize`` values/s and ``predict`` / ``explain`` rows/s.

Usage::

    .venv/bin/python bench/model.py [--values 100000] [--rows 1000000] [--repeat 3]

Values are generated with a fixed seed (no shared data needed): half random-letter
names under common TLDs, half word-like names with subdomains, plus 10% URLs. Their
feature rows are tiled to ``--rows`` rows for ``predict`` (the rescoring path: features
already stored). The best of ``--repeat`` runs is reported; other processes share the
cores, so the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from spoorhound.model import load_model  # noqa: E402
from spoorhound.model.features import featurize  # noqa: E402

_WORDS = [
    "secure",
    "cloud",
    "mail",
    "shop",
    "news",
    "data",
    "home",
    "web",
    "star",
    "blue",
    "north",
    "global",
    "line",
    "net",
    "app",
]
_TLDS = ["com", "net", "org", "xyz", "top", "ru", "info", "co.uk", "de", "io"]


def values(n: int, seed: int = 20261124) -> tuple[list[str], list[str]]:
    """``n`` reproducible (value, type) pairs."""
    rng = random.Random(seed)
    vals, types = [], []
    for i in range(n):
        if i % 2:
            name = "".join(
                rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(6, 20))
            )
            host = f"{name}.{rng.choice(_TLDS)}"
        else:
            name = "".join(rng.choices(_WORDS, k=rng.randint(1, 3)))
            host = f"{rng.choice(['www', 'mail', 'cdn', 'a1'])}.{name}.{rng.choice(_TLDS)}"
        if i % 10 == 0:
            vals.append(f"https://{host}/{name}/index.php?id={i}")
            types.append("url")
        else:
            vals.append(host)
            types.append("domain")
    return vals, types


def best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--values", type=int, default=100_000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    vals, types = values(args.values)
    model = load_model()
    featurize(vals[:10], types[:10])  # load the tables once
    t_feat = best(lambda: featurize(vals, types), args.repeat)
    X = featurize(vals, types)
    big = np.ascontiguousarray(np.tile(X, (args.rows // len(X) + 1, 1))[: args.rows])
    t_pred = best(lambda: model.predict(big), args.repeat)
    small = X[:10_000]
    t_expl = best(lambda: model.explain(small), args.repeat)
    print(f"model {model.version}, load average {os.getloadavg()[0]:.1f}")
    print(f"featurize: {args.values:,} values in {t_feat:.2f} s = {args.values / t_feat:,.0f}/s")
    print(f"predict:   {args.rows:,} rows in {t_pred:.2f} s = {args.rows / t_pred:,.0f}/s")
    print(f"explain:   {len(small):,} rows in {t_expl:.2f} s = {len(small) / t_expl:,.0f}/s")


if __name__ == "__main__":
    main()
