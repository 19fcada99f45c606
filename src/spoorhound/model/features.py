"""Features of the priority model: lexical facts of a host's *registered domain*.

Everything here is computed from the value alone, so a vector is stored once per
indicator and never changes until :data:`FEATURES_VERSION` does. Things the training
data cannot vary — sources, sightings, enrichment verdicts, popularity-list membership —
are not features; the scoring formula weighs them (see ``docs/scoring.md``).

Only the registered domain is described (``bbc.co.uk`` for ``www.bbc.co.uk``): the
benign class, Tranco, lists registered domains (17 of its 750k training-pool entries
have a subdomain), so any subdomain feature would learn "has a subdomain, so malicious"
— the first model did, scoring ``www.google.com`` 1.0. For the same reason hosts under
a private-section suffix of the Public Suffix List (``x1.duckdns.org``,
``evil.blogspot.com``: customers of a service, 0.1% of Tranco) are not scored: their row
is NaN, as for URLs whose host is an IP address and for every type but ``domain`` and
``url`` (a URL is scored by its host; the benign class has no URLs to learn paths from).

``name`` is the registrant's label (``bbc``). Five tables are fitted by the training
script and shipped in ``data/features.json.gz``: character-bigram and -trigram models of
Tranco names (fitted on a slice of Tranco disjoint from the benign training rows and
from the reserved domains), the TLD vocabulary of the categorical ``tld`` feature, a
naive-Bayes log-odds table of character 3/4-grams of ``^registered$`` and a logistic
regression on character 1–6-grams and the name's words (both fitted on the training
labels; during training they are cross-fitted, so no row is scored by a table that saw
its family). The word features split the name into English words with the unigram
frequencies that the ``wordsegment`` package ships (no labels involved). A
:class:`Featurizer` holds them; :func:`featurize` uses the shipped ones, read lazily on
first use.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import json
import math
import operator
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import publicsuffixlist

from spoorhound.enrich.lexical import BigramModel, shannon_entropy

__all__ = [
    "FEATURES_VERSION",
    "FEATURE_NAMES",
    "SUPPORTED_TYPES",
    "Featurizer",
    "default_featurizer",
    "describe",
    "featurize",
    "host_of",
    "registered_domain",
    "registrant_name",
    "supports",
]

#: Bump whenever a feature's meaning, the shipped tables or the order changes:
#: stored vectors of another version are recomputed.
FEATURES_VERSION = 3

FEATURE_NAMES: tuple[str, ...] = (
    "domain_length",
    "name_length",
    "name_entropy",
    "name_digit_ratio",
    "name_hyphens",
    "name_vowel_ratio",
    "name_consonant_run",
    "name_digit_run",
    "name_distinct_ratio",
    "name_hex",
    "name_bigram",
    "name_bigram_min",
    "tld",
    "tld_length",
    "suffix_labels",
    "idn",
    "brand_lure",
    "ngram_logodds",
    "ngram_max",
    "ngram_lr",
    "name_trigram",
    "name_trigram_min",
    "name_trigram_rare",
    "name_words",
    "name_word_coverage",
    "name_word_logfreq",
    "name_word_logfreq_min",
    "name_nonword_run",
    "name_word_cost",
    "name_digit_switches",
    "name_repeat_run",
    "name_rare_letters",
    "name_vc_switches",
    "name_starts_digit",
    "name_ends_digit",
)

#: Indicator types with features; other rows are NaN.
SUPPORTED_TYPES = frozenset({"domain", "url"})

#: Index of the categorical feature (LightGBM ``categorical_feature``).
TLD_INDEX = FEATURE_NAMES.index("tld")

#: Words phishing and malware names borrow to look trustworthy: brands and lures.
#: A hit counts only when the registrant's name is not exactly the word (``apple.com``
#: is Apple's), so ``apple-id-verify.com`` hits and ``apple.com`` does not.
LURE_WORDS = (
    "paypal",
    "apple",
    "icloud",
    "microsoft",
    "office365",
    "outlook",
    "onedrive",
    "sharepoint",
    "google",
    "gmail",
    "facebook",
    "instagram",
    "whatsapp",
    "telegram",
    "amazon",
    "netflix",
    "adobe",
    "dropbox",
    "docusign",
    "binance",
    "coinbase",
    "metamask",
    "wallet",
    "login",
    "signin",
    "verify",
    "verification",
    "secure",
    "account",
    "update",
    "support",
    "banking",
    "recover",
    "invoice",
    "cdn",
    "cloud",
    "download",
)

# Counting by deleting (str.translate) and run lengths by splitting (re.split) keep
# the per-character work in C: featurize must keep up with bulk ingest.
_DEL_DIGITS = str.maketrans("", "", "0123456789")
_DEL_VOWELS = str.maketrans("", "", "aeiouy")
_NOT_CONSONANT = re.compile(r"[^bcdfghjklmnpqrstvwxz]+")
_NOT_DIGIT = re.compile(r"[^0-9]+")
#: ASCII characters outside the bigram alphabet read as "?" (as in BigramModel.train).
_TO_UNKNOWN = str.maketrans(
    {chr(c): "?" for c in range(128) if chr(c) not in "abcdefghijklmnopqrstuvwxyz0123456789-_^$"}
)
_HEX = re.compile(r"[0-9a-f]{8,}")
_LURE_RE = re.compile("|".join(LURE_WORDS))
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def supports(itype: str) -> bool:
    """Whether the model scores indicators of type ``itype`` (``domain``, ``url``)."""
    return itype in SUPPORTED_TYPES


def host_of(value: str, itype: str) -> str | None:
    """The host name the features describe, or None (unsupported type, IP host)."""
    if itype == "domain":
        host = value
    elif itype == "url":
        try:
            host = urlsplit(value if "//" in value else "//" + value).hostname or ""
        except ValueError:
            return None
    else:
        return None
    host = host.strip().strip(".").lower()
    if not host or ":" in host or _IPV4.fullmatch(host):
        return None
    return host


class _SuffixList:
    """The Public Suffix List as three sets: longest-match lookup in a few dict probes
    (the ``publicsuffixlist`` API costs ~12 µs a call, too slow for bulk ingest)."""

    def __init__(self, text: str) -> None:
        self.rules: dict[str, bool] = {}  # suffix -> private section
        self.wild: dict[str, bool] = {}  # "*.ck" stored as "ck"
        self.exceptions: set[str] = set()
        private = False
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("// ===BEGIN PRIVATE"):
                private = True
            if not line or line.startswith("//"):
                continue
            rule = line.split()[0].lower()
            if rule.startswith("!"):
                self.exceptions.add(rule[1:])
            elif rule.startswith("*."):
                self.wild[rule[2:]] = private
            else:
                self.rules[rule] = private

    def split(self, labels: list[str]) -> tuple[int, bool]:
        """(number of labels in the public suffix, whether it is a private-section rule)."""
        n = len(labels)
        for i in range(n):  # longest candidate first, so the first match is the longest
            cand = ".".join(labels[i:])
            if cand in self.exceptions:
                return n - i - 1, False
            priv = self.rules.get(cand)
            if priv is not None:
                return n - i, priv
            if i + 1 < n:
                wild = self.wild.get(".".join(labels[i + 1 :]))
                if wild is not None:
                    return n - i, wild
        return 1, False  # the default rule "*": the last label


@functools.cache
def _suffix_list() -> _SuffixList:
    path = Path(publicsuffixlist.__file__).parent / "public_suffix_list.dat"
    return _SuffixList(path.read_text(encoding="utf-8"))


def registered_domain(host: str) -> str | None:
    """The domain its registrant registered (``bbc.co.uk`` for ``www.bbc.co.uk``), or
    None when it sits under a private-section suffix (``x1.duckdns.org``: a service's
    customer, not a registration) or is a public suffix itself."""
    labels = host.split(".")
    n_suffix, private = _suffix_list().split(labels)
    if private or len(labels) <= n_suffix:
        return None
    return ".".join(labels[len(labels) - n_suffix - 1 :])


def registrant_name(host: str) -> str:
    """The label the registrant chose: ``x1`` in ``a.x1.duckdns.org``, ``bbc`` in
    ``www.bbc.co.uk`` ("" when the host is a public suffix itself)."""
    labels = host.split(".")
    n_suffix, _ = _suffix_list().split(labels)
    return labels[len(labels) - n_suffix - 1] if len(labels) > n_suffix else ""


#: n-gram sizes of the log-odds table, and the fewest hosts an n-gram must occur in.
NGRAM_SIZES = (3, 4)
NGRAM_MIN_COUNT = 5


def host_ngrams(host: str) -> set[str]:
    """The distinct character 3- and 4-grams of ``^host$``."""
    s = "^" + host + "$"
    return {s[i : i + n] for n in NGRAM_SIZES for i in range(len(s) - n + 1)}


def fit_ngrams(hosts: Sequence[str], malicious: Sequence[int | bool]) -> dict[str, float]:
    """Naive-Bayes log-odds of each n-gram: log P(g | malicious) − log P(g | benign),
    counting each host once per n-gram, add-one smoothed; rare n-grams are dropped.
    Fitted on labels, so the training pipeline fits it *in-fold* (cross-fitted)."""
    pos: Counter[str] = Counter()
    neg: Counter[str] = Counter()
    for h, m in zip(hosts, malicious, strict=True):
        (pos if m else neg).update(host_ngrams(h))
    n_pos = sum(1 for m in malicious if m)
    n_neg = len(hosts) - n_pos
    lp, ln = math.log(n_pos + 2), math.log(n_neg + 2)
    out: dict[str, float] = {}
    for g in pos.keys() | neg.keys():
        a, b = pos[g], neg[g]
        if a + b >= NGRAM_MIN_COUNT:
            out[g] = round(math.log(a + 1) - lp - math.log(b + 1) + ln, 2)
    return out


def ngram_scores(table: dict[str, float], host: str) -> tuple[float, float]:
    """(mean, max) n-gram log-odds of a host (unknown n-grams count 0)."""
    vals = [table.get(g, 0.0) for g in host_ngrams(host)]
    # fsum: exactly rounded, so the result does not depend on the set's iteration
    # order (which changes with the process's hash seed) — training is reproducible
    return (math.fsum(vals) / len(vals), max(vals)) if vals else (0.0, 0.0)


#: n-gram sizes of the logistic-regression score (``ngram_lr``) and the fewest
#: training hosts an n-gram must occur in to get a weight.
LR_NGRAM_MAX = 6
LR_MIN_COUNT = 3
#: SGD settings of that regression (L2 penalty, passes over the data).
LR_ALPHA = 5e-6
LR_EPOCHS = 15


def lr_ngrams(host: str, words: Sequence[str] = ()) -> set[str]:
    """The regression's inputs: the distinct character 1- to 6-grams of ``^host$`` and,
    given the words its name splits into (:func:`name_words`), ``w:word`` for each word,
    ``b:word_next`` for each pair of neighbours and ``n:count`` (capped at 6)."""
    s = "^" + host + "$"
    n = len(s)
    out = {s[i : i + k] for k in range(1, LR_NGRAM_MAX + 1) for i in range(n - k + 1)}
    if words:
        out.update("w:" + w for w in words)
        out.update(f"b:{a}_{b}" for a, b in itertools.pairwise(words))
        out.add(f"n:{min(len(words), 6)}")
    return out


def regression_inputs(host: str) -> set[str]:
    """:func:`lr_ngrams` of a registered domain, with the words of its registrant name."""
    return lr_ngrams(host, name_words(registrant_name(host)))


@dataclass(frozen=True)
class NgramRegression:
    """A logistic regression on TF-IDF-weighted, L2-normalised binary character n-grams:
    ``score = Σ idf·w / √Σ idf² + bias`` over the host's known n-grams (log-odds)."""

    weights: dict[str, tuple[float, float]]  # n-gram -> (idf, weight)
    bias: float = 0.0

    def score(self, inputs: Iterable[str]) -> float:
        """The regression's decision value (log-odds scale) for a host's inputs
        (:func:`regression_inputs`)."""
        found = [iw for iw in map(self.weights.get, inputs) if iw is not None]
        # fsum: independent of the order of ``inputs`` (a set), so reproducible
        den = math.fsum([i * i for i, _ in found])
        if den <= 0.0:
            return self.bias
        return math.fsum([i * w for i, w in found]) / math.sqrt(den) + self.bias


