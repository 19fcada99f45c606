"""Every extract test runs on both extractor paths: the C accelerator and pure Python.

The path is chosen at import (``spoorhound.core._extract_accel.C``); here each test is
run once with it and once with the pure-Python code, by setting the modules' ``C`` for
the test. ``test_accel`` compares the two paths itself and runs once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spoorhound.core import _extract_accel, _extract_emit, _extract_run


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "extract_path" not in metafunc.fixturenames:
        return
    own = metafunc.module.__name__.rsplit(".", 1)[-1] == "test_accel"
    metafunc.parametrize("extract_path", ["as-built"] if own else ["c", "pure"], indirect=True)


@pytest.fixture(autouse=True)
def extract_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    path: str = request.param
    if path == "c":
        if _extract_accel.C is None:
            pytest.skip("the C accelerator is not in use (test_accel says why)")
    elif path == "pure":
        for mod in (_extract_run, _extract_emit):
            monkeypatch.setattr(mod, "C", None)
    yield path
