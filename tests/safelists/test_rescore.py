"""A safelist change reaches the stored scores through the lead's rescoring hook."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from spoorhound.services import enclaves, scoring
from spoorhound.services import safelists as sl
from spoorhound.services.indicator_edits import create_indicator
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

I = schema.indicator  # noqa: E741
SC = schema.indicator_score


def _state(store: Store, value: str) -> tuple[bool, set[str]]:
    with store.read() as conn:
        pk, flagged = conn.execute(
            sa.select(I.c.pk, I.c.safelisted).where(I.c.value == value)
        ).one()
        risks = set(conn.execute(sa.select(SC.c.risk).where(SC.c.indicator_pk == pk)).scalars())
    return bool(flagged), risks


def test_adding_and_removing_an_entry_vetoes_and_releases(store: Store, lists_dir: Path) -> None:
    enclaves.create_enclave(store, "e", actor="t")
    for v in ("login.corp-example.com", "evil-example.net"):
        create_indicator(store, v, enclave="e", actor="t", confidence=90)

    def rescore() -> int:
        # a scorer without the model (fast); the matcher is what the service builds
        matcher = sl.load_matcher(store, lists_dir=lists_dir)
        scorer = scoring.Scorer(matcher=matcher)
        return scoring.rescore_matching_safelist_change(store, scorer=scorer)

    with store.read() as conn:
        pks = list(conn.execute(sa.select(I.c.pk)).scalars())
    scoring.rescore(
        store, pks, scorer=scoring.Scorer(matcher=sl.load_matcher(store, lists_dir=lists_dir))
    )
    assert _state(store, "login.corp-example.com")[0] is False

    sl.create_safelist(store, "ours")
    entry = sl.add_entry(store, "ours", "*.corp-example.com", reason="our SSO")
    assert rescore() >= 1
    flagged, risks = _state(store, "login.corp-example.com")
    assert flagged and risks == {"none"}
    assert _state(store, "evil-example.net")[0] is False

    sl.remove_entry_id(store, "ours", entry["id"])
    assert rescore() >= 1
    flagged, risks = _state(store, "login.corp-example.com")
    assert not flagged and risks != {"none"}