def fit_ngram_regression(
    hosts: Sequence[str],
    malicious: Sequence[int | bool],
    weights: Sequence[float] | None = None,
    seed: int = 0,
    words: Sequence[Sequence[str]] | None = None,
) -> NgramRegression:
    """Fit :class:`NgramRegression` (SGD, log loss, balanced classes) on registered
    domains (``words``: their names' :func:`name_words`, computed when not given).
    Fitted on labels, so the training pipeline cross-fits it like :func:`fit_ngrams`."""
    import scipy.sparse as sp  # heavy; only training needs them
    from sklearn.linear_model import SGDClassifier

    if words is None:
        grams = [regression_inputs(h) for h in hosts]
    else:
        grams = [lr_ngrams(h, w) for h, w in zip(hosts, words, strict=True)]
    df: Counter[str] = Counter()
    for g in grams:
        df.update(g)
    vocab = sorted(g for g, c in df.items() if c >= LR_MIN_COUNT)
    index = {g: j for j, g in enumerate(vocab)}
    n = len(hosts)
    idf = np.array([math.log((1 + n) / (1 + df[g])) + 1.0 for g in vocab])
    cols: list[int] = []
    ptr = [0]
    for gs in grams:
        cols.extend(sorted(j for j in map(index.get, gs) if j is not None))
        ptr.append(len(cols))
    ind = np.asarray(cols, dtype=np.int64)
    X = sp.csr_matrix((idf[ind], ind, np.asarray(ptr)), shape=(n, len(vocab)))
    norm = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norm[norm == 0] = 1.0
    X = sp.csr_matrix(sp.diags(1.0 / norm) @ X)
    clf = SGDClassifier(
        loss="log_loss",
        alpha=LR_ALPHA,
        max_iter=LR_EPOCHS,
        tol=None,
        random_state=seed,
        class_weight="balanced",
    )
    y = np.asarray([1 if m else 0 for m in malicious])
    clf.fit(X, y, sample_weight=None if weights is None else np.asarray(weights, dtype=float))
    w = clf.coef_[0]
    table = {
        g: (round(float(idf[j]), 3), round(float(w[j]), 4))
        for j, g in enumerate(vocab)
        if round(float(w[j]), 4) != 0.0
    }
    # n-grams whose weight rounds to 0 still count in the norm: keep their idf.
    for j, gram in enumerate(vocab):
        if gram not in table:
            table[gram] = (round(float(idf[j]), 3), 0.0)
    return NgramRegression(table, round(float(clf.intercept_[0]), 4))


