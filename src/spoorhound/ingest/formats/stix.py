"""STIX 2.0 and 2.1 bundles: indicators (patterns) and cyber-observable objects.

Objects are streamed one at a time from ``objects`` (or from a top-level array of
objects). Each object gives records, or one :class:`Skip` when it is not an indicator
(``stix object type 'malware' is not an indicator``), or a :class:`Rejection` (bad
pattern). ``line`` is the object's 1-based index in the bundle.

Patterns are parsed with ``stix2patterns``; each ``=`` comparison on a supported
object path is one record (``ISSUBSET`` on an address gives the CIDR). ``OR``
patterns give several independent records; atoms of ``AND`` / ``FOLLOWEDBY``
patterns are marked ``attributes["pattern_compound"]``, since alone each one is
weaker than the pattern. Unsupported comparisons (x509 certificates, most
network-traffic paths) each become a Skip with the path.

**Relationships.** ``indicates`` relationships add the target's name as a tag
(``malware:Poison Ivy``, ``actor:APT1``, ``campaign:…``). Relationships usually come
*after* the indicators and the stream may be a pipe, so indicator records are held
back until the end of the bundle, up to :data:`BUFFER_LIMIT` records; past that they
are released with the tags known so far and later indicators go out at once. The
id → name and indicator → targets maps are kept for the whole bundle (small: one
entry per SDO or relationship).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from stix2patterns.pattern import Pattern

from spoorhound.core.context import normalize_tag, parse_confidence, parse_time, parse_tlp
from spoorhound.ingest.formats.jsonstream import JsonItems, first_byte, open_json
from spoorhound.ingest.formats.options import ReadOptions
from spoorhound.ingest.records import RawRecord, ReaderItem, Rejection, Skip, excerpt

__all__ = ["BUFFER_LIMIT", "read"]

#: Indicator records held back waiting for relationships (about 1 KB each).
BUFFER_LIMIT = 200_000

# (object type, property path) → type hint
_PATHS: dict[tuple[str, str], str] = {
    ("ipv4-addr", "value"): "ip",
    ("ipv6-addr", "value"): "ip",
    ("domain-name", "value"): "domain",
    ("url", "value"): "url",
    ("email-addr", "value"): "email",
    ("file", "name"): "filename",
    ("windows-registry-key", "key"): "regkey",
    ("mutex", "name"): "mutex",
    ("autonomous-system", "number"): "asn",
    ("network-traffic", "dst_ref.value"): "",  # an address or a name: detection decides
    ("network-traffic", "src_ref.value"): "",
    ("email-message", "from_ref.value"): "email",
}
_HASHES = {
    "md5": "md5",
    "sha-1": "sha1",
    "sha1": "sha1",
    "sha-256": "sha256",
    "sha256": "sha256",
    "sha-512": "sha512",
    "sha512": "sha512",
    "ssdeep": "ssdeep",
    "tlsh": "tlsh",
}
_TAG_PREFIX = {
    "malware": "malware:",
    "threat-actor": "actor:",
    "intrusion-set": "actor:",
    "campaign": "campaign:",
    "tool": "tool:",
}
_SCO_TYPES = frozenset(
    (
        "ipv4-addr",
        "ipv6-addr",
        "domain-name",
        "url",
        "email-addr",
        "file",
        "windows-registry-key",
        "mutex",
        "autonomous-system",
    )
)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")
_AND = re.compile(r"\b(AND|FOLLOWEDBY)\b")


class _Bundle:
    """What is learnt about the bundle while streaming it."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # SDO id → tag
        self.indicates: dict[str, list[str]] = {}  # indicator id → target ids
        self.markings: dict[str, str] = {}  # custom TLP marking id → level
        self.held: list[tuple[str, list[str], RawRecord]] = []  # (id, marking refs, record)
        self.holding = True

    def finish(self, rec: RawRecord, ind_id: str, refs: list[str]) -> RawRecord:
        """Add relationship tags and late-defined TLP markings to ``rec``."""
        extra = [self.names[t] for t in self.indicates.get(ind_id, ()) if t in self.names]
        if extra:
            rec.tags = tuple(dict.fromkeys((*rec.tags, *extra)))
        if rec.tlp is None:
            for ref in refs:
                if ref in self.markings:
                    rec.tlp = self.markings[ref]
                    break
        return rec

    def release(self) -> Iterator[RawRecord]:
        held, self.held = self.held, []
        for ind_id, refs, rec in held:
            yield self.finish(rec, ind_id, refs)


