"""Fixtures for scoring tests: one data directory per worker (its warninglist cache is reused)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def scoring_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose ``cache/`` keeps the built warninglist index between tests."""
    return tmp_path_factory.mktemp("scoring-data")
