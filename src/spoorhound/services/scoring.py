"""Risk scores: computed on events and by a decay sweep, stored, never computed on read.

* :func:`rescore` recomputes the scores of given indicators from everything the store
  holds about them (observations per enclave with their sources' reliability, the
  latest enrichment verdict of each provider, sightings, analyst verdicts, pins,
  safelists, the priority model) and writes one ``indicator_score`` row per
  (indicator, enclave). It is called after an ingest, an enrichment, a sighting, a
  verdict, a pin and a safelist change.
* :func:`sweep` is the scheduled pass: it re-runs the model and the age decay for
  every stored score from the stored, pre-combined evidence, vectorised with NumPy,
  and writes only the rows whose score, level or flag changed.
* :func:`view` picks, among the stored rows of the enclaves a caller can read, the one
  to show: a pinned row first (the most recent pin), else the highest score. The
  evidence of an enclave the caller cannot read never moves what it sees.

The formula itself is :mod:`spoorhound.core.scoring` (pure); docs/scoring.md explains it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spoorhound.core import scoring as formula
from spoorhound.core.scoring import Evidence, ScoreInputs, ScoringConfig
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = [
    "Scorer",
    "Sweeper",
    "load_config",
    "rescore",
    "rescore_all",
    "rescore_enriched_since",
    "rescore_matching_safelist_change",
    "rescore_since",
    "rescore_stale",
    "rescore_values",
    "sweep",
    "view",
    "views",
]

log = logging.getLogger(__name__)

I = schema.indicator  # noqa: E741
O = schema.observation  # noqa: E741
S = schema.source
E = schema.enclave
EN = schema.enrichment
SG = schema.sighting
V = schema.analyst_verdict
P = schema.risk_override
F = schema.indicator_feature
SC = schema.indicator_score

#: Indicators per batch of :func:`rescore` (bounded memory, bounded transactions).
BATCH = 2_000
#: Level name → index in :data:`spoorhound.core.scoring.LEVELS`.
LEVEL_INDEX = {name: i for i, name in enumerate(formula.LEVELS)}
#: Batches up to this many model predictions explain every one (see _model_outputs).
EXPLAIN_ALL_BELOW = 200


class _Matcher(Protocol):
    def match(self, itype: str, value: str) -> Any: ...
    def popularity(self, itype: str, value: str) -> str | None: ...


def load_config(data_dir: Path | None) -> ScoringConfig:
    """``<data_dir>/scoring.toml`` (a ``[scoring]`` table) or the defaults."""
    if data_dir is None:
        return ScoringConfig()
    path = Path(data_dir) / "scoring.toml"
    if not path.exists():
        return ScoringConfig()
    with path.open("rb") as fh:
        doc = tomllib.load(fh)
    return ScoringConfig.from_mapping(doc.get("scoring", {}))


@dataclass
class Scorer:
    """What scoring needs besides the store: configuration, model, safelist matcher."""

    config: ScoringConfig = field(default_factory=ScoringConfig)
    model: Any | None = None  # spoorhound.model.PriorityModel
    matcher: _Matcher | None = None
    data_dir: Path | None = None

    @classmethod
    def load(cls, store: Store, data_dir: Path | None, *, with_model: bool = True) -> Scorer:
        """The configured scorer for ``data_dir``: its scoring.toml, model, safelists."""
        model = None
        if with_model:
            from spoorhound.model import load_model

            model = load_model(data_dir)
        scorer = cls(config=load_config(data_dir), model=model, data_dir=data_dir)
        scorer.reload_safelists(store)
        return scorer

    def reload_safelists(self, store: Store) -> None:
        """Load the safelists afresh (after an entry was added or removed)."""
        from spoorhound.services.safelists import load_matcher

        cache = (Path(self.data_dir) / "cache") if self.data_dir is not None else None
        self.matcher = load_matcher(store, cache_dir=cache)

    @property
    def threshold(self) -> float | None:
        return None if self.model is None else float(self.model.threshold_high)


# --- gathering evidence -------------------------------------------------------------


@dataclass
class _Group:
    """Evidence of one indicator in one enclave while it is being gathered."""

    anchor: int = 0
    evidence: list[Evidence] = field(default_factory=list)
    sighted: int | None = None
    verdict: tuple[str, str] | None = None
    pin: tuple[str, str] | None = None


def _chunks(xs: Sequence[int], n: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(xs), n):
        yield xs[i : i + n]


def _provider_evidence(
    provider: str, verdict: str | None, score: int | None, config: ScoringConfig
) -> Evidence | None:
    w = config.provider_weight(provider)
    if verdict in ("malicious", "suspicious"):
        s = score if score is not None else (80 if verdict == "malicious" else 40)
        text = f"{provider}: {verdict} ({s}/100)"
        return Evidence("provider", provider, w * s / 100.0, text)
    if verdict == "benign":
        s = score if score is not None else 0
        return Evidence("provider", provider, w * (100 - s) / 100.0, f"{provider}: benign", True)
    return None


def _gather(
    conn: Connection, pks: Sequence[int], now: int, scorer: Scorer
) -> tuple[dict[int, tuple[str, str]], dict[tuple[int, int], _Group], dict[int, list[Evidence]]]:
    cfg = scorer.config
    ind = {
        r.pk: (r.type, r.value)
        for r in conn.execute(sa.select(I.c.pk, I.c.type, I.c.value).where(I.c.pk.in_(pks)))
    }
    groups: dict[tuple[int, int], _Group] = defaultdict(_Group)
    r: Any
    for r in conn.execute(
        sa.select(
            O.c.indicator_pk,
            O.c.enclave_id,
            O.c.confidence,
            O.c.last_seen,
            S.c.name,
            S.c.reliability,
        )
        .join(S, S.c.id == O.c.source_id)
        .where(O.c.indicator_pk.in_(pks))
    ):
        g = groups[(r.indicator_pk, r.enclave_id)]
        g.anchor = max(g.anchor, int(r.last_seen))
        conf = cfg.default_confidence if r.confidence is None else int(r.confidence)
        rel = 3 if r.reliability is None else int(r.reliability)
        w = formula.reliability_weight(rel) * conf / 100.0
        g.evidence.append(
            Evidence(
                "source",
                r.name,
                w,
                f"reported by {r.name} (reliability {rel}/5, confidence {conf})",
            )
        )
    for r in conn.execute(
        sa.select(SG.c.indicator_pk, SG.c.enclave_id, sa.func.max(SG.c.seen_at).label("seen"))
        .where(SG.c.indicator_pk.in_(pks))
        .group_by(SG.c.indicator_pk, SG.c.enclave_id)
    ):
        # A sighting in an enclave without an observation still scores there: the
        # value-derived evidence plus the sighting itself.
        g = groups[(r.indicator_pk, r.enclave_id)]
        seen = int(r.seen)
        g.anchor = max(g.anchor, seen)
        g.sighted = seen
        if now - seen <= cfg.sighting_window:
            days = max(0, (now - seen) // formula.DAY)
            when = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
            g.evidence.append(
                Evidence(
                    "sighting", "sighting", cfg.sighting_weight, f"sighted in our network {when}"
                )
            )
    # Latest verdict per (indicator, enclave).
    for r in conn.execute(
        sa.select(V.c.indicator_pk, V.c.enclave_id, V.c.verdict, V.c.actor, V.c.at)
        .where(V.c.indicator_pk.in_(pks))
        .order_by(V.c.at, V.c.id)
    ):
        key = (r.indicator_pk, r.enclave_id)
        if key in groups:
            groups[key].verdict = (r.verdict, r.actor)
            groups[key].anchor = max(groups[key].anchor, int(r.at))
    for r in conn.execute(
        sa.select(P.c.indicator_pk, P.c.enclave_id, P.c.risk, P.c.actor, P.c.expires_at).where(
            P.c.indicator_pk.in_(pks)
        )
    ):
        key = (r.indicator_pk, r.enclave_id)
        if key in groups and (r.expires_at is None or r.expires_at > now):
            groups[key].pin = (r.risk, r.actor)
    # Latest successful enrichment per (indicator, provider): value-derived, shared.
    shared: dict[int, list[Evidence]] = defaultdict(list)
    latest: dict[tuple[int, str], tuple[int, str | None, int | None]] = {}
    for r in conn.execute(
        sa.select(
            EN.c.indicator_pk, EN.c.provider, EN.c.fetched_at, EN.c.verdict, EN.c.score
        ).where(EN.c.indicator_pk.in_(pks), EN.c.status == "ok")
    ):
        k = (r.indicator_pk, r.provider)
        if k not in latest or r.fetched_at >= latest[k][0]:
            latest[k] = (int(r.fetched_at), r.verdict, r.score)
    for (pk, provider), (_, verdict, sc) in sorted(latest.items()):
        ev = _provider_evidence(provider, verdict, sc, cfg)
        if ev is not None:
            shared[pk].append(ev)
    return ind, groups, shared


def _features(conn: Connection, ind: Mapping[int, tuple[str, str]], model: Any) -> dict[int, Any]:
    """Feature vectors for the model's types, computing and storing the missing ones."""
    from spoorhound.model import features as feats

    pks = [pk for pk, (t, _) in ind.items() if feats.supports(t)]
    if not pks:
        return {}
    have: dict[int, Any] = {}
    for r in conn.execute(
        sa.select(F.c.indicator_pk, F.c.vector).where(
            F.c.indicator_pk.in_(pks), F.c.version == feats.FEATURES_VERSION
        )
    ):
        have[r.indicator_pk] = np.frombuffer(r.vector, dtype="<f4")
    missing = [pk for pk in pks if pk not in have]
    if missing:
        X = feats.featurize([ind[pk][1] for pk in missing], [ind[pk][0] for pk in missing])
        X = np.ascontiguousarray(X, dtype="<f4")
        rows = [
            {"indicator_pk": pk, "version": feats.FEATURES_VERSION, "vector": X[i].tobytes()}
            for i, pk in enumerate(missing)
        ]
        conn.execute(F.delete().where(F.c.indicator_pk.in_(missing)))
        conn.execute(F.insert(), rows)
        for i, pk in enumerate(missing):
            have[pk] = X[i]
    return have


