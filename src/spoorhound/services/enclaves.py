"""Enclaves: the tenant spaces indicators, tags and observations live in."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from spoorhound.services import audit
from spoorhound.services.jobs import now
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = ["EnclaveExists", "create_enclave", "list_enclaves"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,99}$")


class EnclaveExists(ValueError):
    """An enclave with that name already exists."""


def create_enclave(
    store: Store, name: str, description: str | None = None, *, actor: str = "cli"
) -> int:
    """Create an enclave and return its id; names are 1–100 letters, digits, space, ``._:-``."""
    if not _NAME.match(name):
        raise ValueError(
            f"invalid enclave name {name!r}: use 1-100 letters, digits, spaces or . _ : -"
        )
    with store.write() as conn:
        if conn.execute(
            sa.select(schema.enclave.c.id).where(schema.enclave.c.name == name)
        ).first():
            raise EnclaveExists(f"enclave {name!r} already exists")
        ident = conn.execute(
            schema.enclave.insert().values(name=name, description=description, created_at=now())
        ).inserted_primary_key
    audit.record(store, actor=actor, action="enclave.create", target=f"enclave:{name}")
    return int(ident[0]) if ident else 0


def list_enclaves(store: Store) -> list[dict[str, Any]]:
    """Every enclave with the number of indicators observed in it."""
    counts = (
        sa.select(
            schema.observation.c.enclave_id,
            sa.func.count(sa.distinct(schema.observation.c.indicator_pk)).label("n"),
        )
        .group_by(schema.observation.c.enclave_id)
        .subquery()
    )
    q = (
        sa.select(
            schema.enclave.c.name,
            schema.enclave.c.description,
            schema.enclave.c.created_at,
            sa.func.coalesce(counts.c.n, 0).label("indicators"),
        )
        .outerjoin(counts, counts.c.enclave_id == schema.enclave.c.id)
        .order_by(schema.enclave.c.name)
    )
    with store.read() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
