"""Ingestion: opening inputs safely, recognising their format, and reading them.

The public surface::

    with open_input(path_or_stream) as inp:                # InputError on bad input
        head, stream = peek_head(inp.raw)
        fmt = sniff_format(head, inp.name)                 # "csv", "stix", …, "text"
        for item in read(fmt, stream, ReadOptions(name=inp.name)):
            ...                                            # RawRecord | Rejection | Skip

Exceptions: :class:`InputError` (the whole input is refused, possibly mid-stream;
items yielded before it stay valid). Everything row-level is a
:class:`~spoorhound.ingest.records.Rejection` or :class:`~spoorhound.ingest.records.Skip`.
"""

from spoorhound.ingest.formats import READERS, ReaderOptions, ReadOptions, read, reader_for
from spoorhound.ingest.records import RawRecord, ReaderItem, Rejection, Skip
from spoorhound.ingest.sniff import FORMAT_NAMES, sniff_format
from spoorhound.ingest.source import InputError, InputStream, iter_lines, open_input, peek_head

__all__ = [
    "FORMAT_NAMES",
    "READERS",
    "InputError",
    "InputStream",
    "RawRecord",
    "ReadOptions",
    "ReaderItem",
    "ReaderOptions",
    "Rejection",
    "Skip",
    "iter_lines",
    "open_input",
    "peek_head",
    "read",
    "reader_for",
    "sniff_format",
]