def _model_outputs(
    conn: Connection, ind: Mapping[int, tuple[str, str]], scorer: Scorer
) -> dict[int, tuple[float, list[dict[str, Any]]]]:
    if scorer.model is None:
        return {}
    vecs = _features(conn, ind, scorer.model)
    if not vecs:
        return {}
    pks = list(vecs)
    X = np.vstack([vecs[pk] for pk in pks])
    p = scorer.model.predict(X)
    scored = [i for i in range(len(pks)) if not np.isnan(p[i])]  # NaN: a host it cannot judge
    # SHAP explanations cost about 2 ms a row on the shipped model: small batches (an
    # analyst's event, an API create) explain every prediction; bulk batches explain
    # those at or above the HIGH threshold, the ones that raise the flag.
    if len(scored) > EXPLAIN_ALL_BELOW:
        explain = [i for i in scored if p[i] >= scorer.model.threshold_high]
    else:
        explain = scored
    expl = (
        dict(zip(explain, scorer.model.explain(X[explain], top=3), strict=True)) if explain else {}
    )
    out: dict[int, tuple[float, list[dict[str, Any]]]] = {}
    for i in scored:
        out[pks[i]] = (
            float(p[i]),
            [
                {
                    "feature": f.feature,
                    "text": f.text,
                    "contribution": round(float(f.contribution), 3),
                }
                for f in expl.get(i, ())
            ],
        )
    return out


