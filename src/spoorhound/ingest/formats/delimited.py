"""CSV and TSV feeds: header auto-mapping, comment banners, quoted multi-line fields.

The header is the first line that is not a comment. If it has no recognised column
name but the last comment line before it has (abuse.ch dumps write the header as
``# id,dateadded,url,…``), that comment is the header. With no header at all the
first column is the value and the others are attributes ``column_2``, ….

``#`` lines and blank lines are comments wherever they are (Feodo Tracker's
``# END 28 entries`` trailer), except inside a quoted field that spans lines. Line
numbers are physical lines of the (decompressed) file: a row that spans lines has
the number of its first line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import BinaryIO

from spoorhound.ingest.formats.fields import RowPlan, build_record, plan
from spoorhound.ingest.formats.options import ReadOptions
from spoorhound.ingest.records import ReaderItem, Rejection, excerpt
from spoorhound.ingest.source import iter_lines

__all__ = ["read", "read_csv", "read_tsv"]

_CANDIDATES = (",", "\t", ";", "|")
# Fields can be large (a long description); the csv default of 128 KiB is too small
# for some feeds, and iter_lines already bounds each line.
_FIELD_LIMIT = 1 << 24


class _Feed:
    """Feeds decoded lines to ``csv.reader``, dropping comments between rows and
    recording line numbers and per-line rejections for the reader loop."""

    def __init__(self, items: Iterator[tuple[int, str] | Rejection]) -> None:
        self._items = items
        self.first = 0  # physical line where the current row starts
        self.row_open = False  # a row is being parsed: do not drop what follows
        self.rejections: list[Rejection] = []

    def __iter__(self) -> Iterator[str]:
        for item in self._items:
            if type(item) is not tuple:
                self.rejections.append(item)  # type: ignore[arg-type]
                continue
            line, text = item
            if not self.row_open and (not text or text[0] == "#" or not text.strip()):
                continue
            if not self.row_open:
                self.first = line
                self.row_open = True
            yield text + "\n"  # csv keeps newlines inside quoted fields only if lines end


def _pick_delimiter(line: str) -> str:
    counts = [(line.count(d), d) for d in _CANDIDATES]
    best = max(counts)
    return best[1] if best[0] else ","


def read(
    stream: BinaryIO, options: ReadOptions, delimiter: str | None = None
) -> Iterator[ReaderItem]:
    """Yield a record, rejection or skip per data row of a delimited file."""
    # Process-wide csv setting, raised (never lowered) on use rather than at import.
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    items = iter_lines(stream, encoding=options.encoding, name=options.label())
    # Find the header: the first non-comment line; keep the last comment before it.
    last_comment: str | None = None
    first: tuple[int, str] | None = None
    for item in items:
        if type(item) is not tuple:
            yield item  # type: ignore[misc]
            continue
        line, text = item
        stripped = text.strip()
        if not stripped:
            continue
        if stripped[0] == "#":
            last_comment = stripped.lstrip("#").strip() or last_comment
            continue
        first = (line, text)
        break
    if first is None:
        return
    delim = options.delimiter or delimiter or _pick_delimiter(first[1])
    header = next(csv.reader([first[1]], delimiter=delim))
    p = plan(header, column_map=options.column_map)
    pending: list[tuple[int, str]] = []
    if not p.recognised():
        from_comment = None
        if last_comment:
            names = next(csv.reader([last_comment], delimiter=delim))
            if len(names) == len(header):
                from_comment = plan(names, column_map=options.column_map)
        if from_comment is not None and from_comment.recognised():
            header, p = names, from_comment
        else:
            header = ["value"] + [f"column_{i}" for i in range(2, len(header) + 1)]
            p = plan(header, column_map=options.column_map)
        pending.append(first)  # the first line is data after all
    yield from _rows(items, pending, header, p, delim, options)


def _rows(
    items: Iterator[tuple[int, str] | Rejection],
    pending: list[tuple[int, str]],
    header: list[str],
    p: RowPlan,
    delim: str,
    options: ReadOptions,
) -> Iterator[ReaderItem]:
    def chained() -> Iterator[tuple[int, str] | Rejection]:
        yield from pending
        yield from items

    feed = _Feed(chained())
    reader = csv.reader(feed, delimiter=delim, strict=False)
    width = len(header)
    default_type = options.default_type
    rejections = feed.rejections
    while True:
        feed.row_open = False
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            # The row is unusable (e.g. a field larger than the limit); csv moves on.
            yield Rejection(feed.first, f"CSV error: {e}")
            continue
        if rejections:
            yield from rejections
            rejections.clear()
        line = feed.first
        if len(row) != width:
            yield Rejection(
                line,
                f"expected {width} fields as in the header, found {len(row)}",
                excerpt(delim.join(row)),
            )
            continue
        yield build_record(line, row, p, default_type)
    if rejections:
        yield from rejections


def read_csv(stream: BinaryIO, options: ReadOptions) -> Iterator[ReaderItem]:
    """Read a comma-separated file (or the delimiter the header line suggests)."""
    return read(stream, options)


def read_tsv(stream: BinaryIO, options: ReadOptions) -> Iterator[ReaderItem]:
    """Read a tab-separated file."""
    return read(stream, options, delimiter="\t")
