"""A fast index over the MISP warninglists (false-positive / benign reference lists).

The :mod:`pymispwarninglists` package ships 119 lists (about 2.5 million entries:
top sites, RFC 1918 and other reserved ranges, public DNS resolvers, cloud ranges,
known benign hashes). Its own lookup walks every list and, for hostname and CIDR
lists, every entry, which is far too slow for bulk work. This module reads the same
JSON files and builds a compact index:

* exact strings and hostname suffixes live in one sorted ``array('Q')`` of packed
  integers ``(56-bit blake2b of "kind:value") << 8 | list number``; a lookup is a
  hash and a :func:`bisect.bisect_left` (the chance that an unrelated value collides
  with one of the 2.5M keys is about 1e-10);
* hostname lists match the name and every parent domain (labels walked from the
  right), so ``a.b.example.com`` hits an ``example.com`` entry;
* CIDR lists become elementary intervals (a sweep over all range boundaries), each
  carrying the set of lists that cover it, for IPv4 and IPv6 separately;
* regex lists and small substring lists are compiled; big substring lists
  (``disposable-email``: domains) are matched as domain suffixes, which is what they
  mean in practice.

Each list's ``matching_attributes`` (MISP attribute types) is mapped to Spoorhound
indicator types and respected: a hostname list never flags a hash. URLs are
matched by their host against the lists that declare ``url``/``uri``.

Building the index from JSON takes a few seconds, so :meth:`SafelistIndex.load`
takes an optional ``cache_dir`` where the built index is pickled and reused (keyed
by the package version, the list selection and the files' sizes and times).
Nothing is read at import time.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import ipaddress
import json
import os
import pickle
import re
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["SafelistIndex", "WarninglistInfo", "warninglists_dir"]

#: Bumped whenever the pickled layout changes, so stale caches are rebuilt.
_CACHE_FORMAT = 2

_IP_TYPES = ("ipv4", "ipv6", "cidr")
_HASH_ATTRS = {
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "ssdeep": "ssdeep",
    "imphash": "imphash",
    "tlsh": "tlsh",
}

#: MISP attribute type -> Spoorhound indicator types it covers.
_ATTRIBUTE_TYPES: dict[str, tuple[str, ...]] = {
    "ip-src": _IP_TYPES,
    "ip-dst": _IP_TYPES,
    "ip-src|port": _IP_TYPES,
    "ip-dst|port": _IP_TYPES,
    "domain|ip": ("domain", *_IP_TYPES),
    "hostname": ("domain",),
    "domain": ("domain",),
    "hostname|port": ("domain",),
    "url": ("url",),
    "uri": ("url",),
    "email-src": ("email",),
    "email-dst": ("email",),
    "target-email": ("email",),
    "whois-registrant-email": ("email",),
    "dns-soa-email": ("email",),
}
for _name, _type in _HASH_ATTRS.items():
    _ATTRIBUTE_TYPES[_name] = (_type,)
    _ATTRIBUTE_TYPES[f"filename|{_name}"] = (_type,)
    _ATTRIBUTE_TYPES[f"x509-fingerprint-{_name}"] = (_type,)

#: Substring lists longer than this are matched as domain suffixes, not by scanning.
_MAX_SCANNED_SUBSTRINGS = 200


@dataclass(frozen=True, slots=True)
class WarninglistInfo:
    """One list of the index: its name, MISP list type and the indicator types it applies to."""

    name: str
    kind: str
    types: frozenset[str]
    entries: int
    description: str = ""


def warninglists_dir() -> Path:
    """Return the ``lists`` folder inside the installed ``pymispwarninglists`` package.

    Found without importing the package (its import loads its own API module).
    """
    spec = importlib.util.find_spec("pymispwarninglists")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the pymispwarninglists package is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "data" / "misp-warninglists" / "lists"


def _key(kind: str, value: str) -> int:
    """56-bit hash of ``kind:value``; stable across processes (unlike ``hash()``)."""
    digest = hashlib.blake2b(f"{kind}:{value}".encode(), digest_size=7).digest()
    return int.from_bytes(digest, "big")


def _suffixes(name: str) -> Iterator[str]:
    """``a.b.c`` -> ``a.b.c``, ``b.c``, ``c`` (the name and each parent)."""
    yield name
    pos = name.find(".")
    while pos != -1:
        yield name[pos + 1 :]
        pos = name.find(".", pos + 1)


def _clean_host(entry: str) -> str:
    return entry.strip().strip(".").lower()


def _parse_misp_regex(raw: str) -> re.Pattern[str] | None:
    """Turn a MISP ``/pattern/flags`` entry into a Python pattern, or None if it won't compile."""
    m = re.fullmatch(r"/(.*)/([a-z]*)", raw, re.S)
    pattern, flags = (m.group(1), m.group(2)) if m else (raw, "")
    try:
        return re.compile(pattern, re.I if "i" in flags else 0)
    except re.error:
        return None


