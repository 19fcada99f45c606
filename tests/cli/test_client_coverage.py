"""``spoorhound.client`` covers the API: every path in the OpenAPI description is one
the client calls, except the aliases kept for other tools' clients."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from spoorhound.api.app import create_app
from spoorhound.client import _client
from spoorhound.storage.engine import Store

#: Served for other clients, not for ``spoorhound.client``: Pulsedive's own paths (the
#: PyPI ``pulsedive`` client is tested against them) and the unversioned job alias.
NOT_FOR_THIS_CLIENT = {
    "/api/info.php", "/api/explore.php", "/api/analyze.php", "/api/jobs/{}",
}  # fmt: skip


def _norm(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_api_path_has_a_client_method(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    store.upgrade()
    try:
        spec = create_app(store, data_dir=tmp_path).openapi()
    finally:
        store.dispose()
    served = {_norm(p) for p in spec["paths"]}
    source = inspect.getsource(_client)
    called = {_norm(p) for p in re.findall(r'f?"(/(?:api|health)[^"]*)"', source)}
    missing = served - called - NOT_FOR_THIS_CLIENT
    assert not missing, f"no client method for {sorted(missing)}"
    assert served >= NOT_FOR_THIS_CLIENT  # the exceptions are still real paths
