"""`spoorhound model info | predict | train`, in-process on a temporary data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from spoorhound.cli.main import cli
from spoorhound.model._model import MODEL_FILE, user_model_dir

#: A quick retrain: 150 positives, 300 benign, 2 folds, 15 rounds.
QUICK = ("--sample", "150", "--folds", "2", "--rounds", "15")


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        result = runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), *args], input=input)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    return invoke


def test_info_shows_version_metrics_and_features(run) -> None:  # type: ignore[no-untyped-def]
    out = run("model", "info").stdout
    assert "ROC-AUC" in out and "name_entropy" in out
    data = json.loads(run("model", "info", "--json").stdout)
    assert data["origin"] == "shipped" and data["metrics"]["roc_auc"] > 0.5


def test_predict_values_and_stdin(run) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(
        run("model", "predict", "xkqzjvbwpltr.top", "hxxps://wikipedia[.]org/wiki", "--json").stdout
    )
    first, second = data["results"]
    assert first["type"] == "domain" and second["type"] == "url"
    assert 0 <= second["probability"] < first["probability"] <= 1
    assert first["factors"] and all(f["feature"] for f in first["factors"])
    rows = json.loads(run("model", "predict", "-", "--json", input="1.2.3.4\nmozilla.org\n").stdout)
    ip, site = rows["results"]
    assert ip["probability"] is None and "not scored" in ip["error"]
    assert site["probability"] is not None
    assert "xkqzjvbwpltr.top" in run("model", "predict", "xkqzjvbwpltr.top").stdout


@pytest.mark.usefixtures("maltrail")
def test_train_compares_and_replaces_only_when_asked(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init")
    data = json.loads(run("model", "train", *QUICK, "--json").stdout)
    assert data["replaced"] is False and data["new"]["metrics"]["roc_auc"] is not None
    assert data["current"]["version"] != data["new"]["version"]
    assert not (user_model_dir(tmp_path / "data") / MODEL_FILE).exists()
    out = run("model", "train", *QUICK, "--replace")
    assert "roc_auc" in out.stdout
    assert (user_model_dir(tmp_path / "data") / MODEL_FILE).exists()
    assert json.loads(run("model", "info", "--json").stdout)["origin"] == "user"
