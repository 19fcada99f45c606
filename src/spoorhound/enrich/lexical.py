"""Lexical features of host names: entropy, bigram likelihood, look-alikes (pure functions).

These are *features* for scoring, not verdicts: a random-looking name is more often
generated (DGA, throw-away phishing) than chosen by a person, but plenty of
legitimate names are random-looking too (CDN shards, hashes in hostnames).

* :func:`shannon_entropy` — bits per character.
* :class:`BigramModel` — character-bigram log-likelihood of a label against a model
  trained on the Tranco top million (the ``tranco`` list inside
  ``pymispwarninglists``). Built lazily by :func:`bigram_model`, which stores the
  small table (about 40 KB of JSON) under a cache directory so the ~3 s training
  runs once per data version.
* :func:`skeleton` — a name with look-alike characters folded (``0``→``o``,
  ``rn``→``m``, Cyrillic ``а``→``a``…), so ``paypa1`` and ``pаypal`` both read
  ``paypal``.
* :func:`osa_distance` — bounded Damerau-Levenshtein (optimal string alignment).
* :class:`LookalikeIndex` — typosquat / homoglyph / combosquat detection against a
  list of protected domains.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import operator
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spoorhound.reference.warninglists import warninglists_dir

__all__ = [
    "BigramModel",
    "Lookalike",
    "LookalikeIndex",
    "bigram_model",
    "osa_distance",
    "shannon_entropy",
    "skeleton",
]

_MODEL_FORMAT = 1
#: Symbols of the model; anything else in a label counts as ``?``.
_SYMBOLS = "abcdefghijklmnopqrstuvwxyz0123456789-_?^$"
_UNKNOWN_RE = re.compile(r"[^a-z0-9\-_?^$]")


#: c * log2(c) for every count a host name can have (names are at most 253 chars);
#: a table lookup is several times cheaper than the arithmetic on the hot path.
_XLOG2X = [0.0] + [c * math.log2(c) for c in range(1, 256)]


def shannon_entropy(s: str) -> float:
    """Shannon entropy of ``s`` in bits per character (0.0 for an empty string)."""
    n = len(s)
    if n == 0:
        return 0.0
    if n < len(_XLOG2X):
        return math.log2(n) - sum(map(_XLOG2X.__getitem__, map(s.count, set(s)))) / n
    return math.log2(n) - sum(c * math.log2(c) for c in map(s.count, set(s))) / n


class BigramModel:
    """Log-probabilities of each character given the previous one, with start/end markers."""

    __slots__ = ("floor", "logp")

    def __init__(self, logp: dict[str, float]) -> None:
        self.logp = logp
        self.floor = min(logp.values()) if logp else -10.0

    @classmethod
    def train(cls, labels: Iterable[str]) -> BigramModel:
        """Train on labels (lower-case); add-one smoothing over the symbol alphabet."""
        # One long string with markers: the end->start transitions it adds ("$^")
        # are never scored, and counting pairs of one string is far faster than
        # a Python loop per label.
        text = _UNKNOWN_RE.sub("?", "^" + "$^".join(labels) + "$")
        pairs = Counter(itertools.pairwise(text))
        v = len(_SYMBOLS)
        logp: dict[str, float] = {}
        for a in _SYMBOLS:
            row = sum(pairs.get((a, b), 0) for b in _SYMBOLS)
            for b in _SYMBOLS:
                logp[a + b] = math.log((pairs.get((a, b), 0) + 1) / (row + v))
        return cls(logp)

    def score(self, label: str) -> float:
        """Mean natural-log probability per transition of ``^label$`` (higher = more
        like a popular site's name; about -2.5 for ``google``, below -3.5 for DGA-like)."""
        s = "^" + label + "$"
        try:
            total = sum(map(self.logp.__getitem__, map(operator.add, s, s[1:])))
        except KeyError:  # a character outside the model's alphabet
            lp, floor = self.logp, self.floor
            total = sum(lp.get(a + b, floor) for a, b in itertools.pairwise(s))
        return total / (len(s) - 1)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (for the cache file)."""
        return {"format": _MODEL_FORMAT, "logp": {k: round(v, 5) for k, v in self.logp.items()}}


def _tranco_file() -> Path:
    return warninglists_dir() / "tranco" / "list.json"


def _tranco_labels(path: Path) -> list[str]:
    """The first label of every Tranco entry: the part a registrant chose (the list
    holds registered domains, so this is the name without its suffix)."""
    with path.open("rb") as fh:
        data: dict[str, Any] = json.load(fh)
    return [str(e).strip().lower().split(".", 1)[0] for e in data.get("list", [])]


@functools.lru_cache(maxsize=4)
def _bigram_model(cache_dir: str | None) -> BigramModel:
    source = _tranco_file()
    st = source.stat()
    fp = hashlib.sha256(f"{_MODEL_FORMAT}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    cache = Path(cache_dir) / f"bigram-tranco-{fp[:16]}.json" if cache_dir else None
    if cache is not None and cache.exists():
        try:
            data = json.loads(cache.read_text())
            if data.get("format") == _MODEL_FORMAT:
                return BigramModel({str(k): float(v) for k, v in data["logp"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # a damaged cache is rebuilt, never trusted
    model = BigramModel.train(_tranco_labels(source))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(model.to_json()))
        os.replace(tmp, cache)  # atomic: readers see the old file or the new one
    return model


def bigram_model(cache_dir: str | os.PathLike[str] | None = None) -> BigramModel:
    """The Tranco bigram model, trained once per process or read from ``cache_dir``."""
    return _bigram_model(None if cache_dir is None else os.fspath(cache_dir))


# -- look-alikes ---------------------------------------------------------------------

#: Single characters that render like a Latin letter (Unicode confusables, abridged
#: to the Cyrillic, Greek and digit forms seen in phishing).
_CONFUSABLE = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "i": "l",
        "|": "l",
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "l",
        "ӏ": "l",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ɡ": "g",
        "ԛ": "q",
        "ԝ": "w",
        "һ": "h",
        "ο": "o",
        "α": "a",
        "ν": "v",
        "ρ": "p",
        "ι": "l",
        "κ": "k",
        "τ": "t",
        "ε": "e",
        "υ": "u",
        "χ": "x",
    }
)
#: Letter pairs that read as one letter at a glance.
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))


def skeleton(name: str) -> str:
    """``name`` with look-alike characters folded to one Latin form (lower case)."""
    s = name.lower().translate(_CONFUSABLE)
    for pair, single in _PAIRS:
        if pair in s:
            s = s.replace(pair, single)
    return s


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (edits, adjacent swaps count one), or
    ``limit + 1`` as soon as it must exceed ``limit``."""
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        ca = a[i - 1]
        for j in range(1, lb + 1):
            cost = 0 if ca == b[j - 1] else 1
            d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == b[j - 1]:
                d = min(d, prev2[j - 2] + 1)
            cur[j] = d
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[lb] if prev[lb] <= limit else limit + 1


@dataclass(frozen=True, slots=True)
class Lookalike:
    """A candidate's resemblance to a protected domain.

    ``kind`` is ``own`` (the protected domain or a subdomain of it), ``homoglyph``
    (same after folding look-alike characters), ``typo`` (within the edit-distance
    limit), ``tld-swap`` (same name, other suffix), ``combo`` (the brand inside a
    longer name, ``paypal-login.com``) or ``subdomain`` (the brand as a subdomain
    label of another domain, ``paypal.com.evil.xyz``).
    """

    target: str
    kind: str
    distance: int | None = None

    @property
    def squat(self) -> bool:
        """A clear look-alike registration: homoglyph or typo (not combo or tld-swap,
        which legitimate owners register too)."""
        return self.kind in ("homoglyph", "typo")


@dataclass(frozen=True, slots=True)
class _Protected:
    registered: str
    name: str  # the label the owner chose
    suffix: str
    limit: int
    bigrams: frozenset[str]  # never mutated; a frozenset keeps the dataclass hashable


def _bigrams(s: str) -> set[str]:
    return set(map(operator.add, s, s[1:]))


class LookalikeIndex:
    """Protected domains, indexed for fast look-alike checks of many candidates.

    ``protected`` are *registered* domains with their suffix split off
    (``(registered, name, suffix)``); ``max_distance`` caps the edit distance for a
    ``typo``, and names shorter than 6 characters get at most 1 (two edits turn
    ``bing`` into half the dictionary).
    """

    def __init__(self, protected: Sequence[tuple[str, str, str]], max_distance: int = 2) -> None:
        self._entries: list[_Protected] = []
        self._by_len: dict[int, list[_Protected]] = {}
        self._skeletons: dict[str, str] = {}
        self._registered: set[str] = set()
        self._suffixes: set[str] = set()
        for registered, name, suffix in protected:
            limit = min(max_distance, 0 if len(name) < 5 else 1 if len(name) < 8 else 2)
            entry = _Protected(registered, name, suffix, limit, frozenset(_bigrams(registered)))
            self._entries.append(entry)
            self._registered.add(registered)
            self._suffixes.add(suffix)
            self._skeletons.setdefault(skeleton(name) + "." + suffix, registered)
            for n in range(len(registered) - limit, len(registered) + limit + 1):
                self._by_len.setdefault(n, []).append(entry)
        brands = sorted({e.name for e in self._entries if len(e.name) >= 4}, key=len, reverse=True)
        self._brand_re = re.compile("|".join(map(re.escape, brands))) if brands else None
        self._brand_of = {e.name: e.registered for e in self._entries}

    def __bool__(self) -> bool:
        """True when at least one domain is protected."""
        return bool(self._entries)

    def check(
        self, registered: str, name: str, suffix: str, subdomain: str, unicode_name: str | None
    ) -> Lookalike | None:
        """The strongest resemblance of a candidate to any protected domain, or None.

        ``unicode_name`` is the U-label form of ``name`` for IDNs (homoglyphs hide there).
        """
        if registered in self._registered:
            return Lookalike(registered, "own", 0)
        # Folding costs more than the rest of the check; only a name under a
        # protected suffix can fold onto a protected name.
        target = (
            self._skeletons.get(skeleton(unicode_name or name) + "." + suffix)
            if suffix in self._suffixes
            else None
        )
        if target is not None:
            shown = (unicode_name or name) + "." + suffix
            return Lookalike(target, "homoglyph", osa_distance(shown, target, 9))
        best: Lookalike | None = None
        near = self._by_len.get(len(registered), ())
        grams = _bigrams(registered) if near else set()
        for e in near:
            # Each edit destroys at most 3 distinct bigrams (a swap touches 3).
            if len(e.bigrams - grams) > 3 * e.limit:
                continue
            d = osa_distance(registered, e.registered, e.limit)
            if d <= e.limit and (best is None or d < (best.distance or 0)):
                best = Lookalike(e.registered, "typo", d)
        if best is not None:
            return best
        if self._brand_re is None:
            return None
        m = self._brand_re.search(name)
        if m is not None:
            brand = m.group()
            target = self._brand_of[brand]
            return Lookalike(target, "tld-swap" if brand == name else "combo")
        if subdomain:
            m = self._brand_re.search(subdomain)
            if m is not None:
                return Lookalike(self._brand_of[m.group()], "subdomain")
        return None
