"""Ingest: any supported input → indicators, observations and tags in one enclave.

The pipeline is two threads. The caller's thread reads, validates and
canonicalises rows into de-duplicated chunks; a writer thread merges each chunk
with set-based SQL (:mod:`spoorhound.storage.bulk`) while the next one is
parsed. SQLite and psycopg release the GIL while the database works, so the two
halves overlap on two cores.

An ingest is one transaction: it lands whole or not at all. Row-level problems
never abort it: each rejected or skipped row is counted and reported with its
line and reason, in the result and in the job record. A whole-file problem
(binary, empty, a zip bomb, a truncated archive) fails the job with a clear
message and writes nothing.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.engine import Connection

from spoorhound.core.context import normalize_tag, parse_tlp
from spoorhound.core.indicators import InvalidIndicator, UnknownType, parse
from spoorhound.ingest.documents import DocumentError
from spoorhound.ingest.formats import ReadOptions, read
from spoorhound.ingest.records import RawRecord, ReaderItem, Rejection, Skip, excerpt
from spoorhound.ingest.sniff import sniff_format
from spoorhound.ingest.source import HEAD, GiB, InputError, check_text_head, open_input, peek_head
from spoorhound.reference.warninglists import SafelistIndex
from spoorhound.services import audit
from spoorhound.services.jobs import ErrorLog, create_job, finish_job, now
from spoorhound.services.reports import (
    DOCUMENT_KINDS,
    ReportDraft,
    document_kind,
    draft_report,
    write_report,
)
from spoorhound.storage import schema
from spoorhound.storage.bulk import bulk_writer, ensure_names
from spoorhound.storage.engine import Store

__all__ = ["CHUNK_ROWS", "IngestOptions", "IngestResult", "ingest"]

#: Rows per chunk: large enough that per-statement overhead vanishes, small enough
#: that two chunks in flight stay far below the memory budget.
CHUNK_ROWS = 20_000

ProgressFn = Callable[[int, int], None]
"""Called after each chunk with (bytes read so far, rows read so far)."""


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """Context applied to every row of one ingest (a row's own context wins)."""

    enclave: str = "default"
    source: str = "manual"
    tags: tuple[str, ...] = ()
    tlp: str | None = None
    confidence: int | None = None
    format: str | None = None
    type: str | None = None
    column_map: Mapping[str, str] | None = None
    delimiter: str | None = None
    encoding: str | None = None
    max_bytes: int = 8 * GiB
    actor: str = "cli"
    #: Documents: flag extracted candidates against the MISP warninglists (and skip them).
    safelist: bool = True
    #: Documents: keep candidates flagged safelisted / example / benign instead of skipping.
    keep_flagged: bool = False
    #: Where the warninglist index is cached between runs (the data directory's cache).
    cache_dir: Path | None = None


@dataclass(slots=True)
class IngestResult:
    """What an ingest did. ``accepted == new + updated + duplicate``."""

    job_id: str
    name: str
    format: str | None = None
    status: str = "running"
    enclave: str = ""
    rows: int = 0
    accepted: int = 0
    new: int = 0
    updated: int = 0
    duplicate: int = 0
    error: str | None = None
    seconds: float = 0.0
    errors: ErrorLog = field(default_factory=ErrorLog)
    #: (indicator, enclave) scores written after the ingest (None: not scored by it).
    scored: int | None = None

    @property
    def rejected(self) -> int:
        """Rows that could not be ingested."""
        return self.errors.counts["rejected"]

    @property
    def skipped(self) -> int:
        """Rows that are deliberately not indicators (e.g. MISP ``link`` attributes)."""
        return self.errors.counts["skipped"]

    def counts(self) -> dict[str, Any]:
        """The counters, as stored on the job record."""
        return {
            "name": self.name,
            "format": self.format,
            "enclave": self.enclave,
            "rows": self.rows,
            "accepted": self.accepted,
            "new": self.new,
            "updated": self.updated,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, including every row error, JSON-ready."""
        out = {"job_id": self.job_id, "status": self.status, "error": self.error, **self.counts()}
        if self.scored is not None:
            out["scored"] = self.scored
        out["errors"] = [e.to_dict() for e in self.errors]
        return out


class _Counting:
    """Wraps a binary file to report how many bytes were read (for progress)."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.count = 0
        self.name = getattr(inner, "name", None)

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        self.count += len(data)
        return data

    def readinto(self, b: Any) -> int:
        n = int(self.inner.readinto(b))  # type: ignore[attr-defined]
        self.count += n
        return n

    def seek(self, *args: int) -> int:
        return self.inner.seek(*args)

    def tell(self) -> int:
        return self.inner.tell()

    def seekable(self) -> bool:
        return self.inner.seekable()

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.inner.close()


_DONE = object()


class _Writer(threading.Thread):
    """Owns the write transaction; merges chunks handed over through a small queue."""

    def __init__(self, store: Store, enclave: str, at: int) -> None:
        super().__init__(name="spoorhound-ingest-writer", daemon=True)
        self.store, self.enclave, self.at = store, enclave, at
        self.chunks: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.new = 0
        self.error: BaseException | None = None
        self.abort = threading.Event()
        self.enclave_created = False
        #: Run inside the transaction after the last chunk (e.g. to write a report).
        self.after: Callable[[Connection, int], object] | None = None

    def run(self) -> None:
        try:
            with self.store.write() as conn:
                existing = conn.execute(
                    schema.enclave.select().where(schema.enclave.c.name == self.enclave)
                ).first()
                self.enclave_created = existing is None
                enclave_id = ensure_names(conn, schema.enclave, [self.enclave], self.at)[
                    self.enclave
                ]
                writer = bulk_writer(conn, enclave_id, self.at)
                while True:
                    chunk = self.chunks.get()
                    if chunk is _DONE:
                        break
                    if self.abort.is_set():
                        raise _Aborted
                    self.new += writer.write_chunk(chunk)
                if self.abort.is_set():
                    raise _Aborted
                if self.after is not None:
                    self.after(conn, enclave_id)
        except _Aborted:
            pass
        except BaseException as e:  # reported to the caller's thread
            self.error = e
            self.abort.set()

    def put(self, chunk: object) -> None:
        """Hand a chunk over, or raise the writer's error if it has failed."""
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.chunks.put(chunk, timeout=0.2)
                return
            except queue.Full:
                if not self.is_alive():
                    raise RuntimeError("ingest writer stopped unexpectedly") from self.error

    def finish(self) -> None:
        """Commit: wait for the last chunk; re-raise the writer's error."""
        self.put(_DONE)
        self.join()
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        """Roll back everything this ingest wrote."""
        self.abort.set()
        if self.is_alive():
            with contextlib.suppress(queue.Full):
                self.chunks.put(_DONE, timeout=1)
            self.join()


class _Aborted(Exception):
    pass


class _ChunkBuilder:
    """Validates records and folds them into chunks de-duplicated per (indicator, source).

    This loop runs once per input row, so it is written for speed: locals bound
    once, tag normalisation memoised, no per-row allocations beyond the rows.
    """

    def __init__(self, options: IngestOptions, at: int, result: IngestResult) -> None:
        self.opt = options
        self.at = at
        self.result = result
        self.default_tags = tuple(normalize_tag(t) for t in options.tags)
        self.default_tlp = parse_tlp(options.tlp) if options.tlp else None
        self.tag_cache: dict[str, str] = {}
        self.seen: set[int] = set()
        self.reset()

    def reset(self) -> None:
        self.indicators: dict[str, list[Any]] = {}
        self.observations: dict[tuple[str, str], list[Any]] = {}
        self.tags: dict[str, list[str]] = {}
        self.size = 0

    def _tags(self, raw: Iterable[str]) -> tuple[str, ...]:
        out = list(self.default_tags)
        cache = self.tag_cache
        for t in raw:
            n = cache.get(t)
            if n is None:
                if len(cache) > 100_000:
                    cache.clear()
                n = cache[t] = normalize_tag(t)
            out.append(n)
        return tuple(out)

    def consume(self, items: Iterable[ReaderItem], flush: Callable[[], None]) -> None:
        """Fold every item; call ``flush`` whenever a chunk is full."""
        result = self.result
        errors = result.errors
        seen = self.seen
        forced_type = self.opt.type
        default_source = self.opt.source
        default_confidence = self.opt.confidence
        default_tlp = self.default_tlp
        default_tags = self.default_tags
        at = self.at
        tag_sets: dict[tuple[str, ...], tuple[str, ...]] = {}
        rows = accepted = duplicate = 0
        indicators, observations, tag_rows = self.indicators, self.observations, self.tags
        for rec in items:
            rows += 1
            if type(rec) is not RawRecord:
                if type(rec) is Rejection:
                    errors.add("rejected", rec.line, rec.reason, rec.raw)
                elif type(rec) is Skip:
                    errors.add("skipped", rec.line, rec.reason)
                continue
            hint = rec.type or forced_type
            attrs = rec.attributes or None
            try:
                ind = parse(rec.value, hint)
            except (InvalidIndicator, UnknownType) as e:
                # Sources mislabel (MISP `filename` holding a full path, `regkey` holding a
                # file path): if the value is a valid indicator of another type, keep it
                # under that type and record what the source declared.
                try:
                    if hint is None or forced_type is not None:
                        raise
                    ind = parse(rec.value)
                    attrs = {**(attrs or {}), "declared_type": hint}
                except (InvalidIndicator, UnknownType):
                    errors.add("rejected", rec.line, str(e), excerpt(rec.value))
                    continue
            raw_tags = rec.tags
            if raw_tags:
                tags = tag_sets.get(raw_tags)
                if tags is None:
                    try:
                        tags = self._tags(raw_tags)
                    except ValueError as e:
                        errors.add("rejected", rec.line, f"bad tag: {e}", excerpt(rec.value))
                        continue
                    if len(tag_sets) > 100_000:
                        tag_sets.clear()
                    tag_sets[raw_tags] = tags
            else:
                tags = default_tags
            ident = ind.id
            last = rec.last_seen
            if last is None:
                last = at
            first = rec.first_seen
            if first is None:
                first = last
            elif first > last:
                first, last = last, first
            accepted += 1
            h = hash(ident)
            if h in seen:
                duplicate += 1
            else:
                seen.add(h)
            row = indicators.get(ident)
            if row is None:
                indicators[ident] = [ident, ind.type.value, ind.value, first, last]
            else:
                row[3] = min(row[3], first)
                row[4] = max(row[4], last)
            source = rec.source or default_source
            confidence = rec.confidence
            if confidence is None:
                confidence = default_confidence
            key = (ident, source)
            obs = observations.get(key)
            if obs is None:
                observations[key] = [
                    ident, source, confidence, rec.tlp or default_tlp, first, last, rec.notes, attrs,
                ]  # fmt: skip
            else:
                obs[2] = confidence if confidence is not None else obs[2]
                obs[3] = rec.tlp or default_tlp or obs[3]
                obs[4] = min(obs[4], first)
                obs[5] = max(obs[5], last)
                obs[6] = rec.notes or obs[6]
                if attrs:
                    obs[7] = {**obs[7], **attrs} if obs[7] else attrs
            if tags:
                known = tag_rows.get(ident)
                if known is None:
                    tag_rows[ident] = list(tags)
                else:
                    known.extend(tags)
            if len(indicators) >= CHUNK_ROWS:
                self.size = len(indicators)
                result.rows += rows
                result.accepted += accepted
                result.duplicate += duplicate
                rows = accepted = duplicate = 0
                flush()
                indicators, observations, tag_rows = self.indicators, self.observations, self.tags
        self.size = len(indicators)
        result.rows += rows
        result.accepted += accepted
        result.duplicate += duplicate

    def take(self) -> list[list[Any]]:
        """The current chunk as staging rows (see ``storage.bulk.ChunkRow``); starts a new one."""
        indicators, tags = self.indicators, self.tags
        rows = []
        for (ident, source), o in self.observations.items():
            ind = indicators[ident]
            t = tags.pop(ident, None)
            if t is not None and len(t) > 1:
                t = list(dict.fromkeys(t))
            rows.append(
                [
                    ident,
                    ind[1],
                    ind[2],
                    ind[3],
                    ind[4],
                    source,
                    o[2],
                    o[3],
                    o[4],
                    o[5],
                    o[6],
                    o[7],
                    t,
                ]
            )
        self.reset()
        return rows


def _reader_options(options: IngestOptions, name: str) -> ReadOptions:
    return ReadOptions(
        encoding=options.encoding,
        column_map=options.column_map,
        delimiter=options.delimiter,
        default_type=options.type,
        name=name,
    )


def ingest(
    store: Store,
    src: str | os.PathLike[str] | BinaryIO,
    options: IngestOptions = IngestOptions(),
    *,
    name: str | None = None,
    progress: ProgressFn | None = None,
) -> IngestResult:
    """Ingest ``src`` (a path, ``-`` for stdin, or a binary stream) into the store.

    Structured inputs (lists, CSV/TSV, JSON/JSONL, STIX, MISP; gzip or zip) go
    through the format readers; documents and prose (PDF, DOCX, e-mail, HTML,
    Markdown, plain text) through the extractor, which also records a report
    linked to the indicators found. Returns the result with counts and every row
    error; the same is recorded on a job. Bad input never raises: a whole-file
    error gives ``status="failed"`` with the reason in ``error`` and nothing written.
    """
    label = name or (
        os.fspath(src)
        if isinstance(src, str | os.PathLike)
        else str(getattr(src, "name", "<input>"))
    )
    params = {k: v for k, v in _params(options).items() if v not in (None, (), {})}
    params["name"] = label
    job_id = create_job(store, "ingest", params)
    result = IngestResult(job_id=job_id, name=label, enclave=options.enclave)
    started = time.perf_counter()
    at = now()
    counting: _Counting | None = None
    writer: _Writer | None = None
    builder = _ChunkBuilder(options, at, result)

    def run(items: Iterable[ReaderItem], draft: ReportDraft | None = None) -> None:
        nonlocal writer
        writer = _Writer(store, options.enclave, at)
        if draft is not None:
            writer.after = lambda conn, enclave_id: write_report(
                conn, draft, enclave=options.enclave, enclave_id=enclave_id, source=options.source,
                tlp=builder.default_tlp, at=at,
            )  # fmt: skip
        writer.start()
        active = writer

        def flush() -> None:
            if builder.size:
                active.put(builder.take())
            if progress:
                progress(counting.count if counting else 0, result.rows)

        builder.consume(items, flush)
        flush()
        writer.finish()

    try:
        if isinstance(src, str | os.PathLike) and os.fspath(src) != "-":
            try:
                counting = _Counting(open(src, "rb"))  # noqa: SIM115 - closed below
            except OSError as e:
                raise InputError(f"{label}: cannot open: {e.strerror or e}") from e
            raw_src: Any = counting
        else:
            raw_src = sys.stdin.buffer if isinstance(src, str | os.PathLike) else src
        if raw_src.seekable():
            # Seek back rather than replay: zip archives need a seekable file.
            head, raw_stream = raw_src.read(HEAD), raw_src
            raw_src.seek(0)
        else:
            head, raw_stream = peek_head(raw_src)
        kind = options.format if options.format in DOCUMENT_KINDS else None
        if options.format is None:
            kind = document_kind(head, Path(label).name)
        if kind is not None:
            result.format = kind
            draft = _draft(raw_stream, label, kind, options)
            run(draft.items, draft)
        else:
            with open_input(raw_stream, max_bytes=options.max_bytes, name=label) as inp:
                head, stream = peek_head(inp.raw)
                if options.format != "text":
                    # Binary and empty files are refused before anything guesses a format.
                    check_text_head(head, label, options.encoding)
                fmt = options.format or sniff_format(head, Path(label).name)
                result.format = fmt
                if fmt == "text":
                    draft = _draft(stream, label, "text", options)
                    run(draft.items, draft)
                else:
                    run(read(fmt, stream, _reader_options(options, label)))
        assert writer is not None
        result.new = writer.new
        result.updated = len(builder.seen) - writer.new
        result.status = "done"
    except (InputError, DocumentError, ValueError, OSError) as e:
        if writer is not None:
            writer.cancel()
        result.status = "failed"
        result.error = str(e)
        result.new = result.updated = 0
    except BaseException:
        if writer is not None:
            writer.cancel()
        result.status = "failed"
        result.error = "interrupted"
        finish_job(
            store,
            job_id,
            status="failed",
            result=result.counts(),
            error=result.error,
            errors=result.errors,
        )
        raise
    finally:
        if counting is not None:
            counting.close()
    result.seconds = time.perf_counter() - started
    finish_job(
        store,
        job_id,
        status=result.status,
        result=result.counts(),
        error=result.error,
        errors=result.errors,
    )
    if result.status == "done":
        audit.record(
            store,
            actor=options.actor,
            action="ingest",
            target=f"enclave:{options.enclave}",
            details={"job_id": job_id, **result.counts()},
        )
    return result


def _draft(stream: BinaryIO, label: str, kind: str, options: IngestOptions) -> ReportDraft:
    safelist = SafelistIndex.load(cache_dir=options.cache_dir) if options.safelist else None
    return draft_report(stream, label, kind, safelist=safelist, keep_flagged=options.keep_flagged)


def _params(options: IngestOptions) -> dict[str, Any]:
    return {
        "enclave": options.enclave,
        "source": options.source,
        "tags": list(options.tags),
        "tlp": options.tlp,
        "confidence": options.confidence,
        "format": options.format,
        "type": options.type,
        "column_map": dict(options.column_map) if options.column_map else None,
        "encoding": options.encoding,
    }
