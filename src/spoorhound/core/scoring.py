"""The risk score: explainable, stored, decayed with age (pure functions, no I/O).

An indicator's score in an enclave combines *evidence*, each piece a probability-like
weight in [0, 1] and a short reason:

* **malicious evidence** — each source that reported the indicator (its reliability,
  1–5 like TruSTAR's source weights, times the observation's confidence), each
  enrichment provider's verdict (the provider's reliability times its 0–100 score),
  a recent sighting in the enclave, and the trained priority model's probability
  (times the model's weight);
* **benign evidence** — a provider's benign verdict, membership in a popularity list
  (Tranco top 10k …), which lowers the score but never vetoes it.

Malicious evidence combines by noisy-OR — ``mal = 1 − Π(1 − pᵢ)``, so independent
reports reinforce each other but never exceed 1 — and benign evidence scales it down:
``base = mal × Π(1 − bⱼ)``. The score then decays with age in the MISP/OpenCTI form
``base × (1 − (t / lifetime) ^ (1 / speed))``, where ``t`` counts from the *anchor*,
the latest observation, sighting or verdict, so decay restarts whenever the
indicator is seen again. Analyst verdicts and safelists come last: a confirmed
malicious verdict floors the score at :data:`CONFIRMED_FLOOR`, a false-positive or
benign verdict and a safelist hit veto it to 0 (level ``none``) with the reason. An
analyst's pinned level replaces the level and score shown, while ``recommended``
keeps what the formula says.

Every factor carries its contribution in score points: contributions are attributed
in order (strongest malicious evidence first), so they add up to the score before
decay; decay, verdicts and vetoes appear as factors of their own.

:func:`combine` is the vectorised form used by the decay sweep: it takes the stored
pre-combined evidence (``q = Π(1 − pᵢ)`` without the model, ``bq = Π(1 − bⱼ)``) as
NumPy arrays and recomputes model, decay, verdicts, vetoes and pins for a million
rows at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CONFIRMED_FLOOR",
    "DAY",
    "LEVELS",
    "Evidence",
    "Factor",
    "ScoreInputs",
    "ScoreResult",
    "ScoringConfig",
    "combine",
    "decay_factor",
    "level_for",
    "reliability_weight",
    "score",
]

DAY = 86_400

#: Pulsedive's levels, lowest first.
LEVELS = ("unknown", "none", "low", "medium", "high", "critical")
#: Lowest score of each level (``none`` below ``low``).
LEVEL_FLOORS = (("critical", 90), ("high", 70), ("medium", 40), ("low", 10))
#: A verdict ``malicious`` (confirmed by an analyst) keeps the score at least here.
CONFIRMED_FLOOR = 0.9
#: Verdicts an analyst can give.
VERDICTS = ("malicious", "false_positive", "benign")

#: Default age after which an indicator's score has decayed to 0, per type (seconds).
#: Network infrastructure is re-used and abandoned fast; file hashes stay meaningful.
DEFAULT_LIFETIMES: dict[str, int] = {
    "ipv4": 30 * DAY,
    "ipv6": 30 * DAY,
    "cidr": 60 * DAY,
    "url": 30 * DAY,
    "domain": 180 * DAY,
    "email": 180 * DAY,
    "user-agent": 180 * DAY,
    "asn": 365 * DAY,
    "cve": 730 * DAY,
    "attack-technique": 3650 * DAY,
}
#: Everything else (hashes, file names and paths, registry keys, mutexes, wallets,
#: YARA rules, strings): a year.
DEFAULT_LIFETIME = 365 * DAY

#: Provider reliability (1–5) when the configuration does not say. Providers that
#: aggregate many engines or curate abuse data rank higher than single heuristics.
DEFAULT_PROVIDER_RELIABILITY: dict[str, int] = {
    "virustotal": 4,
    "greynoise": 4,
    "urlhaus": 4,
    "threatfox": 4,
    "malwarebazaar": 4,
    "abuseipdb": 3,
    "pulsedive": 3,
    "misp": 3,
    "otx": 2,
    "shodan": 2,
}


def reliability_weight(reliability: int | None) -> float:
    """TruSTAR-style 1–5 source reliability as a weight: 1 → 0.2 … 5 → 1.0 (default 3)."""
    r = 3 if reliability is None else min(5, max(1, int(reliability)))
    return r / 5.0


def level_for(score: int, *, has_evidence: bool = True) -> str:
    """The level of a 0–100 score (``unknown`` when nothing at all is known)."""
    if not has_evidence:
        return "unknown"
    for name, floor in LEVEL_FLOORS:
        if score >= floor:
            return name
    return "none"


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    """Weights and lifetimes (see docs/scoring.md); every field has a sensible default."""

    lifetimes: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIFETIMES))
    default_lifetime: int = DEFAULT_LIFETIME
    #: Decay speed δ of ``1 − (t/τ)^(1/δ)``: 1 is linear, below 1 keeps the score
    #: high for longer and then drops, above 1 drops fast first (MISP's form).
    speed: float = 0.5
    provider_reliability: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_PROVIDER_RELIABILITY)
    )
    #: Reliability of providers not listed (offline heuristics: lexical, URL shape …).
    default_provider_reliability: int = 2
    #: Reliability of the trained model as a source (1–5).
    model_reliability: int = 3
    #: Confidence assumed for an observation that carries none (0–100).
    default_confidence: int = 60
    #: A sighting within this many seconds counts as evidence (and makes the
    #: indicator high priority when it is at least ``medium``).
    sighting_window: int = 14 * DAY
    #: Weight of a recent sighting as evidence: being seen in our own network makes a
    #: reported indicator more urgent, not more malicious, so it is modest.
    sighting_weight: float = 0.25
    #: Benign weight of popularity lists: the Tranco top 10k is strong, the top 1M weak.
    popularity_weights: Mapping[str, float] = field(
        default_factory=lambda: {"top10k": 0.6, "top1m": 0.25}
    )

    def lifetime(self, itype: str) -> int:
        return int(self.lifetimes.get(itype, self.default_lifetime))

    def provider_weight(self, provider: str) -> float:
        r = self.provider_reliability.get(provider, self.default_provider_reliability)
        return reliability_weight(r)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ScoringConfig:
        """Build from a ``[scoring]`` table (e.g. ``scoring.toml``); unknown keys raise."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown scoring setting(s): {', '.join(sorted(unknown))}")
        base = cls()
        kw: dict[str, Any] = {}
        for key, value in data.items():
            if key == "lifetimes":
                merged = dict(base.lifetimes)
                merged.update({str(k): _duration(v) for k, v in dict(value).items()})
                kw[key] = merged
            elif key in ("provider_reliability", "popularity_weights"):
                merged_r: dict[str, Any] = dict(getattr(base, key))
                merged_r.update(dict(value))
                kw[key] = merged_r
            elif key in ("default_lifetime", "sighting_window"):
                kw[key] = _duration(value)
            else:
                kw[key] = value
        cfg = cls(**kw)
        if not 0 < cfg.speed <= 10:
            raise ValueError("scoring speed must be in (0, 10]")
        for r in [
            *list(cfg.provider_reliability.values()),
            cfg.model_reliability,
            cfg.default_provider_reliability,
        ]:
            if not 1 <= int(r) <= 5:
                raise ValueError(f"reliability must be 1-5, got {r}")
        return cfg


