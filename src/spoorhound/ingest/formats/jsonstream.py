"""Streaming JSON for the JSON, STIX and MISP readers: never the whole document in memory.

Built on ``ijson`` (its C backend ``yajl2_c`` when installed). A syntax error does
not lose what came before it: the items already yielded stay, and the error becomes
one final :class:`Rejection` that says where and how many items were kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import ijson
from ijson.common import ObjectBuilder

from spoorhound.ingest.records import Rejection
from spoorhound.ingest.source import CHUNK, utf8_stream

__all__ = ["JsonItems", "first_byte", "open_json"]

_BUF = 64 * 1024
_OPEN = ("start_map", "start_array")
_CLOSE = ("end_map", "end_array")


class _Replay:
    """Serves the already-read head, then the rest of the stream."""

    def __init__(self, head: bytes, inner: BinaryIO) -> None:
        self._head = head
        self._inner = inner

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n < 0 or n >= len(self._head):
                out, self._head = self._head, b""
                return out
            out, self._head = self._head[:n], self._head[n:]
            return out
        return self._inner.read(n)


class _CountingReader:
    """Tracks how many bytes the parser has consumed, to locate syntax errors."""

    def __init__(self, inner: _Replay) -> None:
        self._inner = inner
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._inner.read(n)
        self.count += len(data)
        return data


def open_json(stream: BinaryIO, name: str, encoding: str | None) -> tuple[bytes, _CountingReader]:
    """Check and transcode ``stream`` to UTF-8; return its first bytes and a reader."""
    s = utf8_stream(stream, name, encoding)
    head = s.read(CHUNK // 16)
    return head, _CountingReader(_Replay(head, s))


def first_byte(head: bytes) -> bytes:
    """The first non-whitespace byte of a JSON document (b"" if none)."""
    stripped = head.lstrip()
    return stripped[:1]


def _syntax_error(e: Exception, at: int, kept: int, what: str) -> Rejection:
    msg = str(e.args[0] if e.args else e)
    if isinstance(e.args[0] if e.args else None, bytes):
        msg = e.args[0].decode("utf-8", "replace")
    first = msg.strip().splitlines()[0] if msg.strip() else type(e).__name__
    return Rejection(
        kept + 1,
        f"JSON syntax error before byte {at}: {first}; {kept} {what} read before it were kept",
    )


_ERRORS = (ijson.JSONError, ijson.IncompleteJSONError, ValueError, UnicodeDecodeError)


class JsonItems:
    """The items of one JSON document, each yielded as it is parsed."""

    def __init__(self, reader: _CountingReader, what: str = "items") -> None:
        self._reader = reader
        self._what = what
        self.count = 0

    def at(self, prefix: str) -> Iterator[Any | Rejection]:
        """Yield each value found at ijson ``prefix`` (``item``, ``objects.item``).

        Ends with a :class:`Rejection` if the document has a syntax error.
        """
        try:
            for obj in ijson.items(self._reader, prefix, use_float=True, buf_size=_BUF):
                self.count += 1
                yield obj
        except _ERRORS as e:
            yield _syntax_error(e, self._reader.count, self.count, self._what)

    def walk(self, want: Callable[[str], bool]) -> Iterator[tuple[str, Any] | Rejection]:
        """Yield ``(prefix, value)`` for each value whose prefix ``want`` accepts.

        Slower than :meth:`at` (a Python loop over parse events), but it can pick
        values at several prefixes in one pass, for documents whose shape is only
        known once their keys are read. A wanted value is built whole; values inside
        it are not offered again.
        """
        try:
            events = ijson.parse(self._reader, use_float=True, buf_size=_BUF)
            for prefix, event, value in events:
                if event in _CLOSE or event == "map_key" or not want(prefix):
                    continue
                if event not in _OPEN:
                    self.count += 1
                    yield prefix, value
                    continue
                builder = ObjectBuilder()
                builder.event(event, value)
                depth = 1
                for _p, ev, val in events:
                    builder.event(ev, val)
                    if ev in _OPEN:
                        depth += 1
                    elif ev in _CLOSE:
                        depth -= 1
                        if depth == 0:
                            break
                self.count += 1
                yield prefix, builder.value
        except _ERRORS as e:
            yield _syntax_error(e, self._reader.count, self.count, self._what)
