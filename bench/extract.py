"""Extraction benchmark: Spoorhound against iocextract, ioc-finder, iocsearcher and msticpy.

Reproduce (peers are installed by hand; this script installs nothing)::

    .venv/bin/pip install iocextract ioc-finder iocsearcher
    python3 -m venv bench/.venv-msticpy && bench/.venv-msticpy/bin/pip install msticpy
    .venv/bin/python bench/extract.py            # --quick: skip the 8 MB adversarial runs

Quality: the labelled cases in ``bench/data/extract/cases.jsonl`` (from the peers' own
test suites and hand-written issue styles; each case names its source and the types
it scores) and ``report_labels.json`` (hand labels over the real reports in
``../shared/data/samples/reports``, read at run time, never copied here). Every
tool's output is mapped to Spoorhound types and canonicalised with
``spoorhound.core.indicators.normalize`` before comparison, so formatting differences
(case, trailing slash) never count as errors. Overall = micro-averaged over all
scored types; a tool that lacks a type simply misses those indicators.

Speed: single core, MB/s of input text over the sample reports (the five text / Markdown /
HTML files and the PDF's text layer), the same bytes for every tool; best of up to 20
whole-corpus runs within a 3 s budget, both CPU time and wall time. Each timed call
returns what a caller needs (typed, refanged where the tool refangs, de-duplicated):
``unique(extract(t))`` for Spoorhound (its ``extract`` returns every occurrence),
``set(...)`` of each iocextract generator; ioc-finder, iocsearcher and msticpy return
de-duplicated collections already. The load average is printed with the figures (the
machine is shared: compare tools within one run).
Adversarial: Spoorhound alone (the peers take minutes) on 1/2/4/8 MB inputs, CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from spoorhound.core.extract import extract, unique
from spoorhound.core.indicators import InvalidIndicator, normalize
from spoorhound.ingest.documents import load_document

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "extract"
REPORTS = HERE.parent.parent / "shared" / "data" / "samples" / "reports"
MSTICPY_PY = HERE / ".venv-msticpy" / "bin" / "python"
SCORED = ["ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "cve"]
CORPUS = [
    "unit42_2020-10-06_ta551_icedid.txt",
    "unit42_2020_ta551_traffic_pattern_history.txt",
    "unit42_2025-10-16_multi_stage_android_malware.md",
    "avast_guptiminer_iocs.md",
    "cisa_aa20-302a_ransomware_healthcare.html",
]

Found = set[tuple[str, str]]


def canon(itype: str, value: str) -> tuple[str, str]:
    try:
        return itype, normalize(itype, value)
    except (InvalidIndicator, ValueError):
        return itype, value.strip().lower()


# --- tools ----------------------------------------------------------------------------


def run_spoorhound(text: str) -> Found:
    return {(str(c.type), c.value) for c in extract(text) if str(c.type) in SCORED}


def run_iocextract(text: str) -> Found:
    import iocextract as ie

    out: Found = set()
    for t, fn in (
        ("url", lambda s: ie.extract_urls(s, refang=True)),
        ("ipv4", lambda s: ie.extract_ipv4s(s, refang=True)),
        ("ipv6", ie.extract_ipv6s),
        ("email", lambda s: ie.extract_emails(s, refang=True)),
        ("md5", ie.extract_md5_hashes),
        ("sha1", ie.extract_sha1_hashes),
        ("sha256", ie.extract_sha256_hashes),
        ("sha512", ie.extract_sha512_hashes),
    ):
        out.update(canon(t, v) for v in fn(text))
    return out


IOCFINDER_MAP = {
    "urls": "url",
    "domains": "domain",
    "ipv4s": "ipv4",
    "ipv6s": "ipv6",
    "email_addresses": "email",
    "md5s": "md5",
    "sha1s": "sha1",
    "sha256s": "sha256",
    "sha512s": "sha512",
    "cves": "cve",
}


def run_iocfinder(text: str) -> Found:
    from ioc_finder import find_iocs

    res = find_iocs(text)
    return {canon(t, v) for k, t in IOCFINDER_MAP.items() for v in res.get(k, [])}


IOCSEARCHER_MAP = {
    "url": "url",
    "fqdn": "domain",
    "ip4": "ipv4",
    "ip6": "ipv6",
    "email": "email",
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "cve": "cve",
}
_searcher = None


def run_iocsearcher(text: str) -> Found:
    global _searcher
    if _searcher is None:
        from iocsearcher.searcher import Searcher

        _searcher = Searcher()
    return {
        canon(IOCSEARCHER_MAP[i.name], i.value)
        for i in _searcher.search_data(text)
        if i.name in IOCSEARCHER_MAP
    }


MSTICPY_MAP = {
    "ipv4": "ipv4",
    "ipv6": "ipv6",
    "dns": "domain",
    "url": "url",
    "email": "email",
    "md5_hash": "md5",
    "sha1_hash": "sha1",
    "sha256_hash": "sha256",
}
# Runs inside bench/.venv-msticpy: reads a JSON list of texts, prints results + seconds.
MSTICPY_WORKER = """
import json, sys, time, logging
logging.disable(logging.CRITICAL)
from msticpy.transform.iocextract import IoCExtract
ex = IoCExtract()
texts, corpus = json.load(sys.stdin)
out = [{k: sorted(v) for k, v in ex.extract(src=t).items()} for t in texts]
best, best_wall, spent = float("inf"), float("inf"), 0.0
for _ in range(20):
    t0, w0 = time.process_time(), time.perf_counter()
    for t in corpus:
        ex.extract(src=t)
    took, wall = time.process_time() - t0, time.perf_counter() - w0
    best, best_wall, spent = min(best, took), min(best_wall, wall), spent + took
    if spent >= 3.0:
        break