#: Characters of the trigram model (others read as "?").
_TRIGRAM_V = 40


def fit_trigrams(names: Iterable[str], k: float = 0.1) -> dict[str, float]:
    """Character-trigram log-probabilities of ``^^name$`` (add-``k`` smoothing): the
    keys are seen trigrams (``"abc"``) and, for unseen ones, their two-character
    contexts (``"ab"``: the back-off for any unseen trigram after it)."""
    tri: Counter[str] = Counter()
    ctx: Counter[str] = Counter()
    for name in names:
        s = "^^" + name.translate(_TO_UNKNOWN) + "$"
        for i in range(len(s) - 2):
            tri[s[i : i + 3]] += 1
            ctx[s[i : i + 2]] += 1
    out = {c: round(math.log(k / (n + k * _TRIGRAM_V)), 3) for c, n in ctx.items()}
    for t, n in tri.items():
        out[t] = round(math.log((n + k) / (ctx[t[:2]] + k * _TRIGRAM_V)), 3)
    return out


#: A transition less likely than this (natural log) counts as rare.
TRIGRAM_RARE = -6.0


def trigram_scores(table: dict[str, float], name: str) -> tuple[float, float, float]:
    """(mean, lowest, share below :data:`TRIGRAM_RARE`) trigram log-probability of a name."""
    s = "^^" + name.translate(_TO_UNKNOWN) + "$"
    floor = -math.log(_TRIGRAM_V)
    get = table.get
    vals = []
    for i in range(len(s) - 2):
        v = get(s[i : i + 3])
        if v is None:
            v = get(s[i : i + 2], floor)
        vals.append(v)
    return sum(vals) / len(vals), min(vals), sum(1 for v in vals if v < TRIGRAM_RARE) / len(vals)


