"""The scoring formula (pure): combination, decay, vetoes, verdicts, pins, explanation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spoorhound.core import scoring
from spoorhound.core.scoring import DAY, Evidence, ScoreInputs, ScoringConfig

NOW = 1_800_000_000
CFG = ScoringConfig()


def _src(weight: float, name: str = "feed") -> Evidence:
    return Evidence("source", name, weight, f"reported by {name}")


def _score(**kw: object) -> scoring.ScoreResult:
    base = {"itype": "domain", "anchor": NOW}
    base.update(kw)
    return scoring.score(ScoreInputs(**base), now=NOW, config=CFG)  # type: ignore[arg-type]


def test_more_independent_reports_raise_the_score_but_never_past_100() -> None:
    one = _score(evidence=[_src(0.5, "a")])
    two = _score(evidence=[_src(0.5, "a"), _src(0.5, "b")])
    many = _score(evidence=[_src(0.9, str(i)) for i in range(20)])
    assert one.score == 50
    assert two.score == 75
    assert many.score == 100
    assert one.risk == "medium" and two.risk == "high" and many.risk == "critical"


def test_factor_points_add_up_to_the_score() -> None:
    res = _score(
        evidence=[
            _src(0.6, "a"),
            _src(0.3, "b"),
            Evidence("popularity", "tranco", 0.25, "on Tranco (benign)", benign=True),
        ]
    )
    assert abs(sum(f.points for f in res.factors) - res.score) <= 1
    assert res.factors[0].text == "reported by a"  # strongest first
    assert any(f.points < 0 and "benign" in f.text for f in res.factors)


def test_decay_follows_the_misp_form_and_restarts_with_a_newer_anchor() -> None:
    lifetime = CFG.lifetime("ipv4")
    old = scoring.score(
        ScoreInputs("ipv4", anchor=NOW - lifetime // 2, evidence=[_src(0.8)]), now=NOW, config=CFG
    )
    expected = 0.8 * (1 - 0.5 ** (1 / CFG.speed))
    assert old.score == round(100 * expected)
    assert any(f.kind == "decay" for f in old.factors)
    fresh = scoring.score(
        ScoreInputs("ipv4", anchor=NOW, evidence=[_src(0.8)]), now=NOW, config=CFG
    )
    assert fresh.score == 80
    dead = scoring.score(
        ScoreInputs("ipv4", anchor=NOW - lifetime - 1, evidence=[_src(0.8)]), now=NOW, config=CFG
    )
    assert dead.score == 0 and dead.risk == "none"


def test_hashes_outlive_ips() -> None:
    age = 60 * DAY
    ip = scoring.score(ScoreInputs("ipv4", NOW - age, [_src(0.8)]), now=NOW, config=CFG)
    sha = scoring.score(ScoreInputs("sha256", NOW - age, [_src(0.8)]), now=NOW, config=CFG)
    assert ip.score == 0 < sha.score


def test_safelist_vetoes_to_none_and_names_the_list() -> None:
    res = _score(evidence=[_src(0.9)], safelist="My corporate domains")
    assert (res.score, res.risk, res.high_priority) == (0, "none", False)
    assert any(f.kind == "safelist" and "My corporate domains" in f.text for f in res.factors)


def test_verdicts_floor_or_zero_the_score() -> None:
    confirmed = _score(evidence=[_src(0.2)], verdict="malicious", verdict_by="alice")
    assert confirmed.score >= 90 and confirmed.high_priority
    assert any("confirmed malicious by alice" in f.text for f in confirmed.factors)
    fp = _score(evidence=[_src(0.9)], verdict="false_positive")
    assert fp.score == 0 and fp.risk == "none"


def test_a_pin_wins_but_the_recommendation_stays_visible() -> None:
    res = _score(evidence=[_src(0.9)], pin="low", pin_by="bob")
    assert res.risk == "low" and 10 <= res.score <= 39
    assert res.risk_recommended == "critical" and res.score_recommended == 90
    assert res.high_priority is False
    up = _score(evidence=[_src(0.1)], pin="critical")
    assert up.risk == "critical" and up.score >= 90 and up.high_priority


def test_model_above_threshold_flags_high_priority_and_is_explained() -> None:
    res = scoring.score(
        ScoreInputs(
            "domain",
            NOW,
            [_src(0.3)],
            model_p=0.97,
            model_factors=[{"feature": "entropy", "text": "entropy 4.1", "contribution": 1.2}],
        ),
        now=NOW,
        config=CFG,
        model_threshold=0.9,
    )
    assert res.high_priority
    model = [f for f in res.factors if f.kind == "model"]
    assert model and model[0].detail[0]["feature"] == "entropy"


def test_nothing_known_is_unknown() -> None:
    res = _score()
    assert (res.score, res.risk) == (0, "unknown")


def test_config_rejects_bad_settings_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="unknown scoring setting"):
        ScoringConfig.from_mapping({"lifetim": {}})
    with pytest.raises(ValueError, match="bad duration"):
        ScoringConfig.from_mapping({"lifetimes": {"ipv4": "soon"}})
    with pytest.raises(ValueError, match="reliability"):
        ScoringConfig.from_mapping({"provider_reliability": {"virustotal": 9}})
    cfg = ScoringConfig.from_mapping({"lifetimes": {"ipv4": "2w"}, "speed": 1.0})
    assert cfg.lifetime("ipv4") == 14 * DAY and cfg.lifetime("domain") == 180 * DAY


weights = st.lists(st.floats(0, 1), max_size=6)


@settings(max_examples=200, deadline=None)
@given(
    mal=weights,
    ben=weights,
    age=st.integers(-DAY, 400 * DAY),
    itype=st.sampled_from(["ipv4", "domain", "sha256", "url"]),
    model_p=st.one_of(st.none(), st.floats(0, 1)),
    verdict=st.sampled_from([None, "malicious", "false_positive", "benign"]),
    veto=st.booleans(),
)
def test_vectorised_combine_matches_the_scalar_formula(
    mal: list[float],
    ben: list[float],
    age: int,
    itype: str,
    model_p: float | None,
    verdict: str | None,
    veto: bool,
) -> None:
    ev = [_src(w, str(i)) for i, w in enumerate(mal)] + [
        Evidence("popularity", str(i), w, "b", benign=True) for i, w in enumerate(ben)
    ]
    inputs = ScoreInputs(
        itype,
        NOW - age,
        ev,
        model_p=model_p,
        verdict=verdict,
        safelist="x" if veto else None,
    )
    res = scoring.score(inputs, now=NOW, config=CFG)
    assert 0 <= res.score <= 100
    rec, _ = scoring.combine(
        q=np.array([res.q]),
        bq=np.array([res.bq]),
        model_p=np.array([np.nan if model_p is None else model_p]),
        age=np.array([float(age)]),
        lifetime=np.array([float(CFG.lifetime(itype))]),
        speed=CFG.speed,
        model_weight=scoring.reliability_weight(CFG.model_reliability),
        confirmed=np.array([verdict == "malicious"]),
        vetoed=np.array([veto or verdict in ("false_positive", "benign")]),
        has_evidence=np.array([True]),
    )
    assert abs(int(rec[0]) - res.score_recommended) <= 1
