"""E-mail (``.eml``, RFC 5322 / MIME) with the standard library's modern policy.

Segments: the headers analysts pivot on (``header From``, ``header Received``, …),
each text body (``body``) and HTML body (``body html`` + its ``link href`` targets),
and one segment per attachment (``attachment invoice.zip``) holding its name, size
and MD5 / SHA-1 / SHA-256, so the extractor finds the file name and hashes.
"""

from __future__ import annotations

import email
import hashlib
from email import policy
from email.message import EmailMessage, Message

from spoorhound.ingest.documents._html import html_to_segments
from spoorhound.ingest.documents._model import (
    Deadline,
    Document,
    DocumentError,
    DocumentLimits,
    Segment,
)
from spoorhound.ingest.documents._text import decode_text

__all__ = ["HEADERS", "load_eml"]

#: Headers whose values are searched for indicators, in this order.
HEADERS = (
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Return-Path",
    "Subject",
    "Message-ID",
    "X-Originating-IP",
    "X-Sender-IP",
    "X-Mailer",
    "User-Agent",
    "Received",
)


def _header_values(msg: Message, header: str) -> list[str]:
    try:
        return [str(v) for v in msg.get_all(header, [])]
    except Exception:  # a malformed header value must not lose the message
        raw = msg.get_all(header, failobj=[]) if isinstance(msg, Message) else []
        return [str(v) for v in raw]


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # undecodable transfer encoding: treat as empty, keep going
        return b""
    return payload if isinstance(payload, bytes) else b""


def _part_text(part: Message, raw: bytes) -> str:
    charset = part.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:  # unknown charset name
        return raw.decode("utf-8", errors="replace")


def load_eml(raw: bytes, name: str, limits: DocumentLimits, deadline: Deadline) -> Document:
    """Parse an RFC 5322 message into header, body and attachment segments."""
    if b"\x00" in raw[:8192]:
        raise DocumentError(name, "binary data (NUL bytes), not an e-mail message")
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # the parser is lenient; anything raised means unusable
        raise DocumentError(name, f"broken e-mail message ({exc})") from None
    segments: list[Segment] = []
    for header in HEADERS:
        for value in _header_values(msg, header):
            segments.append(Segment(value, f"header {header}"))
    subject = _header_values(msg, "Subject")
    parts = 0
    chars = 0
    for part in msg.walk():
        parts += 1
        if parts > limits.max_parts:
            raise DocumentError(name, f"more than {limits.max_parts} MIME parts")
        deadline.check(f"MIME part {parts}")
        if part.is_multipart():
            continue
        filename = _filename(part)
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        payload = _payload_bytes(part)
        chars += len(payload)
        if chars > limits.max_unpacked:
            raise DocumentError(name, f"more than {limits.max_unpacked} bytes of decoded parts")
        if filename or disposition == "attachment" or not ctype.startswith("text/"):
            label = filename or f"part {parts} ({ctype})"
            summary = (
                f"{filename or ''} size {len(payload)} type {ctype} "
                f"md5 {hashlib.md5(payload).hexdigest()} "
                f"sha1 {hashlib.sha1(payload).hexdigest()} "
                f"sha256 {hashlib.sha256(payload).hexdigest()}"
            )
            segments.append(Segment(summary.strip(), f"attachment {label}"))
            continue
        text = _part_text(part, payload)
        if ctype == "text/html":
            _title, html_segments = html_to_segments(text, "body html")
            segments.extend(html_segments)
        else:
            segments.append(Segment(text, "body"))
    title = subject[0] if subject else name
    return Document(kind="eml", title=title, segments=segments)


def _filename(part: Message) -> str | None:
    try:
        if isinstance(part, EmailMessage):
            return part.get_filename()
        return part.get_filename()
    except Exception:  # RFC 2231 parameter garbage
        return None


# Used by the loader's sniffing to recognise a message without an .eml extension.
def looks_like_email(head: bytes) -> bool:
    """True if ``head`` starts with RFC 5322 header lines typical of a message."""
    try:
        text = decode_text(head, "")
    except DocumentError:
        return False
    first = text.lstrip()[:2000].lower()
    starts = ("received:", "return-path:", "from:", "delivered-to:", "mime-version:")
    return first.startswith(starts) and ("\nsubject:" in first or "\nfrom:" in first)
