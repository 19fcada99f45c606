"""PDF: the text layer, one segment per page (``page 3``), with ``pypdf`` (pure Python).

Scanned PDFs without a text layer yield empty pages (no OCR). Encrypted PDFs are
opened when they only have an owner password (an empty user password, which is
common for "protected" vendor reports); otherwise they are refused.
"""

from __future__ import annotations

import io
import logging

from spoorhound.ingest.documents._model import (
    Deadline,
    Document,
    DocumentError,
    DocumentLimits,
    Segment,
)

__all__ = ["load_pdf"]


def load_pdf(raw: bytes, name: str, limits: DocumentLimits, deadline: Deadline) -> Document:
    """Read a PDF's text layer page by page, within ``limits`` and the ``deadline``."""
    # pypdf is imported here, not at module import, so loading the ingest package does
    # not pay for it; it is a hard dependency of this front-end only.
    import pypdf
    from pypdf.errors import PyPdfError

    # pypdf logs (not raises) about recoverable damage; that is noise for callers.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except (PyPdfError, NotImplementedError, ValueError) as exc:
                raise DocumentError(name, f"encrypted PDF ({exc})") from None
            if not ok:
                raise DocumentError(name, "encrypted PDF (a password is needed)")
        pages = len(reader.pages)
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files; all mean "broken"
        raise DocumentError(name, f"broken PDF ({type(exc).__name__}: {exc})") from None
    if pages > limits.max_pages:
        raise DocumentError(name, f"{pages} pages, over the {limits.max_pages} page limit")
    title = name
    try:
        meta = reader.metadata
        if meta is not None and meta.title:
            title = str(meta.title)
    except Exception:  # damaged metadata must not lose the pages; the file name will do
        pass
    segments: list[Segment] = []
    chars = 0
    for number in range(1, pages + 1):
        deadline.check(f"page {number}")
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except Exception as exc:  # one damaged page content stream: report, do not guess
            raise DocumentError(
                name, f"broken PDF page {number} ({type(exc).__name__}: {exc})"
            ) from None
        chars += len(text)
        if chars > limits.max_chars:
            raise DocumentError(name, f"more than {limits.max_chars} characters of text")
        segments.append(Segment(text, f"page {number}"))
    return Document(kind="pdf", title=title, segments=segments)
