"""The column/key alias table shared by the CSV and JSON readers, and the row mapper.

A CSV header and the keys of a JSON object are matched against the same table, so
``dst_ip`` means the same in a Feodo Tracker CSV and in a JSON export. Names are
compared after lower-casing and turning spaces and dashes into underscores
(``First Seen`` → ``first_seen``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spoorhound.core.context import normalize_tag, parse_confidence, parse_time, parse_tlp
from spoorhound.ingest.records import RawRecord, Rejection, excerpt

__all__ = [
    "FIELD_ALIASES",
    "VALUE_COLUMNS",
    "RowBuilder",
    "RowPlan",
    "build_record",
    "canonical_name",
    "compile_builder",
    "plan",
]

#: Columns that hold the indicator, in order of preference (the first present wins),
#: with the type they imply. Generic names imply nothing: type detection decides.
VALUE_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("value", None),
    ("indicator", None),
    ("ioc", None),
    ("ioc_value", None),
    ("observable", None),
    ("observable_value", None),
    ("url", "url"),
    ("dst_ip", "ip"),
    ("ip", "ip"),
    ("ip_address", "ip"),
    ("ipv4", "ip"),
    ("ipv6", "ip"),
    ("src_ip", "ip"),
    ("domain", "domain"),
    ("domain_name", "domain"),
    ("hostname", "domain"),
    ("fqdn", "domain"),
    ("host", None),  # a host can be a name or an address
    ("sha256", "sha256"),
    ("sha256_hash", "sha256"),
    ("sha1", "sha1"),
    ("sha1_hash", "sha1"),
    ("md5", "md5"),
    ("md5_hash", "md5"),
    ("sha512", "sha512"),
    ("hash", None),
    ("email", "email"),
    ("email_address", "email"),
)

#: Context fields and the column names they are read from, first present wins
#: (except ``tags``: every tag column present contributes).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "type": ("type", "indicator_type", "ioc_type", "kind", "observable_type"),
    "tags": ("tags", "tag", "labels", "label", "malware", "malware_family", "family", "threat"),
    "first_seen": (
        "first_seen",
        "first_seen_utc",
        "firstseen",
        "dateadded",
        "date_added",
        "created",
        "first",
    ),
    "last_seen": (
        "last_seen",
        "last_seen_utc",
        "lastseen",
        "last_online",
        "last",
        "modified",
        "updated",
    ),
    "confidence": ("confidence", "confidence_level"),
    "tlp": ("tlp", "tlp_level"),
    "source": ("source", "reporter", "feed", "provider"),
    "notes": ("notes", "note", "description", "comment", "comments", "context"),
}

# Tag columns that name a malware family become namespaced tags (``malware:Pikabot``).
_TAG_PREFIX = {"malware": "malware:", "malware_family": "malware:", "family": "malware:"}
_TAG_SPLIT = re.compile(r"[,;|]")
_NAME_CLEAN = re.compile(r"[\s\-]+")

Key = int | str


def canonical_name(name: str) -> str:
    """Return a column or key name in the form the alias table uses."""
    return _NAME_CLEAN.sub("_", name.strip().lstrip("#").strip().lower())


@dataclass(frozen=True, slots=True)
class RowPlan:
    """Where each field of a row comes from: column indexes (CSV) or keys (JSON)."""

    value: Key | None
    value_name: str
    type_hint: str | None
    type: Key | None
    tags: tuple[tuple[Key, str, str], ...]  # (key, column name, prefix)
    times: tuple[tuple[Key, str, str], ...]  # (key, column name, field)
    confidence: tuple[Key, str] | None
    tlp: tuple[Key, str] | None
    source: Key | None
    notes: Key | None
    attributes: tuple[tuple[Key, str], ...]

    def recognised(self) -> bool:
        """Whether any column was recognised (used to tell a header from data)."""
        return (
            self.value is not None
            or self.type is not None
            or bool(self.tags or self.times)
            or self.confidence is not None
            or self.tlp is not None
        )


def plan(
    names: Sequence[str],
    keys: Sequence[Key] | None = None,
    column_map: Mapping[str, str] | None = None,
) -> RowPlan:
    """Map column ``names`` (a CSV header, or a JSON object's keys) to fields.

    ``keys`` are what rows are indexed by (defaults to the positions). An explicit
    ``column_map`` (field → column name) wins over the alias table; columns it does
    not claim are still auto-mapped.
    """
    ks: Sequence[Key] = keys if keys is not None else list(range(len(names)))
    canon = [canonical_name(n) for n in names]
    by_name: dict[str, int] = {}
    i: int | None
    for i, c in enumerate(canon):
        by_name.setdefault(c, i)
    used: set[int] = set()
    chosen: dict[str, list[int]] = {}
    if column_map:
        for fld, col in column_map.items():
            i = by_name.get(canonical_name(col))
            if i is not None:
                chosen.setdefault(fld, []).append(i)
                used.add(i)
    value_i: int | None = chosen["value"][0] if "value" in chosen else None
    hint: str | None = None
    if value_i is None:
        for alias, implied in VALUE_COLUMNS:
            i = by_name.get(alias)
            if i is not None and i not in used:
                value_i, hint = i, implied
                used.add(i)
                break
    for fld, aliases in FIELD_ALIASES.items():
        if fld in chosen:
            continue
        for alias in aliases:
            i = by_name.get(alias)
            if i is not None and i not in used:
                chosen.setdefault(fld, []).append(i)
                used.add(i)
                if fld != "tags":
                    break

    def one(fld: str) -> int | None:
        return chosen[fld][0] if fld in chosen else None

    def key(i: int | None) -> Key | None:
        return None if i is None else ks[i]

    conf, tlp = one("confidence"), one("tlp")
    return RowPlan(
        value=key(value_i),
        value_name=names[value_i] if value_i is not None else "",
        type_hint=hint,
        type=key(one("type")),
        tags=tuple(
            (ks[i], names[i], _TAG_PREFIX.get(canon[i], "")) for i in chosen.get("tags", [])
        ),
        times=tuple(
            (ks[i], names[i], fld)
            for fld in ("first_seen", "last_seen")
            for i in chosen.get(fld, [])
        ),
        confidence=None if conf is None else (ks[conf], names[conf]),
        tlp=None if tlp is None else (ks[tlp], names[tlp]),
        source=key(one("source")),
        notes=key(one("notes")),
        attributes=tuple((ks[i], names[i]) for i in range(len(names)) if i not in used),
    )


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        v = v.strip()
        return v or None
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int | float):
        return str(v)
    return None


def _tags(v: Any, prefix: str) -> Iterable[str]:
    parts: Iterable[Any] = _TAG_SPLIT.split(v) if isinstance(v, str) else v
    if not isinstance(parts, list | tuple):
        parts = [parts]
    for p in parts:
        t = _text(p)
        if t:
            yield normalize_tag(prefix + t if prefix and ":" not in t else t)


def build_record(
    line: int, row: Sequence[Any] | Mapping[str, Any], p: RowPlan, default_type: str | None
) -> RawRecord | Rejection:
    """Turn one row (CSV fields or a JSON object) into a record, or say why not."""
    r: Any = row  # indexed by int for CSV rows, by str for JSON objects
    value = _text(r[p.value]) if p.value is not None else None
    if value is None:
        what = f"column {p.value_name!r} is empty" if p.value is not None else "no value column"
        return Rejection(line, f"no indicator value: {what}", excerpt(str(row)))
    rec = RawRecord(line, value, p.type_hint or default_type)
    if p.type is not None:
        t = _text(r[p.type])
        if t:
            rec.type = t
    col = ""
    try:
        if p.tags:
            tags: list[str] = []
            for k, name, prefix in p.tags:
                col = name  # named in the rejection if this column is bad
                v = r[k]
                if v:
                    tags.extend(_tags(v, prefix))
            rec.tags = tuple(dict.fromkeys(tags))
        for k, name, fld in p.times:
            col = name
            v = r[k]
            if v not in (None, ""):
                setattr(rec, fld, parse_time(v))
        if p.confidence is not None:
            k, col = p.confidence
            v = r[k]
            if v not in (None, ""):
                rec.confidence = parse_confidence(v)
        if p.tlp is not None:
            k, col = p.tlp
            v = _text(r[k])
            if v:
                rec.tlp = parse_tlp(v)
    except (ValueError, TypeError) as e:
        return Rejection(line, f"column {col!r}: {e}", excerpt(str(row)))
    if p.source is not None:
        rec.source = _text(r[p.source])
    if p.notes is not None:
        rec.notes = _text(r[p.notes])
    for k, name in p.attributes:
        v = r[k]
        if v not in (None, ""):
            rec.attributes[name] = v
    return rec


# --- compiled row builders --------------------------------------------------------
#
# build_record() interprets a RowPlan for every row. A file's rows all share one
# plan, so readers compile it once into a function that does only that plan's work:
# fixed column indexes or keys, no loops over the plan, and per-file memos for the
# small-domain cells (tag lists, confidence, TLP), whose conversions are pure. The
# result is the same as build_record's for every row; tests/ingest check both on
# the same rows.

#: A compiled builder: ``(line, row) → record or rejection``.
RowBuilder = Callable[[int, Any], RawRecord | Rejection]
#: Called for a row with no value: ``(line, row, reason)``. The default makes the
#: Rejection; the CSV reader's also recognises blank lines, which are not rows.
NoValue = Callable[[int, Any, str], Rejection]

#: Entries a memo holds before it is emptied (a file of distinct tag lists must not
#: grow one without bound).
MEMO_MAX = 100_000


def _reject(line: int, row: Any, reason: str) -> Rejection:
    return Rejection(line, reason, excerpt(str(row)))


def _memo_put(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if len(memo) >= MEMO_MAX:
        memo.clear()
    memo[key] = value


def _tags_of_str(memo: dict[str, tuple[str, ...]], v: str, prefix: str) -> tuple[str, ...]:
    # A tag cell as build_record reads it: empty adds nothing; duplicates go.
    tags = tuple(dict.fromkeys(_tags(v, prefix))) if v else ()
    _memo_put(memo, v, tags)
    return tags


def _tags_of_any(
    memo: dict[tuple[Any, ...], tuple[str, ...]], v: Any, prefix: str
) -> tuple[str, ...]:
    # A non-string JSON value (truthy). Lists of strings are memoised by their
    # tuple (the builder looks them up); only all-string keys are stored, so that a
    # hit is never a list whose items merely compare equal (1 == True) but read
    # differently.
    tags = tuple(dict.fromkeys(_tags(v, prefix)))
    if type(v) is list and all(type(x) is str for x in v):
        _memo_put(memo, tuple(v), tags)
    return tags


def _confidence(memo: dict[Any, int], v: Any) -> int:
    c = parse_confidence(v)
    if type(v) is str or type(v) is int:
        _memo_put(memo, v, c)
    return c


def _tlp_of_str(memo: dict[str, str], v: str) -> str | None:
    t = v.strip()
    if not t:
        return None
    level = parse_tlp(t)
    _memo_put(memo, v, level)
    return level


def compile_builder(
    p: RowPlan,
    default_type: str | None,
    *,
    strings: bool,
    no_value: NoValue = _reject,
) -> RowBuilder:
    """Compile plan ``p`` into a function that does what :func:`build_record` does.

    ``strings`` says every cell is a ``str`` (CSV rows); otherwise cells are any
    JSON value. ``no_value`` makes the rejection for a row without a value.
    """
    env: dict[str, Any] = {
        "RawRecord": RawRecord,
        "Rejection": Rejection,
        "excerpt": excerpt,
        "_text": _text,
        "parse_time": parse_time,
        "parse_confidence": parse_confidence,
        "parse_tlp": parse_tlp,
        "no_value": no_value,
        "tags_of_str": _tags_of_str,
        "tags_of_any": _tags_of_any,
        "confidence_of": _confidence,
        "tlp_of_str": _tlp_of_str,
        "CONF": {},
        "TLP": {},
    }
    out = ["def build(line, r):"]
    add = out.append
    if p.value is None:
        add("    return no_value(line, r, 'no indicator value: no value column')")
        return _exec(out, env)
    empty = f"no indicator value: column {p.value_name!r} is empty"
    if strings:
        add(f"    v = r[{p.value!r}].strip()")
    else:
        add(f"    v = r[{p.value!r}]")
        add("    v = (v.strip() or None) if type(v) is str else _text(v)")
    add(f"    if not v:\n        return no_value(line, r, {empty!r})")
    add(f"    typ = {p.type_hint or default_type!r}")
    if p.type is not None:
        add(f"    x = {_cell_text(p.type, strings)}")
        add("    if x:\n        typ = x")
    add(
        "    tags = ()\n    first_seen = None\n    last_seen = None\n    conf = None\n    tlp = None"
    )
    if p.tags or p.times or p.confidence is not None or p.tlp is not None:
        add("    try:")
        _emit_conversions(p, strings, env, add)
        add("    except (ValueError, TypeError) as e:")
        add("        return Rejection(line, f'column {col!r}: {e}', excerpt(str(r)))")
    src = _cell_text(p.source, strings) if p.source is not None else "None"
    notes = _cell_text(p.notes, strings) if p.notes is not None else "None"
    if p.attributes:
        add("    a = {}")
        for k, name in p.attributes:
            add(f"    x = r[{k!r}]")
            add(f"    if {'x' if strings else _PRESENT}:")
            add(f"        a[{name!r}] = x")
    else:
        add("    a = {}")
    add(
        "    return RawRecord(line, v, typ, tags, first_seen, last_seen, conf, tlp, "
        f"{src}, {notes}, a)"
    )
    return _exec(out, env)


# build_record's test for "a value is there" on any JSON value.
_PRESENT = 'x not in (None, "")'


def _cell_text(k: Key, strings: bool) -> str:
    """An expression for ``_text(r[k])``."""
    if strings:
        return f"(r[{k!r}].strip() or None)"
    return f"((r[{k!r}].strip() or None) if type(r[{k!r}]) is str else _text(r[{k!r}]))"


def _emit_conversions(
    p: RowPlan, strings: bool, env: dict[str, Any], add: Callable[[str], None]
) -> None:
    # The conversions that can fail, in build_record's order (the first failure
    # names its column): tags, times, confidence, TLP.
    parts = []
    for i, (k, name, prefix) in enumerate(p.tags):
        env[f"TAGS{i}"], env[f"LTAGS{i}"] = {}, {}
        add(f"        col = {name!r}\n        x = r[{k!r}]")
        body = (
            f"t{i} = TAGS{i}.get(x)\n"
            f"if t{i} is None:\n    t{i} = tags_of_str(TAGS{i}, x, {prefix!r})"
        )
        if strings:
            add(_indent(body, 8))
        else:
            add("        if type(x) is str:")
            add(_indent(body, 12))
            add("        elif type(x) is list:")
            add(f"            try:\n                t{i} = LTAGS{i}.get(tuple(x))")
            add(f"            except TypeError:\n                t{i} = None")
            add(
                f"            if t{i} is None:\n                t{i} = tags_of_any(LTAGS{i}, x, {prefix!r}) if x else ()"
            )
            add(f"        elif x:\n            t{i} = tags_of_any(LTAGS{i}, x, {prefix!r})")
            add(f"        else:\n            t{i} = ()")
        parts.append(f"t{i}")
    if len(parts) == 1:
        add("        tags = t0")
    elif parts:
        add(f"        tags = tuple(dict.fromkeys({' + '.join(parts)}))")
    present = "x" if strings else _PRESENT
    for k, name, fld in p.times:
        add(f"        col = {name!r}\n        x = r[{k!r}]")
        add(f"        if {present}:\n            {fld} = parse_time(x)")
    if p.confidence is not None:
        k, name = p.confidence
        add(f"        col = {name!r}\n        x = r[{k!r}]")
        body = "conf = CONF.get(x)\nif conf is None:\n    conf = confidence_of(CONF, x)"
        if strings:
            add(f"        if x:\n{_indent(body, 12)}")
        else:
            add(f"        if {present}:")
            add("            if type(x) is str or type(x) is int:")
            add(_indent(body, 16))
            add("            else:\n                conf = parse_confidence(x)")
    if p.tlp is not None:
        k, name = p.tlp
        add(f"        col = {name!r}\n        x = r[{k!r}]")
        body = "tlp = TLP.get(x)\nif tlp is None:\n    tlp = tlp_of_str(TLP, x)"
        if strings:
            add(f"        if x:\n{_indent(body, 12)}")
        else:
            add("        if type(x) is str:")
            add(f"            if x:\n{_indent(body, 16)}")
            add("        else:\n            x = _text(x)")
            add("            if x:\n                tlp = parse_tlp(x)")


def _indent(code: str, n: int) -> str:
    return "\n".join(" " * n + line for line in code.split("\n"))


def _exec(lines: list[str], env: dict[str, Any]) -> RowBuilder:
    code = "\n".join(lines) + "\n"
    exec(compile(code, "<row builder>", "exec"), env)
    fn: RowBuilder = env["build"]
    return fn
