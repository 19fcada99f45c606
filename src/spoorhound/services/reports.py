"""Reports: unstructured documents ingested through the extractor.

A report (a PDF advisory, an e-mail, a web page, pasted prose) becomes one
``report`` row, identified by its enclave and the SHA-256 of its bytes (ingesting
the same document again updates, never duplicates), linked to every indicator
extracted from it with the number of occurrences and the first occurrence's
context. Candidates the extractor flags as safelisted (MISP warninglists) or as
examples/benign in the text itself are reported as skipped with the reason,
unless the caller asks to keep them.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from spoorhound.core.extract import Candidate, Safelist, extract
from spoorhound.core.indicators import SPOORHOUND_NAMESPACE, indicator_id
from spoorhound.ingest.documents import DocumentLimits, detect_kind, load_document
from spoorhound.ingest.documents._model import read_bounded
from spoorhound.ingest.records import RawRecord, ReaderItem, Skip
from spoorhound.storage import schema
from spoorhound.storage.bulk import ensure_names
from spoorhound.storage.engine import Store

__all__ = [
    "DOCUMENT_KINDS",
    "MAX_LIMIT",
    "InvalidCursor",
    "ReportDraft",
    "document_kind",
    "draft_report",
    "get_report",
    "list_reports",
    "write_report",
]

#: Kinds recognised from the raw bytes, before any decompression or text sniffing.
DOCUMENT_KINDS = frozenset({"pdf", "docx", "eml", "html", "markdown"})

_DOCX_EXTENSIONS = (".docx", ".docm")


def document_kind(head: bytes, name: str) -> str | None:
    """The document kind of an input from its first bytes and name, or None for data files.

    A zip is a DOCX only when it looks like one (Word writes ``[Content_Types].xml``
    first), so a zipped CSV still goes to the structured readers.
    """
    kind = detect_kind(head, name)
    if kind == "docx" and not (
        name.lower().endswith(_DOCX_EXTENSIONS) or b"[Content_Types].xml" in head[:512]
    ):
        return None
    return kind if kind in DOCUMENT_KINDS else None


@dataclass(slots=True)
class ReportDraft:
    """What a document yielded, ready to be written in the ingest's transaction."""

    title: str
    kind: str
    sha256: str
    items: list[ReaderItem] = field(default_factory=list)
    #: indicator canonical (type, value) → [occurrences, first context]
    links: dict[tuple[str, str], list[Any]] = field(default_factory=dict)


def draft_report(
    data: BinaryIO,
    name: str,
    kind: str,
    *,
    safelist: Safelist | None,
    keep_flagged: bool = False,
    limits: DocumentLimits | None = None,
) -> ReportDraft:
    """Extract indicators from a document into records and skips (raises DocumentError)."""
    limits = limits or DocumentLimits()
    raw = read_bounded(data, name, limits.max_bytes)
    doc = load_document(io.BytesIO(raw), name, limits=limits, kind=kind)
    candidates: list[Candidate] = [
        replace(c, context=f"{seg.location}: {c.context}")
        for seg in doc.segments
        for c in extract(seg.text, safelist=safelist)
    ]
    title = doc.title if doc.title and doc.title != name else os.path.basename(name) or name
    draft = ReportDraft(title=title, kind=doc.kind, sha256=hashlib.sha256(raw).hexdigest())
    for n, c in enumerate(candidates, start=1):
        key = (c.type.value, c.value)
        if key in draft.links:
            draft.links[key][0] += 1
            continue
        flagged = sorted(c.flags & {"safelisted", "example", "benign-context"})
        if flagged and not keep_flagged:
            why = (
                f"on warninglist {c.safelist!r}"
                if c.safelist
                else f"marked {flagged[0]} by the text"
            )
            draft.items.append(Skip(n, f"{c.type.value} {c.value} {why}: {c.context}"))
            draft.links[key] = [1, None]  # counted, never linked
            continue
        draft.links[key] = [1, c.context]
        draft.items.append(
            RawRecord(
                n,
                c.value,
                c.type.value,
                attributes={"extracted_as": c.span} if c.span != c.value else {},
            )
        )
    return draft


def report_id(enclave: str, sha256: str) -> str:
    """Deterministic report id: the same document in the same enclave is one report."""
    return str(uuid.uuid5(SPOORHOUND_NAMESPACE, f"report:{enclave}:{sha256}"))


def write_report(
    conn: Connection,
    draft: ReportDraft,
    *,
    enclave: str,
    enclave_id: int,
    source: str,
    tlp: str | None,
    at: int,
) -> str:
    """Upsert the report row and its indicator links inside the caller's transaction."""
    rid = report_id(enclave, draft.sha256)
    source_id = ensure_names(conn, schema.source, [source], at)[source]
    exists = conn.execute(sa.select(schema.report.c.id).where(schema.report.c.id == rid)).first()
    if exists is None:
        conn.execute(
            schema.report.insert().values(
                id=rid,
                enclave_id=enclave_id,
                source_id=source_id,
                title=draft.title[:1000],
                kind=draft.kind,
                sha256=draft.sha256,
                tlp=tlp,
                created_at=at,
            )
        )
    wanted = {
        indicator_id(t, v): link for (t, v), link in draft.links.items() if link[1] is not None
    }
    if not wanted:
        return rid
    ri = schema.report_indicator
    pks = dict(
        conn.execute(
            sa.select(schema.indicator.c.id, schema.indicator.c.pk).where(
                schema.indicator.c.id.in_(list(wanted))
            )
        ).all()
    )
    conn.execute(ri.delete().where(ri.c.report_id == rid))
    rows = [
        {"report_id": rid, "indicator_pk": pks[i], "occurrences": link[0], "context": link[1]}
        for i, link in wanted.items()
        if i in pks
    ]
    if rows:
        conn.execute(ri.insert(), rows)
    return rid