#: Longest word the segmenter tries, and the cost (log10) of an unknown chunk:
#: ``UNKNOWN_BASE - UNKNOWN_PER_CHAR * len``, below any listed word.
MAX_WORD = 20
UNKNOWN_BASE = -12.0
UNKNOWN_PER_CHAR = 1.0
_LETTERS = re.compile(r"[a-z]+")


@functools.cache
def _word_logfreq() -> dict[str, float]:
    """log10 frequency of the 333k English words in ``wordsegment``'s unigram list
    (Google's web trillion-word corpus, Apache-2.0), read on first use."""
    src = resources.files("wordsegment") / "unigrams.txt"
    counts: dict[str, int] = {}
    with src.open("r", encoding="utf-8") as fh:
        for line in fh:
            word, _, count = line.partition("\t")
            counts[word] = int(count)
    total = math.log10(1024908267229)  # the corpus size wordsegment documents
    return {w: math.log10(c) - total for w, c in counts.items()}


def segment(chunk: str, logfreq: dict[str, float]) -> list[str]:
    """The most likely split of a run of letters into words (unigram model, dynamic
    programming; unknown pieces cost more the longer they are)."""
    n = len(chunk)
    best = [0.0] + [-math.inf] * n
    back = [0] * (n + 1)
    get = logfreq.get
    for i in range(1, n + 1):
        bi = -math.inf
        bj = 0
        for j in range(max(0, i - MAX_WORD), i):
            lp = get(chunk[j:i])
            v = best[j] + (lp if lp is not None else UNKNOWN_BASE - UNKNOWN_PER_CHAR * (i - j))
            if v > bi:
                bi, bj = v, j
        best[i], back[i] = bi, bj
    words: list[str] = []
    i = n
    while i > 0:
        words.append(chunk[back[i] : i])
        i = back[i]
    return words[::-1]


