"""CSV and TSV feeds: header auto-mapping, comment banners, quoted multi-line fields.

The header is the first line that is not a comment. If it has no recognised column
name but the last comment line before it has (abuse.ch dumps write the header as
``# id,dateadded,url,…``), that comment is the header. With no header at all the
first column is the value and the others are attributes ``column_2``, ….

``#`` lines and blank lines are comments wherever they are (Feodo Tracker's
``# END 28 entries`` trailer), except inside a quoted field that spans lines. Line
numbers are physical lines of the (decompressed) file: a row that spans lines has
the number of its first line.

How it is fast: lines are split and decoded a chunk at a time exactly as
:func:`~spoorhound.ingest.source.iter_lines` does, and a chunk that decodes cleanly
is handed to ``csv.reader`` whole (a ``StringIO``), so that no Python code runs per
line. Every physical line reaches csv as one item, which makes ``reader.line_num``
the physical line number. What must not reach csv as it is goes through a per-line
path: a line that is rejected (bad encoding, too long) becomes ``""``, which csv
ignores inside a quoted field and turns into an empty row between rows; a ``#``
line between rows becomes ``""`` too (the consumer records where the last row
ended, which tells a line between rows from one inside a field). Blank lines need
no care: between rows csv makes them empty or all-blank rows, which are dropped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import chain, islice, repeat
from typing import Any, BinaryIO

from spoorhound.ingest.formats.fields import RowBuilder, compile_builder, plan
from spoorhound.ingest.formats.options import ReadOptions
from spoorhound.ingest.records import ReaderItem, Rejection, excerpt
from spoorhound.ingest.source import (
    CHUNK,
    MiB,
    _is_wide,
    _iter_wide_lines,
    _split_body,
    byte_blocks,
    check_text_head,
    peek_head,
)

__all__ = ["Segment", "read", "read_csv", "read_tsv", "segments"]

_CANDIDATES = (",", "\t", ";", "|")
# Fields can be large (a long description); the csv default of 128 KiB is too small
# for some feeds, and the line splitter already bounds each line.
_FIELD_LIMIT = 1 << 24
# Read size and line limit; module constants so that tests can make them small.
_CHUNK = CHUNK
_MAX_LINE = MiB

Item = tuple[int, str] | Rejection
#: A run of lines: ``(lines before it, text of whole LF-terminated lines)`` when it
#: decoded cleanly, else its lines one by one (``(line_no, text)`` or Rejection).
Segment = tuple[int, str] | list[Item]


def segments(stream: BinaryIO, encoding: str | None, label: str) -> Iterator[Segment]:
    """The lines of ``stream`` as :func:`~spoorhound.ingest.source.iter_lines` gives
    them (same numbers, same rejections, same InputErrors), a chunk at a time.

    For the line formats' readers: a clean run's lines are
    ``enumerate(text.split("\n")[:-1], before + 1)`` with no Python code per line.
    """
    return _segments(stream, encoding, label, _MAX_LINE, _CHUNK)


def _segments(
    stream: BinaryIO, encoding: str | None, label: str, max_line: int, chunk: int
) -> Iterator[Segment]:
    head, stream = peek_head(stream)
    bom = check_text_head(head, label, encoding)
    if bom in ("utf-16", "utf-32") or (encoding is not None and _is_wide(encoding)):
        wide = _iter_wide_lines(stream, encoding or bom or "utf-16", max_line, label)
        while batch := list(islice(wide, 4096)):
            yield batch
        return
    enc = encoding or "utf-8"
    if bom == "utf-8-sig":
        stream.read(3)
    for block in byte_blocks(stream, enc, max_line, chunk):
        if type(block) is Rejection:
            yield [block]
        else:
            line_no, body = block  # type: ignore[misc]
            yield _body(body, line_no, enc, max_line)


def _body(body: bytes, line_no: int, enc: str, max_line: int) -> Segment:
    try:
        text = body.decode(enc)
    except UnicodeDecodeError:
        return list(_split_body(body, line_no, enc, max_line))
    if len(body) > max_line and _may_hold_long_line(text, max_line):
        return list(_split_body(body, line_no, enc, max_line))
    return line_no, text


def _may_hold_long_line(text: str, max_line: int) -> bool:
    # A line over max_line bytes has over max_line/4 characters, so it covers a
    # whole aligned window of max_line/8 characters: a window without a newline.
    w = max(max_line // 8, 1)
    find = text.find
    return any(find("\n", p, p + w) < 0 for p in range(0, len(text), w))


def _is_comment(text: str) -> bool:
    return not text or text[0] == "#" or not text.strip()


class _HeadLines:
    """Line-by-line view of the first segments, for finding the header; then
    :meth:`rest` gives the segments from a given line on."""

    def __init__(self, segments: Iterator[Segment]) -> None:
        self._segments = segments
        self._seg: Segment | None = None
        self._pos = 0  # index of the next item, or offset of the next line (clean)
        self._cur = 0  # where the line last returned starts (same units)

    def __iter__(self) -> Iterator[Item]:
        for seg in self._segments:
            self._seg = seg
            if type(seg) is tuple:
                base, text = seg
                self._pos = 0
                for i, line in enumerate(text.split("\n")[:-1], base + 1):
                    self._cur = self._pos
                    self._pos += len(line) + 1
                    yield i, line
            else:
                assert isinstance(seg, list)
                for k, item in enumerate(seg):
                    self._cur, self._pos = k, k + 1
                    yield item
        self._seg = None

    def rest(self, with_last: bool) -> Iterator[Segment]:
        """The segments after the line last returned (or from it, ``with_last``)."""
        seg, start = self._seg, self._cur if with_last else self._pos
        if type(seg) is tuple:
            base, text = seg
            yield base + text.count("\n", 0, start), text[start:]
        elif seg is not None:
            assert isinstance(seg, list)
            yield seg[start:]
        yield from self._segments


class _Feed:
    """The lines ``csv.reader`` reads: one string per physical line."""

    def __init__(self, segments: Iterable[Segment], before: int) -> None:
        self._segments = segments
        self._before = before  # lines before the first segment
        self.last = [0]  # the line the last row csv returned ended on (set by _rows)
        self.rejections: list[Rejection] = []
        self._clean: tuple[int, str] | None = None  # the clean run being read
        self._clean_lines: list[str] | None = None

    def lines(self) -> Iterator[str]:
        # The lines before the feed's start (banner, header) are fed as "" too, so
        # that csv's line_num counts from the top of the file.
        return chain(repeat("", self._before), chain.from_iterable(self._parts()))

    def _parts(self) -> Iterator[Iterable[str]]:
        for seg in self._segments:
            if type(seg) is not tuple:
                assert isinstance(seg, list)
                self._clean = None
                yield self._careful(seg)
                continue
            base, text = seg
            # '#' lines are cut out and go one by one; the runs between go whole.
            start = 0
            hash_at = text.find("#")
            while hash_at >= 0:
                if hash_at == 0 or text[hash_at - 1] == "\n":
                    if hash_at > start:
                        yield self._run(base, text[start:hash_at])
                    base += text.count("\n", start, hash_at)
                    end = text.index("\n", hash_at) + 1
                    self._clean = None
                    yield self._careful([(base + 1, text[hash_at : end - 1])])
                    base += 1
                    start = end
                    hash_at = text.find("#", end)
                else:
                    hash_at = text.find("#", hash_at + 1)
            if start < len(text):
                yield self._run(base, text[start:] if start else text)

    def _run(self, base: int, text: str) -> io.StringIO:
        self._clean, self._clean_lines = (base, text), None
        return io.StringIO(text)

    def _careful(self, items: list[Item]) -> Iterator[str]:
        last, rejections = self.last, self.rejections
        for item in items:
            if type(item) is not tuple:
                assert isinstance(item, Rejection)
                rejections.append(item)
                yield ""
                continue
            i, text = item
            if last[0] == i - 1 and _is_comment(text):
                yield ""  # a comment between rows: not part of any row
            else:
                yield text + "\n"  # csv keeps newlines inside quoted fields only if lines end

    def blank(self, line: int) -> bool:
        """Whether ``line``, a row on its own from a clean run, is all blanks."""
        if self._clean is None or self.last[0] != line:
            return False
        base, text = self._clean
        if self._clean_lines is None:
            self._clean_lines = text.split("\n")
        k = line - base - 1
        return 0 <= k < len(self._clean_lines) and not self._clean_lines[k].strip()


class _Blank(Exception):
    """A blank line between rows was read as a row: drop it."""


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
    head = _HeadLines(_segments(stream, options.encoding, options.label(), _MAX_LINE, _CHUNK))
    # Find the header: the first non-comment line; keep the last comment before it.
    last_comment: str | None = None
    first: tuple[int, str] | None = None
    for item in head:
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
    data_first = False
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
        data_first = True  # the first line is data after all
    feed = _Feed(head.rest(with_last=data_first), first[0] - 1 if data_first else first[0])

    def no_value(line: int, row: Any, reason: str) -> Rejection:
        if feed.blank(line):
            raise _Blank
        return Rejection(line, reason, excerpt(str(row)))

    build = compile_builder(p, options.default_type, strings=True, no_value=no_value)
    yield from _rows(feed, len(header), build, delim)


def _rows(feed: _Feed, width: int, build: RowBuilder, delim: str) -> Iterator[ReaderItem]:
    reader = csv.reader(feed.lines(), delimiter=delim, strict=False)
    last = feed.last
    rejections = feed.rejections
    while True:
        try:
            for row in reader:
                line = last[0] + 1
                last[0] = reader.line_num
                if len(row) != width:
                    if not row or feed.blank(line):
                        continue  # a blank line or a placeholder between rows
                    if rejections:
                        yield from rejections
                        rejections.clear()
                    yield Rejection(
                        line,
                        f"expected {width} fields as in the header, found {len(row)}",
                        excerpt(delim.join(row)),
                    )
                    continue
                item = build(line, row)
                if rejections:
                    yield from rejections
                    rejections.clear()
                yield item
            break
        except _Blank:
            continue
        except csv.Error as e:
            # The row is unusable (e.g. a field larger than the limit); csv moves on.
            yield Rejection(last[0] + 1, f"CSV error: {e}")
            last[0] = reader.line_num
    if rejections:
        yield from rejections


def read_csv(stream: BinaryIO, options: ReadOptions) -> Iterator[ReaderItem]:
    """Read a comma-separated file (or the delimiter the header line suggests)."""
    return read(stream, options)


def read_tsv(stream: BinaryIO, options: ReadOptions) -> Iterator[ReaderItem]:
    """Read a tab-separated file."""
    return read(stream, options, delimiter="\t")
