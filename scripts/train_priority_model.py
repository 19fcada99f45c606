"""Reproduce the shipped priority model (src/spoorhound/model/data/) from the raw data.

    .venv/bin/python scripts/train_priority_model.py [--seed 0] [--maltrail PATH] [--out DIR]

Steps: read Tranco from pymispwarninglists (dropping the reserved ``0`` domains) and
maltrail's indicators.jsonl; fit the feature tables (bigram model on the Tranco slice
disjoint from the benign rows, TLD vocabulary); write ``features.json.gz`` and the
filtered positives ``maltrail_domains.tsv.gz``; cross-validate by family and fit the
final model (``priority.txt.gz`` + ``priority.json``). Same seed, same data and same
library versions give byte-identical files.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import time
from collections import Counter
from pathlib import Path

from spoorhound.model import save_model, train
from spoorhound.model._data import (
    load_tranco,
    read_maltrail,
    sample_benign,
)
from spoorhound.model._train import N_BENIGN
from spoorhound.model.features import Featurizer, Tables, registrant_name

ROOT = Path(__file__).resolve().parents[1]
MALTRAIL = ROOT.parent / "shared" / "data" / "maltrail" / "indicators.jsonl"
OUT = ROOT / "src" / "spoorhound" / "model" / "data"
#: The maltrail commit the shared data was cut from (shared/data/README.md).
MALTRAIL_COMMIT = "8adace159e1e9418ca4dd1a4b07f84917c3b6155"
#: A TLD gets its own category when it has this many training rows.
MIN_TLD_ROWS = 50


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--maltrail", type=Path, default=MALTRAIL)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    tranco = load_tranco()
    say(f"Tranco {tranco.version}: {len(tranco.bigram_slice):,} bigram, {len(tranco.pool):,} pool")
    positives = read_maltrail(args.maltrail, tranco.members())
    say(f"maltrail: {len(positives):,} positive domains")
    benign = sample_benign(tranco.pool, N_BENIGN, args.seed)
    # Tables: the bigram model only sees the bigram slice; the TLD vocabulary is the
    # TLDs common in the training rows (a vocabulary, not a prior: no labels used).
    tld_counts = Counter(v.rpartition(".")[2] for v in [p.value for p in positives] + benign)
    tables = Tables.fit(map(registrant_name, tranco.bigram_slice), dict(tld_counts), MIN_TLD_ROWS)
    say(f"tables: {len(tables.tlds)} TLDs")
    result = train(
        seed=args.seed,
        positives=positives,
        tranco=tranco,
        featurizer=Featurizer(tables),
        origin="shipped",
        training_data={
            "maltrail_commit": MALTRAIL_COMMIT,
            "maltrail_rows": "shared/data/maltrail/indicators.jsonl",
        },
        progress=say,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:
        data = tables.with_label_tables(result.ngram_table, result.regression).to_json()
        gz.write(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    (args.out / "features.json.gz").write_bytes(buf.getvalue())
    path = save_model(result, args.out)
    say(f"wrote {path} ({path.stat().st_size:,} bytes)")
    print(json.dumps(result.metrics, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
