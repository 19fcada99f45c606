"""MISP events: ``{"Event": {...}}``, ``{"response": [{"Event": ...}, ...]}``, a bare
event, or an array of either.

Events are streamed one at a time (a ``response`` list of thousands of events is not
loaded whole); one event is held in memory while its attributes are read. A bare
event (no ``Event`` wrapper) is read whole.

Every attribute, in ``Event.Attribute`` and in ``Event.Object[].Attribute``, gives
records, or a :class:`Skip` with the reason (``link``, ``comment``, ``attachment`` …
are not indicators). ``line`` is the attribute's 1-based position in the document.

Context: the event's ``info`` starts ``notes`` (then the attribute's comment); event
and attribute tags become tags, except ``tlp:*`` tags, which set ``tlp`` (the
attribute's wins); ``Orgc.name`` is the source; ``first_seen`` is the attribute's
``first_seen`` or else the event ``date``; ``last_seen`` is its ``last_seen`` or else
its ``timestamp`` (last change); ``to_ids``, ``category``, the event and attribute
uuids, and the object's name go to ``attributes``. In an object, attributes that are
context (``port``, ``size-in-bytes``, ``text`` …) are put on the object's indicators
under their ``object_relation`` (``dst-port: 443``) and counted as Skips.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from spoorhound.core.context import normalize_tag, parse_time, parse_tlp
from spoorhound.ingest.formats.jsonstream import JsonItems, first_byte, open_json
from spoorhound.ingest.formats.options import ReadOptions
from spoorhound.ingest.records import RawRecord, ReaderItem, Rejection, Skip

__all__ = ["COMPOSITE_TYPES", "SIMPLE_TYPES", "read"]

#: MISP attribute type → our type hint.
SIMPLE_TYPES: dict[str, str] = {
    "ip-src": "ip",
    "ip-dst": "ip",
    "hostname": "domain",
    "domain": "domain",
    "url": "url",
    "uri": "url",
    "email": "email",
    "email-src": "email",
    "email-dst": "email",
    "email-reply-to": "email",
    "whois-registrant-email": "email",
    "email-subject": "email-subject",
    "md5": "md5",
    "sha1": "sha1",
    "sha224": "sha224",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
    "ssdeep": "ssdeep",
    "tlsh": "tlsh",
    "imphash": "imphash",
    "authentihash": "authentihash",
    "ja3-fingerprint-md5": "ja3",
    "jarm-fingerprint": "jarm",
    "filename": "filename",
    "regkey": "regkey",
    "mutex": "mutex",
    "user-agent": "user-agent",
    "btc": "btc",
    "xmr": "xmr",
    "vulnerability": "cve",
    "AS": "asn",
    "yara": "yara",
    "snort": "snort",
    "pattern-in-memory": "pattern",
    "pattern-in-file": "pattern",
    "pattern-in-traffic": "pattern",
    "mac-address": "mac",
}

#: Composite ``a|b`` types: each part's role. A role that is a type hint gives a
#: record; ``port`` / ``regkey_value`` go to the attributes of the others.
COMPOSITE_TYPES: dict[str, tuple[str, str]] = {
    "ip-dst|port": ("ip", "port"),
    "ip-src|port": ("ip", "port"),
    "hostname|port": ("domain", "port"),
    "domain|ip": ("domain", "ip"),
    "regkey|value": ("regkey", "regkey_value"),
    "malware-sample": ("filename", "md5"),
    **{
        f"filename|{h}": ("filename", h)
        for h in (
            "md5",
            "sha1",
            "sha224",
            "sha256",
            "sha384",
            "sha512",
            "ssdeep",
            "tlsh",
            "imphash",
            "authentihash",
        )
    },
}
_CONTEXT_ROLES = frozenset(("port", "regkey_value"))
_WRAPPERS = frozenset(("Event", "response.item"))


def read(stream: BinaryIO, options: ReadOptions) -> Iterator[ReaderItem]:
    """Yield records and skips for every attribute of the MISP event(s) in ``stream``."""
    head, reader = open_json(stream, options.label(), options.encoding)
    items = JsonItems(reader, "events")
    counter = [0]
    if first_byte(head) == b"[":
        for obj in items.at("item"):
            if isinstance(obj, Rejection):
                yield obj
            else:
                yield from _event(_unwrap(obj), counter)
        return
    rest: dict[str, Any] = {}
    for found in items.walk(
        lambda p: p in _WRAPPERS or (p != "" and "." not in p and p != "response")
    ):
        if isinstance(found, Rejection):
            yield found
            continue
        prefix, obj = found
        if prefix in _WRAPPERS:
            yield from _event(_unwrap(obj), counter)
        else:
            rest[prefix] = obj
    if rest and ("Attribute" in rest or "Object" in rest):
        yield from _event(rest, counter)


def _unwrap(obj: Any) -> Any:
    if isinstance(obj, Mapping) and isinstance(obj.get("Event"), Mapping):
        return obj["Event"]
    return obj


def _tags(obj: Mapping[str, Any]) -> tuple[list[str], str | None]:
    """Tags of an event or attribute, with the TLP pulled out of them."""
    tags: list[str] = []
    tlp = None
    for t in obj.get("Tag") or ():
        name = t.get("name") if isinstance(t, Mapping) else t
        if not isinstance(name, str):
            continue
        if name.lower().startswith("tlp:"):
            try:
                tlp = parse_tlp(name)
                continue
            except ValueError:
                pass  # an unknown tlp:… tag stays a tag
        try:
            tags.append(normalize_tag(name))
        except ValueError:
            continue
    return tags, tlp


def _time(v: Any) -> int | None:
    if v in (None, "", "0", 0):
        return None
    try:
        return parse_time(v)
    except (ValueError, TypeError):
        return None


class _EventContext:
    def __init__(self, ev: Mapping[str, Any]) -> None:
        self.tags, self.tlp = _tags(ev)
        info = ev.get("info")
        self.info = info.strip() if isinstance(info, str) and info.strip() else None
        orgc = ev.get("Orgc")
        self.source = orgc.get("name") if isinstance(orgc, Mapping) else None
        self.date = _time(ev.get("date"))
        self.uuid = ev.get("uuid")


def _event(ev: Any, counter: list[int]) -> Iterator[ReaderItem]:
    if not isinstance(ev, Mapping):
        counter[0] += 1
        yield Rejection(counter[0], f"MISP event is a JSON {type(ev).__name__}, not an object")
        return
    ctx = _EventContext(ev)
    for attr in ev.get("Attribute") or ():
        counter[0] += 1
        yield from _attribute(counter[0], attr, ctx, None, {})
    for obj in ev.get("Object") or ():
        if not isinstance(obj, Mapping):
            continue
        attrs = [a for a in obj.get("Attribute") or () if isinstance(a, Mapping)]
        # Context attributes (a port, a size) describe the object's indicators.
        shared = {
            str(a.get("object_relation") or a.get("type")): a.get("value")
            for a in attrs
            if a.get("type") not in SIMPLE_TYPES and a.get("type") not in COMPOSITE_TYPES
        }
        for a in attrs:
            counter[0] += 1
            yield from _attribute(counter[0], a, ctx, obj, shared)


def _attribute(
    n: int,
    a: Any,
    ctx: _EventContext,
    obj: Mapping[str, Any] | None,
    shared: dict[str, Any],
) -> Iterator[ReaderItem]:
    if not isinstance(a, Mapping):
        yield Rejection(n, "MISP attribute is not an object")
        return
    typ = a.get("type")
    value = a.get("value")
    if not isinstance(typ, str):
        yield Rejection(n, "MISP attribute has no type")
        return
    if typ not in SIMPLE_TYPES and typ not in COMPOSITE_TYPES:
        where = " (kept on the object's indicators)" if obj is not None else ""
        yield Skip(n, f"misp attribute type {typ!r} is not an indicator{where}")
        return
    if not isinstance(value, str | int) or not str(value).strip():
        yield Rejection(n, f"MISP {typ} attribute has no value")
        return
    value = str(value).strip()
    tags, tlp = _tags(a)
    base: dict[str, Any] = {"misp_type": typ, "to_ids": bool(a.get("to_ids"))}
    for key, field in (("category", "category"), ("uuid", "misp_attribute_uuid")):
        if a.get(key):
            base[field] = a[key]
    if ctx.uuid:
        base["misp_event_uuid"] = ctx.uuid
    if obj is not None:
        base["misp_object"] = obj.get("name")
        if a.get("object_relation"):
            base["object_relation"] = a["object_relation"]
        base.update({k: v for k, v in shared.items() if v is not None})
    comment: str = a["comment"] if isinstance(a.get("comment"), str) else ""
    notes = " — ".join(x for x in (ctx.info, comment.strip()) if x) or None
    template = RawRecord(
        n,
        "",
        tags=tuple(dict.fromkeys((*ctx.tags, *tags))),
        first_seen=_time(a.get("first_seen")) or ctx.date,
        last_seen=_time(a.get("last_seen")) or _time(a.get("timestamp")),
        tlp=tlp or ctx.tlp,
        source=ctx.source if isinstance(ctx.source, str) else None,
        notes=notes,
        attributes=base,
    )
    if typ in SIMPLE_TYPES:
        yield _with(template, value, SIMPLE_TYPES[typ], {})
        return
    roles = COMPOSITE_TYPES[typ]
    parts = value.split("|", 1)
    if len(parts) != 2 or not all(p.strip() for p in parts):
        yield Rejection(n, f"MISP {typ} value is not two parts separated by '|'")
        return
    left, right = (p.strip() for p in parts)
    pairs = list(zip(roles, (left, right), strict=True))
    context = {role: v for role, v in pairs if role in _CONTEXT_ROLES}
    indicators = [(role, v) for role, v in pairs if role not in _CONTEXT_ROLES]
    for role, v in indicators:
        # Link the halves of a composite: the hash record names its file and back.
        links = {r: other for r, other in indicators if r != role}
        yield _with(template, v, role, {**context, **links})


def _with(t: RawRecord, value: str, typ: str, extra: dict[str, Any]) -> RawRecord:
    return RawRecord(
        t.line,
        value,
        typ,
        t.tags,
        t.first_seen,
        t.last_seen,
        t.confidence,
        t.tlp,
        t.source,
        t.notes,
        {**t.attributes, **extra},
    )
