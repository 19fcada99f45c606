"""Fixtures of the provider tests (helpers in ``harness``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.enrich.harness import Emulators


@pytest.fixture(scope="module")
def emulators() -> Iterator[Emulators]:
    """Emulator servers started on first use, stopped at the end of the module."""
    emus = Emulators()
    yield emus
    emus.close()
