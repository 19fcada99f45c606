"""Training data of the priority model: maltrail positives and Tranco benign domains.

* Positives: maltrail ``domain`` rows of category ``malware`` or ``malicious``
  (``suspicious`` and ``mass_scanner`` are legitimate services malware abuses: excluded),
  reduced to their registered domain (hosts under private-section suffixes dropped, as
  the features cannot describe them), one row per registered domain (the first family
  in file order), minus every registered domain that is on the Tranco list. They are read
  from maltrail's file at training time (:func:`find_maltrail`), never shipped.
* Benign: the Tranco top-1M list inside ``pymispwarninglists``. Every domain whose
  SHA-256 hex digest (of the lower-case domain) starts with ``0`` is reserved for an
  independent evaluation: it is dropped on reading and used for nothing else. The rest
  is split by the digest's first hex digit: ``1``–``3`` fit the bigram table, ``4``–``f``
  are the pool the benign training rows are drawn from (uniformly, with the seed).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import os
import random
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spoorhound.model.features import host_of, registered_domain
from spoorhound.reference.warninglists import warninglists_dir

__all__ = [
    "BIGRAM_NIBBLES",
    "POSITIVE_CATEGORIES",
    "Positive",
    "TrancoSplit",
    "load_tranco",
    "read_maltrail",
    "read_positives",
    "registered_bucket",
    "sample_benign",
    "write_positives",
]

POSITIVE_CATEGORIES = ("malware", "malicious")
#: Tranco domains whose SHA-256 hex digest starts with "0" are reserved.
RESERVED_NIBBLE = 0
#: First hex digits of the digest ("1"–"3") whose Tranco domains fit the bigram table.
BIGRAM_NIBBLES = frozenset({1, 2, 3})


@dataclass(frozen=True, slots=True)
class Positive:
    """One malicious training value with its family (the CV group) and category."""

    value: str
    family: str
    category: str


def _digest(domain: str) -> str:
    return hashlib.sha256(domain.encode()).hexdigest()


@dataclass(frozen=True)
class TrancoSplit:
    """Tranco without the reserved domains, split into bigram slice and benign pool."""

    version: str
    bigram_slice: list[str]
    pool: list[str]
    #: every Tranco entry (reserved ones included) — used only to drop positives.
    entries: list[str]

    def members(self) -> frozenset[str]:
        """Every Tranco entry as a set (to drop positives that are on the list)."""
        return frozenset(self.entries)


@functools.lru_cache(maxsize=1)
def load_tranco() -> TrancoSplit:
    """Read Tranco, drop the reserved ``0`` domains and split the rest (kept for the
    life of the process: training reads it once per run, tests several times)."""
    with (warninglists_dir() / "tranco" / "list.json").open("rb") as fh:
        data: dict[str, Any] = json.load(fh)
    entries = list(dict.fromkeys(str(e).strip().lower() for e in data["list"]))
    bigram_slice: list[str] = []
    pool: list[str] = []
    sha256 = hashlib.sha256
    for d in entries:
        # the first hex digit of the digest is the high nibble of its first byte
        first = sha256(d.encode()).digest()[0] >> 4
        if first == RESERVED_NIBBLE:
            continue
        (bigram_slice if first in BIGRAM_NIBBLES else pool).append(d)
    return TrancoSplit(str(data.get("version", "")), bigram_slice, pool, entries)


def read_maltrail(path: Path, tranco: Collection[str]) -> list[Positive]:
    """Positives from maltrail's ``indicators.jsonl`` (see the module docstring)."""
    seen: set[str] = set()
    out: list[Positive] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["type"] != "domain" or row["category"] not in POSITIVE_CATEGORIES:
                continue
            host = host_of(str(row["value"]), "domain")
            value = registered_domain(host) if host is not None else None
            # one row per registered domain; a registered domain on Tranco is a popular
            # site with an abused subdomain or page, not a malicious registration
            if value is None or value in seen or value in tranco:
                continue
            seen.add(value)
            out.append(Positive(value, str(row["family"]), str(row["category"])))
    return out


#: Where ``spoorhound model train`` looks for maltrail's ``indicators.jsonl`` when no
#: path is given: ``$SPOORHOUND_MALTRAIL``, then the development checkout's
#: ``../shared/data/maltrail/``. The rows are not shipped in the package: the data's
#: rules keep its text out of the repository (the trained model and its tables are
#: the project's own).
MALTRAIL_ENV = "SPOORHOUND_MALTRAIL"


def find_maltrail(path: Path | None = None) -> Path:
    """The maltrail ``indicators.jsonl`` to train on; FileNotFoundError says where it looked."""
    candidates = [path] if path is not None else []
    if path is None:
        env = os.environ.get(MALTRAIL_ENV)
        if env:
            candidates.append(Path(env))
        here = Path(__file__).resolve()
        candidates += [
            here.parents[3].parent / "shared" / "data" / "maltrail" / "indicators.jsonl",
            Path.cwd().parent / "shared" / "data" / "maltrail" / "indicators.jsonl",
        ]
    for c in candidates:
        if c.is_file():
            return c
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"maltrail indicators.jsonl not found (looked at {looked}); pass --maltrail PATH "
        f"or set {MALTRAIL_ENV} (https://github.com/stamparm/maltrail trails, as described "
        "in docs/scoring.md)"
    )


def read_positives(
    path: Path | None = None, tranco: Collection[str] | None = None
) -> list[Positive]:
    """The positives from maltrail's ``indicators.jsonl`` (see :func:`find_maltrail`)."""
    if tranco is None:
        tranco = load_tranco().members()
    return read_maltrail(find_maltrail(path), tranco)


def write_positives(positives: Iterable[Positive], dest: Path) -> None:
    """Write positives as gzip TSV, byte-for-byte reproducible (no time in the header)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:
        for p in positives:
            gz.write(f"{p.value}\t{p.family}\t{p.category}\n".encode())
    dest.write_bytes(buf.getvalue())


def sample_benign(pool: list[str], n: int, seed: int) -> list[str]:
    """``n`` benign domains drawn uniformly from the pool (all of it if smaller)."""
    if n >= len(pool):
        return list(pool)
    return random.Random(seed).sample(pool, n)


def registered_bucket(registered: str, buckets: int) -> int:
    """A stable bucket of a registered domain: the CV group of benign rows, so the
    subdomains of one site never straddle folds."""
    return int(_digest(registered)[:8], 16) % buckets
