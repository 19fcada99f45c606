"""Document front-ends: turn a report, e-mail or web page into text segments to extract from.

The public surface::

    doc = load_document(stream, "report.pdf")              # DocumentError on bad input
    for seg in doc.segments:                               # Segment(text, "page 3")
        ...
    cands = extract_document(stream, "report.pdf")         # Candidates, context "page 3: …"

Formats (recognised by content first, then by name): plain text, Markdown, HTML
(visible text + link targets), PDF (text layer, per page), e-mail ``.eml`` (headers,
bodies, attachments' names and hashes) and DOCX. Every front-end has byte, page,
character and wall-time limits (:class:`DocumentLimits`) and reports any failure as
one :class:`DocumentError` naming the file and the reason, so a bad file never
takes a batch down with it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import BinaryIO

from spoorhound.core.extract import Candidate, Safelist, extract
from spoorhound.core.indicators import IndicatorType
from spoorhound.ingest.documents._docx import load_docx
from spoorhound.ingest.documents._eml import load_eml, looks_like_email
from spoorhound.ingest.documents._html import load_html
from spoorhound.ingest.documents._model import (
    Deadline,
    Document,
    DocumentError,
    DocumentLimits,
    Segment,
    read_bounded,
)
from spoorhound.ingest.documents._pdf import load_pdf
from spoorhound.ingest.documents._text import decode_text, load_markdown, load_text

__all__ = [
    "DEFAULT_LIMITS",
    "KINDS",
    "Document",
    "DocumentError",
    "DocumentLimits",
    "Segment",
    "detect_kind",
    "extract_document",
    "load_document",
]

#: Every document kind a front-end exists for.
KINDS = ("text", "markdown", "html", "pdf", "eml", "docx")

#: The limits used when the caller passes none.
DEFAULT_LIMITS = DocumentLimits()

_EXTENSIONS = {
    ".txt": "text",
    ".log": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".htm": "html",
    ".html": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".eml": "eml",
    ".docx": "docx",
    ".docm": "docx",
}


def detect_kind(head: bytes, name: str) -> str:
    """Guess the document kind from its first bytes, then its file name."""
    if head.startswith(b"%PDF-") or head[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    lower = name.lower()
    ext = lower[lower.rfind(".") :] if "." in lower else ""
    if head.startswith(b"PK\x03\x04"):
        return "docx" if ext not in (".txt", ".md") else _EXTENSIONS[ext]
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    sniff = head[:2048].lstrip().lower()
    if sniff.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<body" in sniff:
        return "html"
    if looks_like_email(head[:4096]):
        return "eml"
    return "text"


def load_document(
    data: BinaryIO,
    name: str,
    *,
    limits: DocumentLimits = DEFAULT_LIMITS,
    kind: str | None = None,
) -> Document:
    """Read ``data`` (named ``name`` in errors) into a :class:`Document`.

    ``kind`` forces a front-end (one of :data:`KINDS`); by default it is detected.
    Raises :class:`DocumentError` and nothing else.
    """
    try:
        raw = read_bounded(data, name, limits.max_bytes)
    except DocumentError:
        raise
    except (OSError, ValueError) as exc:
        raise DocumentError(name, f"cannot read ({exc})") from None
    kind = kind or detect_kind(raw[:4096], name)
    if kind not in KINDS:
        raise DocumentError(name, f"unknown document kind {kind!r}")
    deadline = Deadline(name, limits.max_seconds)
    try:
        if kind == "pdf":
            doc = load_pdf(raw, name, limits, deadline)
        elif kind == "docx":
            doc = load_docx(raw, name, limits, deadline)
        elif kind == "eml":
            doc = load_eml(raw, name, limits, deadline)
        elif kind == "html":
            doc = load_html(decode_text(raw, name), name)
        elif kind == "markdown":
            doc = load_markdown(raw, name)
        else:
            doc = load_text(raw, name)
    except DocumentError:
        raise
    except RecursionError:
        raise DocumentError(name, f"{kind} structure nested too deeply") from None
    except MemoryError:
        raise DocumentError(name, f"{kind} document too large to hold in memory") from None
    except Exception as exc:
        # The boundary promised to callers: a bad file is one DocumentError naming it,
        # whatever a parser library raised, so the rest of a batch goes on.
        raise DocumentError(name, f"unreadable {kind} ({type(exc).__name__}: {exc})") from None
    if sum(len(s.text) for s in doc.segments) > limits.max_chars:
        raise DocumentError(name, f"more than {limits.max_chars} characters of text")
    deadline.check("end of reading")
    return doc


def extract_document(
    data: BinaryIO,
    name: str,
    *,
    limits: DocumentLimits = DEFAULT_LIMITS,
    types: Collection[IndicatorType] | None = None,
    safelist: Safelist | None = None,
    kind: str | None = None,
) -> list[Candidate]:
    """Load a document and extract from each segment.

    Each candidate's ``context`` starts with its segment's location (``page 3: …``);
    ``start``/``end`` are offsets into that segment's text. Raises :class:`DocumentError`.
    """
    doc = load_document(data, name, limits=limits, kind=kind)
    deadline = Deadline(name, limits.max_seconds)
    out: list[Candidate] = []
    for seg in doc.segments:
        deadline.check(seg.location)
        for cand in extract(seg.text, types=types, safelist=safelist):
            out.append(replace(cand, context=f"{seg.location}: {cand.context}"))
    return out
