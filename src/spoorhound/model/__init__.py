"""The priority model: gradient-boosted trees over lexical features of host names.

It gives the probability that a domain (or a URL's host) is malicious and the
features behind it; the scoring formula uses it as one input and for the
``high_priority`` flag. See ``docs/scoring.md`` for data, validation and metrics.

* :mod:`spoorhound.model.features` — :func:`~spoorhound.model.features.featurize`.
* :func:`load_model` / :func:`save_model` — the shipped or the user's model.
* :func:`train` — grouped cross-validation by family, then the final fit.
"""

from spoorhound.model._model import Factor, PriorityModel, load_model, save_model
from spoorhound.model._train import METRIC_KEYS, TrainResult, train

__all__ = [
    "METRIC_KEYS",
    "Factor",
    "PriorityModel",
    "TrainResult",
    "load_model",
    "save_model",
    "train",
]