def read(stream: BinaryIO, options: ReadOptions) -> Iterator[ReaderItem]:
    """Yield records, skips and rejections for the objects of a STIX bundle."""
    head, reader = open_json(stream, options.label(), options.encoding)
    items = JsonItems(reader, "objects")
    prefix = "item" if first_byte(head) == b"[" else "objects.item"
    bundle = _Bundle()
    idx = 0
    for obj in items.at(prefix):
        if isinstance(obj, Rejection):
            yield obj
            continue
        idx += 1
        for out in _object(idx, obj, bundle):
            if isinstance(out, tuple):
                ind_id, refs, rec = out
                if bundle.holding:
                    bundle.held.append(out)
                    if len(bundle.held) >= BUFFER_LIMIT:
                        bundle.holding = False
                        yield from bundle.release()
                else:
                    yield bundle.finish(rec, ind_id, refs)
            else:
                yield out
    yield from bundle.release()


def _object(
    idx: int, obj: Any, bundle: _Bundle
) -> Iterator[ReaderItem | tuple[str, list[str], RawRecord]]:
    if not isinstance(obj, Mapping):
        yield Rejection(idx, f"stix object is a JSON {type(obj).__name__}, not an object")
        return
    typ = obj.get("type")
    if not isinstance(typ, str):
        yield Rejection(idx, "stix object has no type", excerpt(repr(obj)))
        return
    oid = obj.get("id") if isinstance(obj.get("id"), str) else ""
    if typ == "indicator":
        yield from _indicator(idx, obj, str(oid))
        return
    if typ in _SCO_TYPES:
        yield from _observable(idx, typ, obj)
        return
    if typ == "relationship":
        if obj.get("relationship_type") == "indicates":
            src, dst = obj.get("source_ref"), obj.get("target_ref")
            if isinstance(src, str) and isinstance(dst, str):
                bundle.indicates.setdefault(src, []).append(dst)
    elif typ in _TAG_PREFIX and isinstance(obj.get("name"), str):
        # An unusable name only loses a tag.
        with contextlib.suppress(ValueError):
            bundle.names[str(oid)] = normalize_tag(_TAG_PREFIX[typ] + obj["name"])
    elif typ == "marking-definition":
        level = _marking_level(obj)
        if level is not None:
            bundle.markings[str(oid)] = level
    yield Skip(idx, f"stix object type {typ!r} is not an indicator")


def _marking_level(obj: Mapping[str, Any]) -> str | None:
    definition = obj.get("definition")
    candidates: list[Any] = []
    if isinstance(definition, Mapping):
        candidates.append(definition.get("tlp"))
    for ext in (obj.get("extensions") or {}).values():
        if isinstance(ext, Mapping):
            candidates.append(ext.get("tlp_2_0"))
    candidates.append(obj.get("name"))
    for c in candidates:
        if isinstance(c, str):
            try:
                return parse_tlp(c)
            except ValueError:
                continue
    return None


def _context(idx: int, obj: Mapping[str, Any], kind_tags: bool) -> RawRecord | Rejection:
    """A template record carrying the object's context (value filled in later)."""
    rec = RawRecord(idx, "")
    try:
        if kind_tags:
            tags = [
                t
                for k in ("labels", "indicator_types")
                for t in obj.get(k) or ()
                if isinstance(t, str)
            ]
            rec.tags = tuple(dict.fromkeys(normalize_tag(t) for t in tags))
        if obj.get("valid_from"):
            rec.first_seen = parse_time(obj["valid_from"])
        if obj.get("confidence") is not None:
            rec.confidence = parse_confidence(obj["confidence"])
        for ref in obj.get("object_marking_refs") or ():
            try:
                rec.tlp = parse_tlp(ref)
                break
            except (ValueError, AttributeError):
                continue
        for key in ("valid_until", "created", "modified"):
            if obj.get(key):
                rec.attributes[key] = parse_time(obj[key])
    except (ValueError, TypeError) as e:
        return Rejection(idx, f"stix {obj.get('type')}: bad property: {e}")
    name, desc = obj.get("name"), obj.get("description")
    notes = [x for x in (name, desc) if isinstance(x, str) and x.strip()]
    rec.notes = ": ".join(notes) or None
    for key in ("id", "created_by_ref"):
        if isinstance(obj.get(key), str):
            rec.attributes["stix_" + key if key == "id" else key] = obj[key]
    return rec


