"""Rendering rows as a rich table, JSON or CSV: one place for every command."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

__all__ = ["emit", "emit_json", "fmt_time"]

TIME_FIELDS = frozenset({"first_seen", "last_seen", "created_at", "fetched_at", "seen_at", "at"})


def fmt_time(v: Any) -> str:
    """Epoch seconds as ``YYYY-MM-DD HH:MM:SSZ`` (empty for None)."""
    if v is None:
        return ""
    return datetime.fromtimestamp(int(v), UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _cell(key: str, v: Any) -> str:
    if key in TIME_FIELDS:
        return fmt_time(v)
    if isinstance(v, list | tuple):
        return ", ".join(str(x) for x in v)
    if isinstance(v, dict):
        return orjson.dumps(v).decode()
    return "" if v is None else str(v)


def emit_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout."""
    sys.stdout.write(
        orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n"
    )


def emit(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    fmt: str = "table",
    title: str | None = None,
    console: Console | None = None,
) -> None:
    """Print ``rows`` restricted to ``columns`` as ``table``, ``json`` or ``csv``."""
    rows = list(rows)
    if fmt == "json":
        emit_json([{c: r.get(c) for c in columns} for r in rows])
        return
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(c, r.get(c)) for c in columns])
        return
    table = Table(title=title, show_lines=False)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*(_cell(c, r.get(c)) for c in columns))
    (console or Console()).print(table)
