"""Micro-benchmark of ``spoorhound.core.indicators.parse`` on typical feed values.

Generates 200,000 mixed values (deterministic seed; the mix is weighted like real
feeds: mostly hashes, domains, URLs and IPs, a tail of everything else, a few percent
defanged) and prints microseconds per ``parse()`` call per type and overall, for
untyped (detected) and typed calls.

    .venv/bin/python bench/core_parse.py [--n 200000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import string
import time
from collections import defaultdict
from collections.abc import Callable

from spoorhound.core.fang import defang
from spoorhound.core.indicators import IndicatorType, parse

T = IndicatorType
_WORDS = ["login", "secure", "update", "cdn", "mail", "portal", "api", "files", "cloud", "pay"]
_TLDS = ["com", "net", "org", "ru", "xyz", "top", "info", "io", "cn", "de"]


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _domain(rng: random.Random) -> str:
    labels = [rng.choice(_WORDS) + str(rng.randrange(1000)) for _ in range(rng.randint(1, 3))]
    return ".".join(labels) + "." + rng.choice(_TLDS)


def _ipv4(rng: random.Random) -> str:
    return ".".join(str(rng.randrange(1, 255)) for _ in range(4))


def _ipv6(rng: random.Random) -> str:
    return (
        "2001:db8:"
        + ":".join(f"{rng.randrange(65536):x}" for _ in range(2))
        + "::"
        + f"{rng.randrange(65536):x}"
    )


def _url(rng: random.Random) -> str:
    path = "/".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 3)))
    q = f"?id={rng.randrange(10**6)}" if rng.random() < 0.4 else ""
    return f"{rng.choice(['http', 'https'])}://{_domain(rng)}/{path}.php{q}"


def _email(rng: random.Random) -> str:
    local = "".join(rng.choice(string.ascii_lowercase) for _ in range(8))
    return f"{local}@{_domain(rng)}"


GENERATORS: dict[IndicatorType, tuple[float, Callable[[random.Random], str]]] = {
    T.SHA256: (0.22, lambda r: _hex(r, 64)),
    T.MD5: (0.12, lambda r: _hex(r, 32)),
    T.SHA1: (0.06, lambda r: _hex(r, 40)),
    T.DOMAIN: (0.20, _domain),
    T.URL: (0.15, _url),
    T.IPV4: (0.15, _ipv4),
    T.IPV6: (0.01, _ipv6),
    T.CIDR: (0.01, lambda r: f"{_ipv4(r).rsplit('.', 1)[0]}.0/24"),
    T.EMAIL: (0.03, _email),
    T.ASN: (0.01, lambda r: f"AS{r.randrange(1, 400000)}"),
    T.CVE: (0.01, lambda r: f"CVE-20{r.randrange(10, 25)}-{r.randrange(1000, 50000)}"),
    T.FILENAME: (0.01, lambda r: f"{r.choice(_WORDS)}_{r.randrange(100)}.exe"),
    T.REGKEY: (
        0.01,
        lambda r: f"HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\{r.choice(_WORDS)}",
    ),
    T.FILEPATH: (0.01, lambda r: f"C:\\Users\\Public\\{r.choice(_WORDS)}.exe"),
}


def build(n: int, seed: int) -> list[tuple[IndicatorType, str]]:
    """``n`` (expected type, raw value) pairs; 5% of network values are defanged."""
    rng = random.Random(seed)
    types = list(GENERATORS)
    weights = [GENERATORS[t][0] for t in types]
    out = []
    for t in rng.choices(types, weights, k=n):
        v = GENERATORS[t][1](rng)
        if t in (T.DOMAIN, T.URL, T.IPV4) and rng.random() < 0.05:
            v = defang(t, parse(v, t).value)
        out.append((t, v))
    return out


def run(
    values: list[tuple[IndicatorType, str]], typed: bool
) -> dict[IndicatorType, tuple[int, float]]:
    by_type: dict[IndicatorType, list[str]] = defaultdict(list)
    for t, v in values:
        by_type[t].append(v)
    result = {}
    for t, vs in by_type.items():
        start = time.perf_counter()
        if typed:
            for v in vs:
                parse(v, t)
        else:
            for v in vs:
                parse(v)
        result[t] = (len(vs), time.perf_counter() - start)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    values = build(args.n, args.seed)
    parse("warm.example.com")  # load the PSL once, outside the timings
    for t, v in values[:2000]:  # sanity: detection agrees with the generator
        got = parse(v).type
        assert got == t, (t, v, got)
    for typed in (False, True):
        res = run(values, typed)
        start = time.perf_counter()
        for t, v in values:
            parse(v, t) if typed else parse(v)
        mixed = (time.perf_counter() - start) / len(values) * 1e6
        print(
            f"\nparse(raw{', type' if typed else ''}) - {len(values)} values, mixed: {mixed:.2f} us/parse"
        )
        for t, (count, secs) in sorted(res.items(), key=lambda kv: -kv[1][0]):
            print(f"  {t.value:<10} {count:>7}  {secs / count * 1e6:6.2f} us")


if __name__ == "__main__":
    main()