def _sweep(ranges: list[tuple[int, int, int]]) -> tuple[list[int], list[tuple[int, ...]]]:
    """Elementary intervals: sorted start points, each with the lists covering it.

    ``ranges`` are inclusive ``(first, last, list number)``. Consecutive segments
    with the same cover are merged so the arrays stay small.
    """
    events: dict[int, list[tuple[int, int]]] = {}
    for first, last, lid in ranges:
        events.setdefault(first, []).append((lid, 1))
        events.setdefault(last + 1, []).append((lid, -1))
    active: Counter[int] = Counter()
    points: list[int] = []
    covers: list[tuple[int, ...]] = []
    for point in sorted(events):
        for lid, delta in events[point]:
            active[lid] += delta
            if not active[lid]:
                del active[lid]
        cover = tuple(sorted(active))
        if covers and covers[-1] == cover:
            continue
        points.append(point)
        covers.append(cover)
    return points, covers


@dataclass(slots=True)
class _Tables:
    """Everything the index needs at lookup time; what the cache pickles."""

    infos: list[WarninglistInfo]
    keys: array[int] = field(default_factory=lambda: array("Q"))
    v4_points: list[int] = field(default_factory=list)
    v4_covers: list[tuple[int, ...]] = field(default_factory=list)
    v6_points: list[int] = field(default_factory=list)
    v6_covers: list[tuple[int, ...]] = field(default_factory=list)
    # (list number, compiled pattern) for regex lists and small substring lists
    patterns: list[tuple[int, re.Pattern[str]]] = field(default_factory=list)


def _build(files: list[Path]) -> _Tables:
    infos: list[WarninglistInfo] = []
    packed: list[int] = []
    v4: list[tuple[int, int, int]] = []
    v6: list[tuple[int, int, int]] = []
    patterns: list[tuple[int, re.Pattern[str]]] = []
    for lid, path in enumerate(files):
        with path.open("rb") as fh:
            data: dict[str, Any] = json.load(fh)
        kind = str(data.get("type", "string"))
        entries = [str(e) for e in data.get("list", [])]
        types = frozenset(
            t
            for attr in data.get("matching_attributes", [])
            for t in _ATTRIBUTE_TYPES.get(attr, ())
        )
        infos.append(
            WarninglistInfo(
                name=path.parent.name,
                kind=kind,
                types=types,
                entries=len(entries),
                description=str(data.get("description", "")),
            )
        )
        if not types:
            continue  # applies to nothing Spoorhound extracts (phone numbers, app ids)
        if kind == "cidr":
            for entry in entries:
                try:
                    net = ipaddress.ip_network(entry.strip(), strict=False)
                except ValueError:
                    continue
                first, last = int(net.network_address), int(net.broadcast_address)
                (v4 if net.version == 4 else v6).append((first, last, lid))
        elif kind == "regex":
            for entry in entries:
                pat = _parse_misp_regex(entry)
                if pat is not None:
                    patterns.append((lid, pat))
        elif kind == "substring" and len(entries) <= _MAX_SCANNED_SUBSTRINGS:
            alternatives = "|".join(re.escape(e.lower()) for e in entries if e)
            if alternatives:
                patterns.append((lid, re.compile(alternatives)))
        else:
            # hostname lists and big (domain) substring lists match by suffix;
            # string lists match exactly.
            prefix = "x" if kind == "string" else "s"
            packed.extend((_key(prefix, _clean_host(e)) << 8) | lid for e in entries if e.strip())
    packed = sorted(set(packed))
    tables = _Tables(infos=infos, keys=array("Q", packed), patterns=patterns)
    tables.v4_points, tables.v4_covers = _sweep(v4)
    tables.v6_points, tables.v6_covers = _sweep(v6)
    return tables


