"""JSON documents and JSON Lines of indicators.

A document is an array (of objects, or of bare strings, each a value) or an object
holding one under ``indicators``, ``data``, ``iocs``, ``results`` or ``items``; a
lone object with a value key is one indicator. Objects are mapped with the same
alias table as CSV headers (:mod:`.fields`). Arrays are streamed by ijson's C
backend; the object-wrapped shape goes through a slower Python event loop because
the list's key is only known once it is read.

JSON Lines: one object (or string) per line, parsed with orjson; a line that is not
JSON is a rejection with its line number and the file goes on. Lines come from
:func:`.delimited.segments`, a decoded chunk at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

import orjson

from spoorhound.ingest.formats.delimited import segments
from spoorhound.ingest.formats.fields import RowBuilder, compile_builder, plan
from spoorhound.ingest.formats.jsonstream import JsonItems, first_byte, open_json
from spoorhound.ingest.formats.options import ReadOptions
from spoorhound.ingest.records import RawRecord, ReaderItem, Rejection, excerpt

__all__ = ["LIST_KEYS", "ObjectMapper", "read", "read_lines"]

#: Keys of a top-level object under which the list of indicators is found.
LIST_KEYS: tuple[str, ...] = ("indicators", "data", "iocs", "results", "items")
_LIST_PREFIXES = frozenset(f"{k}.item" for k in LIST_KEYS)
_PLAN_CACHE_MAX = 1024


class ObjectMapper:
    """Maps JSON objects to records, caching a compiled row builder per set of keys
    (objects in one file nearly always share their keys)."""

    def __init__(self, options: ReadOptions) -> None:
        self._options = options
        self._builders: dict[tuple[str, ...], RowBuilder] = {}

    def item(self, n: int, obj: Any) -> ReaderItem:
        """Map item ``n`` (an object or a bare string) to a record or a rejection."""
        if type(obj) is dict:
            build = self._builders.get(tuple(obj))
            if build is not None:
                return build(n, obj)
        elif isinstance(obj, str):
            value = obj.strip()
            if not value:
                return Rejection(n, "empty string item")
            return RawRecord(n, value, self._options.default_type)
        if not isinstance(obj, Mapping):
            return Rejection(
                n,
                f"item is a JSON {type(obj).__name__}, not an object or a string",
                excerpt(repr(obj)),
            )
        keys = tuple(obj)
        build = self._builders.get(keys)
        if build is None:
            if len(self._builders) >= _PLAN_CACHE_MAX:
                self._builders.clear()
            p = plan(keys, keys, self._options.column_map)
            build = compile_builder(p, self._options.default_type, strings=False)
            self._builders[keys] = build
        return build(n, obj)


def read(stream: BinaryIO, options: ReadOptions) -> Iterator[ReaderItem]:
    """Yield a record or rejection per item of a JSON document."""
    head, reader = open_json(stream, options.label(), options.encoding)
    mapper = ObjectMapper(options)
    items = JsonItems(reader)
    start = first_byte(head)
    if start == b"[":
        n = 0
        for obj in items.at("item"):
            if isinstance(obj, Rejection):
                yield obj
            else:
                n += 1
                yield mapper.item(n, obj)
        return
    if start != b"{":
        yield from _single(items, mapper)
        return
    rest: dict[str, Any] = {}
    n = 0
    for found in items.walk(_wanted):
        if isinstance(found, Rejection):
            yield found
            continue
        prefix, obj = found
        if prefix in _LIST_PREFIXES:
            n += 1
            yield mapper.item(n, obj)
        else:
            rest[prefix] = obj
    if n == 0 and rest:
        # No list: the document is a single indicator object (or says nothing usable).
        yield mapper.item(1, rest)


def _wanted(prefix: str) -> bool:
    # The list's items, and the other top-level members (in case the document is a
    # single indicator object); never a list key itself, which would build the list.
    if prefix in _LIST_PREFIXES:
        return True
    return prefix != "" and "." not in prefix and prefix not in LIST_KEYS


def _single(items: JsonItems, mapper: ObjectMapper) -> Iterator[ReaderItem]:
    # A scalar document: a bare string is one value; anything else is rejected.
    for obj in items.at(""):
        yield obj if isinstance(obj, Rejection) else mapper.item(1, obj)


def read_lines(stream: BinaryIO, options: ReadOptions) -> Iterator[ReaderItem]:
    """Yield a record or rejection per line of a JSON Lines file."""
    mapper = ObjectMapper(options)
    builders = mapper._builders
    item = mapper.item
    loads = orjson.loads
    for seg in segments(stream, options.encoding, options.label()):
        if type(seg) is tuple:
            base, text = seg
            lines: Iterable[Any] = enumerate(text.split("\n")[:-1], base + 1)
        else:
            lines = seg
        for it in lines:
            if type(it) is not tuple:
                yield it
                continue
            line, text = it
            try:
                obj = loads(text)
            except orjson.JSONDecodeError as e:
                # Blank lines are not JSON either, and not rows.
                if text and not text.isspace():
                    yield Rejection(line, f"invalid JSON: {e}", excerpt(text))
                continue
            if type(obj) is dict:
                build = builders.get(tuple(obj))
                if build is not None:
                    yield build(line, obj)
                    continue
            yield item(line, obj)