def _duration(v: Any) -> int:
    """Seconds from an int or ``'30d'`` / ``'12h'`` / ``'2w'``."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        if v <= 0:
            raise ValueError("durations must be positive")
        return int(v)
    s = str(v).strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY, "y": 365 * DAY}
    if len(s) >= 2 and s[-1] in units and s[:-1].isdigit() and int(s[:-1]) > 0:
        return int(s[:-1]) * units[s[-1]]
    raise ValueError(f"bad duration {v!r} (use seconds or e.g. 30d, 12h, 2w)")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence: ``weight`` in [0, 1]; ``benign`` lowers instead of raising."""

    kind: str  # source | provider | sighting | model | popularity
    name: str
    weight: float
    text: str
    benign: bool = False
    detail: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ScoreInputs:
    """Everything the formula needs for one indicator in one enclave."""

    itype: str
    anchor: int  # latest observation / sighting / verdict time (epoch seconds)
    evidence: Sequence[Evidence] = ()
    model_p: float | None = None
    model_factors: Sequence[Mapping[str, Any]] = ()
    safelist: str | None = None  # name of the list that vetoes, if any
    verdict: str | None = None  # latest analyst verdict
    verdict_by: str | None = None
    pin: str | None = None  # pinned level, if any and not expired
    pin_by: str | None = None


