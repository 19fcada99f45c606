"""Plain lists: one indicator per line, as blocklists and maltrail trails are written.

Blank lines and lines starting with ``#`` or ``//`` are comments, not rows. A
`` # comment`` after the value (whitespace before the ``#``, so a URL fragment such
as ``/x#y`` is not cut) goes to ``notes``. Values are not checked here: type
detection and canonical forms are the ingest service's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from spoorhound.ingest.formats.delimited import segments
from spoorhound.ingest.formats.options import ReadOptions
from spoorhound.ingest.records import RawRecord, ReaderItem

__all__ = ["read"]

_INLINE_COMMENT = re.compile(r"\s#\s*")


def read(stream: BinaryIO, options: ReadOptions) -> Iterator[ReaderItem]:
    """Yield one :class:`RawRecord` per non-comment line of ``stream``."""
    default_type = options.default_type
    for seg in segments(stream, options.encoding, options.label()):
        if type(seg) is tuple:
            base, text = seg
            lines: Iterable[Any] = enumerate(text.split("\n")[:-1], base + 1)
        else:
            lines = seg
        for item in lines:
            if type(item) is not tuple:
                yield item
                continue
            line, value = item
            value = value.strip()
            if not value or value[0] == "#" or value.startswith("//"):
                continue
            notes = None
            if "#" in value:
                m = _INLINE_COMMENT.search(value)
                if m is not None:
                    notes = value[m.end() :].strip() or None
                    value = value[: m.start()].rstrip()
            yield RawRecord(line, value, default_type, (), None, None, None, None, None, notes, {})