# --- writing ------------------------------------------------------------------------


def _score_rows(
    conn: Connection, pks: Sequence[int], now: int, scorer: Scorer
) -> tuple[list[dict[str, Any]], dict[int, bool]]:
    ind, groups, shared = _gather(conn, pks, now, scorer)
    by_pk = _grouped(groups)
    model_out = _model_outputs(conn, ind, scorer)
    cfg = scorer.config
    rows: list[dict[str, Any]] = []
    safelisted: dict[int, bool] = {}
    for pk, (itype, value) in ind.items():
        hit = scorer.matcher.match(itype, value) if scorer.matcher is not None else None
        veto = _hit_name(hit)
        safelisted[pk] = veto is not None
        pop = scorer.matcher.popularity(itype, value) if scorer.matcher is not None else None
        value_ev = list(shared.get(pk, ()))
        if pop:
            w = cfg.popularity_weights.get("top10k" if "10" in pop.lower() else "top1m", 0.25)
            value_ev.append(Evidence("popularity", pop, w, f"on {pop} (benign)", True))
        mp = model_out.get(pk)
        for enclave_id, g in by_pk.get(pk, ()):
            inputs = ScoreInputs(
                itype=itype,
                anchor=g.anchor,
                evidence=[*g.evidence, *value_ev],
                model_p=None if mp is None else mp[0],
                model_factors=() if mp is None else mp[1],
                safelist=veto,
                verdict=None if g.verdict is None else g.verdict[0],
                verdict_by=None if g.verdict is None else g.verdict[1],
                pin=None if g.pin is None else g.pin[0],
                pin_by=None if g.pin is None else g.pin[1],
            )
            res = formula.score(inputs, now=now, config=cfg, model_threshold=scorer.threshold)
            rows.append(
                {
                    "indicator_pk": pk,
                    "enclave_id": enclave_id,
                    "score": res.score,
                    "risk": res.risk,
                    "score_recommended": res.score_recommended,
                    "risk_recommended": res.risk_recommended,
                    "high_priority": res.high_priority,
                    "base": res.base,
                    # What the columns below do not say (q, bq, flags and sighted_at
                    # are the sweep's inputs and live only there).
                    "evidence": {
                        "veto": veto,
                        "verdict": inputs.verdict,
                        "pin": inputs.pin,
                        "n": len(inputs.evidence),
                    },
                    "factors": [f.as_dict() for f in res.factors],
                    "model_p": None if mp is None else mp[0],
                    "q": res.q,
                    "bq": res.bq,
                    "flags": (inputs.verdict == "malicious")
                    | 2 * (veto is not None or inputs.verdict in ("false_positive", "benign"))
                    | 4 * (bool(inputs.evidence) or inputs.verdict is not None or veto is not None),
                    "sighted_at": g.sighted,
                    "anchor": g.anchor,
                    "scored_at": now,
                }
            )
    return rows, safelisted


