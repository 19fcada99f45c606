"""Changing one indicator at a time, and tagging by query: the API's write paths.

* :func:`resolve` finds the indicators a reference (public id or value) names
  within a scope;
* :func:`create_indicator` stores one indicator with its observation in an
  enclave through the same bulk merge as ingest (one write path);
* :func:`update_observation` changes an observation's context and the
  indicator's tags in its enclave; :func:`delete_observations` removes
  observations from an enclave;
* :func:`tag_matching` adds or removes a tag in an enclave on every indicator a
  query-language query matches there.

Authorization is the caller's job (the API checks enclave permissions); every
change is written to the audit log here.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spoorhound.core.context import normalize_tag, parse_confidence, parse_tlp
from spoorhound.core.fang import refang
from spoorhound.core.indicators import parse, resolve_type
from spoorhound.core.query import parse_query
from spoorhound.services import audit
from spoorhound.services.jobs import now
from spoorhound.storage import schema
from spoorhound.storage.bulk import bulk_writer, ensure_names
from spoorhound.storage.engine import Store
from spoorhound.storage.query_sql import candidate_values, compile_query

__all__ = [
    "DEFAULT_SOURCE",
    "ObservationNotFound",
    "create_indicator",
    "delete_observations",
    "resolve",
    "tag_matching",
    "update_observation",
]

Scope = Collection[str] | None

#: Source of observations created through the API when the request names none.
DEFAULT_SOURCE = "api"

I = schema.indicator  # noqa: E741 - short aliases keep the queries readable
O = schema.observation  # noqa: E741
E = schema.enclave
S = schema.source
T = schema.tag
IT = schema.indicator_tag


class ObservationNotFound(LookupError):
    """The indicator has no observation matching the request in that enclave."""


def _is_uuid(ref: str) -> bool:
    # Only the dashed form: 32 bare hex digits are an md5 / imphash / ja3 value.
    if len(ref) != 36:
        return False
    try:
        return str(uuid.UUID(ref)) == ref.lower()
    except ValueError:
        return False


def resolve(
    store: Store, ref: str, *, scope: Scope = None, type: str | None = None
) -> list[dict[str, Any]]:
    """Indicators ``ref`` names that ``scope`` may see: ``{pk, id, type, value}`` each.

    A uuid is a public id; anything else is a value, refanged and canonicalised
    (one value may name several types, e.g. a 32-hex string; ``type`` narrows).
    """
    where: sa.ColumnElement[bool] = (
        I.c.id == str(uuid.UUID(ref)) if _is_uuid(ref) else I.c.value.in_(candidate_values(ref))
    )
    if type:
        where = sa.and_(where, I.c.type == resolve_type(type).value)
    q = sa.select(I.c.pk, I.c.id, I.c.type, I.c.value).where(where)
    if scope is not None:
        q = q.where(
            sa.exists()
            .where(O.c.indicator_pk == I.c.pk, O.c.enclave_id == E.c.id)
            .where(E.c.name.in_(list(scope)))
        )
    with store.read() as conn:
        return [dict(r) for r in conn.execute(q.order_by(I.c.type)).mappings()]


def _tags(raw: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(normalize_tag(t) for t in raw))


def create_indicator(
    store: Store,
    value: str,
    *,
    enclave: str,
    actor: str,
    type: str | None = None,
    source: str = DEFAULT_SOURCE,
    tags: Iterable[str] = (),
    tlp: str | None = None,
    confidence: int | str | None = None,
    notes: str | None = None,
) -> dict[str, Any]:
    """Store ``value`` (refanged) with an observation by ``source`` in ``enclave`` (which must exist).

    Merges like ingest: an existing observation keeps what the new one leaves
    empty. Returns ``{id, type, value, new}``. Raises ``ValueError`` for a bad
    value, type, TLP, confidence or tag, and :class:`LookupError` for an unknown enclave.
    """
    ind = parse(refang(value.strip()), type)
    norm_tlp = parse_tlp(tlp) if tlp else None
    conf = parse_confidence(str(confidence)) if confidence is not None else None
    names = _tags(tags)
    at = now()
    with store.write() as conn:
        enclave_id = conn.execute(sa.select(E.c.id).where(E.c.name == enclave)).scalar()
        if enclave_id is None:
            raise LookupError(f"enclave {enclave!r} not found")
        row: list[Any] = [ind.id, ind.type.value, ind.value, at, at, source, conf, norm_tlp]
        row += [at, at, notes, None, names or None]
        new = bulk_writer(conn, int(enclave_id), at).write_chunk([row])
    audit.record(
        store, actor=actor, action="indicator.create", target=f"indicator:{ind.id}",
        details={"enclave": enclave, "source": source, "type": ind.type.value, "new": bool(new)},
    )  # fmt: skip
    return {"id": ind.id, "type": ind.type.value, "value": ind.value, "new": bool(new)}


def _enclave_id(conn: Connection, name: str) -> int:
    ident = conn.execute(sa.select(E.c.id).where(E.c.name == name)).scalar()
    if ident is None:
        raise LookupError(f"enclave {name!r} not found")
    return int(ident)


def _change_tags(
    conn: Connection, pk: int, enclave_id: int, add: list[str], remove: list[str], at: int
) -> None:
    if add:
        ids = ensure_names(conn, T, add, at)
        present = set(
            conn.execute(
                sa.select(IT.c.tag_id).where(IT.c.indicator_pk == pk, IT.c.enclave_id == enclave_id)
            ).scalars()
        )
        rows = [
            {"indicator_pk": pk, "enclave_id": enclave_id, "tag_id": i, "created_at": at}
            for i in ids.values()
            if i not in present
        ]
        if rows:
            conn.execute(IT.insert(), rows)
    if remove:
        conn.execute(
            IT.delete().where(
                IT.c.indicator_pk == pk,
                IT.c.enclave_id == enclave_id,
                IT.c.tag_id.in_(sa.select(T.c.id).where(T.c.name.in_(remove))),
            )
        )


def update_observation(
    store: Store,
    pk: int,
    *,
    enclave: str,
    actor: str,
    source: str = DEFAULT_SOURCE,
    changes: Mapping[str, Any] | None = None,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
) -> None:
    """Change the observation of indicator ``pk`` by ``source`` in ``enclave``, and its tags there.

    ``changes`` may hold ``tlp``, ``confidence`` and ``notes`` (None clears one).
    Tags are per enclave: they change whenever the indicator has any observation
    in ``enclave``. Raises :class:`ObservationNotFound` when there is nothing to
    change, ``ValueError`` for a bad TLP, confidence or tag.
    """
    values: dict[str, Any] = {}
    for k, v in (changes or {}).items():
        if k == "tlp":
            values[k] = parse_tlp(v) if v else None
        elif k == "confidence":
            values[k] = parse_confidence(str(v)) if v is not None else None
        elif k == "notes":
            values[k] = v
        else:
            raise ValueError(f"cannot change {k!r}: use tlp, confidence or notes")
    add, remove = _tags(add_tags), _tags(remove_tags)
    at = now()
    with store.write() as conn:
        enclave_id = _enclave_id(conn, enclave)
        in_enclave = sa.and_(O.c.indicator_pk == pk, O.c.enclave_id == enclave_id)
        if conn.execute(sa.select(O.c.source_id).where(in_enclave).limit(1)).first() is None:
            raise ObservationNotFound(f"the indicator has no observation in enclave {enclave!r}")
        if values:
            res = conn.execute(
                O.update()
                .where(in_enclave, O.c.source_id.in_(sa.select(S.c.id).where(S.c.name == source)))
                .values(**values, updated_at=at)
            )
            if not res.rowcount:
                raise ObservationNotFound(
                    f"no observation by source {source!r} in enclave {enclave!r}"
                )
        _change_tags(conn, pk, enclave_id, add, remove, at)
    audit.record(
        store, actor=actor, action="observation.update", target=f"enclave:{enclave}",
        details={"indicator_pk": pk, "source": source, **values, "add_tags": add,
                 "remove_tags": remove},
    )  # fmt: skip


def delete_observations(
    store: Store, pk: int, *, enclave: str, actor: str, source: str | None = None
) -> int:
    """Delete indicator ``pk``'s observations in ``enclave`` (only ``source``'s, if given).

    When none is left in the enclave its tags there go too; when none is left
    anywhere the indicator itself is deleted (with its enrichments), otherwise its
    first/last seen shrink to the remaining observations. Returns how many
    observations were deleted (0: nothing matched, nothing changed).
    """
    with store.write() as conn:
        enclave_id = _enclave_id(conn, enclave)
        ident = conn.execute(sa.select(I.c.id).where(I.c.pk == pk)).scalar()
        cond = sa.and_(O.c.indicator_pk == pk, O.c.enclave_id == enclave_id)
        if source is not None:
            cond = sa.and_(cond, O.c.source_id.in_(sa.select(S.c.id).where(S.c.name == source)))
        n = int(conn.execute(O.delete().where(cond)).rowcount)
        if not n:
            return 0
        left_here = conn.execute(
            sa.select(O.c.source_id).where(O.c.indicator_pk == pk, O.c.enclave_id == enclave_id)
        ).first()
        if left_here is None:
            conn.execute(IT.delete().where(IT.c.indicator_pk == pk, IT.c.enclave_id == enclave_id))
        first, last = conn.execute(
            sa.select(sa.func.min(O.c.first_seen), sa.func.max(O.c.last_seen)).where(
                O.c.indicator_pk == pk
            )
        ).one()
        gone = first is None
        if gone:
            conn.execute(I.delete().where(I.c.pk == pk))
        else:
            conn.execute(I.update().where(I.c.pk == pk).values(first_seen=first, last_seen=last))
    audit.record(
        store, actor=actor, action="observation.delete", target=f"indicator:{ident}",
        details={"enclave": enclave, "source": source, "deleted": n, "indicator_deleted": gone},
    )  # fmt: skip
    return n


def tag_matching(store: Store, tag: str, query: str, *, enclave: str, add: bool, actor: str) -> int:
    """Add (or remove) ``tag`` in ``enclave`` on every indicator ``query`` matches there.

    The query is evaluated within ``enclave`` alone, so it reaches only
    indicators observed in that enclave (a blank query matches all of them).
    Returns how many indicators gained (lost) the tag. Raises
    :class:`~spoorhound.core.query.QuerySyntaxError` for a bad query.
    """
    name = normalize_tag(tag)
    node = parse_query(query) if query.strip() else None
    at = now()
    with store.write() as conn:
        enclave_id = _enclave_id(conn, enclave)
        matching = sa.select(I.c.pk).where(compile_query(conn, node, scope=[enclave], now=at))
        if add:
            tag_id = ensure_names(conn, T, [name], at)[name]
            existing = sa.select(IT.c.indicator_pk).where(
                IT.c.enclave_id == enclave_id, IT.c.tag_id == tag_id
            )
            sel = sa.select(
                I.c.pk, sa.literal(enclave_id), sa.literal(tag_id), sa.literal(at)
            ).where(I.c.pk.in_(matching), I.c.pk.not_in(existing))
            cols = ["indicator_pk", "enclave_id", "tag_id", "created_at"]
            # RETURNING counts on both dialects (rowcount of INSERT … SELECT is -1 on psycopg).
            stmt = IT.insert().from_select(cols, sel).returning(IT.c.indicator_pk)
            n = len(conn.execute(stmt).all())
        else:
            stmt_del = (
                IT.delete()
                .where(
                    IT.c.enclave_id == enclave_id,
                    IT.c.tag_id.in_(sa.select(T.c.id).where(T.c.name == name)),
                    IT.c.indicator_pk.in_(matching),
                )
                .returning(IT.c.indicator_pk)
            )
            n = len(conn.execute(stmt_del).all())
    audit.record(
        store, actor=actor, action="tag.add" if add else "tag.remove", target=f"enclave:{enclave}",
        details={"tag": name, "count": n, "query": query},
    )  # fmt: skip
    return n
