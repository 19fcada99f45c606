"""The audit log: who changed what, and when."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from spoorhound.services.jobs import now
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = ["recent", "record"]


def record(
    store: Store,
    *,
    actor: str,
    action: str,
    target: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log (its own transaction)."""
    with store.write() as conn:
        conn.execute(
            schema.audit.insert().values(
                at=now(), actor=actor, action=action, target=target, details=details
            )
        )


def recent(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ``limit`` audit entries, newest first."""
    q = sa.select(schema.audit).order_by(schema.audit.c.id.desc()).limit(limit)
    with store.read() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