def _grouped(groups: Mapping[tuple[int, int], _Group]) -> dict[int, list[tuple[int, _Group]]]:
    by_pk: dict[int, list[tuple[int, _Group]]] = defaultdict(list)
    for (pk, enc), g in groups.items():
        by_pk[pk].append((enc, g))
    return by_pk


def _hit_name(hit: Any) -> str | None:
    if hit is None:
        return None
    if isinstance(hit, str):
        return hit
    name = getattr(hit, "list", None) or getattr(hit, "name", None)
    return str(name) if name else "safelist"


def _write(
    conn: Connection,
    pks: Sequence[int],
    rows: list[dict[str, Any]],
    safe: Mapping[int, bool],
    enclave_id: int | None = None,
) -> int:
    # ``scored_at`` is when the score last *changed*: a rescore that changes nothing
    # keeps it, so an event elsewhere leaves no trace on rows it did not move.
    same = (
        "score",
        "risk",
        "score_recommended",
        "risk_recommended",
        "high_priority",
        "factors",
        "anchor",
    )
    old = {
        (r.indicator_pk, r.enclave_id): r
        for r in conn.execute(
            sa.select(
                SC.c.indicator_pk, SC.c.enclave_id, SC.c.scored_at, *(SC.c[c] for c in same)
            ).where(SC.c.indicator_pk.in_(pks))
        )
    }
    for row in rows:
        prev = old.get((row["indicator_pk"], row["enclave_id"]))
        if prev is not None and all(row[c] == getattr(prev, c) for c in same):
            row["scored_at"] = prev.scored_at
    if enclave_id is None:
        conn.execute(SC.delete().where(SC.c.indicator_pk.in_(pks)))
    else:
        # An event in one enclave rewrites that enclave's rows only: the others'
        # rows (even their scored_at) must not change, or they would reveal it.
        rows = [r for r in rows if r["enclave_id"] == enclave_id]
        conn.execute(SC.delete().where(SC.c.indicator_pk.in_(pks), SC.c.enclave_id == enclave_id))
    if rows:
        conn.execute(SC.insert(), rows)
    flagged = [pk for pk, s in safe.items() if s]
    clear = [pk for pk, s in safe.items() if not s]
    if flagged:
        conn.execute(I.update().where(I.c.pk.in_(flagged)).values(safelisted=True))
    if clear:
        conn.execute(
            I.update().where(I.c.pk.in_(clear), I.c.safelisted.is_(True)).values(safelisted=False)
        )
    return len(rows)


def rescore(
    store: Store,
    pks: Iterable[int],
    *,
    scorer: Scorer,
    now: int | None = None,
    enclave: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute and store the scores of the indicators ``pks``; returns rows written.

    With ``enclave``, only that enclave's rows are rewritten (an event there — a
    verdict, pin or sighting — changes nothing elsewhere). ``progress(done, total)``
    is called before the first batch and after each one (indicators).
    """
    now = int(time.time()) if now is None else now
    todo = sorted(set(pks))
    written = 0
    if progress is not None:
        progress(0, len(todo))
    for done, chunk in enumerate(_chunks(todo, BATCH), start=1):
        with store.write() as conn:
            eid = None
            if enclave is not None:
                eid = conn.execute(sa.select(E.c.id).where(E.c.name == enclave)).scalar()
                if eid is None:
                    raise LookupError(f"enclave {enclave!r} not found")
            rows, safe = _score_rows(conn, chunk, now, scorer)
            written += _write(conn, chunk, rows, safe, eid)
        if progress is not None:
            progress(min(done * BATCH, len(todo)), len(todo))
    return written


def rescore_all(store: Store, *, scorer: Scorer, now: int | None = None) -> int:
    """Recompute every indicator's scores from scratch (after a config or model change)."""
    written = 0
    last = 0
    while True:
        with store.read() as conn:
            pks = [
                r[0]
                for r in conn.execute(
                    sa.select(I.c.pk).where(I.c.pk > last).order_by(I.c.pk).limit(50_000)
                )
            ]
        if not pks:
            return written
        last = pks[-1]
        written += rescore(store, pks, scorer=scorer, now=now)


