"""Same-process A/B of the extractor: the working tree against an earlier git revision.

Usage::

    .venv/bin/python bench/extract_ab.py OLD_REV [--runs N]

``OLD_REV``'s ``src/spoorhound`` is unpacked with ``git archive`` into a temporary
directory as the package ``spoorhound_ab_old`` (its imports rewritten), both versions
are checked to give the same candidates on the corpus, and then ``unique(extract(t))``
over the corpus of ``bench/extract.py`` (the same texts) is timed for each, alternating
old and new run by run, best of ``N`` CPU times each. Alternating in one process is what
makes the ratio usable on a shared machine: both sides see the same load.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OLD = "spoorhound_ab_old"


def _bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bench_extract", HERE / "extract.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _unpack_old(rev: str, into: Path) -> None:
    blob = subprocess.run(
        ["git", "archive", rev, "src/spoorhound"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    pkg = into / "src" / "spoorhound"
    pkg.rename(into / OLD)
    word = re.compile(r"\bspoorhound(?=[. ])")
    for path in (into / OLD).rglob("*.py"):
        path.write_text(word.sub(OLD, path.read_text(encoding="utf-8")), encoding="utf-8")
    _build_old_accelerator(into)


def _build_old_accelerator(into: Path) -> None:
    """Build OLD_REV's C accelerator (``core/_extract_c.c``) if it has one, as setup.py does.

    Without it the old side would silently run pure Python. If the build fails, the
    old side runs pure Python and :func:`_paths` says so.
    """
    source = into / OLD / "core" / "_extract_c.c"
    if not source.exists():
        return
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    ext = Extension(
        f"{OLD}.core._extract_c",
        [str(source)],
        define_macros=[("SOURCE_HASH", f'"{digest}"')],
        extra_compile_args=["-O2", "-Wall"],
    )
    cmd = build_ext(Distribution({"name": OLD, "ext_modules": [ext]}))
    cmd.build_lib = str(into)
    cmd.build_temp = str(into / "build-temp")
    cmd.ensure_finalized()
    try:
        cmd.run()
    except Exception as exc:  # a compiler error: measured as pure Python, and said
        print(f"(the old revision's C accelerator did not build: {exc})", file=sys.stderr)


def _paths(old: ModuleType) -> tuple[str, str]:
    """Which extractor each side runs: "C accelerator" or "pure Python"."""

    def path(pkg: str) -> str:
        try:
            accel = importlib.import_module(f"{pkg}.core._extract_accel")
        except ImportError:  # a revision from before the accelerator
            return "pure Python"
        return "pure Python" if accel.C is None else "C accelerator"

    return path(old.__name__.split(".")[0]), path("spoorhound")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("old_rev")
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument(
        "--passes", action="store_true", help="also time each pass (wall, best of --runs)"
    )
    args = ap.parse_args()
    bench = _bench_module()
    corpus = bench.corpus_texts()
    size = sum(len(t.encode()) for t in corpus)
    with tempfile.TemporaryDirectory() as tmp:
        _unpack_old(args.old_rev, Path(tmp))
        sys.path.insert(0, tmp)
        old = importlib.import_module(f"{OLD}.core.extract")
        from spoorhound.core import extract as new

        def run_old() -> None:
            for t in corpus:
                old.unique(old.extract(t))

        def run_new() -> None:
            for t in corpus:
                new.unique(new.extract(t))

        def rows(mod: ModuleType) -> list[object]:
            return [
                (str(c.type), c.value, c.start, c.end, c.confidence, sorted(c.flags), c.context)
                for t in corpus
                for c in mod.extract(t)
            ]

        same = rows(old) == rows(new)
        paths = _paths(old)
        best_old = best_new = float("inf")
        load = os.getloadavg()
        for _ in range(args.runs):
            t0 = time.process_time()
            run_old()
            best_old = min(best_old, time.process_time() - t0)
            t0 = time.process_time()
            run_new()
            best_new = min(best_new, time.process_time() - t0)
        table = _passes_table(corpus, args.old_rev, args.runs) if args.passes else ""
    print(f"corpus {size / 1e6:.2f} MB, {args.runs} alternating runs, best CPU time each")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load)}")
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"same candidates on the corpus: {same}")
    print(f"extractor: {args.old_rev} {paths[0]}, working tree {paths[1]}")
    print(f"{args.old_rev}: {best_old * 1e3:.2f} ms ({size / best_old / 1e6:.2f} MB/s)")
    print(f"working tree: {best_new * 1e3:.2f} ms ({size / best_new / 1e6:.2f} MB/s)")
    print(f"speed-up: {best_old / best_new:.3f}x")
    print(table, end="")


def _pass_times(
    run_mod: ModuleType, everything: frozenset[object], corpus: list[str]
) -> dict[str, float]:
    """Wall time of each pass (and of the refang pre-pass and the final emit) over the corpus."""
    acc: dict[str, float] = {}

    def add(name: str, took: float) -> None:
        acc[name] = acc.get(name, 0.0) + took

    for text in corpus:
        t0 = time.perf_counter()
        run = run_mod.Run(text, everything)
        add("refang + setup", time.perf_counter() - t0)
        for step in run_mod.passes(run):
            name = getattr(step, "__name__", "") or str(step.args[1].value)
            t0 = time.perf_counter()
            step()
            add(name, time.perf_counter() - t0)
        t0 = time.perf_counter()
        run.candidates()
        add("emit (Candidates)", time.perf_counter() - t0)
    return acc


def _passes_table(corpus: list[str], old_rev: str, runs: int) -> str:
    old_run = importlib.import_module(f"{OLD}.core._extract_run")
    old_all = importlib.import_module(f"{OLD}.core._extract_model").EXTRACTABLE
    from spoorhound.core import _extract_run as new_run
    from spoorhound.core._extract_model import EXTRACTABLE as new_all

    best: dict[str, dict[str, float]] = {"old": {}, "new": {}}
    for _ in range(runs):
        for side, mod, everything in (("old", old_run, old_all), ("new", new_run, new_all)):
            for name, took in _pass_times(mod, everything, corpus).items():
                best[side][name] = min(best[side].get(name, float("inf")), took)
    lines = [f"\n| pass | {old_rev} (ms) | working tree (ms) |", "|---|---:|---:|"]
    for name in sorted(best["new"], key=lambda k: -best["new"][k]):
        lines.append(
            f"| {name} | {best['old'].get(name, 0) * 1e3:.2f} | {best['new'][name] * 1e3:.2f} |"
        )
    total_old, total_new = sum(best["old"].values()), sum(best["new"].values())
    lines.append(f"| **sum** | {total_old * 1e3:.2f} | {total_new * 1e3:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