# -- reading reports ------------------------------------------------------------------
#
# A report is visible to callers who can read its enclave, whatever its TLP (TLP:RED
# and AMBER+STRICT stay inside their enclave, and the enclave is the boundary here).
# Its linked indicators are listed only when the caller sees them: an indicator whose
# observations all sit in enclaves the caller cannot read is left out, even when the
# report links it.

#: The largest page :func:`list_reports` returns.
MAX_LIMIT = 1000

_R = schema.report
_E = schema.enclave
_S = schema.source
_RI = schema.report_indicator
_I = schema.indicator
_O = schema.observation


class InvalidCursor(ValueError):
    """The cursor names no report the caller can see."""


def _report_query(scope: Collection[str] | None) -> sa.Select[Any]:
    q = (
        sa.select(
            _R.c.id,
            _R.c.title,
            _R.c.kind,
            _R.c.sha256,
            _R.c.tlp,
            _R.c.created_at,
            _E.c.name.label("enclave"),
            _S.c.name.label("source"),
        )
        .join(_E, _E.c.id == _R.c.enclave_id)
        .outerjoin(_S, _S.c.id == _R.c.source_id)
    )
    if scope is not None:
        q = q.where(_E.c.name.in_(list(scope)))
    return q


def _visible_indicator(scope: Collection[str] | None) -> sa.ColumnElement[bool]:
    if scope is None:
        return sa.true()
    return sa.exists().where(
        _O.c.indicator_pk == _I.c.pk,
        _O.c.enclave_id == _E.c.id,
        _E.c.name.in_(list(scope)),
    )


def _count_links(
    conn: Connection, rows: list[dict[str, Any]], scope: Collection[str] | None
) -> None:
    ids = [r["id"] for r in rows]
    counts: dict[str, int] = {}
    if ids:
        q = (
            sa.select(_RI.c.report_id, sa.func.count())
            .join(_I, _I.c.pk == _RI.c.indicator_pk)
            .where(_RI.c.report_id.in_(ids), _visible_indicator(scope))
            .group_by(_RI.c.report_id)
        )
        counts = {str(rid): int(n) for rid, n in conn.execute(q)}
    for r in rows:
        r["indicators"] = counts.get(r["id"], 0)


def list_reports(
    store: Store,
    *,
    scope: Collection[str] | None = None,
    enclave: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Reports in ``scope`` (None: all), newest first, one page: ``(rows, next_cursor)``.

    Each row has ``id``, ``title``, ``kind``, ``sha256``, ``tlp``, ``created_at``,
    ``enclave``, ``source`` and ``indicators`` (how many linked indicators the scope
    sees). ``enclave`` narrows to one enclave; ``cursor`` is the previous page's
    last id (:class:`InvalidCursor` when it names no visible report).
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    q = _report_query(scope)
    if enclave is not None:
        q = q.where(_E.c.name == enclave)
    with store.read() as conn:
        if cursor:
            at = conn.execute(_report_query(scope).where(_R.c.id == cursor)).mappings().first()
            if at is None:
                raise InvalidCursor(
                    "cursor does not match a visible report: start again without it"
                )
            q = q.where(sa.tuple_(_R.c.created_at, _R.c.id) < sa.tuple_(at["created_at"], at["id"]))
        q = q.order_by(_R.c.created_at.desc(), _R.c.id.desc()).limit(limit + 1)
        rows = [dict(r) for r in conn.execute(q).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        _count_links(conn, rows, scope)
    return rows, (rows[-1]["id"] if more else None)


def get_report(
    store: Store, report_id: str, *, scope: Collection[str] | None = None
) -> dict[str, Any] | None:
    """One report with the linked indicators ``scope`` sees, or None when it is not visible.

    ``indicators`` lists ``id``, ``type``, ``value``, ``occurrences`` and ``context``
    (the text around the first occurrence), most frequent first.
    """
    with store.read() as conn:
        row = conn.execute(_report_query(scope).where(_R.c.id == report_id)).mappings().first()
        if row is None:
            return None
        report = dict(row)
        q = (
            sa.select(_I.c.id, _I.c.type, _I.c.value, _RI.c.occurrences, _RI.c.context)
            .join(_I, _I.c.pk == _RI.c.indicator_pk)
            .where(_RI.c.report_id == report_id, _visible_indicator(scope))
            .order_by(_RI.c.occurrences.desc(), _I.c.value)
        )
        report["indicators"] = [dict(r) for r in conn.execute(q).mappings()]
    return report