@dataclass(frozen=True, slots=True)
class Factor:
    """A reason behind a score, with its contribution in score points (signed)."""

    kind: str
    text: str
    points: float
    detail: tuple[Mapping[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "text": self.text, "points": round(self.points, 1)}
        if self.detail:
            d["detail"] = [dict(x) for x in self.detail]
        return d


@dataclass(frozen=True, slots=True)
class ScoreResult:
    score: int
    risk: str
    score_recommended: int
    risk_recommended: str
    high_priority: bool
    base: float  # before decay, after verdicts/vetoes (0–1)
    q: float  # Π(1 − pᵢ) over non-model malicious evidence
    bq: float  # Π(1 − bⱼ) over benign evidence
    factors: tuple[Factor, ...]


def decay_factor(age: float, lifetime: float, speed: float) -> float:
    """``1 − (t/τ)^(1/δ)`` clamped to [0, 1]; no decay for a future anchor."""
    if age <= 0:
        return 1.0
    if age >= lifetime:
        return 0.0
    return 1.0 - float((age / lifetime) ** (1.0 / speed))


def _model_evidence(
    p: float, config: ScoringConfig, factors: Sequence[Mapping[str, Any]]
) -> Evidence:
    w = reliability_weight(config.model_reliability)
    return Evidence(
        kind="model",
        name="priority-model",
        weight=w * p,
        text=f"priority model: probability {p:.2f} that the name is malicious",
        detail=tuple(factors),
    )


def score(
    inputs: ScoreInputs,
    *,
    now: int,
    config: ScoringConfig,
    model_threshold: float | None = None,
) -> ScoreResult:
    """Score one indicator in one enclave, with its factors."""
    mal = [e for e in inputs.evidence if not e.benign and e.weight > 0]
    ben = [e for e in inputs.evidence if e.benign and e.weight > 0]
    q = math.prod(1.0 - min(1.0, e.weight) for e in mal)
    bq = math.prod(1.0 - min(1.0, e.weight) for e in ben)
    if inputs.model_p is not None:
        mal.append(_model_evidence(inputs.model_p, config, inputs.model_factors))
    mal.sort(key=lambda e: -e.weight)

    factors: list[Factor] = []
    running = 1.0
    for e in mal:
        after = running * (1.0 - min(1.0, e.weight))
        factors.append(Factor(e.kind, e.text, 100.0 * (running - after), e.detail))
        running = after
    m = 1.0 - running
    running_b = 1.0
    for e in ben:
        after = running_b * (1.0 - min(1.0, e.weight))
        factors.append(Factor(e.kind, e.text, -100.0 * m * (running_b - after), e.detail))
        running_b = after
    base = m * bq
    has_evidence = bool(mal or ben or inputs.verdict or inputs.safelist)

    if inputs.verdict == "malicious" and base < CONFIRMED_FLOOR:
        who = f" by {inputs.verdict_by}" if inputs.verdict_by else ""
        factors.append(
            Factor("verdict", f"confirmed malicious{who}", 100.0 * (CONFIRMED_FLOOR - base))
        )
        base = CONFIRMED_FLOOR
    elif inputs.verdict in ("false_positive", "benign"):
        who = f" by {inputs.verdict_by}" if inputs.verdict_by else ""
        label = "false positive" if inputs.verdict == "false_positive" else "benign"
        factors.append(Factor("verdict", f"marked {label}{who}", -100.0 * base))
        base = 0.0
    if inputs.safelist:
        factors.append(Factor("safelist", f"safelisted: {inputs.safelist}", -100.0 * base))
        base = 0.0

    lifetime = config.lifetime(inputs.itype)
    age = now - inputs.anchor
    d = decay_factor(age, lifetime, config.speed)
    decayed = base * d
    if base > 0 and 100.0 * base * (1.0 - d) >= 0.05:
        days = age / DAY
        factors.append(
            Factor(
                "decay",
                f"age decay: last seen {_ago(days)}, lifetime {lifetime // DAY} days",
                100.0 * (decayed - base),
            )
        )
    rec = round(100.0 * decayed)
    risk_rec = level_for(rec, has_evidence=has_evidence)
    score_shown, risk_shown = rec, risk_rec
    if inputs.pin:
        risk_shown = inputs.pin
        score_shown = _pin_score(inputs.pin, rec)
        who = f" by {inputs.pin_by}" if inputs.pin_by else ""
        factors.append(Factor("pin", f"level pinned to {inputs.pin}{who}", score_shown - rec))
    high = _high_priority(
        risk_shown,
        inputs.model_p,
        model_threshold,
        vetoed=bool(inputs.safelist) or inputs.verdict in ("false_positive", "benign"),
        pinned=inputs.pin,
        sighted=any(e.kind == "sighting" for e in inputs.evidence),
    )
    factors.sort(key=lambda f: -abs(f.points))
    return ScoreResult(
        score=score_shown,
        risk=risk_shown,
        score_recommended=rec,
        risk_recommended=risk_rec,
        high_priority=high,
        base=base,
        q=q,
        bq=bq,
        factors=tuple(factors),
    )


def _ago(days: float) -> str:
    if days < 1:
        return "today"
    if days < 2:
        return "yesterday"
    return f"{int(days)} days ago"


#: The score shown for a pinned level: the formula's own score when it already falls
#: in the pinned band, else the band's floor (or top, for ``none``).
_PIN_BANDS = {
    "unknown": (0, 0),
    "none": (0, 9),
    "low": (10, 39),
    "medium": (40, 69),
    "high": (70, 89),
    "critical": (90, 100),
}


def _pin_score(level: str, rec: int) -> int:
    lo, hi = _PIN_BANDS[level]
    return min(hi, max(lo, rec))


def _high_priority(
    risk: str,
    model_p: float | None,
    threshold: float | None,
    *,
    vetoed: bool,
    pinned: str | None,
    sighted: bool,
) -> bool:
    if pinned is not None:
        return pinned in ("high", "critical")
    if vetoed:
        return False
    if risk in ("high", "critical"):
        return True
    if sighted and risk == "medium":
        return True
    return threshold is not None and model_p is not None and model_p >= threshold


FloatArray = npt.NDArray[np.float64]


def combine(
    *,
    q: FloatArray,
    bq: FloatArray,
    model_p: FloatArray,
    age: FloatArray,
    lifetime: FloatArray,
    speed: float,
    model_weight: float,
    confirmed: npt.NDArray[np.bool_],
    vetoed: npt.NDArray[np.bool_],
    has_evidence: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int16], FloatArray]:
    """Vectorised recommended score for many rows: ``(score 0–100, base 0–1)``.

    Same arithmetic as :func:`score`; ``model_p`` is NaN where the type has no model.
    Levels, pins and the high-priority flag are applied by the caller with
    :func:`levels_of` and the pin columns.
    """
    mp = np.where(np.isnan(model_p), 0.0, model_p)
    m = 1.0 - q * (1.0 - model_weight * mp)
    base = m * bq
    base = np.where(confirmed, np.maximum(base, CONFIRMED_FLOOR), base)
    base = np.where(vetoed, 0.0, base)
    ratio = np.clip(age / lifetime, 0.0, 1.0)
    d = np.where(age <= 0, 1.0, 1.0 - ratio ** (1.0 / speed))
    out = np.rint(100.0 * base * d).astype(np.int16)
    out = np.where(has_evidence | (out > 0), out, 0).astype(np.int16)
    return out, base


def levels_of(scores: npt.NDArray[np.int16], has_evidence: npt.NDArray[np.bool_]) -> list[str]:
    """:func:`level_for` over an array (as a list of level names)."""
    idx = np.zeros(scores.shape, dtype=np.int8)  # none
    idx[scores >= 10] = 1
    idx[scores >= 40] = 2
    idx[scores >= 70] = 3
    idx[scores >= 90] = 4
    idx[~has_evidence] = -1
    names = ("none", "low", "medium", "high", "critical", "unknown")
    as_list: list[int] = idx.tolist()  # type: ignore[assignment]
    return [names[i] for i in as_list]