class SafelistIndex:
    """Answers "is this indicator on a warninglist, and which one?" in microseconds.

    Build with :meth:`load`; look up with :meth:`match` (first list, in list-name
    order) or :meth:`matches` (all lists).
    """

    def __init__(self, tables: _Tables) -> None:
        self._t = tables
        self._names = [info.name for info in tables.infos]
        self._types = [info.types for info in tables.infos]

    @classmethod
    def load(
        cls,
        lists: Collection[str] | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        lists_dir: str | os.PathLike[str] | None = None,
    ) -> SafelistIndex:
        """Build (or read from ``cache_dir``) the index over ``lists`` (default: all).

        Raises :class:`KeyError` naming any requested list that does not exist.
        """
        root = Path(lists_dir) if lists_dir is not None else warninglists_dir()
        available = {p.parent.name: p for p in root.glob("*/list.json")}
        if lists is None:
            names = sorted(available)
        else:
            missing = sorted(set(lists) - set(available))
            if missing:
                raise KeyError(f"unknown warninglist(s): {', '.join(missing)}")
            names = sorted(set(lists))
        files = [available[n] for n in names]
        if cache_dir is None:
            return cls(_build(files))
        cache = Path(cache_dir) / f"warninglists-{_fingerprint(files)}.pickle"
        if cache.exists():
            try:
                with cache.open("rb") as fh:
                    tables = pickle.load(fh)
                if isinstance(tables, _Tables):
                    return cls(tables)
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
                pass  # a damaged or foreign cache is rebuilt, never trusted
        tables = _build(files)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(tables, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)  # atomic: a concurrent reader sees old or new, never half
        return cls(tables)

    @property
    def lists(self) -> list[WarninglistInfo]:
        """The lists in this index, in match order."""
        return list(self._t.infos)

    def __len__(self) -> int:
        return len(self._t.keys)

    def match(self, type: str, value: str) -> str | None:
        """Name of the first list that flags ``value`` of indicator ``type``, or None."""
        lids = self._lookup(str(type), value)
        return self._names[min(lids)] if lids else None

    def matches(self, type: str, value: str) -> list[str]:
        """Names of every list that flags ``value`` of indicator ``type``, in list order."""
        return [self._names[lid] for lid in sorted(self._lookup(str(type), value))]

    # -- internals -------------------------------------------------------------

    def _exact(self, prefix: str, value: str) -> Iterator[int]:
        keys = self._t.keys
        base = _key(prefix, value)
        i = bisect_left(keys, base << 8)
        n = len(keys)
        while i < n and keys[i] >> 8 == base:
            yield keys[i] & 0xFF
            i += 1

    def _in_ranges(self, addr: int, version: int) -> tuple[int, ...]:
        points, covers = (
            (self._t.v4_points, self._t.v4_covers)
            if version == 4
            else (self._t.v6_points, self._t.v6_covers)
        )
        i = bisect_right(points, addr) - 1
        return covers[i] if i >= 0 else ()

    def _names_lookup(self, host: str) -> Iterable[int]:
        yield from self._exact("x", host)
        for suffix in _suffixes(host):
            yield from self._exact("s", suffix)

    def _lookup(self, type: str, value: str) -> set[int]:
        found: set[int] = set()
        value = value.strip()
        if type in ("ipv4", "ipv6", "cidr"):
            try:
                net = ipaddress.ip_network(value, strict=False)
            except ValueError:
                return found
            first = set(self._in_ranges(int(net.network_address), net.version))
            if net.num_addresses > 1:
                # a CIDR is flagged only by lists covering both of its ends
                first &= set(self._in_ranges(int(net.broadcast_address), net.version))
            found = first
            text = value.lower()
        elif type == "url":
            try:
                host = urlsplit(value if "//" in value else "//" + value).hostname or ""
            except ValueError:
                host = ""
            text = value.lower()
            if host:
                found.update(self._names_lookup(host.strip(".")))
        elif type == "email":
            text = value.lower()
            found.update(self._exact("x", text))
            found.update(self._names_lookup(text.rpartition("@")[2]))
        elif type == "domain":
            text = _clean_host(value)
            found.update(self._names_lookup(text))
        else:
            text = value.lower()
            found.update(self._exact("x", text))
        for lid, pattern in self._t.patterns:
            if type in self._types[lid] and pattern.search(text):
                found.add(lid)
        return {lid for lid in found if type in self._types[lid]}


def _fingerprint(files: list[Path]) -> str:
    """Cache key: format, package version, and each selected file's name, size and mtime."""
    try:
        version = importlib.metadata.version("pymispwarninglists")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    h = hashlib.sha256(f"{_CACHE_FORMAT}|{version}".encode())
    for path in files:
        st = path.stat()
        h.update(f"|{path.parent.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]
