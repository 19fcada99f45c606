"""Scoring benchmark: rescoring 1,000,000 stored indicators on the embedded SQLite default.

Usage::

    .venv/bin/python bench/score.py [--rows 1000000] [--out bench/out]

Reuses the database of ``bench/explore.py`` (``bench/out/explore-<rows>.db``: the
reproducible mixed CSV of ``bench/ingest.py`` ingested into enclaves ``bench`` and
``partner``; built by that script when missing), copied to ``score-<rows>.db`` and
upgraded to the current schema, then times:

(a) ``rescore_all`` — the event path from nothing: gathers every indicator's
    observations, sources, enrichment, sightings, verdicts and pins, computes and
    stores the model's feature vectors, runs the model with its explanations and the
    full formula, and writes one score row per (indicator, enclave);
(b) ``sweep`` one day later — the scheduled pass the issue's target is about: the
    features are already computed; it reads every stored score with its evidence and
    feature vector, re-runs the model (LightGBM inference) and the age decay
    vectorised, and writes every row whose score, level or flag changed;
(c) ``sweep`` again at the same time — the same work with nothing to write.

Prints a Markdown table for docs/benchmarks.md, with the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import sqlalchemy as sa  # noqa: E402

from spoorhound.services import scoring  # noqa: E402
from spoorhound.storage import schema  # noqa: E402
from spoorhound.storage.engine import Store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    src = args.out / f"explore-{args.rows}.db"
    if not src.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "explore.py"), "--rows", str(args.rows),
             "--runs", "1", "--out", str(args.out)],
            check=True,
        )  # fmt: skip
    db = args.out / f"score-{args.rows}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(src, db)
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    data_dir = args.out / "score-data"
    data_dir.mkdir(exist_ok=True)
    scorer = scoring.Scorer.load(store, data_dir)
    with store.read() as conn:
        n_ind = conn.execute(sa.select(sa.func.count()).select_from(schema.indicator)).scalar_one()

    rows: list[tuple[str, int, float]] = []
    t = time.perf_counter()
    written = scoring.rescore_all(store, scorer=scorer)
    rows.append(
        (
            "(a) rescore_all (event path, features computed and stored)",
            written,
            time.perf_counter() - t,
        )
    )

    later = int(time.time()) + 86_400
    res = scoring.sweep(store, scorer=scorer, now=later)
    rows.append(
        (
            f"(b) sweep one day later: model + decay, {res.changed:,} rows written",
            res.rows,
            res.seconds,
        )
    )
    res2 = scoring.sweep(store, scorer=scorer, now=later)
    rows.append((f"(c) sweep again, {res2.changed:,} rows written", res2.rows, res2.seconds))

    load = os.getloadavg()
    print(f"\n{n_ind:,} indicators; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    print("| pass | score rows | seconds | rows/s |")
    print("| --- | ---: | ---: | ---: |")
    for name, n, s in rows:
        print(f"| {name} | {n:,} | {s:.1f} | {n / s:,.0f} |")


if __name__ == "__main__":
    main()
