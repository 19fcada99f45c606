"""Structured-reader throughput: rows/s of the plain, CSV and JSONL readers.

Usage::

    .venv/bin/python bench/readers.py [--rows 200000] [--repeat 3] [--only csv,jsonl]

Reads ``bench/out/ingest-<rows>.csv`` (generated with ``bench/ingest.py:generate`` if
absent, same seed), and derives from it, in a temporary directory:

* plain: the indicator column, one per line;
* jsonl: one object per row (``tags`` as a list, ``confidence`` as a number, ``notes``
  only when non-empty, as JSON exports write them).

Each reader is run ``--repeat`` times over the whole file (reading, decoding, mapping,
building the :class:`RawRecord` objects, nothing else) and the best time is reported.
Other processes share the cores, so compare runs made in the same minute.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from spoorhound.ingest.formats import ReadOptions, read  # noqa: E402


def ensure_csv(rows: int) -> Path:
    """Return the benchmark CSV for ``rows`` rows, generating it if absent."""
    path = ROOT / "bench" / "out" / f"ingest-{rows}.csv"
    if not path.exists():
        import ingest  # bench/ingest.py

        path.parent.mkdir(parents=True, exist_ok=True)
        ingest.generate(path, rows)
    return path


def derive(src: Path, tmp: Path) -> dict[str, Path]:
    """Write the plain and JSONL versions of ``src``; return format → path."""
    plain = tmp / "plain.txt"
    jsonl = tmp / "rows.jsonl"
    with (
        src.open(newline="", encoding="utf-8") as f,
        plain.open("w", encoding="utf-8") as p,
        jsonl.open("w", encoding="utf-8") as j,
    ):
        for row in csv.DictReader(f):
            p.write(row["indicator"] + "\n")
            obj: dict[str, object] = {
                "indicator": row["indicator"],
                "tags": row["tags"].split(","),
                "first_seen": row["first_seen"],
                "confidence": int(row["confidence"]),
                "tlp": row["tlp"],
                "source": row["source"],
            }
            if row["notes"]:
                obj["notes"] = row["notes"]
            j.write(json.dumps(obj) + "\n")
    return {"plain": plain, "csv": src, "jsonl": jsonl}


def run(fmt: str, path: Path) -> tuple[int, float]:
    """Read ``path`` as ``fmt`` once; return (items, seconds)."""
    gc.collect()
    with path.open("rb") as f:
        t0 = time.perf_counter()
        n = 0
        for _ in read(fmt, f, ReadOptions()):
            n += 1
        return n, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="plain,csv,jsonl", help="comma-separated formats")
    args = ap.parse_args()
    src = ensure_csv(args.rows)
    with tempfile.TemporaryDirectory() as d:
        paths = derive(src, Path(d))
        print(f"{'reader':<8} {'items':>9} {'best s':>8} {'rows/s':>11} {'µs/row':>7}")
        for fmt in args.only.split(","):
            best = float("inf")
            n = 0
            for _ in range(args.repeat):
                n, dt = run(fmt, paths[fmt])
                best = min(best, dt)
            print(f"{fmt:<8} {n:>9} {best:>8.3f} {n / best:>11,.0f} {1e6 * best / n:>7.2f}")


if __name__ == "__main__":
    main()