def name_words(name: str, logfreq: dict[str, float] | None = None) -> list[str]:
    """The pieces a name's letters split into (:func:`segment` of each run of letters)."""
    lf = _word_logfreq() if logfreq is None else logfreq
    return [w for c in _LETTERS.findall(name) for w in segment(c, lf)]


def word_features(
    name: str, words: Sequence[str] | None = None, logfreq: dict[str, float] | None = None
) -> list[float]:
    """How word-like a name is: number of pieces its letters split into, share of the
    letters in known words of 2+ letters, mean and lowest log10 frequency of those words,
    longest run of letters outside them, and the split's cost per letter."""
    lf = _word_logfreq() if logfreq is None else logfreq
    words = name_words(name, lf) if words is None else words
    letters = sum(map(len, words))
    if letters == 0:
        return [0.0, 0.0, math.nan, math.nan, 0.0, 0.0]
    known: list[float] = []
    covered = run = longest = 0
    cost = 0.0
    for w in words:
        lp = lf.get(w)
        cost += lp if lp is not None else UNKNOWN_BASE - UNKNOWN_PER_CHAR * len(w)
        if lp is not None and len(w) >= 2:
            known.append(lp)
            covered += len(w)
            run = 0
        else:
            run += len(w)
            longest = max(longest, run)
    return [
        float(len(words)),
        covered / letters,
        sum(known) / len(known) if known else math.nan,
        min(known) if known else math.nan,
        float(longest),
        cost / letters,
    ]


