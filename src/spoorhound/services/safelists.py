"""Named safelists: values, wildcard domains, CIDRs and regexes that veto a score.

* :func:`create_safelist`, :func:`list_safelists`, :func:`get_safelist`,
  :func:`delete_safelist` manage lists; :func:`add_entry`, :func:`remove_entry`,
  :func:`remove_entry_id` their entries (pattern kinds and their matching rules:
  :func:`parse_pattern`; expiry: :func:`parse_expiry`). Every change is written to
  the audit log.
* :func:`load_matcher` reads every list once into a :class:`SafelistMatcher` for
  bulk use (scoring, exports, ingest); :func:`check` explains one value.

Safelists are global (administrators manage them; authorization is the caller's
job). Changing one does not rescore anything by itself: the CLI and the API call
:func:`spoorhound.services.scoring.rescore_matching_safelist_change` afterwards.

Errors: :class:`SafelistNotFound` (a ``LookupError``) for an unknown list or
entry; :class:`SafelistExists` and :class:`EntryExists` (``ValueError``) for
duplicates; :class:`InvalidPattern` (``ValueError``) for a bad pattern; plain
``ValueError`` for a bad name, reason or expiry.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from spoorhound.core.context import parse_time
from spoorhound.core.indicators import InvalidIndicator, UnknownType, parse
from spoorhound.core.timespec import parse_since
from spoorhound.services import audit
from spoorhound.services._safelist_match import (
    KINDS,
    MAX_PATTERN,
    POPULARITY_LISTS,
    VETO_LISTS,
    Entry,
    InvalidPattern,
    Pattern,
    SafelistHit,
    SafelistMatcher,
    parse_pattern,
    warninglist_indexes,
)
from spoorhound.services.jobs import now
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = [
    "KINDS",
    "MAX_PATTERN",
    "POPULARITY_LISTS",
    "VETO_LISTS",
    "EntryExists",
    "InvalidPattern",
    "Pattern",
    "SafelistExists",
    "SafelistHit",
    "SafelistMatcher",
    "SafelistNotFound",
    "add_entry",
    "check",
    "create_safelist",
    "delete_safelist",
    "get_safelist",
    "list_safelists",
    "load_matcher",
    "parse_expiry",
    "parse_pattern",
    "remove_entry",
    "remove_entry_id",
]

L = schema.safelist
SE = schema.safelist_entry

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
_MAX_REASON = 1000
_MAX_EXPIRY = 100 * 365 * 86400


class SafelistNotFound(LookupError):
    """No safelist of that name, or no such entry in it."""


class SafelistExists(ValueError):
    """A safelist with that name already exists."""


class EntryExists(ValueError):
    """The safelist already has that entry (same kind and canonical pattern)."""


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"invalid safelist name {name!r}: use 1-100 letters, digits or . _ : - "
            "(starting with a letter or digit)"
        )
    return name


def _reason(reason: str | None) -> str | None:
    if reason is None or not reason.strip():
        return None
    text = reason.strip()
    if len(text) > _MAX_REASON or "\x00" in text:
        raise ValueError(f"a reason is at most {_MAX_REASON} characters, without NUL")
    return text


def parse_expiry(spec: str | int | None, at: int) -> int | None:
    """Epoch seconds for an expiry: a duration from ``at`` (``30d``, ``12h``, ``2w``)
    or an absolute date/time (``2026-12-31``, ISO 8601, epoch seconds); None stays None.

    Raises ``ValueError`` naming the accepted forms, or when the time is not in the future.
    """
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None
    if isinstance(spec, int) and not isinstance(spec, bool):
        when = spec
    else:
        text = str(spec).strip()
        try:
            when = parse_time(text)
        except ValueError:
            # parse_since reads a duration as "that long before at"; an expiry is after.
            try:
                when = 2 * at - parse_since(text, at)
            except ValueError:
                raise ValueError(
                    f"bad expiry {text!r}: use a duration like 30d, 12h, 2w or a date "
                    "like 2026-12-31"
                ) from None
    if when <= at:
        raise ValueError(f"expiry {spec!r} is not in the future")
    if when > at + _MAX_EXPIRY:
        raise ValueError(f"expiry {spec!r} is more than 100 years away: leave it out instead")
    return when


def _list_id(conn: Connection, name: str) -> int:
    ident = conn.execute(sa.select(L.c.id).where(L.c.name == name)).scalar()
    if ident is None:
        raise SafelistNotFound(f"safelist {name!r} not found")
    return int(ident)


def _entry_dict(row: Any, at: int) -> dict[str, Any]:
    d = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    d.pop("safelist_id", None)
    d["expired"] = d["expires_at"] is not None and d["expires_at"] <= at
    return d


_ENTRY_COLUMNS = (
    SE.c.id, SE.c.kind, SE.c.pattern, SE.c.reason, SE.c.actor, SE.c.created_at, SE.c.expires_at
)  # fmt: skip


def create_safelist(
    store: Store, name: str, description: str | None = None, *, actor: str = "cli"
) -> dict[str, Any]:
    """Create an empty safelist; names are 1–100 letters, digits or ``._:-``.

    Raises :class:`SafelistExists` when the name is taken.
    """
    _check_name(name)
    desc = _reason(description)
    at = now()
    try:
        with store.write() as conn:
            if conn.execute(sa.select(L.c.id).where(L.c.name == name)).first():
                raise SafelistExists(f"safelist {name!r} already exists")
            conn.execute(L.insert().values(name=name, description=desc, created_at=at))
    except IntegrityError:
        raise SafelistExists(f"safelist {name!r} already exists") from None
    audit.record(store, actor=actor, action="safelist.create", target=f"safelist:{name}",
                 details={"description": desc})  # fmt: skip
    return {"name": name, "description": desc, "created_at": at, "entries": 0}


def list_safelists(store: Store, *, at: int | None = None) -> list[dict[str, Any]]:
    """Every safelist with its number of live (unexpired) and expired entries."""
    at = now() if at is None else at
    live = sa.or_(SE.c.expires_at.is_(None), SE.c.expires_at > at)
    counts = (
        sa.select(
            SE.c.safelist_id,
            sa.func.sum(sa.case((live, 1), else_=0)).label("entries"),
            sa.func.sum(sa.case((live, 0), else_=1)).label("expired"),
        )
        .group_by(SE.c.safelist_id)
        .subquery()
    )
    q = (
        sa.select(
            L.c.name,
            L.c.description,
            L.c.created_at,
            sa.func.coalesce(counts.c.entries, 0).label("entries"),
            sa.func.coalesce(counts.c.expired, 0).label("expired"),
        )
        .outerjoin(counts, counts.c.safelist_id == L.c.id)
        .order_by(L.c.name)
    )
    with store.read() as conn:
        return [
            {**r, "entries": int(r["entries"]), "expired": int(r["expired"])}
            for r in conn.execute(q).mappings()
        ]


def get_safelist(store: Store, name: str, *, at: int | None = None) -> dict[str, Any]:
    """One safelist with all its entries (expired ones flagged ``expired``), oldest first."""
    at = now() if at is None else at
    with store.read() as conn:
        row = conn.execute(sa.select(L).where(L.c.name == name)).mappings().first()
        if row is None:
            raise SafelistNotFound(f"safelist {name!r} not found")
        entries = conn.execute(
            sa.select(*_ENTRY_COLUMNS).where(SE.c.safelist_id == row["id"]).order_by(SE.c.id)
        ).all()
    return {
        "name": row["name"],
        "description": row["description"],
        "created_at": row["created_at"],
        "entries": [_entry_dict(e, at) for e in entries],
    }


def delete_safelist(store: Store, name: str, *, actor: str = "cli") -> int:
    """Delete a safelist and its entries; returns the number of entries it had."""
    with store.write() as conn:
        ident = _list_id(conn, name)
        n = conn.execute(sa.delete(SE).where(SE.c.safelist_id == ident)).rowcount
        conn.execute(sa.delete(L).where(L.c.id == ident))
    audit.record(store, actor=actor, action="safelist.delete", target=f"safelist:{name}",
                 details={"entries": int(n or 0)})  # fmt: skip
    return int(n or 0)


def add_entry(
    store: Store,
    name: str,
    pattern: str,
    *,
    kind: str | None = None,
    itype: str | None = None,
    reason: str | None = None,
    expires: str | int | None = None,
    actor: str = "cli",
    at: int | None = None,
) -> dict[str, Any]:
    """Add ``pattern`` to safelist ``name``; returns the stored entry.

    ``kind`` is detected when None (see :func:`parse_pattern`); ``itype`` names the
    indicator type a ``value`` is normalised as; ``expires`` is a duration from now
    (``30d``) or an absolute time. Raises :class:`SafelistNotFound`,
    :class:`EntryExists`, :class:`InvalidPattern` or ``ValueError``.
    """
    at = now() if at is None else at
    p = parse_pattern(pattern, kind, itype=itype)
    why = _reason(reason)
    until = parse_expiry(expires, at)
    dup = f"{p.kind} {p.pattern!r} is already on safelist {name!r}"
    try:
        with store.write() as conn:
            ident = _list_id(conn, name)
            if conn.execute(
                sa.select(SE.c.id).where(
                    SE.c.safelist_id == ident, SE.c.kind == p.kind, SE.c.pattern == p.pattern
                )
            ).first():
                raise EntryExists(dup)
            values = {"kind": p.kind, "pattern": p.pattern, "reason": why, "actor": actor,
                      "created_at": at, "expires_at": until}  # fmt: skip
            key = conn.execute(SE.insert().values(safelist_id=ident, **values)).inserted_primary_key
    except IntegrityError:
        raise EntryExists(dup) from None
    entry = {"id": int(key[0]) if key else 0, **values, "expired": False}
    audit.record(store, actor=actor, action="safelist.entry.add", target=f"safelist:{name}",
                 details={"id": entry["id"], "kind": p.kind, "pattern": p.pattern,
                          "reason": why, "expires_at": until})  # fmt: skip
    return entry


def _remove(store: Store, name: str, where: Any, what: str, actor: str) -> dict[str, Any]:
    with store.write() as conn:
        ident = _list_id(conn, name)
        row = conn.execute(
            sa.select(*_ENTRY_COLUMNS).where(SE.c.safelist_id == ident, where)
        ).first()
        if row is None:
            raise SafelistNotFound(f"{what} is not on safelist {name!r}")
        conn.execute(sa.delete(SE).where(SE.c.id == row.id))
    entry = _entry_dict(row, now())
    audit.record(store, actor=actor, action="safelist.entry.remove", target=f"safelist:{name}",
                 details={"id": entry["id"], "kind": entry["kind"], "pattern": entry["pattern"]})  # fmt: skip
    return entry


def remove_entry(
    store: Store,
    name: str,
    pattern: str,
    *,
    kind: str | None = None,
    itype: str | None = None,
    actor: str = "cli",
) -> dict[str, Any]:
    """Remove the entry ``pattern`` names (normalised as when added); returns it."""
    p = parse_pattern(pattern, kind, itype=itype)
    where = sa.and_(SE.c.kind == p.kind, SE.c.pattern == p.pattern)
    return _remove(store, name, where, f"{p.kind} {p.pattern!r}", actor)


def remove_entry_id(
    store: Store, name: str, entry_id: int, *, actor: str = "cli"
) -> dict[str, Any]:
    """Remove entry ``entry_id`` of safelist ``name``; returns it."""
    return _remove(store, name, SE.c.id == int(entry_id), f"entry {entry_id}", actor)


def _entries(store: Store) -> list[Entry]:
    columns = (SE.c.id, L.c.name, SE.c.kind, SE.c.pattern, SE.c.reason, SE.c.expires_at)
    q = sa.select(*columns).join(L, L.c.id == SE.c.safelist_id)
    with store.read() as conn:
        return [Entry(*r) for r in conn.execute(q)]


def load_matcher(
    store: Store,
    *,
    warninglists: bool = True,
    cache_dir: str | Path | None = None,
    lists_dir: str | Path | None = None,
    clock: Callable[[], float] = time.time,
) -> SafelistMatcher:
    """Every named-list entry (and, with ``warninglists``, the vetoing MISP
    warninglists) in one :class:`SafelistMatcher`.

    ``cache_dir`` is where the warninglist indexes are cached (the data
    directory's ``cache``); ``lists_dir`` replaces the installed warninglists
    (tests). Entries added later are not seen: load a new matcher.
    """
    entries = _entries(store)
    if not warninglists:
        return SafelistMatcher(entries, clock=clock)
    veto, types, popularity = warninglist_indexes(cache_dir, lists_dir)
    return SafelistMatcher(entries, veto=veto, veto_types=types, popularity=popularity,
                           clock=clock)  # fmt: skip


def check(
    matcher: SafelistMatcher, value: str, *, itype: str | None = None, popularity: bool = True
) -> dict[str, Any]:
    """Explain whether ``value`` (refanged and normalised; type detected unless
    ``itype``) is safelisted: ``{value, type, safelisted, list, reason, source,
    pattern, entry_id, popularity}``.

    A value of no detectable type is checked as written, as type ``string``.
    ``popularity`` also names the popularity list a domain is on (the first call
    builds that index, which takes a while without a cache).
    Raises ``ValueError`` for a value that is not valid as ``itype``.
    """
    try:
        ind = parse(value, itype)
        t, v = ind.type.value, ind.value
    except UnknownType:
        raise
    except InvalidIndicator:
        if itype is not None:
            raise
        t, v = "string", value.strip()
    hit = matcher.match(t, v)
    return {
        "value": v,
        "type": t,
        "safelisted": hit is not None,
        "list": hit.list if hit else None,
        "reason": hit.reason if hit else None,
        "source": hit.source if hit else None,
        "pattern": hit.pattern if hit else None,
        "entry_id": hit.entry_id if hit else None,
        "popularity": matcher.popularity(t, v) if popularity else None,
    }
