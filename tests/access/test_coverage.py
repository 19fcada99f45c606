"""Every ``/api`` route is in an authorization matrix (or listed here with the reason).

A new route fails this test until it is added to a matrix (``tests/access/matrix.py``
``Endpoint`` lists) or, with a reason, to :data:`ELSEWHERE` / :data:`KNOWN_GAPS`.
"""

from __future__ import annotations

import re

from spoorhound.api.app import create_app
from spoorhound.storage.engine import Store
from tests.access import test_matrix as admin_matrix
from tests.access.matrix import Endpoint
from tests.api_v1 import test_matrix as v1_matrix
from tests.api_v1 import test_matrix_scores as scores_matrix

MATRICES: list[Endpoint] = [
    *admin_matrix.ENDPOINTS,
    *v1_matrix.ENDPOINTS,
    *scores_matrix.ENDPOINTS,
]

#: Routes in matrices written inline in other test modules.
ELSEWHERE = {
    ("GET", "/api/v1/info"): "tests/analysis/test_matrix.py",
    ("GET", "/api/info.php"): "tests/analysis/test_matrix.py",
    ("GET", "/api/v1/explore"): "tests/analysis/test_matrix.py",
    ("POST", "/api/v1/analyze"): "tests/analysis/test_matrix.py",
}

#: Routes not in a matrix yet, with why. Shrink this; never grow it silently.
KNOWN_GAPS = {
    ("GET", "/api/explore.php"): "key in the query string; listings checked per principal in "
    "tests/analysis/test_matrix.py::test_explore_lists_the_indicator_only_to_readers_of_its_enclave",
    ("POST", "/api/analyze.php"): "form body; tests/analysis/test_pulsedive_compat.py",
    ("GET", "/api/analyze.php"): "polls a qid; tests/analysis/test_pulsedive_compat.py",
    ("GET", "/api/v1/analyze"): "polls a qid of the caller; tests/analysis/test_api.py",
    (
        "GET",
        "/api/indicators/{value}/history",
    ): "needs stored enrichments; tests/enrich/test_history.py",
    ("GET", "/api/v1/keys/{key_id}"): "own key vs others' keys; tests/access/test_api.py",
}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path.split("?", 1)[0])


def _routes() -> list[tuple[str, str, re.Pattern[str]]]:
    """(method, path template, regex) of every /api operation in the OpenAPI spec."""
    spec = create_app(Store("sqlite://")).openapi()
    return [
        (
            method.upper(),
            path,
            re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"),
        )
        for path, item in spec["paths"].items()
        if path.startswith("/api/")
        for method in item
    ]


def test_every_api_route_is_in_an_authorization_matrix() -> None:
    routes = _routes()
    assert len(routes) > 40
    covered = set(ELSEWHERE) | set(KNOWN_GAPS)
    for ep in MATRICES:
        path = _concrete(ep.path)
        for method, template, regex in routes:
            if ep.method == method and regex.match(path):
                covered.add((method, template))
                break
    missing = sorted(f"{m} {t}" for m, t, _ in routes if (m, t) not in covered)
    assert missing == [], "routes in no authorization matrix:\n" + "\n".join(missing)


def test_the_lists_name_real_routes() -> None:
    real = {(m, t) for m, t, _ in _routes()}
    assert set(ELSEWHERE) <= real and set(KNOWN_GAPS) <= real
