"""The trained priority model: load, predict, explain, save.

The model is a LightGBM booster kept in LightGBM's text format, gzipped
(``priority.txt.gz``), next to a metadata file (``priority.json``: version, features,
``threshold_high``, metrics, training-data versions, seed). No pickle is ever read.
:func:`load_model` prefers the user's retrained model under ``<data_dir>/models/``
and falls back to the one shipped in this package.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spoorhound.model.features import FEATURE_NAMES, FEATURES_VERSION, describe

if TYPE_CHECKING:
    import lightgbm as lgb

__all__ = [
    "META_FILE",
    "MODEL_FILE",
    "Factor",
    "PriorityModel",
    "load_model",
    "save_model",
    "user_model_dir",
]

log = logging.getLogger(__name__)

MODEL_FILE = "priority.txt.gz"
META_FILE = "priority.json"
#: Threads LightGBM may use (the platform shares small machines).
NUM_THREADS = 2


@dataclass(frozen=True)
class Factor:
    """One feature behind a prediction; ``contribution`` is in log-odds (SHAP value),
    positive pushes towards malicious."""

    feature: str
    text: str
    contribution: float


@dataclass
class PriorityModel:
    """A LightGBM booster with its threshold, features and training metrics."""

    booster: lgb.Booster
    version: str
    threshold_high: float
    feature_names: tuple[str, ...] = FEATURE_NAMES
    metrics: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Probability of malicious for each row (NaN for all-NaN rows: unsupported)."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(f"expected (n, {len(self.feature_names)}) features, got {X.shape}")
        if len(X) == 0:
            return np.zeros(0, dtype=np.float64)
        p = np.asarray(self.booster.predict(X, num_threads=NUM_THREADS), dtype=np.float64)
        unsupported = np.isnan(X).all(axis=1)
        if unsupported.any():
            p[unsupported] = np.nan
        return p

    def is_high(self, p: np.ndarray) -> np.ndarray:
        """Whether each probability reaches the HIGH threshold."""
        return np.asarray(p) >= self.threshold_high

    def explain(self, X: np.ndarray, top: int = 3) -> list[list[Factor]]:
        """The ``top`` features behind each prediction, by absolute SHAP value (log-odds)."""
        X = np.asarray(X, dtype=np.float32)
        if len(X) == 0:
            return []
        contrib = np.asarray(
            self.booster.predict(X, pred_contrib=True, num_threads=NUM_THREADS), dtype=np.float64
        )[:, : len(self.feature_names)]
        out: list[list[Factor]] = []
        for i in range(len(X)):
            if np.isnan(X[i]).all():
                out.append([])
                continue
            order = np.argsort(-np.abs(contrib[i]), kind="stable")[:top]
            out.append(
                [
                    Factor(
                        self.feature_names[j],
                        describe(self.feature_names[j], float(X[i, j])),
                        round(float(contrib[i, j]), 4),
                    )
                    for j in order
                    if contrib[i, j] != 0.0
                ]
            )
        return out

    def info(self) -> dict[str, Any]:
        """Version, threshold, features and metrics (for ``model info`` and the API)."""
        return {
            "version": self.version,
            "threshold_high": self.threshold_high,
            "features": list(self.feature_names),
            "features_version": self.meta.get("features_version", FEATURES_VERSION),
            "origin": self.meta.get("origin", "shipped"),
            "path": str(self.path) if self.path else None,
            "training_data": self.meta.get("training_data", {}),
            "seed": self.meta.get("seed"),
            "metrics": self.metrics,
        }


def _gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def model_from_text(text: str, meta: dict[str, Any], path: Path | None = None) -> PriorityModel:
    """A :class:`PriorityModel` from LightGBM model text and its metadata."""
    # Imported when a model is loaded, not with the package: importing LightGBM also
    # imports scikit-learn, which would slow every CLI start.
    import lightgbm as lgb

    try:
        booster = lgb.Booster(model_str=text)
    except lgb.basic.LightGBMError as e:
        raise ValueError(f"not a LightGBM model: {e}") from None
    names = tuple(meta.get("features", FEATURE_NAMES))
    if names != FEATURE_NAMES:
        raise ValueError("the model was trained on other features than this code computes")
    return PriorityModel(
        booster=booster,
        version=str(meta["version"]),
        threshold_high=float(meta["threshold_high"]),
        feature_names=names,
        metrics=dict(meta.get("metrics", {})),
        meta=meta,
        path=path,
    )


def _read_pair(model_bytes: bytes, meta_text: str, path: Path | None) -> PriorityModel:
    meta = json.loads(meta_text)
    if meta.get("features_version") != FEATURES_VERSION:
        raise ValueError(
            f"model features version {meta.get('features_version')} != {FEATURES_VERSION}"
        )
    return model_from_text(gzip.decompress(model_bytes).decode(), meta, path)


def user_model_dir(data_dir: Path) -> Path:
    """Where ``spoorhound model train --replace`` keeps the user's model."""
    return Path(data_dir) / "models"


def load_model(data_dir: Path | None = None) -> PriorityModel:
    """The user's retrained model under ``<data_dir>/models/`` if present and usable,
    else the model shipped with Spoorhound."""
    if data_dir is not None:
        d = user_model_dir(Path(data_dir))
        if (d / MODEL_FILE).exists() and (d / META_FILE).exists():
            try:
                return _read_pair(
                    (d / MODEL_FILE).read_bytes(), (d / META_FILE).read_text(), d / MODEL_FILE
                )
            except (OSError, ValueError, KeyError) as e:
                log.warning("ignoring the model in %s (%s); using the shipped one", d, e)
    root = resources.files("spoorhound.model") / "data"
    return _read_pair(
        (root / MODEL_FILE).read_bytes(), (root / META_FILE).read_text(encoding="utf-8"), None
    )


def _json_safe(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    return x


def save_model(result: Any, dest_dir: Path) -> Path:
    """Write ``result``'s model (a :class:`TrainResult` or :class:`PriorityModel`) as
    ``priority.txt.gz`` + ``priority.json`` into ``dest_dir``; returns the model path.
    Both files are written byte-for-byte reproducibly and replaced atomically."""
    model: PriorityModel = getattr(result, "model", result)
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    text = model.booster.model_to_string(num_iteration=-1)
    meta = dict(model.meta)
    meta.update(
        version=model.version,
        threshold_high=model.threshold_high,
        features=list(model.feature_names),
        features_version=FEATURES_VERSION,
        metrics=model.metrics,
    )
    files = {
        MODEL_FILE: _gzip_bytes(text.encode()),
        META_FILE: (json.dumps(_json_safe(meta), indent=1, sort_keys=True) + "\n").encode(),
    }
    for name, data in files.items():
        tmp = dest_dir / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(dest_dir / name)
    return dest_dir / MODEL_FILE
