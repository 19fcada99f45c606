"""Stored feature vectors of another FEATURES_VERSION are recomputed, not silently dropped."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from spoorhound.model import load_model
from spoorhound.model.features import FEATURES_VERSION
from spoorhound.services import scoring
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.services.jobs import now as clock
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

F = schema.indicator_feature


def _model_p(store: Store) -> float | None:
    with store.read() as conn:
        return conn.execute(sa.select(schema.indicator_score.c.model_p)).scalar()


def test_vectors_of_an_old_features_version_are_recomputed_by_the_stale_pass(
    store: Store, tmp_path: Path
) -> None:
    scorer = scoring.Scorer(model=load_model())
    f = tmp_path / "a.txt"
    f.write_text("qxzvkwjtrbpl-update.top\n")
    since = clock()
    assert ingest(store, f, IngestOptions(enclave="soc", source="feed")).status == "done"
    scoring.rescore_since(store, enclave="soc", since=since, scorer=scorer)
    p = _model_p(store)
    assert p is not None
    # as after an upgrade: the stored vector is of the previous version
    with store.write() as conn:
        conn.execute(F.update().values(version=FEATURES_VERSION - 1))
    assert scoring.rescore_stale(store, scorer=scorer) == 1
    with store.read() as conn:
        assert conn.execute(sa.select(F.c.version)).scalars().all() == [FEATURES_VERSION]
    assert _model_p(store) == p