_DIGIT_SWITCH = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
_REPEAT = re.compile(r"(.)\1+")
_VC = str.maketrans({**{c: "v" for c in "aeiou"}, **{c: "c" for c in "bcdfghjklmnpqrstvwxyz"}})


def char_features(name: str) -> list[float]:
    """Letter/digit switches, longest repeated character, share of rare letters
    (``qxzjkwv``), share of vowel/consonant alternations, starts / ends with a digit."""
    ln = len(name)
    reps = [len(m.group()) for m in _REPEAT.finditer(name)]
    vc = name.translate(_VC)
    switches = sum(1 for a, b in itertools.pairwise(vc) if a != b and a in "vc" and b in "vc")
    return [
        float(len(_DIGIT_SWITCH.findall(name))),
        float(max(reps, default=1)),
        sum(map(name.count, "qxzjkwv")) / ln,
        switches / max(ln - 1, 1),
        1.0 if name[:1].isdigit() else 0.0,
        1.0 if name[-1:].isdigit() else 0.0,
    ]


@dataclass(frozen=True)
class Tables:
    """The fitted tables features depend on (shipped as ``data/features.json``)."""

    bigram: dict[str, float]
    tlds: tuple[str, ...]
    #: log-odds (malicious vs benign) of character 3- and 4-grams of ``^host$``.
    ngrams: dict[str, float] = field(default_factory=dict)
    #: character-trigram log-probabilities of Tranco names (:func:`fit_trigrams`).
    trigram: dict[str, float] = field(default_factory=dict)
    #: the n-gram logistic regression (fitted on labels, like ``ngrams``).
    regression: NgramRegression | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form; rounded so the file is small and stable."""
        reg = self.regression
        return {
            "features_version": FEATURES_VERSION,
            "bigram": {k: round(v, 4) for k, v in sorted(self.bigram.items())},
            "tlds": list(self.tlds),
            "ngrams": {k: round(v, 2) for k, v in sorted(self.ngrams.items())},
            "trigram": {k: round(v, 3) for k, v in sorted(self.trigram.items())},
            "regression": None
            if reg is None
            else {
                "bias": reg.bias,
                "weights": {k: list(v) for k, v in sorted(reg.weights.items())},
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tables:
        """Inverse of :meth:`to_json`."""
        reg = data.get("regression")
        return cls(
            {str(k): float(v) for k, v in data["bigram"].items()},
            tuple(data["tlds"]),
            {str(k): float(v) for k, v in data.get("ngrams", {}).items()},
            {str(k): float(v) for k, v in data.get("trigram", {}).items()},
            None
            if not reg
            else NgramRegression(
                {str(k): (float(v[0]), float(v[1])) for k, v in reg["weights"].items()},
                float(reg["bias"]),
            ),
        )

    @classmethod
    def fit(cls, bigram_names: Iterable[str], tld_counts: dict[str, int], min_count: int) -> Tables:
        """Fit the bigram and trigram models on ``bigram_names`` (Tranco names) and keep
        TLDs seen ``min_count`` times."""
        names = list(bigram_names)
        model = BigramModel.train(names)
        tlds = tuple(sorted(t for t, c in tld_counts.items() if c >= min_count))
        return cls({k: round(v, 4) for k, v in model.logp.items()}, tlds, {}, fit_trigrams(names))

    def with_label_tables(
        self, ngrams: dict[str, float], regression: NgramRegression | None
    ) -> Tables:
        """These tables with other label-fitted tables (n-gram log-odds and regression)."""
        return Tables(self.bigram, self.tlds, ngrams, self.trigram, regression)


class Featurizer:
    """Turns values into feature rows with a given set of :class:`Tables`."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self._bigram = BigramModel(tables.bigram)
        self._logp = tables.bigram
        self._floor = self._bigram.floor
        self._tld_code = {t: float(i + 1) for i, t in enumerate(tables.tlds)}
        self._ngrams = tables.ngrams
        self._regression = tables.regression
        self._trigram = tables.trigram
        self._words = _word_logfreq()
        self._psl = _suffix_list()

    def _bigrams(self, s: str) -> tuple[float, float]:
        """(mean, min) log-probability of the transitions of ``^s$``."""
        t = ("^" + s + "$").translate(_TO_UNKNOWN)
        try:
            vals = list(map(self._logp.__getitem__, map(operator.add, t, t[1:])))
        except KeyError:  # a non-ASCII character
            lp, floor = self._logp, self._floor
            vals = [lp.get(t[i : i + 2], floor) for i in range(len(t) - 1)]
        return sum(vals) / len(vals), min(vals)

    def host_row(self, host: str) -> list[float] | None:
        """The feature row of a lower-case host name (order of FEATURE_NAMES): the
        features of its registered domain, or None when that is under a private-section
        suffix (or the host is a public suffix itself)."""
        labels = host.split(".")
        n = len(labels)
        n_suffix, private = self._psl.split(labels)
        if private or n <= n_suffix:
            return None
        name = labels[n - n_suffix - 1]
        if not name:  # an empty label ("a..com"): no name to describe
            return None
        registered = ".".join(labels[n - n_suffix - 1 :])
        tld = labels[-1]
        ln = len(name)
        bg_mean, bg_min = self._bigrams(name)
        words = name_words(name, self._words)
        lure = 0.0
        m = _LURE_RE.search(registered)
        while m is not None:
            if m.group() != name:
                lure = 1.0
                break
            m = _LURE_RE.search(registered, m.end())
        return [
            float(len(registered)),
            float(ln),
            shannon_entropy(name),
            (ln - len(name.translate(_DEL_DIGITS))) / ln,
            float(name.count("-")),
            (ln - len(name.translate(_DEL_VOWELS))) / ln,
            float(max(map(len, _NOT_CONSONANT.split(name)))),
            float(max(map(len, _NOT_DIGIT.split(name)))),
            len(set(name)) / ln,
            1.0 if ln >= 8 and _HEX.fullmatch(name) else 0.0,
            bg_mean,
            bg_min,
            self._tld_code.get(tld, 0.0),
            float(len(tld)),
            float(n_suffix),
            1.0 if "xn--" in registered else 0.0,
            lure,
            *(ngram_scores(self._ngrams, registered) if self._ngrams else (math.nan, math.nan)),
            self._regression.score(lr_ngrams(registered, words))
            if self._regression is not None
            else math.nan,
            *(trigram_scores(self._trigram, name) if self._trigram else (math.nan,) * 3),
            *word_features(name, words, self._words),
            *char_features(name),
        ]

    def featurize(self, values: Sequence[str], itypes: Sequence[str]) -> np.ndarray:
        """Feature matrix (float32, one row per value; NaN rows for unsupported ones)."""
        if len(values) != len(itypes):
            raise ValueError("values and itypes differ in length")
        nan_row = [math.nan] * len(FEATURE_NAMES)
        rows = []
        row = self.host_row
        for value, itype in zip(values, itypes, strict=True):
            host = host_of(value, itype)
            r = None if host is None else row(host)
            rows.append(nan_row if r is None else r)
        if not rows:
            return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
        return np.array(rows, dtype=np.float32)


