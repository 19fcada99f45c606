"""The ``spoorhound model`` group: ``info``, ``predict`` and ``train`` (local only).

``train`` retrains on the shipped data plus the store's analyst verdicts, prints the
new model's out-of-fold metrics next to the current model's, and replaces the model
under ``<data dir>/models/`` only with ``--replace`` (or when the user says yes at the
prompt on a terminal).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.console import Console

from spoorhound.cli.output import emit, emit_json
from spoorhound.cli.state import state as _state
from spoorhound.core.indicators import InvalidIndicator, UnknownType, parse
from spoorhound.model import PriorityModel, load_model, save_model, train
from spoorhound.model._model import user_model_dir
from spoorhound.model._train import NUM_BOOST_ROUND
from spoorhound.model.features import featurize, supports
from spoorhound.services.verdicts import labelled_examples

__all__ = ["model_group"]

err = Console(stderr=True)


@click.group("model")
def model_group() -> None:
    """The priority model: its metrics, predictions and retraining."""


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.4f}" if isinstance(x, float) else str(x)


@model_group.command("info")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def info(ctx: click.Context, as_json: bool) -> None:
    """Version, threshold, training data, metrics and features of the model in use."""
    model = load_model(_state(ctx).settings.data_dir)
    data = model.info()
    if as_json:
        emit_json(data)
        return
    m = data["metrics"]
    click.echo(f"model      {data['version']} ({data['origin']})")
    click.echo(f"HIGH at    p >= {data['threshold_high']:.4f}")
    click.echo(
        f"out-of-fold ROC-AUC {_fmt(m.get('roc_auc'))}, precision at HIGH "
        f"{_fmt(m.get('precision_high'))}, recall at HIGH {_fmt(m.get('recall_high'))} "
        f"({m.get('n_positive')} malicious in {m.get('n_families')} families, "
        f"{m.get('n_benign')} benign, {m.get('folds')} folds by family)"
    )
    click.echo(
        f"TLD-matched ROC-AUC {_fmt(m.get('roc_auc_tld_matched'))}, .com only "
        f"{_fmt(m.get('roc_auc_com'))}"
    )
    for k, v in sorted(data["training_data"].items()):
        click.echo(f"{k:<20} {v}")
    click.echo("features   " + ", ".join(data["features"]))


def _read_values(values: Sequence[str]) -> list[str]:
    if list(values) == ["-"]:
        return [line.strip() for line in sys.stdin if line.strip()]
    return list(values)


def predict_rows(
    model: PriorityModel, raw: Sequence[str], itype: str | None
) -> list[dict[str, Any]]:
    """Parse each raw value and predict it: the rows ``model predict`` prints."""
    parsed: list[tuple[str, str | None, str | None]] = []
    for r in raw:
        try:
            ind = parse(r, itype)
        except (InvalidIndicator, UnknownType) as e:
            parsed.append((r, None, str(e)))
            continue
        t = str(getattr(ind.type, "value", ind.type))
        parsed.append((ind.value, t, None if supports(t) else f"type {t} is not scored"))
    X = featurize([v for v, _, _ in parsed], [t or "" for _, t, _ in parsed])
    p = model.predict(X)
    factors = model.explain(X, top=3)
    rows: list[dict[str, Any]] = []
    for i, (value, itype_i, problem) in enumerate(parsed):
        ok = problem is None and not np.isnan(p[i])
        rows.append(
            {
                "value": value,
                "type": itype_i,
                "probability": round(float(p[i]), 4) if ok else None,
                "high": bool(p[i] >= model.threshold_high) if ok else None,
                "factors": [
                    {"feature": f.feature, "text": f.text, "contribution": f.contribution}
                    for f in factors[i]
                ],
                "error": problem
                if problem is not None
                else (
                    None if ok else "not scored: no registered domain (IP host or private suffix)"
                ),
            }
        )
    return rows


@model_group.command("predict")
@click.argument("values", nargs=-1, required=True)
@click.option("--type", "itype", default=None, help="Indicator type (default: detected).")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def predict(ctx: click.Context, values: tuple[str, ...], itype: str | None, as_json: bool) -> None:
    """Probability, HIGH flag and top factors for VALUE... (or one per line on stdin with -)."""
    model = load_model(_state(ctx).settings.data_dir)
    rows = predict_rows(model, _read_values(values), itype)
    if as_json:
        emit_json({"model": model.version, "threshold_high": model.threshold_high, "results": rows})
        return
    table = [
        {
            "value": r["value"],
            "probability": "-" if r["probability"] is None else f"{r['probability']:.3f}",
            "HIGH": "HIGH" if r["high"] else "",
            "factors (log-odds)": r["error"]
            or "; ".join(f"{f['text']} ({f['contribution']:+.2f})" for f in r["factors"]),
        }
        for r in rows
    ]
    emit(table, ["value", "probability", "HIGH", "factors (log-odds)"], fmt="table")


_COMPARED = ("roc_auc", "precision_high", "recall_high", "roc_auc_tld_matched", "roc_auc_com")


@model_group.command("train")
@click.option("--replace", is_flag=True, help="Replace the model in use with the new one.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--sample", type=int, default=None, help="Train on N positives and 2N benign (a quick check)."
)
@click.option("--folds", default=5, show_default=True, type=int, help="Cross-validation folds.")
@click.option(
    "--maltrail",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="maltrail indicators.jsonl (default: $SPOORHOUND_MALTRAIL, then ../shared/data/maltrail/).",
)
@click.option(
    "--rounds", default=NUM_BOOST_ROUND, show_default=True, type=int, help="Boosting rounds."
)
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def train_cmd(
    ctx: click.Context,
    replace: bool,
    seed: int,
    sample: int | None,
    folds: int,
    rounds: int,
    maltrail: Path | None,
    as_json: bool,
) -> None:
    """Retrain on maltrail (the shipped model's data) plus the analyst verdicts; compare; optionally replace."""
    state = _state(ctx)
    extra = labelled_examples(state.store())
    current = load_model(state.settings.data_dir)
    if not as_json:
        err.print(f"training with {len(extra)} analyst verdicts (about 8 minutes on 2 cores)…")
    result = train(
        extra,
        seed=seed,
        sample=sample,
        folds=folds,
        rounds=rounds,
        maltrail=maltrail,
        progress=None if as_json else (lambda m: err.print(m)),
    )
    if not replace and not as_json and sys.stdin.isatty():
        replace = click.confirm("replace the model in use with the new one?", default=False)
    dest = None
    if replace:
        dest = save_model(result, user_model_dir(state.settings.data_dir))
    if as_json:
        emit_json(
            {
                "current": {"version": current.version, "metrics": current.metrics},
                "new": {"version": result.model.version, "metrics": result.metrics},
                "replaced": dest is not None,
                "path": str(dest) if dest else None,
                "seconds": round(result.seconds, 1),
            }
        )
        return
    rows = [
        {
            "metric": k,
            "current": _fmt(current.metrics.get(k)),
            "new": _fmt(result.metrics.get(k)),
        }
        for k in _COMPARED
    ]
    rows.append(
        {
            "metric": "threshold_high",
            "current": _fmt(current.threshold_high),
            "new": _fmt(result.model.threshold_high),
        }
    )
    emit(rows, ["metric", "current", "new"], fmt="table")
    if dest is not None:
        err.print(f"replaced: the model in use is now {result.model.version} ({dest})")
    else:
        err.print("not replaced (use --replace to install the new model)")