def rescore_since(
    store: Store,
    *,
    enclave: str,
    since: int,
    scorer: Scorer,
    now: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rescore every indicator whose observation in ``enclave`` changed at or after ``since``.

    What an ingest calls when it has committed: the bulk merge stamps every touched
    observation's ``updated_at``, so this finds exactly the indicators it wrote.
    """
    with store.read() as conn:
        pks = [
            r[0]
            for r in conn.execute(
                sa.select(O.c.indicator_pk)
                .join(E, E.c.id == O.c.enclave_id)
                .where(E.c.name == enclave, O.c.updated_at >= since)
            )
        ]
    return rescore(store, pks, scorer=scorer, now=now, enclave=enclave, progress=progress)


def rescore_enriched_since(
    store: Store, *, since: int, scorer: Scorer, now: int | None = None
) -> int:
    """Rescore every indicator with an enrichment result fetched or re-checked since ``since``."""
    with store.read() as conn:
        pks = [
            r[0]
            for r in conn.execute(
                sa.select(EN.c.indicator_pk)
                .where(sa.or_(EN.c.fetched_at >= since, EN.c.checked_at >= since))
                .distinct()
            )
        ]
    return rescore(store, pks, scorer=scorer, now=now)


def rescore_stale(store: Store, *, scorer: Scorer, now: int | None = None) -> int:
    """Rescore indicators whose enrichment is newer than their stored score.

    Enrichment runs on workers (API jobs, watchlists); this pass, run before each
    decay sweep, folds their verdicts into the scores without coupling the workers
    to scoring. Indicators never scored at all (e.g. written before scoring existed)
    are scored too, and so are those whose stored feature vector is of another
    ``FEATURES_VERSION`` (after an upgrade): rescoring recomputes it, and the sweep,
    which reads only current vectors, has the model's input again.
    """
    newer = (
        sa.select(EN.c.indicator_pk)
        .join(SC, SC.c.indicator_pk == EN.c.indicator_pk)
        .where(EN.c.status == "ok", EN.c.fetched_at > SC.c.scored_at)
    )
    unscored = sa.select(I.c.pk).where(
        ~sa.exists().where(SC.c.indicator_pk == I.c.pk),
        sa.exists().where(O.c.indicator_pk == I.c.pk),
    )
    with store.read() as conn:
        pks = {r[0] for r in conn.execute(newer.distinct())}
        pks.update(r[0] for r in conn.execute(unscored))
        if scorer.model is not None:
            from spoorhound.model.features import FEATURES_VERSION

            outdated = sa.select(F.c.indicator_pk).where(F.c.version != FEATURES_VERSION)
            pks.update(r[0] for r in conn.execute(outdated))
    return rescore(store, sorted(pks), scorer=scorer, now=now)


def rescore_values(
    store: Store, values: Iterable[tuple[str, str]], *, scorer: Scorer, now: int | None = None
) -> int:
    """:func:`rescore` by (type, canonical value)."""
    pairs = list(values)
    pks: list[int] = []
    with store.read() as conn:
        for i in range(0, len(pairs), 500):
            part = pairs[i : i + 500]
            cond = sa.or_(*[sa.and_(I.c.type == t, I.c.value == v) for t, v in part])
            pks.extend(r[0] for r in conn.execute(sa.select(I.c.pk).where(cond)))
    return rescore(store, pks, scorer=scorer, now=now)


def rescore_matching_safelist_change(
    store: Store, *, scorer: Scorer | None = None, data_dir: Path | None = None
) -> int:
    """After a safelist changed: rescore every indicator whose veto status changes."""
    scorer = scorer or Scorer.load(store, data_dir, with_model=True)
    todo: list[int] = []
    last = 0
    while True:
        with store.read() as conn:
            batch = conn.execute(
                sa.select(I.c.pk, I.c.type, I.c.value, I.c.safelisted)
                .where(I.c.pk > last)
                .order_by(I.c.pk)
                .limit(50_000)
            ).all()
        if not batch:
            break
        last = batch[-1].pk
        m = scorer.matcher
        for r in batch:
            hit = m.match(r.type, r.value) if m is not None else None
            if bool(hit) != bool(r.safelisted):
                todo.append(r.pk)
    return rescore(store, todo, scorer=scorer)


# --- the decay sweep ------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    rows: int
    changed: int
    seconds: float


def sweep(
    store: Store,
    *,
    scorer: Scorer,
    now: int | None = None,
    page: int = 200_000,
) -> SweepResult:
    """Re-run the model and the age decay on every stored score; write what changed.

    Vectorised: reads the stored evidence, feature vectors, pins and anchors in pages,
    recomputes with :func:`spoorhound.core.scoring.combine`, and updates only the rows
    whose score, level or high-priority flag moved. Factors other than the model's
    probability and the decay (which the read path renders from ``base``/``score``)
    do not change without an event, so they are left alone.
    """
    t0 = time.perf_counter()
    now = int(time.time()) if now is None else now
    cfg = scorer.config
    total = changed = 0
    last: tuple[int, int] = (0, 0)
    feats_version = None
    if scorer.model is not None:
        from spoorhound.model import features as feats

        feats_version = feats.FEATURES_VERSION
    mw = formula.reliability_weight(cfg.model_reliability)
    thr = scorer.threshold
    while True:
        with store.read() as conn:
            q = (
                sa.select(
                    SC.c.indicator_pk,
                    SC.c.enclave_id,
                    I.c.type,
                    SC.c.score,
                    SC.c.risk,
                    SC.c.high_priority,
                    SC.c.q,
                    SC.c.bq,
                    SC.c.flags,
                    SC.c.sighted_at,
                    SC.c.anchor,
                    SC.c.model_p,
                    F.c.vector,
                    P.c.risk.label("pin"),
                    P.c.expires_at.label("pin_expires"),
                )
                .join(I, I.c.pk == SC.c.indicator_pk)
                .outerjoin(
                    F,
                    sa.and_(F.c.indicator_pk == SC.c.indicator_pk, F.c.version == feats_version),
                )
                .outerjoin(
                    P,
                    sa.and_(
                        P.c.indicator_pk == SC.c.indicator_pk, P.c.enclave_id == SC.c.enclave_id
                    ),
                )
                .where(sa.tuple_(SC.c.indicator_pk, SC.c.enclave_id) > sa.tuple_(*last))
                .order_by(SC.c.indicator_pk, SC.c.enclave_id)
                .limit(page)
            )
            # Plain DB-API tuples: a million Row objects cost more than the arithmetic.
            rows = conn.execute(q).cursor.fetchall()
        if not rows:
            break
        last = (rows[-1][0], rows[-1][1])
        n = len(rows)
        total += n
        (pk_c, enc_c, type_c, score_c, risk_c, hp_c, q_c, bq_c, flags_c, sighted_c, anchor_c,
         _mp_c, vec_c, pin_c, pin_exp_c) = zip(*rows, strict=True)  # fmt: skip
        qv = np.array(q_c, dtype=np.float64)
        bq = np.array(bq_c, dtype=np.float64)
        flags = np.array(flags_c, dtype=np.int16)
        confirmed = (flags & 1) != 0
        vetoed = (flags & 2) != 0
        has_ev = (flags & 4) != 0
        lifetimes = {t: float(cfg.lifetime(t)) for t in set(type_c)}
        lifetime = np.array([lifetimes[t] for t in type_c], dtype=np.float64)
        age = now - np.array(anchor_c, dtype=np.float64)
        model_p = np.full(n, np.nan)
        with_vec = [i for i, v in enumerate(vec_c) if v is not None]
        if with_vec and scorer.model is not None:
            X = np.frombuffer(b"".join([vec_c[i] for i in with_vec]), dtype="<f4").reshape(
                len(with_vec), -1
            )
            model_p[with_vec] = scorer.model.predict(X)
        has_mp = ~np.isnan(model_p)
        has_ev = has_ev | has_mp
        rec, base = formula.combine(
            q=qv,
            bq=bq,
            model_p=model_p,
            age=age,
            lifetime=lifetime,
            speed=cfg.speed,
            model_weight=mw,
            confirmed=confirmed,
            vetoed=vetoed,
            has_evidence=has_ev,
        )
        # Levels as indices into formula.LEVELS (unknown, none, low, medium, high, critical).
        lvl = np.ones(n, dtype=np.int8)
        for k, floor in ((2, 10), (3, 40), (4, 70), (5, 90)):
            lvl[rec >= floor] = k
        lvl[~has_ev] = 0
        window = now - cfg.sighting_window
        sighted = np.array([x is not None and x >= window for x in sighted_c], dtype=np.bool_)
        hp = ((lvl >= 4) | (sighted & (lvl == 3))) & ~vetoed
        if thr is not None:
            hp |= has_mp & (np.nan_to_num(model_p) >= thr) & ~vetoed
        shown_score = rec.astype(np.int32)
        shown_lvl = lvl.copy()
        for i in [i for i, x in enumerate(pin_c) if x is not None]:
            if pin_exp_c[i] is None or pin_exp_c[i] > now:
                shown_lvl[i] = LEVEL_INDEX[pin_c[i]]
                shown_score[i] = formula._pin_score(pin_c[i], int(rec[i]))
                hp[i] = pin_c[i] in ("high", "critical")
        old_lvl = np.array([LEVEL_INDEX.get(x, -1) for x in risk_c], dtype=np.int8)
        moved = (
            (shown_score != np.array(score_c, dtype=np.int32))
            | (shown_lvl != old_lvl)
            | (hp != np.array(hp_c, dtype=np.bool_))
        )
        names = formula.LEVELS
        updates: list[dict[str, Any]] = [
            {
                "k_pk": pk_c[i],
                "k_enc": enc_c[i],
                "score": int(shown_score[i]),
                "risk": names[shown_lvl[i]],
                "score_recommended": int(rec[i]),
                "risk_recommended": names[lvl[i]],
                "high_priority": bool(hp[i]),
                "model_p": None if not has_mp[i] else float(model_p[i]),
                "base": float(base[i]),
                "scored_at": now,
            }
            for i in np.flatnonzero(moved).tolist()
        ]
        if updates:
            stmt = (
                SC.update()
                .where(SC.c.indicator_pk == sa.bindparam("k_pk"))
                .where(SC.c.enclave_id == sa.bindparam("k_enc"))
                .values(
                    score=sa.bindparam("score"),
                    risk=sa.bindparam("risk"),
                    score_recommended=sa.bindparam("score_recommended"),
                    risk_recommended=sa.bindparam("risk_recommended"),
                    high_priority=sa.bindparam("high_priority"),
                    model_p=sa.bindparam("model_p"),
                    base=sa.bindparam("base"),
                    scored_at=sa.bindparam("scored_at"),
                )
            )
            with store.write() as conn:
                conn.execute(stmt, updates)
            changed += len(updates)
        if n < page:
            break
    return SweepResult(rows=total, changed=changed, seconds=time.perf_counter() - t0)


# --- reading ------------------------------------------------------------------------


def _views_statement(scoped: bool) -> sa.Select[Any]:
    """Built once: compiling it cost more than running it on the API's hot path."""
    live_pin = sa.and_(
        P.c.indicator_pk == SC.c.indicator_pk,
        P.c.enclave_id == SC.c.enclave_id,
        sa.or_(P.c.expires_at.is_(None), P.c.expires_at > sa.bindparam("now")),
    )
    q = (
        sa.select(
            SC,
            E.c.name.label("enclave"),
            I.c.type,
            P.c.created_at.label("pinned_at"),
            P.c.actor.label("pinned_by"),
            P.c.expires_at.label("pinned_until"),
        )
        .join(E, E.c.id == SC.c.enclave_id)
        .join(I, I.c.pk == SC.c.indicator_pk)
        .outerjoin(P, live_pin)
        .where(SC.c.indicator_pk.in_(sa.bindparam("pks", expanding=True)))
    )
    if scoped:
        q = q.where(E.c.name.in_(sa.bindparam("scope", expanding=True)))
    return q


_VIEWS = _views_statement(False)
_VIEWS_SCOPED = _views_statement(True)


def views(
    conn: Connection,
    pks: Sequence[int],
    scope: Collection[str] | None,
    *,
    now: int | None = None,
) -> dict[int, dict[str, Any]]:
    """The score each indicator shows to a caller who can read ``scope`` (None: all)."""
    if not pks:
        return {}
    now = int(time.time()) if now is None else now
    params: dict[str, Any] = {"pks": list(pks), "now": now}
    if scope is None:
        stmt = _VIEWS
    else:
        stmt = _VIEWS_SCOPED
        params["scope"] = list(scope)
    best: dict[int, Any] = {}
    for r in conn.execute(stmt, params):
        cur = best.get(r.indicator_pk)
        if cur is None or _rank(r) > _rank(cur):
            best[r.indicator_pk] = r
    return {pk: _render(r, now) for pk, r in best.items()}


def view(conn: Connection, pk: int, scope: Collection[str] | None) -> dict[str, Any] | None:
    return views(conn, [pk], scope).get(pk)


def _rank(r: Any) -> tuple[int, int, int]:
    pinned = 1 if r.pinned_at is not None else 0
    return (pinned, int(r.pinned_at or 0), int(r.score))


def _render(r: Any, now: int) -> dict[str, Any]:
    # The stored factors explain the evidence; the decay moves with the sweep, so its
    # factor is rendered from the stored base (before decay) and score (after).
    factors = [f for f in (r.factors or []) if f.get("kind") != "decay"]
    decay = int(r.score_recommended) - 100.0 * float(r.base)
    if float(r.base) > 0 and decay <= -0.5:
        days = max(0, (now - int(r.anchor)) // formula.DAY)
        factors.append(
            {
                "kind": "decay",
                "text": f"age decay: last seen {days} days ago",
                "points": round(decay, 1),
            }
        )
    return {
        "score": int(r.score),
        "risk": r.risk,
        "score_recommended": int(r.score_recommended),
        "risk_recommended": r.risk_recommended,
        "high_priority": bool(r.high_priority),
        "risk_factors": factors,
        "model_p": None if r.model_p is None else round(float(r.model_p), 4),
        "pinned": None
        if r.pinned_at is None
        else {"by": r.pinned_by, "at": int(r.pinned_at), "until": r.pinned_until},
        "enclave": r.enclave,
        "scored_at": int(r.scored_at),
    }


class Sweeper(threading.Thread):
    """Runs :func:`rescore_stale` and :func:`sweep` every ``interval`` seconds (``serve``).

    Each pass runs as a child process (``spoorhound score sweep``) at a lower CPU
    priority, so a long pass — the first one after a model upgrade recomputes every
    feature vector — neither holds the API process's GIL nor competes with it for a
    core: requests keep their latency while it runs. Without a data directory the pass
    runs in this thread. A fresh scorer each pass picks up a retrained model, an
    edited scoring.toml and safelist changes. Errors are logged; the next pass retries.
    """

    def __init__(
        self, store: Store, data_dir: Path | None, interval: float, *, in_process: bool = False
    ) -> None:
        super().__init__(name="spoorhound-score-sweeper", daemon=True)
        self.store, self.data_dir, self.interval = store, data_dir, interval
        self.in_process = in_process or data_dir is None
        self.stopped = threading.Event()
        self.passes = 0
        self.last: dict[str, Any] | None = None
        self._child: subprocess.Popen[bytes] | None = None

    def _in_thread(self) -> dict[str, Any]:
        scorer = Scorer.load(self.store, self.data_dir)
        stale = rescore_stale(self.store, scorer=scorer)
        res = sweep(self.store, scorer=scorer)
        return {"rescored": stale, "rows": res.rows, "changed": res.changed,
                "seconds": round(res.seconds, 2)}  # fmt: skip

    def _in_child(self) -> dict[str, Any]:
        env = {**os.environ, "SPOORHOUND_DATA_DIR": str(self.data_dir),
               "SPOORHOUND_DATABASE_URL": self.store.url}  # fmt: skip
        env.pop("SPOORHOUND_SERVER", None)  # the child works on this database, not remotely
        # The URL (it may hold a password) goes through the environment, not argv.
        self._child = subprocess.Popen(
            [sys.executable, "-m", "spoorhound.cli", "score", "sweep", "--json"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        _lower_priority(self._child.pid)
        out, errs = self._child.communicate()
        code, self._child = self._child.returncode, None
        if code != 0:
            tail = errs.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(f"`spoorhound score sweep` exited {code}: {' | '.join(tail)}")
        result: dict[str, Any] = json.loads(out)
        return result

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.last = self._in_thread() if self.in_process else self._in_child()
                log.info(
                    "score sweep: %d rescored, %d swept, %d changed in %.1f s",
                    self.last["rescored"], self.last["rows"], self.last["changed"],
                    self.last["seconds"],
                )  # fmt: skip
            except Exception:
                if self.stopped.is_set():
                    return
                log.exception("score sweep failed; retrying in %.0f s", self.interval)
            self.passes += 1
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
        child = self._child
        if child is not None and child.poll() is None:
            child.terminate()  # the pass commits in batches: what it wrote stays valid


def _lower_priority(pid: int) -> None:
    """Let the sweep's child yield the cores to the API process (nice 10, POSIX)."""
    if hasattr(os, "setpriority"):
        # Already gone, or not permitted: it still runs, at normal priority.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, 10)