def _shipped_tables_path() -> Any:
    return resources.files("spoorhound.model") / "data" / "features.json.gz"


def load_tables(path: Path | None = None) -> Tables:
    """The tables at ``path`` (gzip JSON), by default the shipped ones."""
    src = path if path is not None else _shipped_tables_path()
    with src.open("rb") as fh, gzip.open(fh, "rt", encoding="utf-8") as text:
        data = json.load(text)
    if data.get("features_version") != FEATURES_VERSION:
        raise ValueError(
            f"feature tables are version {data.get('features_version')}, code is {FEATURES_VERSION}"
        )
    return Tables.from_json(data)


@functools.cache
def default_featurizer() -> Featurizer:
    """The featurizer with the shipped tables (read once, on first use)."""
    return Featurizer(load_tables())


def featurize(values: Sequence[str], itypes: Sequence[str]) -> np.ndarray:
    """Feature rows of canonical values (lower-case domains, URLs with a scheme).

    Returns float32 ``(len(values), len(FEATURE_NAMES))``; rows of unsupported types
    (and URLs whose host is an IP address) are NaN.
    """
    return default_featurizer().featurize(values, itypes)


_UNITS: dict[str, str] = {
    "domain_length": "registered domain {:.0f} chars",
    "name_length": "name length {:.0f} chars",
    "name_entropy": "name entropy {:.1f} bits/char",
    "name_digit_ratio": "name {:.0%} digits",
    "name_hyphens": "{:.0f} hyphens in name",
    "name_vowel_ratio": "name {:.0%} vowels",
    "name_consonant_run": "{:.0f} consonants in a row",
    "name_digit_run": "{:.0f} digits in a row",
    "name_distinct_ratio": "name {:.0%} distinct characters",
    "name_bigram": "name bigram log-likelihood {:.2f}",
    "name_bigram_min": "rarest bigram log-likelihood {:.2f}",
    "ngram_logodds": "character n-grams {:+.2f} log-odds on average",
    "ngram_max": "most malicious-looking n-gram {:+.2f} log-odds",
    "ngram_lr": "character n-gram regression {:+.2f} log-odds",
    "name_trigram": "name trigram log-likelihood {:.2f}",
    "name_trigram_min": "rarest trigram log-likelihood {:.2f}",
    "name_trigram_rare": "{:.0%} rare trigrams in name",
    "name_words": "{:.0f} word(s) in the name",
    "name_word_coverage": "{:.0%} of the name in dictionary words",
    "name_word_logfreq": "mean word frequency 1e{:.1f}",
    "name_word_logfreq_min": "rarest word frequency 1e{:.1f}",
    "name_nonword_run": "{:.0f} letters in a row outside words",
    "name_word_cost": "word-split cost {:.1f} per letter",
    "name_digit_switches": "{:.0f} letter/digit switches",
    "name_repeat_run": "{:.0f} repeated characters in a row",
    "name_rare_letters": "name {:.0%} rare letters (q x z j k w v)",
    "name_vc_switches": "{:.0%} vowel/consonant alternations",
    "tld_length": "TLD length {:.0f}",
    "suffix_labels": "public suffix of {:.0f} labels",
}
_FLAGS: dict[str, tuple[str, str]] = {
    "name_hex": ("name is a hex string", "name is not a hex string"),
    "idn": ("internationalised (punycode) name", "ASCII name"),
    "brand_lure": ("contains a brand or lure word", "no brand or lure word"),
    "name_starts_digit": ("name starts with a digit", "name starts with a letter"),
    "name_ends_digit": ("name ends with a digit", "name does not end with a digit"),
}


def describe(feature: str, value: float, tlds: Sequence[str] | None = None) -> str:
    """A short human text for one feature value (``name entropy 3.9 bits/char``)."""
    if math.isnan(value):
        return f"no {feature.replace('_', ' ').split(' ', 1)[0]}"
    if feature in _FLAGS:
        return _FLAGS[feature][0 if value >= 0.5 else 1]
    if feature == "tld":
        vocab = default_featurizer().tables.tlds if tlds is None else tlds
        code = int(value)
        return f"TLD .{vocab[code - 1]}" if 0 < code <= len(vocab) else "uncommon TLD"
    fmt = _UNITS.get(feature)
    return fmt.format(value) if fmt else f"{feature} {value:.3g}"
