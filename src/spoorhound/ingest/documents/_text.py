"""Plain text and Markdown: decoding with a clear verdict on binary data."""

from __future__ import annotations

import codecs

from spoorhound.ingest.documents._model import Document, DocumentError, Segment

__all__ = ["decode_text", "load_markdown", "load_text"]

# Share of undecodable bytes tolerated (replaced) before the input counts as not text.
_MAX_BAD_RATIO = 0.01
_SNIFF = 8192


def decode_text(raw: bytes, name: str) -> str:
    """Decode ``raw`` as UTF-8 (or UTF-16/32 with a BOM); refuse binary data.

    A handful of stray bytes (a Latin-1 name in an otherwise UTF-8 report) are
    replaced with U+FFFD; more than 1% invalid, or NUL bytes, means the input is
    binary or in another encoding and is refused, because extracting from mojibake
    invents indicators.
    """
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError as exc:
                raise DocumentError(name, f"invalid {enc} text ({exc.reason})") from None
    if b"\x00" in raw[:_SNIFF]:
        raise DocumentError(name, "binary data (NUL bytes), not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad > max(1, len(raw) * _MAX_BAD_RATIO):
        raise DocumentError(name, f"not UTF-8 text ({bad} invalid byte sequences)")
    return text


def load_text(raw: bytes, name: str) -> Document:
    """A plain-text document: one ``body`` segment."""
    return Document(kind="text", title=name, segments=[Segment(decode_text(raw, name), "body")])


def load_markdown(raw: bytes, name: str) -> Document:
    """Markdown is read as text: link targets ``[x](url)`` are already in the text."""
    text = decode_text(raw, name)
    title = name
    for line in text.splitlines()[:50]:
        if line.startswith("# "):
            title = line[2:].strip()
            break
    return Document(kind="markdown", title=title, segments=[Segment(text, "body")])
