"""The shipped model: loads, predicts probabilities, ranks, explains; user models win."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from spoorhound.model import METRIC_KEYS, Factor, load_model, save_model, train
from spoorhound.model._model import META_FILE, MODEL_FILE, user_model_dir
from spoorhound.model.features import FEATURE_NAMES, featurize

# Written for this test: random-looking names of the kind domain-generation
# algorithms produce, and well-known brand sites.
GENERATED = [
    "xkqzjvbwpltr.top",
    "qpzrxkvtmwlz.xyz",
    "a7f3k9q2zx8w1m4v.info",
    "vnrqztkhxpwq.biz",
    "zxqpvkrwtjmh.ru",
]
BRANDS = ["wikipedia.org", "microsoft.com", "bbc.co.uk", "mozilla.org", "ikea.com"]


def _reserved(domain: str) -> bool:
    return hashlib.sha256(domain.encode()).hexdigest().startswith("0")


def test_shipped_model_loads_and_describes_itself() -> None:
    model = load_model()
    assert model.feature_names == FEATURE_NAMES
    assert 0.0 < model.threshold_high < 1.0
    assert set(METRIC_KEYS) <= set(model.metrics)
    info = model.info()
    assert info["origin"] == "shipped"
    assert info["training_data"]["maltrail_commit"]


def test_predictions_are_probabilities_and_rank_generated_names_above_brands() -> None:
    assert not any(_reserved(d) for d in BRANDS)
    model = load_model()
    p = model.predict(featurize(GENERATED + BRANDS, ["domain"] * 10))
    assert ((p >= 0) & (p <= 1)).all()
    assert p[:5].min() > p[5:].max(), dict(zip(GENERATED + BRANDS, p.round(3), strict=True))


def test_a_subdomain_does_not_change_the_prediction() -> None:
    model = load_model()
    p = model.predict(featurize(["www.wikipedia.org", "wikipedia.org"], ["domain"] * 2))
    assert p[0] == p[1]


def test_unsupported_rows_predict_nan() -> None:
    model = load_model()
    p = model.predict(featurize(["1.2.3.4", "example.org"], ["ipv4", "domain"]))
    assert np.isnan(p[0]) and not np.isnan(p[1])
    assert model.explain(featurize(["1.2.3.4"], ["ipv4"])) == [[]]


def test_explain_names_real_features() -> None:
    model = load_model()
    factors = model.explain(featurize(["xkqzjvbwpltr.top", "wikipedia.org"], ["domain"] * 2))
    assert len(factors) == 2
    for row in factors:
        assert 1 <= len(row) <= 3
        for f in row:
            assert isinstance(f, Factor)
            assert f.feature in FEATURE_NAMES and f.text
    # the strongest factor of a generated name pushes towards malicious
    assert factors[0][0].contribution > 0


def test_user_model_takes_precedence(tmp_path: Path) -> None:
    shipped = load_model()
    shipped.threshold_high = 0.77
    shipped.version = "test-user"
    save_model(shipped, user_model_dir(tmp_path))
    mine = load_model(tmp_path)
    assert (mine.version, mine.threshold_high) == ("test-user", 0.77)
    assert mine.path == user_model_dir(tmp_path) / MODEL_FILE
    assert load_model().version != "test-user"


def test_a_broken_user_model_falls_back_to_the_shipped_one(tmp_path: Path) -> None:
    d = user_model_dir(tmp_path)
    d.mkdir(parents=True)
    (d / MODEL_FILE).write_bytes(b"not gzip")
    (d / META_FILE).write_text(json.dumps({"features_version": 1}))
    assert load_model(tmp_path).version == load_model().version


@pytest.mark.usefixtures("maltrail")
def test_train_on_a_small_sample(tmp_path: Path) -> None:
    verdicts = [("zqxjkvbpw-login-verify.top", "domain", True), ("example.org", "domain", False)]
    result = train(verdicts, sample=200, folds=2, rounds=15)
    assert set(result.metrics) == set(METRIC_KEYS)
    assert result.metrics["n_verdicts"] == 2
    assert result.metrics["roc_auc"] > 0.6
    assert result.model.predict(featurize(["example.org"], ["domain"])).shape == (1,)
    path = save_model(result, tmp_path)
    assert path.exists() and (tmp_path / META_FILE).exists()
    assert load_model(tmp_path.parent / "nowhere").version != result.model.version


@pytest.mark.parametrize("bad", [np.zeros((2, 3), dtype=np.float32)])
def test_predict_rejects_wrong_width(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        load_model().predict(bad)