json.dump({"results": out, "best": best, "best_wall": best_wall}, sys.stdout)
"""


def run_msticpy(texts: list[str], corpus: list[str]) -> tuple[list[Found], float, float] | None:
    """Cases' results and the best corpus (CPU, wall) time, from bench/.venv-msticpy."""
    if not MSTICPY_PY.exists():
        return None
    proc = subprocess.run(
        [str(MSTICPY_PY), "-c", MSTICPY_WORKER],
        input=json.dumps([texts, corpus]),
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if proc.returncode != 0:
        print("msticpy failed:", proc.stderr[-500:], file=sys.stderr)
        return None
    data = json.loads(proc.stdout)
    found = [
        {canon(MSTICPY_MAP[k], v) for k, vs in item.items() if k in MSTICPY_MAP for v in vs}
        for item in data["results"]
    ]
    return found, float(data["best"]), float(data["best_wall"])


TOOLS: dict[str, Callable[[str], Found]] = {
    "spoorhound": run_spoorhound,
    "iocextract": run_iocextract,
    "ioc-finder": run_iocfinder,
    "iocsearcher": run_iocsearcher,
}

# --- data -----------------------------------------------------------------------------


def load_cases() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = [
        json.loads(line) for line in (DATA / "cases.jsonl").read_text().splitlines() if line
    ]
    labels = json.loads((DATA / "report_labels.json").read_text())
    by_file: dict[str, list[list[str]]] = defaultdict(list)
    sources: dict[str, str] = {}
    for lab in labels["labels"]:
        by_file[lab["file"]].append([lab["type"], lab["value"]])
        sources[lab["file"]] = lab["source"]
    for name, expected in sorted(by_file.items()):
        path = REPORTS / name
        if not path.exists():
            print(f"(report {name} absent: its labels are skipped)", file=sys.stderr)
            continue
        cases.append(
            {
                "id": f"report:{name}",
                "source": sources[name],
                "text": path.read_text(encoding="utf-8"),
                "scope": labels["scope"],
                "expected": expected,
            }
        )
    return cases


def corpus_texts() -> list[str]:
    """The throughput corpus: the sample reports, and the PDF's text layer."""
    corpus = [(REPORTS / n).read_text(encoding="utf-8") for n in CORPUS if (REPORTS / n).exists()]
    pdf = REPORTS / "cisa_aa20-302a_ransomware_healthcare.pdf"
    if pdf.exists():
        # the PDF's text layer, read once by our front-end, is the same input for every tool
        with pdf.open("rb") as fh:
            corpus.append(load_document(fh, pdf.name).text)
    return corpus


# --- scoring --------------------------------------------------------------------------


def score(cases: list[dict[str, object]], outputs: list[Found]) -> dict[str, list[int]]:
    """Per type [tp, fp, fn], only for the types each case scores."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for case, found in zip(cases, outputs, strict=True):
        scope = set(case["scope"])  # type: ignore[call-overload]
        expected = {canon(t, v) for t, v in case["expected"]}  # type: ignore[attr-defined]
        got = {f for f in found if f[0] in scope}
        for t, _ in got & expected:
            counts[t][0] += 1
        for t, _ in got - expected:
            counts[t][1] += 1
        for t, _ in expected - got:
            counts[t][2] += 1
    return counts


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def raw_calls() -> dict[str, Callable[[str], object]]:
    """The tools' own entry points, without our output mapping, for timing."""
    import iocextract as ie
    from ioc_finder import find_iocs

    run_iocsearcher("warm up")  # builds the Searcher once, outside the timing
    assert _searcher is not None
    searcher = _searcher
    ie_fns = (
        lambda s: ie.extract_urls(s, refang=True),
        lambda s: ie.extract_ipv4s(s, refang=True),
        ie.extract_ipv6s,
        lambda s: ie.extract_emails(s, refang=True),
        ie.extract_md5_hashes,
        ie.extract_sha1_hashes,
        ie.extract_sha256_hashes,
        ie.extract_sha512_hashes,
    )
    return {
        "spoorhound": lambda s: unique(extract(s)),
        "iocextract": lambda s: [set(f(s)) for f in ie_fns],
        "ioc-finder": find_iocs,
        "iocsearcher": searcher.search_data,
    }


def throughput(fn: Callable[[str], object], texts: list[str], budget: float) -> tuple[float, float]:
    """MB/s of the best whole-corpus run, (CPU time, wall time), within ``budget`` seconds."""
    size = sum(len(t.encode()) for t in texts)
    best_cpu = best_wall = float("inf")
    spent = 0.0
    for _ in range(20):
        t0, w0 = time.process_time(), time.perf_counter()
        for t in texts:
            fn(t)
        took, wall = time.process_time() - t0, time.perf_counter() - w0
        best_cpu, best_wall = min(best_cpu, took), min(best_wall, wall)
        spent += took
        if spent >= budget:
            break
    return size / best_cpu / 1e6, size / best_wall / 1e6


def adversarial(quick: bool) -> None:
    inputs = {
        "a.a.a.a…": "a.",
        "[.][.][.]…": "[.]",
        "hex run": "0123456789abcdef",
        "nested ((((…))))": None,
        "1.1.1.1.…": "1.",
        "a@a@a@…": "a@",
        "hxxp[:]//x[.]…": "hxxp[:]//x[.]",
        "a.b-⏎ (PDF breaks)": "a.b-\n",
        "C:\\a C:\\a …": "C:\\a ",
        "⏎rule a {…": "\nrule a {",
    }
    sizes = [1, 2, 4] if quick else [1, 2, 4, 8]
    print(f"\n## Adversarial input (Spoorhound, CPU seconds; load {os.getloadavg()[0]:.2f})\n")
    print("| input | " + " | ".join(f"{s} MB" for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for label, unit in inputs.items():
        row = []
        for mb in sizes:
            n = mb * 1_000_000
            if unit is None:
                text = "(" * (n // 2) + "http://x.com" + ")" * (n // 2)
            else:
                text = (unit * (n // len(unit) + 1))[:n]
            t0 = time.process_time()  # CPU time: the machine is shared
            extract(text)
            row.append(f"{time.process_time() - t0:.2f}")
        print(f"| `{label}` | " + " | ".join(row) + " |", flush=True)


def safelist_bench() -> None:
    from spoorhound.reference.warninglists import SafelistIndex

    print("\n## Warninglist lookups\n")
    t0 = time.perf_counter()
    idx = SafelistIndex.load()
    build = time.perf_counter() - t0
    cache = HERE / "out" / "wl-cache"
    SafelistIndex.load(cache_dir=cache)
    t0 = time.perf_counter()
    idx = SafelistIndex.load(cache_dir=cache)
    cached = time.perf_counter() - t0
    probes = [
        ("domain", "www.google.com"),
        ("domain", "evil-unknown-host.xyz"),
        ("ipv4", "8.8.8.8"),
        ("ipv4", "23.95.97.59"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("url", "https://github.com/x/y"),
    ]
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 2:
        for t, v in probes:
            idx.match(t, v)
        n += len(probes)
    ours = n / (time.perf_counter() - t0)
    from pymispwarninglists import WarningLists

    t0 = time.perf_counter()
    wl = WarningLists(slow_search=True)
    wl_load = time.perf_counter() - t0
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 5:
        for _t, v in probes:
            wl.search(v)
        n += len(probes)
    theirs = n / (time.perf_counter() - t0)
    fast = WarningLists(slow_search=False)
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 2:
        for _t, v in probes:
            fast.search(v)
        n += len(probes)
    exact_only = n / (time.perf_counter() - t0)
    print("| index | load (s) | lookups/s (hostname + CIDR semantics) |")
    print("|---|---:|---:|")
    print(f"| Spoorhound SafelistIndex (build) | {build:.1f} | {ours:,.0f} |")
    print(f"| Spoorhound SafelistIndex (cached) | {cached:.2f} | same |")
    print(f"| pymispwarninglists WarningLists(slow_search=True) | {wl_load:.1f} | {theirs:,.1f} |")
    print(
        f"| pymispwarninglists WarningLists() (exact strings only: misses "
        f"8.8.8.8-in-CIDR, sub.domain) | – | {exact_only:,.0f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip 8 MB adversarial runs")
    ap.add_argument("--no-msticpy", action="store_true")
    ap.add_argument("--no-safelist", action="store_true")
    ap.add_argument("--only-safelist", action="store_true")
    args = ap.parse_args()
    if args.only_safelist:
        safelist_bench()
        return
    cases = load_cases()
    texts = [str(c["text"]) for c in cases]
    corpus = corpus_texts()
    results: dict[str, dict[str, list[int]]] = {}
    raw = raw_calls()
    speed: dict[str, tuple[float, float]] = {}
    loads: dict[str, float] = {}
    for name, fn in TOOLS.items():
        print(f"running {name} …", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        outputs = []
        for c, t in zip(cases, texts, strict=True):
            t1 = time.perf_counter()
            outputs.append(fn(t))
            if time.perf_counter() - t1 > 5:
                print(
                    f"  {name} slow on {c['id']}: {time.perf_counter() - t1:.1f}s", file=sys.stderr
                )
        print(f"  cases done in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
        results[name] = score(cases, outputs)
        speed[name] = throughput(raw[name], corpus, 3.0)
        loads[name] = os.getloadavg()[0]
    if not args.no_msticpy:
        print("running msticpy (subprocess) …", file=sys.stderr, flush=True)
        ms = run_msticpy(texts, corpus)
        if ms is not None:
            results["msticpy"] = score(cases, ms[0])
            size = sum(len(t.encode()) for t in corpus)
            speed["msticpy"] = (size / ms[1] / 1e6, size / ms[2] / 1e6)
            loads["msticpy"] = os.getloadavg()[0]
    tools = list(results)
    size = sum(len(t.encode()) for t in corpus) / 1e6
    print(f"# Extraction benchmark: {len(cases)} cases, corpus {size:.2f} MB\n")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("## F1 per type (precision / recall in brackets)\n")
    print("| type | " + " | ".join(tools) + " |")
    print("|---|" + "---|" * len(tools))
    totals = {t: [0, 0, 0] for t in tools}
    for itype in SCORED:
        row = []
        for tool in tools:
            tp, fp, fn_ = results[tool].get(itype, [0, 0, 0])
            for i, v in enumerate((tp, fp, fn_)):
                totals[tool][i] += v
            p, r, f = prf(tp, fp, fn_)
            row.append(f"{f:.2f} ({p:.2f}/{r:.2f})" if tp + fp + fn_ else "–")
        print(f"| {itype} | " + " | ".join(row) + " |")
    row = []
    for tool in tools:
        p, r, f = prf(*totals[tool])
        row.append(f"**{f:.3f}** ({p:.2f}/{r:.2f})")
    print("| **overall** | " + " | ".join(row) + " |")
    print("\n## Throughput (MB/s, single core, report corpus)\n")
    fastest = max((t for t in tools if t != "spoorhound"), key=lambda t: speed[t][0])
    print("| tool | MB/s (CPU) | MB/s (wall) | Spoorhound is (CPU) | load avg (1 min) |")
    print("|---|---:|---:|---:|---:|")
    for tool in tools:
        ratio = speed["spoorhound"][0] / speed[tool][0]
        cpu, wall = speed[tool]
        print(f"| {tool} | {cpu:.3f} | {wall:.3f} | {ratio:.1f}x | {loads[tool]:.2f} |")
    print(
        f"\nfastest peer: {fastest}; Spoorhound / fastest = "
        f"{speed['spoorhound'][0] / speed[fastest][0]:.1f}x (CPU), "
        f"{speed['spoorhound'][1] / speed[fastest][1]:.1f}x (wall)"
    )
    adversarial(args.quick)
    if not args.no_safelist:
        safelist_bench()


if __name__ == "__main__":
    main()
