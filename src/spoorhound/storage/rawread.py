"""DBAPI-level reads for the API's hot paths: SQL strings built once, no SQLAlchemy per call.

An indexed look-up on SQLite costs a few microseconds of CPU; running it through
SQLAlchemy (a pooled :class:`~sqlalchemy.engine.Connection`, parameter processing,
result rows, events) cost five to ten times that, and one ``GET`` of an indicator
runs eight of them: the access watermark took 60 µs through SQLAlchemy and 5.5 µs
here, the whole indicator lookup 320 µs and 55 µs (CPU, on ``bench/api.py``'s
database). :func:`cursor` hands out a plain DBAPI cursor inside one read
transaction instead:

* **SQLite** (a file): one ``sqlite3`` connection per thread and store, opened
  read-only in intent (``PRAGMA query_only``) with the store's pragmas and kept for
  the life of the process, so the module's statement cache keeps every statement
  prepared. Each :func:`cursor` is a ``BEGIN`` … ``ROLLBACK`` (one snapshot for all its
  queries, as :meth:`Store.read` gives). :meth:`Store.dispose` closes them.
* **PostgreSQL** (and an in-memory SQLite): a connection from the store's pool,
  rolled back when returned, exactly as :meth:`Store.read`; psycopg prepares a
  statement server-side once it has run a few times.

SQL is written with ``?`` placeholders (:func:`sql` turns them into psycopg's
``%s``); values come back as the driver gives them, so :func:`converters` says
how to turn a column into what SQLAlchemy would have returned (booleans and JSON
documents on SQLite).
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy import event

from spoorhound.storage.engine import SQLITE_PRAGMAS, Store

__all__ = ["Cursor", "compiled", "converters", "cursor", "is_pg", "placeholders", "sql"]


class Cursor(Protocol):
    """The part of a DBAPI cursor the hot paths use."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...

    def fetchall(self) -> Sequence[Any]: ...

    def fetchone(self) -> Any: ...


Convert = Callable[[Any], Any] | None


class _Held:
    """A thread's connection; weakly referenced by :class:`_Reads`, so it closes with its
    thread (the thread pool retires idle threads) instead of accumulating."""

    __slots__ = ("__weakref__", "conn", "generation")

    def __init__(self, conn: sqlite3.Connection, generation: int) -> None:
        self.conn = conn
        self.generation = generation

    def __del__(self) -> None:
        self.conn.close()


class _Reads:
    """The read connections of one store."""

    def __init__(self, store: Store) -> None:
        engine = store.engine
        self.pg = store.dialect == "postgresql"
        database = engine.url.database or ""
        # A file database only: a second connection to ":memory:" is another database.
        self.path: str | None = (
            database
            if store.dialect == "sqlite" and database and database != ":memory:"
            and not database.startswith("file:")
            else None
        )  # fmt: skip
        self.local = threading.local()
        self.lock = threading.Lock()
        self.generation = 0
        self.held: weakref.WeakSet[_Held] = weakref.WeakSet()
        event.listen(engine, "engine_disposed", self.close)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use, or after a dispose)."""
        held: _Held | None = getattr(self.local, "held", None)
        if held is not None and held.generation == self.generation:
            return held.conn
        assert self.path is not None
        # Used by this thread only; check_same_thread=False so that close() may close it
        # from the thread that disposes the store.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in SQLITE_PRAGMAS:
            if "journal_mode" not in pragma:  # the store's writer sets WAL
                conn.execute(pragma)
        conn.execute("PRAGMA query_only=ON")
        with self.lock:
            held = _Held(conn, self.generation)
            self.held.add(held)
        self.local.held = held
        return conn

    def close(self, *_: Any) -> None:
        """Close every connection (the store's engine is being disposed)."""
        with self.lock:
            self.generation += 1
            held, self.held = list(self.held), weakref.WeakSet()
        for h in held:
            h.conn.close()


_READS: weakref.WeakKeyDictionary[Store, _Reads] = weakref.WeakKeyDictionary()
_READS_LOCK = threading.Lock()


def _reads(store: Store) -> _Reads:
    reads = _READS.get(store)
    if reads is None:
        with _READS_LOCK:
            reads = _READS.get(store)
            if reads is None:
                reads = _READS[store] = _Reads(store)
    return reads


@contextmanager
def cursor(store: Store) -> Iterator[Cursor]:
    """A DBAPI cursor in one read transaction on ``store`` (see the module docstring)."""
    reads = _reads(store)
    if reads.path is not None:
        conn = reads.connection()
        conn.execute("BEGIN")
        try:
            yield conn.cursor()
        finally:
            if conn.in_transaction:  # a read: ending it either way is the same
                conn.execute("ROLLBACK")
        return
    pooled = store.engine.raw_connection()
    try:
        cur = pooled.cursor()
        try:
            yield cur
        finally:
            cur.close()
    finally:
        pooled.close()  # back to the pool, which rolls the transaction back


def is_pg(store: Store) -> bool:
    """Whether ``store``'s SQL needs psycopg's placeholders."""
    return _reads(store).pg


@lru_cache(maxsize=512)
def sql(text: str, pg: bool) -> str:
    """``text`` with ``?`` placeholders, in the driver's paramstyle."""
    return text.replace("?", "%s") if pg else text


@lru_cache(maxsize=256)
def placeholders(n: int) -> str:
    """``?, ?, …`` for an ``IN (…)`` list of ``n`` values (``n`` ≥ 1)."""
    return ", ".join("?" * n)


_COMPILED: dict[tuple[int, str], tuple[sa.ClauseElement, str]] = {}


def compiled(stmt: sa.ClauseElement, store: Store) -> str:
    """The SQL of ``stmt`` (a statement without parameters) for ``store``'s dialect, compiled once."""
    key = (id(stmt), store.dialect)
    hit = _COMPILED.get(key)
    if hit is None or hit[0] is not stmt:
        hit = _COMPILED[key] = (stmt, str(stmt.compile(dialect=store.engine.dialect)))
    return hit[1]


def _boolean(v: Any) -> Any:
    return v if v is None else bool(v)


def _json(v: Any) -> Any:
    return orjson.loads(v) if isinstance(v, str | bytes) else v


def converters(columns: Sequence[sa.ColumnElement[Any]], pg: bool) -> tuple[Convert, ...]:
    """Per column, what turns the driver's value into SQLAlchemy's (None: as it is)."""
    if pg:  # psycopg returns booleans and decoded JSON (the engine's loader) already
        return tuple(None for _ in columns)
    out: list[Convert] = []
    for c in columns:
        t = c.type
        if isinstance(t, sa.Boolean):
            out.append(_boolean)
        elif isinstance(t, sa.JSON):
            out.append(_json)
        else:
            out.append(None)
    return tuple(out)
