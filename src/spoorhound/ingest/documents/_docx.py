"""DOCX (Office Open XML) read with the standard library: ``zipfile`` and a tokenizer.

Why not ``python-docx``: it parses whole parts with lxml and has no notion of a size
budget, so a zip bomb or an entity-expansion payload is its caller's problem. Here
every member's declared and *actual* inflated size is bounded, the compression ratio
is checked, and the XML is never parsed as XML (no entities, no DTD): a linear regex
pulls ``<w:t>`` runs and paragraph breaks, which is all extraction needs.
"""

from __future__ import annotations

import html
import io
import re
import zipfile

from spoorhound.ingest.documents._model import (
    Deadline,
    Document,
    DocumentError,
    DocumentLimits,
    Segment,
)

__all__ = ["load_docx"]

# Parts with visible text, in reading order; numbered parts (header1.xml …) are globbed.
_TEXT_PARTS = re.compile(r"word/(?:document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml")
_TOKEN = re.compile(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>|<w:tab\b[^>]*/>|<w:br\b[^>]*/>|</w:p>")
_TARGET = re.compile(r"<Relationship\b[^>]*>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
# A real document compresses maybe 10:1; 200:1 over a large member is a bomb.
_MAX_RATIO = 200
_RATIO_FLOOR = 1024 * 1024


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, name: str) -> bytes:
    with zf.open(info) as fh:
        data = fh.read(budget + 1)  # the declared size can lie; never inflate past budget
    if len(data) > budget:
        raise DocumentError(name, f"zip bomb: {info.filename} inflates past the size limit")
    return data


def _xml_text(xml: str) -> str:
    out: list[str] = []
    for m in _TOKEN.finditer(xml):
        tok = m.group()
        if m.group(1) is not None:
            out.append(html.unescape(m.group(1)))
        elif tok.startswith("<w:tab"):
            out.append("\t")
        else:
            out.append("\n")
    return "".join(out)


def load_docx(raw: bytes, name: str, limits: DocumentLimits, deadline: Deadline) -> Document:
    """Read the text of a DOCX's body, headers, footers, notes, and its external links."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise DocumentError(name, f"broken DOCX (not a valid zip archive: {exc})") from None
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_unpacked:
        raise DocumentError(name, f"zip bomb: declares {declared} bytes unpacked")
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > _MAX_RATIO * max(
            1, info.compress_size
        ):
            raise DocumentError(name, f"zip bomb: {info.filename} compression ratio too high")
    names = {i.filename: i for i in infos}
    if "word/document.xml" not in names:
        raise DocumentError(name, "not a DOCX (no word/document.xml)")
    budget = limits.max_unpacked
    segments: list[Segment] = []
    try:
        for info in infos:
            if not _TEXT_PARTS.fullmatch(info.filename):
                continue
            deadline.check(info.filename)
            data = _read_member(zf, info, budget, name)
            budget -= len(data)
            text = _xml_text(data.decode("utf-8", errors="replace"))
            part = info.filename.removeprefix("word/").removesuffix(".xml")
            segments.append(Segment(text, "body" if part == "document" else part))
        rels = names.get("word/_rels/document.xml.rels")
        if rels is not None:
            data = _read_member(zf, rels, budget, name)
            for m in _TARGET.finditer(data.decode("utf-8", errors="replace")):
                attrs = dict(_ATTR.findall(m.group()))
                if attrs.get("TargetMode") == "External" and attrs.get("Target"):
                    segments.append(Segment(html.unescape(attrs["Target"]), "link href"))
    except DocumentError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise DocumentError(name, f"broken DOCX ({type(exc).__name__}: {exc})") from None
    # sort body first so "body" reads before headers/footers in the output
    segments.sort(key=lambda s: s.location != "body")
    return Document(kind="docx", title=name, segments=segments)
