"""Sources (feeds, vendors, teams) and their reliability, TruSTAR-style 1–5 weights."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from spoorhound.services import audit
from spoorhound.services.scoring import Scorer, rescore
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = ["list_sources", "set_reliability"]

S = schema.source
O = schema.observation  # noqa: E741


def list_sources(store: Store, *, scope: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Sources with their reliability and how many indicators they reported.

    With a ``scope`` (readable enclave names), only sources with observations in those
    enclaves, counted there: a source's name and holdings elsewhere stay invisible.
    """
    if scope is None:
        q = (
            sa.select(
                S.c.name, S.c.reliability, sa.func.count(O.c.indicator_pk).label("indicators")
            )
            .outerjoin(O, O.c.source_id == S.c.id)
            .group_by(S.c.id, S.c.name, S.c.reliability)
            .order_by(S.c.name)
        )
    else:
        E = schema.enclave
        q = (
            sa.select(
                S.c.name, S.c.reliability, sa.func.count(O.c.indicator_pk).label("indicators")
            )
            .join(O, O.c.source_id == S.c.id)
            .join(E, E.c.id == O.c.enclave_id)
            .where(E.c.name.in_(list(scope)))
            .group_by(S.c.id, S.c.name, S.c.reliability)
            .order_by(S.c.name)
        )
    with store.read() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def set_reliability(
    store: Store, name: str, reliability: int, *, actor: str, scorer: Scorer
) -> int:
    """Set a source's reliability (1 = unreliable … 5 = fully trusted) and rescore its
    indicators; returns how many score rows were rewritten."""
    if not 1 <= reliability <= 5:
        raise ValueError("reliability must be 1-5")
    with store.write() as conn:
        sid = conn.execute(sa.select(S.c.id).where(S.c.name == name)).scalar()
        if sid is None:
            raise LookupError(f"source {name!r} not found")
        conn.execute(S.update().where(S.c.id == sid).values(reliability=reliability))
        pks = [r[0] for r in conn.execute(sa.select(O.c.indicator_pk).where(O.c.source_id == sid))]
    audit.record(
        store,
        actor=actor,
        action="source.reliability",
        target=name,
        details={"reliability": reliability},
    )
    return rescore(store, pks, scorer=scorer)
