"""Guess an input's format from its first bytes, with the file name as a hint.

Content decides first, because feeds are routinely served with the wrong extension
(``.txt`` CSVs, ``.json`` JSON Lines); the extension breaks ties between shapes
that the head alone cannot tell apart (a one-column CSV and a plain list).
"""

from __future__ import annotations

import codecs
import csv
import io
import re

import ijson
import orjson

from spoorhound.ingest.formats.fields import plan

__all__ = ["FORMAT_NAMES", "sniff_format"]

#: Every name :func:`sniff_format` can return.
FORMAT_NAMES = ("plain", "csv", "tsv", "json", "jsonl", "stix", "misp", "text")

_BUNDLE = re.compile(rb'"type"\s*:\s*"bundle"')
_STIX_OBJECT = re.compile(
    rb'"type"\s*:\s*"indicator"[^{}]*"pattern"\s*:|"spec_version"\s*:\s*"2\.[01]"'
)
_MISP = re.compile(rb'^\s*[\[{]?\s*\{?\s*"(Event|response)"\s*:')
_MISP_BARE = re.compile(rb'"Attribute"\s*:\s*\[')
_MISP_INFO = re.compile(rb'"(info|threat_level_id|Orgc)"\s*:')
_EXT = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
_TEXTUAL_EXT = (".md", ".html", ".htm", ".eml", ".log", ".rst")
_DELIMS = (",", "\t", ";", "|")


def _decode(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "replace")
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    return head.decode("utf-8", "replace")


def _extension(name: str | None) -> str:
    if not name:
        return ""
    base = name.lower()
    for comp in (".gz", ".zip"):
        if base.endswith(comp):
            base = base[: -len(comp)]
    dot = base.rfind(".")
    return base[dot:] if dot > base.rfind("/") else ""


def sniff_format(head: bytes, name: str | None = None) -> str:
    """Return the format of a (decompressed) input from its first bytes.

    One of :data:`FORMAT_NAMES`. JSON is ``stix`` when it is a bundle (or STIX
    objects), ``misp`` when it has a top-level ``Event`` or ``response`` (or is a
    bare event), ``jsonl`` when its first line is a complete JSON value followed by
    another, else ``json``. Delimited text is ``csv``/``tsv`` when its header has a
    recognised column name or every line has the same number of delimiters. Lines
    that are mostly single tokens are ``plain``; prose is ``text``.
    """
    ext = _extension(name)
    text = _decode(head)
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[") and _looks_json(text):
        return _sniff_json(head, stripped, ext)
    lines = [
        ln
        for ln in text.splitlines()[:50]
        if ln.strip() and not ln.lstrip().startswith(("#", "//"))
    ]
    if len(head) >= 4096 and len(lines) > 1 and not head.endswith((b"\n", b"\r")):
        lines = lines[:-1]  # the last line of a cut head may be partial
    if not lines:
        return _EXT.get(ext, "plain") if ext in (".csv", ".tsv") else "plain"
    delimited = _sniff_delimited(lines, ext)
    if delimited is not None:
        return delimited
    single = sum(1 for ln in lines if len(ln.split(" #")[0].split()) == 1)
    if single >= 0.8 * len(lines) and ext not in _TEXTUAL_EXT:
        return "plain"
    return "text"


def _looks_json(text: str) -> bool:
    """Whether the head parses as JSON up to where it was cut (log lines such as
    ``[Sun Dec 04 …]`` also start with a bracket)."""
    data = text.encode("utf-8")
    try:
        for _ in ijson.basic_parse(io.BytesIO(data), multiple_values=True):
            pass
    except ijson.JSONError as e:
        msg = e.args[0] if e.args else ""
        if isinstance(msg, bytes):
            msg = msg.decode("utf-8", "replace")
        return "premature EOF" in str(msg)
    return True


def _sniff_json(head: bytes, stripped: str, ext: str) -> str:
    if _BUNDLE.search(head):
        return "stix"
    if _MISP.search(head) or (_MISP_BARE.search(head) and _MISP_INFO.search(head)):
        return "misp"
    if _STIX_OBJECT.search(head) and b'"pattern"' in head:
        return "stix"
    first, _, rest = stripped.partition("\n")
    if rest.strip():
        try:
            orjson.loads(first)
        except orjson.JSONDecodeError:
            pass
        else:
            return "jsonl"
    if ext == ".jsonl" or ext == ".ndjson":
        return "jsonl"
    return "json"


def _sniff_delimited(lines: list[str], ext: str) -> str | None:
    header = lines[0].lstrip("#").strip()
    for d in _DELIMS:
        if d not in header:
            continue
        names = next(csv.reader([header], delimiter=d))
        if len(names) > 1 and plan(names).recognised():
            return "tsv" if d == "\t" else "csv"
    for d in _DELIMS:
        counts = {_count_fields(ln, d) for ln in lines}
        if len(counts) == 1 and counts.pop() > 1 and (len(lines) > 1 or ext in _EXT):
            return "tsv" if d == "\t" else "csv"
    if ext in (".csv", ".tsv") and len(lines) > 0:
        return _EXT[ext]
    return None


def _count_fields(line: str, d: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=d)))
    except (csv.Error, StopIteration):
        return 0