def _copy(t: RawRecord, value: str, typ: str | None, **attrs: Any) -> RawRecord:
    return RawRecord(
        t.line,
        value,
        typ or None,
        t.tags,
        t.first_seen,
        t.last_seen,
        t.confidence,
        t.tlp,
        t.source,
        t.notes,
        {**t.attributes, **attrs},
    )


def _literal(v: str) -> str | None:
    """The text of a pattern literal: quoted strings unescaped, numbers as is."""
    if len(v) >= 2 and v[0] == "'" and v[-1] == "'":
        return v[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    if v[:2] in ("h'", "b'"):
        return None  # hex/binary literals are byte patterns, not indicators
    return v


def _indicator(
    idx: int, obj: Mapping[str, Any], oid: str
) -> Iterator[ReaderItem | tuple[str, list[str], RawRecord]]:
    pattern = obj.get("pattern")
    ptype = obj.get("pattern_type", "stix")
    if ptype != "stix":
        yield Skip(idx, f"indicator pattern_type {ptype!r} is not a STIX pattern; not imported")
        return
    if not isinstance(pattern, str) or not pattern.strip():
        yield Rejection(idx, "indicator has no pattern")
        return
    try:
        data = Pattern(pattern).inspect()
    except Exception as e:
        yield Rejection(idx, f"STIX pattern syntax error: {e}", excerpt(pattern))
        return
    t = _context(idx, obj, kind_tags=True)
    if isinstance(t, Rejection):
        yield t
        return
    compound = None
    m = _AND.search(_QUOTED.sub("''", pattern))
    if m is not None:
        compound = m.group(1)
    refs = [r for r in obj.get("object_marking_refs") or () if isinstance(r, str)]
    for otype, comparisons in data.comparisons.items():
        for path_parts, op, raw in comparisons:
            path = ".".join(str(p) for p in path_parts)
            where = f"{otype}:{path}"
            hint = _hint(otype, path_parts)
            if hint is None:
                yield Skip(idx, f"pattern comparison on {where} is not supported")
                continue
            if op == "ISSUBSET" and otype in ("ipv4-addr", "ipv6-addr"):
                hint = "cidr"
            elif op != "=":
                yield Skip(idx, f"pattern operator {op} on {where} is not supported")
                continue
            value = _literal(str(raw))
            if not value:
                yield Skip(idx, f"pattern value on {where} is not text")
                continue
            attrs: dict[str, Any] = {"stix_path": where}
            if compound:
                attrs["pattern_compound"] = compound
            yield oid, refs, _copy(t, value, hint, **attrs)


def _hint(otype: str, parts: list[Any]) -> str | None:
    if otype == "file" and len(parts) == 2 and parts[0] == "hashes":
        return _HASHES.get(str(parts[1]).lower())
    return _PATHS.get((otype, ".".join(str(p) for p in parts)))


def _observable(idx: int, typ: str, obj: Mapping[str, Any]) -> Iterator[ReaderItem]:
    t = _context(idx, obj, kind_tags=False)
    if isinstance(t, Rejection):
        yield t
        return
    if typ == "file":
        hashes: Mapping[str, Any] = obj["hashes"] if isinstance(obj.get("hashes"), Mapping) else {}
        name: str | None = obj["name"] if isinstance(obj.get("name"), str) else None
        found = False
        for algo, h in hashes.items():
            hint = _HASHES.get(str(algo).lower())
            if hint and isinstance(h, str) and h.strip():
                found = True
                yield _copy(t, h.strip(), hint, **({"filename": name} if name else {}))
        if not found and name:
            found = True
            yield _copy(t, name, "filename")
        if not found:
            yield Skip(idx, "stix file object has neither hashes nor a name")
        return
    key = {"windows-registry-key": "key", "mutex": "name", "autonomous-system": "number"}.get(
        typ, "value"
    )
    v = obj.get(key)
    if isinstance(v, int | str) and not isinstance(v, bool) and str(v).strip():
        yield _copy(t, str(v).strip(), _PATHS[(typ, key)])
    else:
        yield Rejection(idx, f"stix {typ} object has no {key}", excerpt(repr(obj)))
