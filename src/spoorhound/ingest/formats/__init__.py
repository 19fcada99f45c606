"""Format readers: byte stream in, :data:`~spoorhound.ingest.records.ReaderItem` out.

Each reader module has one entry point, ``read(stream, options)``. :data:`READERS`
is an explicit table (nothing registers itself at import time); :func:`read`
dispatches on a format name as returned by
:func:`spoorhound.ingest.sniff.sniff_format`. ``text`` (prose to extract indicators
from) is not read here: the extractor handles it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from spoorhound.ingest.formats import delimited, jsondoc, misp, plain, stix
from spoorhound.ingest.formats.options import ReadOptions
from spoorhound.ingest.records import ReaderItem

__all__ = ["READERS", "ReadOptions", "Reader", "ReaderOptions", "read", "reader_for"]

#: Alias: the same class under the name the ingest service uses.
ReaderOptions = ReadOptions

Reader = Callable[[BinaryIO, ReadOptions], Iterator[ReaderItem]]

#: Format name → reader. Format names are those of ``sniff_format`` except ``text``.
READERS: dict[str, Reader] = {
    "plain": plain.read,
    "csv": delimited.read_csv,
    "tsv": delimited.read_tsv,
    "json": jsondoc.read,
    "jsonl": jsondoc.read_lines,
    "stix": stix.read,
    "misp": misp.read,
}


def reader_for(fmt: str) -> Reader:
    """Return the reader for format ``fmt``; :class:`ValueError` if there is none."""
    try:
        return READERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(READERS)}") from None


def read(fmt: str, stream: BinaryIO, options: ReadOptions | None = None) -> Iterator[ReaderItem]:
    """Read ``stream`` as format ``fmt`` and yield records, rejections and skips."""
    return reader_for(fmt)(stream, options or ReadOptions())
