"""Where an ingest's writer spends its time, statement by statement, without the parser.

Usage::

    .venv/bin/python bench/ingest_stages.py [--rows 1000000]

Parses the ingest benchmark's CSV (``bench/ingest.py`` generates it) into the chunks
the ingest service hands its writer, then replays them into a fresh SQLite store
alone, timing each statement of ``storage.bulk``; also compares staging a chunk with
multi-row ``VALUES`` (what the writer does) against expanding one JSON document with
``json_each`` (what it did before).
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import orjson

from spoorhound.ingest.formats import ReadOptions, read
from spoorhound.services import ingest as ingest_service
from spoorhound.storage import schema
from spoorhound.storage.bulk import _MAX_PK, _STAGING_COLUMNS, _WIDTH, bulk_writer, ensure_names
from spoorhound.storage.engine import Store

ROOT = Path(__file__).resolve().parents[1]


def chunks_of(path: Path) -> list[list[list[object]]]:
    """The writer's input for ``path``: chunks of staging rows."""
    result = ingest_service.IngestResult(job_id="bench", name=str(path))
    builder = ingest_service._ChunkBuilder(ingest_service.IngestOptions(), 1_700_000_000, result)
    out: list[list[list[object]]] = []
    with path.open("rb") as f:
        builder.consume(read("csv", f, ReadOptions()), lambda: out.append(builder.take()))
    out.append(builder.take())
    return [c for c in out if c]


def statements(chunks: list[list[list[object]]], db: Path) -> dict[str, float]:
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    spent: dict[str, float] = {}

    def timed(name: str, fn: object, *args: object) -> None:
        t = time.perf_counter()
        fn(*args)  # type: ignore[operator]
        spent[name] = spent.get(name, 0.0) + time.perf_counter() - t

    with store.write() as conn:
        enclave = ensure_names(conn, schema.enclave, ["bench"], 1)["bench"]
        w = bulk_writer(conn, enclave, 1_700_000_001)
        cur = w.dbapi.cursor()  # type: ignore[attr-defined]
        for rows in chunks:
            timed("stage (multi-row VALUES)", w._stage, cur, rows)  # type: ignore[attr-defined]
            for q in w.sql_names:  # type: ignore[attr-defined]
                timed("new sources and tags", cur.execute, q)
            cur.execute(_MAX_PK)
            cur.fetchone()
            timed("insert indicators", cur.execute, w.sql_insert)  # type: ignore[attr-defined]
            timed("merge observations", cur.execute, w.sql_merge[0])  # type: ignore[attr-defined]
            timed("merge tag links", cur.execute, w.sql_merge[1])  # type: ignore[attr-defined]
            w._clear(cur)  # type: ignore[attr-defined]
    store.dispose()
    return spent


def staging(chunks: list[list[list[object]]]) -> dict[str, float]:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute(f"CREATE TEMP TABLE _st ({_STAGING_COLUMNS})")
    cols = ", ".join(f"value->>{i}" for i in range(_WIDTH))
    t = time.perf_counter()
    for rows in chunks:
        db.execute(f"INSERT INTO _st SELECT {cols} FROM json_each(?)", (orjson.dumps(rows),))
        db.execute("DELETE FROM _st")
    return {"stage (json_each, before)": time.perf_counter() - t}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    data = ROOT / "bench" / "out" / f"ingest-{args.rows}.csv"
    if not data.exists():
        sys.path.insert(0, str(ROOT / "bench"))
        import ingest as gen  # bench/ingest.py

        data.parent.mkdir(parents=True, exist_ok=True)
        gen.generate(data, args.rows)
    chunks = chunks_of(data)
    gc.freeze()  # a million live rows would make every GC pass slow
    with tempfile.TemporaryDirectory() as tmp:
        spent = statements(chunks, Path(tmp) / "stages.db")
    spent.update(staging(chunks))
    print(f"\n{args.rows:,} rows, writer alone, seconds per statement kind\n")
    print("| statement | seconds | µs/row |")
    print("|---|---:|---:|")
    for name, sec in spent.items():
        print(f"| {name} | {sec:.1f} | {sec / args.rows * 1e6:.1f} |")


if __name__ == "__main__":
    main()
