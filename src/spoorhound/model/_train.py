"""Training and validation of the priority model (LightGBM, grouped cross-validation).

Validation is by family: :class:`~sklearn.model_selection.StratifiedGroupKFold` with
one group per maltrail family and, for benign rows, one group per bucket of registered
domains (so no family and no site is on both sides of a fold). Every reported number
is out-of-fold — each prediction comes from a model that never saw the row's family —
and ``threshold_high`` is chosen on those out-of-fold predictions only (the lowest
threshold whose precision on the training families reaches :data:`TARGET_PRECISION`).
The final model is then fitted on all rows with the same parameters.

:func:`train` writes nothing; :func:`~spoorhound.model.save_model` does.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spoorhound.model._data import (
    Positive,
    TrancoSplit,
    load_tranco,
    read_positives,
    registered_bucket,
    sample_benign,
)
from spoorhound.model._model import PriorityModel, model_from_text
from spoorhound.model.features import (
    FEATURE_NAMES,
    FEATURES_VERSION,
    TLD_INDEX,
    Featurizer,
    NgramRegression,
    default_featurizer,
    fit_ngram_regression,
    fit_ngrams,
    host_of,
    lr_ngrams,
    name_words,
    ngram_scores,
    registered_domain,
    registrant_name,
)

if TYPE_CHECKING:
    import lightgbm as lgb

__all__ = ["METRIC_KEYS", "PARAMS", "TARGET_PRECISION", "TrainResult", "train"]

#: Precision on out-of-fold predictions that ``threshold_high`` must reach.
TARGET_PRECISION = 0.9
#: Benign training rows drawn from the Tranco pool.
N_BENIGN = 150_000
#: Buckets of registered domains that group the benign rows for cross-validation.
BENIGN_BUCKETS = 2_000
#: Weight of an analyst verdict relative to one shipped row.
VERDICT_WEIGHT = 5.0
NUM_BOOST_ROUND = 250

PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.08,
    "num_leaves": 31,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "cat_smooth": 20.0,
    "min_data_per_group": 50,
    "max_cat_to_onehot": 4,
    "num_threads": 2,
    "deterministic": True,
    "force_col_wise": True,
    "verbose": -1,
}

#: Keys of :attr:`TrainResult.metrics` (documented in docs/scoring.md).
METRIC_KEYS = (
    "roc_auc",
    "precision_high",
    "recall_high",
    "threshold_high",
    "fold_roc_auc",
    "roc_auc_by_category",
    "roc_auc_com",
    "roc_auc_tld_matched",
    "roc_auc_by_tld",
    "n_positive",
    "n_benign",
    "n_families",
    "n_verdicts",
    "folds",
)


@dataclass
class TrainResult:
    """A trained model with its out-of-fold metrics (nothing written yet)."""

    model: PriorityModel
    metrics: dict[str, Any]
    oof: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    seconds: float = 0.0
    #: The n-gram table fitted on all rows (the training script ships it; a user's
    #: retrain keeps the shipped tables so stored feature vectors stay valid).
    ngram_table: dict[str, float] = field(default_factory=dict, repr=False)
    #: The n-gram regression fitted on all rows (shipped like ``ngram_table``).
    regression: NgramRegression | None = field(default=None, repr=False)


@dataclass
class _Rows:
    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    groups: list[str]
    category: list[str]
    tld: list[str]
    hosts: list[str]
    #: the words of each host's registrant name (inputs of the n-gram regression)
    words: list[list[str]]


def _assemble(
    positives: Sequence[Positive],
    benign: Sequence[str],
    extra: Sequence[tuple[str, str, bool]],
    featurizer: Featurizer,
) -> _Rows:
    # The model sees registered domains: a verdict labels its value's registered domain
    # (the latest wins); values without one (other types, private suffixes) are skipped.
    verdicts: dict[str, bool] = {}
    for v, t, m in extra:
        host = host_of(v, t)
        reg = registered_domain(host) if host is not None else None
        if reg is not None:
            verdicts[reg] = bool(m)
    overridden = set(verdicts)
    values: list[str] = []
    itypes: list[str] = []
    y: list[int] = []
    w: list[float] = []
    groups: list[str] = []
    category: list[str] = []
    # An analyst's verdict on a value wins over the shipped label of the same host.
    for p in positives:
        if p.value in overridden:
            continue
        values.append(p.value)
        itypes.append("domain")
        y.append(1)
        w.append(1.0)
        groups.append("family:" + p.family)
        category.append(p.category)
    for d in benign:
        if d in overridden or registered_domain(d) != d:  # private suffix or a subdomain
            continue
        values.append(d)
        itypes.append("domain")
        y.append(0)
        w.append(1.0)
        groups.append("tranco:" + str(registered_bucket(d, BENIGN_BUCKETS)))
        category.append("benign")
    for v, m in sorted(verdicts.items()):
        values.append(v)
        itypes.append("domain")
        y.append(1 if m else 0)
        w.append(VERDICT_WEIGHT)
        groups.append("analyst")
        category.append("analyst")
    X = featurizer.featurize(values, itypes)
    hosts = [host_of(v, t) or "" for v, t in zip(values, itypes, strict=True)]
    tld = [h.rpartition(".")[2] for h in hosts]
    words = [name_words(registrant_name(h)) for h in hosts]
    return _Rows(
        X, np.asarray(y, dtype=np.int8), np.asarray(w), groups, category, tld, hosts, words
    )


#: Columns of the features fitted on labels (the n-gram log-odds table and the n-gram
#: regression), which are cross-fitted during training.
_LABEL_COLS = [
    FEATURE_NAMES.index("ngram_logodds"),
    FEATURE_NAMES.index("ngram_max"),
    FEATURE_NAMES.index("ngram_lr"),
]


@dataclass(frozen=True)
class _LabelTables:
    ngrams: dict[str, float]
    regression: NgramRegression


def _fit_label_tables(rows: _Rows, idx: np.ndarray, seed: int) -> _LabelTables:
    hosts = [rows.hosts[i] for i in idx]
    labels = rows.y[idx].tolist()
    return _LabelTables(
        fit_ngrams(hosts, labels),
        fit_ngram_regression(
            hosts, labels, rows.weight[idx].tolist(), seed, [rows.words[i] for i in idx]
        ),
    )


def _score_label(tables: _LabelTables, rows: _Rows, idx: np.ndarray) -> np.ndarray:
    reg, hosts, words = tables.regression, rows.hosts, rows.words
    out = [
        (*ngram_scores(tables.ngrams, hosts[i]), reg.score(lr_ngrams(hosts[i], words[i])))
        for i in idx
    ]
    return np.array(out, dtype=np.float32).reshape(-1, len(_LABEL_COLS))


def _cross_fit_label(rows: _Rows, idx: np.ndarray, seed: int, folds: int = 3) -> np.ndarray:
    """Label-fitted features for rows ``idx``, each from tables fitted without its
    group: the trees must learn from out-of-sample scores, as they will see at inference."""
    from sklearn.model_selection import StratifiedGroupKFold  # heavy; only training needs it

    out = np.zeros((len(idx), len(_LABEL_COLS)), dtype=np.float32)
    groups = [rows.groups[i] for i in idx]
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, va in cv.split(idx, rows.y[idx], groups):
        out[va] = _score_label(_fit_label_tables(rows, idx[tr], seed), rows, idx[va])
    return out


def _fit(X: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int, rounds: int) -> lgb.Booster:
    import lightgbm as lgb  # heavy (imports scikit-learn); only training needs it

    params = dict(PARAMS, seed=seed)
    ds = lgb.Dataset(
        X,
        label=y,
        weight=w,
        feature_name=list(FEATURE_NAMES),
        categorical_feature=[TLD_INDEX],
        params={"verbose": -1},
        free_raw_data=True,
    )
    return lgb.train(params, ds, num_boost_round=rounds)


def _auc(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> float | None:
    from sklearn.metrics import roc_auc_score  # heavy; only training needs scikit-learn

    if len(np.unique(y)) < 2:
        return None
    return round(float(roc_auc_score(y, p, sample_weight=w)), 4)


def _threshold(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import precision_recall_curve  # heavy; only training needs it

    prec, _, thr = precision_recall_curve(y, p)
    ok = np.nonzero(prec[:-1] >= TARGET_PRECISION)[0]
    return float(thr[ok[0]]) if len(ok) else 0.5


def _metrics(rows: _Rows, oof: np.ndarray, thr: float, fold_auc: list[float]) -> dict[str, Any]:
    y, cat, tld = rows.y, np.asarray(rows.category), np.asarray(rows.tld)
    neg = y == 0
    high = oof >= thr
    tp = int((high & (y == 1)).sum())
    by_cat: dict[str, float | None] = {}
    for c in sorted(set(rows.category) - {"benign"}):
        m = (cat == c) | neg
        by_cat[c] = _auc(y[m], oof[m])
    com = tld == "com"
    # TLD-matched: benign rows re-weighted so their TLD mix equals the positives'
    # (TLDs without rows on both sides dropped), so "which TLD" alone cannot score.
    pos_t = Counter(tld[y == 1])
    neg_t = Counter(tld[neg])
    shared = {t for t in pos_t if t in neg_t}
    wt = np.zeros(len(y))
    for t in shared:
        wt[(tld == t) & (y == 1)] = 1.0
        wt[(tld == t) & neg] = pos_t[t] / neg_t[t]
    keep = wt > 0
    by_tld: dict[str, float | None] = {}
    for t, _n in pos_t.most_common(12):
        if neg_t.get(t, 0) >= 100:
            m = tld == t
            by_tld[t] = _auc(y[m], oof[m])
    return {
        "roc_auc": _auc(y, oof),
        "precision_high": round(tp / max(int(high.sum()), 1), 4),
        "recall_high": round(tp / max(int((y == 1).sum()), 1), 4),
        "threshold_high": round(thr, 6),
        "fold_roc_auc": [round(a, 4) for a in fold_auc],
        "roc_auc_by_category": by_cat,
        "roc_auc_com": _auc(y[com], oof[com]),
        "roc_auc_tld_matched": _auc(y[keep], oof[keep], wt[keep]),
        "roc_auc_by_tld": by_tld,
        "n_positive": int((y == 1).sum()),
        "n_benign": int(neg.sum()),
        "n_families": len({g for g, lab in zip(rows.groups, y, strict=True) if lab == 1}),
        "n_verdicts": rows.category.count("analyst"),
        "folds": len(fold_auc),
    }


def _version(text: str) -> str:
    return f"{FEATURES_VERSION}.{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _pkg_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def train(
    extra: Sequence[tuple[str, str, bool]] = (),
    *,
    seed: int = 0,
    sample: int | None = None,
    folds: int = 5,
    n_benign: int = N_BENIGN,
    rounds: int = NUM_BOOST_ROUND,
    positives: Sequence[Positive] | None = None,
    maltrail: Path | None = None,
    tranco: TrancoSplit | None = None,
    featurizer: Featurizer | None = None,
    origin: str = "user",
    training_data: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Cross-validate by family, then fit the final model on all rows.

    ``extra`` are analyst verdicts ``(value, type, malicious)``: added with weight
    :data:`VERDICT_WEIGHT`, overriding the shipped label of the same value.
    ``sample`` keeps that many positives and twice as many benign rows (quick runs and
    tests). ``positives`` default to the shipped maltrail file, ``featurizer`` to the
    shipped feature tables. Writes nothing.
    """
    from sklearn.model_selection import StratifiedGroupKFold  # heavy; only training needs it

    t0 = time.perf_counter()
    say = progress or (lambda _m: None)
    tranco = tranco if tranco is not None else load_tranco()
    pos = list(positives) if positives is not None else read_positives(maltrail, tranco.members())
    featurizer = featurizer if featurizer is not None else default_featurizer()
    rng = random.Random(seed)
    if sample is not None:
        pos = rng.sample(pos, min(sample, len(pos)))
        n_benign = 2 * len(pos)
    benign = sample_benign(tranco.pool, n_benign, seed)
    say(f"featurizing {len(pos):,} positives and {len(benign):,} benign domains")
    rows = _assemble(pos, benign, extra, featurizer)
    oof = np.zeros(len(rows.y))
    fold_auc: list[float] = []
    # The n-gram tables are fitted on labels, so they are fitted in-fold: validation rows
    # are scored with the training part's tables, training rows cross-fitted within it.
    held_out = np.zeros((len(rows.y), len(_LABEL_COLS)), dtype=np.float32)
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (tr, va) in enumerate(cv.split(rows.X, rows.y, rows.groups)):
        X_tr = rows.X[tr].copy()
        X_tr[:, _LABEL_COLS] = _cross_fit_label(rows, tr, seed + 1)
        held_out[va] = _score_label(_fit_label_tables(rows, tr, seed), rows, va)
        X_va = rows.X[va].copy()
        X_va[:, _LABEL_COLS] = held_out[va]
        booster = _fit(X_tr, rows.y[tr], rows.weight[tr], seed, rounds)
        oof[va] = booster.predict(X_va, num_threads=PARAMS["num_threads"])
        fold_auc.append(_auc(rows.y[va], oof[va]) or float("nan"))
        say(f"fold {k + 1}/{folds}: ROC-AUC {fold_auc[-1]:.4f}")
    thr = _threshold(rows.y, oof)
    metrics = _metrics(rows, oof, thr, fold_auc)
    say("fitting the final model on all rows")
    rows.X[:, _LABEL_COLS] = held_out
    booster = _fit(rows.X, rows.y, rows.weight, seed, rounds)
    label_tables = _fit_label_tables(rows, np.arange(len(rows.y)), seed)
    text = booster.model_to_string(num_iteration=-1)
    data_versions = dict(training_data or {})
    data_versions.setdefault("tranco_version", tranco.version)
    data_versions.setdefault("pymispwarninglists", _pkg_version("pymispwarninglists"))
    data_versions.setdefault("publicsuffixlist", _pkg_version("publicsuffixlist"))
    data_versions.setdefault("lightgbm", _pkg_version("lightgbm"))
    meta: dict[str, Any] = {
        "version": _version(text),
        "threshold_high": round(thr, 6),
        "features": list(FEATURE_NAMES),
        "features_version": FEATURES_VERSION,
        "metrics": metrics,
        "seed": seed,
        "origin": origin,
        "params": dict(PARAMS, num_boost_round=rounds, n_benign=n_benign, sample=sample),
        "training_data": data_versions,
        "contributions": "log-odds (SHAP values from LightGBM pred_contrib)",
    }
    model = model_from_text(text, meta)
    return TrainResult(
        model,
        metrics,
        oof,
        rows.y,
        time.perf_counter() - t0,
        label_tables.ngrams,
        label_tables.regression,
    )
