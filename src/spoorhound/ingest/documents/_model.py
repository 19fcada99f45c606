"""The document model shared by every front-end, the limits, and the one error type."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import BinaryIO

__all__ = ["Deadline", "Document", "DocumentError", "DocumentLimits", "Segment", "read_bounded"]


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a document's text and where it came from (``page 3``, ``header From``)."""

    text: str
    location: str


@dataclass(slots=True)
class Document:
    """A document reduced to text segments: ``kind`` is text, html, pdf, eml, markdown or docx."""

    kind: str
    title: str
    segments: list[Segment] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All segments' text, one after the other."""
        return "\n".join(s.text for s in self.segments)


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """What a front-end accepts before it gives up with a :class:`DocumentError`.

    ``max_bytes``: input size; ``max_pages``: PDF pages; ``max_seconds``: wall time per
    document, checked between pages / parts; ``max_chars``: extracted text;
    ``max_unpacked``: bytes inflated from a DOCX (zip) archive; ``max_parts``: MIME parts.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_pages: int = 2000
    max_seconds: float = 60.0
    max_chars: int = 32 * 1024 * 1024
    max_unpacked: int = 128 * 1024 * 1024
    max_parts: int = 500


class DocumentError(Exception):
    """A document that cannot be read: names the file and says why.

    Raised for binary data, text that is not UTF-8, encrypted or broken PDFs, zip
    bombs, oversized input and time-outs. Nothing else escapes a front-end.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class Deadline:
    """Wall-clock budget for one document, checked between pages and parts."""

    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.seconds = seconds
        self.until = time.monotonic() + seconds

    def check(self, where: str = "") -> None:
        """Raise :class:`DocumentError` if the budget is spent."""
        if time.monotonic() > self.until:
            at = f" at {where}" if where else ""
            raise DocumentError(self.name, f"time limit of {self.seconds:g} s exceeded{at}")


def read_bounded(data: BinaryIO, name: str, limit: int) -> bytes:
    """Read at most ``limit`` bytes; more than that is a :class:`DocumentError`."""
    raw = data.read(limit + 1)
    if len(raw) > limit:
        raise DocumentError(name, f"larger than the {limit} byte limit")
    return raw
