"""Safelist patterns and the bulk matcher behind :mod:`spoorhound.services.safelists`.

Pattern kinds (:func:`parse_pattern`):

* ``value``: one canonical value (normalised with the indicator core, so
  ``Example.COM.`` is stored as ``example.com``); matched exactly, any type;
* ``domain``: ``*.example.com``: the name and every subdomain, also as the host
  of a URL or the domain of an e-mail address;
* ``cidr``: ``10.0.0.0/8``: addresses in the range and CIDRs inside it;
* ``regex``: ``re:…`` or ``/…/`` (flag ``i`` allowed), compiled when added, at most
  :data:`MAX_PATTERN` characters, matched with ``fullmatch`` against the
  canonical value.

:class:`SafelistMatcher` answers in microseconds: a dict for values, a label walk
for wildcard domains, a bisect over elementary intervals for CIDRs and one
combined expression per list for regexes. Expired entries never match: the
matcher drops them as soon as the first one expires, without a database read.

Which MISP warninglists veto (:data:`VETO_LISTS`) and which only say a domain is
popular (:data:`POPULARITY_LISTS`) is explained in ``docs/safelists.md``.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from spoorhound.core.indicators import InvalidIndicator, UnknownType, parse
from spoorhound.reference.warninglists import SafelistIndex, warninglists_dir

__all__ = [
    "KINDS",
    "MAX_PATTERN",
    "POPULARITY_LISTS",
    "VETO_LISTS",
    "Entry",
    "InvalidPattern",
    "Pattern",
    "SafelistHit",
    "SafelistMatcher",
    "parse_pattern",
    "veto_lists",
    "warninglist_indexes",
]

KINDS: tuple[str, ...] = ("value", "domain", "cidr", "regex")

#: Longest pattern accepted (a regex longer than this is more likely a mistake).
MAX_PATTERN = 512

_IP = frozenset({"ipv4", "ipv6", "cidr"})
_NAMES = frozenset({"domain", "url", "email"})
_HASHES = frozenset({"md5", "sha1", "sha256", "sha512", "ssdeep", "imphash", "tlsh"})

_BENIGN_HASH_LISTS = (
    "empty-hashes", "common-ioc-false-positive", "ti-falsepositives", "nioc-filehash",
    "mozilla-CA", "mozilla-IntermediateCA", "eicar.com",
)  # fmt: skip

#: Warninglists whose membership vetoes a score, with the indicator types each may
#: veto. Reserved ranges and names, resolvers, scanners, sinkholes, known-benign
#: hashes and security vendors' own sites say "this value is not a threat"; the
#: three small top lists veto a domain only when it is on them itself (never a
#: subdomain, a URL or an e-mail address on it: those are how attackers abuse
#: popular platforms). No warninglist vetoes a URL or an e-mail address by its
#: host: that takes a named list. Lists named ``*-scanning`` / ``*-scanner`` are added by
#: :func:`veto_lists`.
VETO_LISTS: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        ("rfc1918", "rfc5735", "rfc6598", "rfc3849", "ipv6-linklocal", "multicast"), _IP
    ),
    **dict.fromkeys(("public-dns-v4", "public-dns-v6", "sinkholes"), _IP),
    **dict.fromkeys(("shadowserver", "tenable-cloud-ipv4", "tenable-cloud-ipv6"), _IP),
    **dict.fromkeys(("umbrella-blockpage-v4", "umbrella-blockpage-v6"), _IP),
    **dict.fromkeys(("rfc6761", "tlds", "second-level-tlds"), frozenset({"domain"})),
    **dict.fromkeys(("captive-portals", "umbrella-blockpage-hostname"), frozenset({"domain"})),
    "public-dns-hostname": frozenset({"domain"}),
    # Vendors' sites include github.com, medium.com, t.co: never a URL on them.
    **dict.fromkeys(
        ("security-provider-blogpost", "automated-malware-analysis"), frozenset({"domain"})
    ),
    "common-contact-emails": frozenset({"email"}),
    **dict.fromkeys(_BENIGN_HASH_LISTS, _HASHES),
    **dict.fromkeys(("tranco10k", "cisco_top1000", "alexa"), frozenset({"domain"})),
}

#: Top lists that veto only the exact name (see :data:`VETO_LISTS`).
_EXACT_ONLY = frozenset({"tranco10k", "cisco_top1000", "alexa"})

#: Popularity lists, most selective first: a benign factor for scoring, never a veto
#: (maltrail lists 1,172 malicious domains that are in the Tranco top 1M).
POPULARITY_LISTS: tuple[str, ...] = (
    "tranco10k", "cisco_top1000", "alexa", "moz-top500", "cisco_top5k", "cisco_top10k",
    "majestic_million", "cisco_top20k", "tranco", "google-chrome-crux-1million",
)  # fmt: skip

#: Values no sane regex entry matches all of: a guard against ``re:.*``.
_PROBES = ("8.8.8.8", "example.com", "http://example.com/", "d41d8cd98f00b204e9800998ecf8427e")
_CIDR_SHAPE = re.compile(r"[0-9A-Fa-f:.\[\]]+/[0-9.]{1,15}")
_SLASHED = re.compile(r"/(.*)/([a-z]*)", re.S)


class InvalidPattern(ValueError):
    """A safelist pattern that cannot be used; ``str(exc)`` says why."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """A validated pattern: its kind and the canonical text stored for it."""

    kind: str
    pattern: str


@dataclass(frozen=True, slots=True)
class SafelistHit:
    """Why a value is safelisted: the list, its reason and where the list comes from.

    ``pattern`` and ``entry_id`` name the named-list entry that matched (None for
    a warninglist).
    """

    list: str
    reason: str | None
    source: Literal["safelist", "warninglist"]
    pattern: str | None = None
    entry_id: int | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One named-list entry as the matcher needs it."""

    id: int
    list: str
    kind: str
    pattern: str
    reason: str | None
    expires_at: int | None


# --- patterns -----------------------------------------------------------------------


def _regex(body: str, flags: str) -> str:
    if set(flags) - {"i"}:
        raise InvalidPattern(f"regex flag(s) {flags!r} not supported: only 'i'")
    if not body:
        raise InvalidPattern("empty regex")
    if body != body.strip():
        # stored patterns are stripped; spell edge whitespace as \s or \x20
        raise InvalidPattern("regex starts or ends with whitespace: use \\s or \\x20")
    text = f"(?i:{body})" if flags else body
    try:
        compiled = re.compile(text)
    except (re.error, RecursionError, OverflowError, ValueError) as e:
        raise InvalidPattern(f"bad regex {body!r}: {e}") from None
    if compiled.fullmatch("") is not None or all(compiled.fullmatch(p) for p in _PROBES):
        raise InvalidPattern(f"regex {body!r} matches (nearly) everything")
    return "re:" + text


def _detect_kind(s: str) -> str:
    if s[:3].lower() == "re:" or (len(s) > 2 and _SLASHED.fullmatch(s)):
        return "regex"
    if s.startswith("*."):
        return "domain"
    if _CIDR_SHAPE.fullmatch(s):
        return "cidr"
    return "value"


def _value(s: str, itype: str | None) -> str:
    try:
        return parse(s, itype).value
    except UnknownType as e:
        raise InvalidPattern(str(e)) from None
    except InvalidIndicator as e:
        if itype is not None:
            raise InvalidPattern(f"bad value: {e}") from None
        return s  # no detectable type (a mutex, a string): kept as written


def parse_pattern(raw: str, kind: str | None = None, *, itype: str | None = None) -> Pattern:
    """Validate ``raw`` as a safelist pattern of ``kind`` (detected when None).

    ``itype`` names the indicator type a ``value`` is normalised as (detected when
    None; a value of no detectable type is kept as written). Raises
    :class:`InvalidPattern` naming the problem; never anything else.
    """
    s = raw.strip()
    if not s:
        raise InvalidPattern("empty pattern")
    if len(s) > MAX_PATTERN:
        raise InvalidPattern(f"pattern is {len(s)} characters long (max {MAX_PATTERN})")
    if "\x00" in s:
        raise InvalidPattern("pattern contains a NUL character")
    k = _detect_kind(s) if kind is None else kind.strip().lower()
    if k not in KINDS:
        raise InvalidPattern(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    if k == "regex":
        if s[:3].lower() == "re:":
            return Pattern(k, _regex(s[3:], ""))
        m = _SLASHED.fullmatch(s)
        return Pattern(k, _regex(m.group(1), m.group(2)) if m else _regex(s, ""))
    if k == "domain":
        base = s[2:] if s.startswith("*.") else s
        try:
            return Pattern(k, "*." + parse(base, "domain").value)
        except InvalidIndicator as e:
            raise InvalidPattern(f"bad domain wildcard {s!r}: {e}") from None
    if k == "cidr":
        try:
            ind = parse(s, "cidr" if "/" in s else "ip")
        except InvalidIndicator as e:
            raise InvalidPattern(f"bad CIDR {s!r}: {e}") from None
        width = 32 if ind.type.value == "ipv4" else 128
        return Pattern(k, ind.value if "/" in ind.value else f"{ind.value}/{width}")
    return Pattern(k, _value(s, itype))


# --- the matcher ---------------------------------------------------------------------


def _host(itype: str, value: str) -> str:
    """The host of a canonical URL or the domain of an e-mail address ('' if none)."""
    if itype == "url":
        start = value.find("://")
        if start < 0:
            return ""
        start += 3
        end = len(value)
        for sep in "/?#":
            i = value.find(sep, start)
            if 0 <= i < end:
                end = i
        at = value.rfind("@", start, end)
        authority = value[(at + 1 if at >= 0 else start) : end]
        if authority.startswith("["):
            return authority[1 : authority.find("]")]
        return authority.rpartition(":")[0] if ":" in authority else authority
    if itype == "email":
        return value.rpartition("@")[2]
    return ""


def _range(value: str) -> tuple[int, int, int] | None:
    """``(version, first, last)`` of a canonical address or network, or None."""
    addr, _, prefix = value.partition("/")
    try:
        if ":" in addr:
            version, width, n = 6, 128, int(ipaddress.IPv6Address(addr))
        else:
            a, b, c, d = addr.split(".")  # canonical dotted quad: the fast path
            version, width, n = 4, 32, (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
            if n >> 32 or min(int(a), int(b), int(c), int(d)) < 0:
                return None
        plen = int(prefix) if prefix else width
    except ValueError:
        return None
    if not 0 <= plen <= width:
        return None
    host = (1 << (width - plen)) - 1
    return version, n & ~host, n | host


def _sweep(ranges: list[tuple[int, int, int]]) -> tuple[list[int], list[tuple[int, ...]]]:
    """Elementary intervals: start points, each with the entries covering it (ordered)."""
    events: dict[int, list[tuple[int, int]]] = {}
    for first, last, idx in ranges:
        events.setdefault(first, []).append((idx, 1))
        events.setdefault(last + 1, []).append((idx, -1))
    active: Counter[int] = Counter()
    points: list[int] = []
    covers: list[tuple[int, ...]] = []
    for point in sorted(events):
        for idx, delta in events[point]:
            active[idx] += delta
            if not active[idx]:
                del active[idx]
        cover = tuple(sorted(active))
        if not covers or covers[-1] != cover:
            points.append(point)
            covers.append(cover)
    return points, covers


@dataclass(slots=True)
class _RegexGroup:
    """One list's regexes: those without groups combined, the rest tried one by one."""

    combined: re.Pattern[str] | None
    simple: list[tuple[re.Pattern[str], int]]
    grouped: list[tuple[re.Pattern[str], int]]


class _Tables:
    """Lookup structures over the live entries (rebuilt when one expires)."""

    def __init__(self, entries: Sequence[Entry], now: float) -> None:
        live = sorted(
            (e for e in entries if e.expires_at is None or e.expires_at > now),
            key=lambda e: (e.list, e.id),
        )
        self.entries = live
        self.hits = [
            SafelistHit(e.list, e.reason, "safelist", pattern=e.pattern, entry_id=e.id)
            for e in live
        ]
        expiries = [e.expires_at for e in live if e.expires_at is not None]
        self.next_expiry: float = min(expiries) if expiries else float("inf")
        self.exact: dict[str, int] = {}
        self.domains: dict[str, int] = {}
        v4: list[tuple[int, int, int]] = []
        v6: list[tuple[int, int, int]] = []
        by_list: dict[str, list[tuple[re.Pattern[str], int]]] = {}
        for idx, e in enumerate(live):
            if e.kind == "value":
                self.exact.setdefault(e.pattern, idx)
            elif e.kind == "domain":
                self.domains.setdefault(e.pattern.removeprefix("*."), idx)
            elif e.kind == "cidr":
                r = _range(e.pattern)
                if r is not None:
                    (v4 if r[0] == 4 else v6).append((r[1], r[2], idx))
            elif e.kind == "regex":
                by_list.setdefault(e.list, []).append((re.compile(e.pattern[3:]), idx))
        self.v4 = _sweep(v4)
        self.v6 = _sweep(v6)
        self.any_cidr = bool(v4 or v6)
        self.regexes = [self._group(members) for members in by_list.values()]

    @staticmethod
    def _group(members: list[tuple[re.Pattern[str], int]]) -> _RegexGroup:
        # Patterns with groups keep their own numbering (backreferences): matched alone.
        simple = [(p, i) for p, i in members if not p.groups]
        grouped = [(p, i) for p, i in members if p.groups]
        combined = re.compile("|".join(f"(?:{p.pattern})" for p, _ in simple)) if simple else None
        return _RegexGroup(combined, simple, grouped)

    def cidr_hit(self, value: str) -> int | None:
        r = _range(value)
        if r is None:
            return None
        points, covers = self.v4 if r[0] == 4 else self.v6
        if not points:
            return None
        i = bisect_right(points, r[1]) - 1
        cover = covers[i] if i >= 0 else ()
        if cover and r[2] != r[1]:
            # a network is covered only by an entry containing both of its ends
            j = bisect_right(points, r[2]) - 1
            cover = tuple(sorted(set(cover) & set(covers[j])))
        return cover[0] if cover else None

    def match(self, itype: str, value: str) -> int | None:
        idx = self.exact.get(value)
        if idx is not None:
            return idx
        host = value if itype == "domain" else _host(itype, value) if itype in _NAMES else ""
        if host and self.domains:
            domains = self.domains
            name = host
            while True:
                idx = domains.get(name)
                if idx is not None:
                    return idx
                dot = name.find(".")
                if dot < 0:
                    break
                name = name[dot + 1 :]
        if self.any_cidr:
            if itype in _IP:
                idx = self.cidr_hit(value)
            elif host and (host[-1].isdigit() or ":" in host):
                idx = self.cidr_hit(host)
            if idx is not None:
                return idx
        found: list[int] = []
        for group in self.regexes:
            if group.combined is not None and group.combined.fullmatch(value) is not None:
                found.extend(i for p, i in group.simple if p.fullmatch(value) is not None)
            found.extend(i for p, i in group.grouped if p.fullmatch(value) is not None)
        return min(found) if found else None


def veto_lists(names: Iterable[str]) -> dict[str, frozenset[str]]:
    """The vetoing lists among ``names`` (available warninglists), with their types."""
    out: dict[str, frozenset[str]] = {}
    for name in names:
        if name in VETO_LISTS:
            out[name] = VETO_LISTS[name]
        elif name.endswith(("-scanning", "-scanner")):
            out[name] = _IP
    return out


_LOADED: dict[tuple[tuple[str, ...], str | None], SafelistIndex] = {}
_LOADING = threading.Lock()


def _index(names: tuple[str, ...], cache_dir: str | None, lists_dir: str | None) -> SafelistIndex:
    """The index over ``names``, kept per process: it is immutable and slow to build.

    Keyed by the lists and their folder only: every ``cache_dir`` holds the same
    index of the same installed files.
    """
    key = (names, lists_dir)
    with _LOADING:
        index = _LOADED.get(key)
        if index is None:
            index = _LOADED[key] = SafelistIndex.load(
                names, cache_dir=cache_dir, lists_dir=lists_dir
            )
    return index


def warninglist_indexes(
    cache_dir: str | Path | None = None, lists_dir: str | Path | None = None
) -> tuple[SafelistIndex | None, dict[str, frozenset[str]], Callable[[], SafelistIndex | None]]:
    """The veto index, its lists with their types, and a loader for the popularity index.

    The popularity index (two million names) is built only when first asked for.
    Returns ``(None, {}, …)`` when the warninglists are not installed.
    """
    try:
        root = Path(lists_dir) if lists_dir is not None else warninglists_dir()
    except FileNotFoundError:
        return None, {}, lambda: None
    available = sorted(p.parent.name for p in root.glob("*/list.json"))
    vetoes = veto_lists(available)
    cache = None if cache_dir is None else str(cache_dir)
    where = None if lists_dir is None else str(lists_dir)
    veto = _index(tuple(sorted(vetoes)), cache, where) if vetoes else None
    popular = tuple(n for n in POPULARITY_LISTS if n in available)

    def popularity() -> SafelistIndex | None:
        return _index(tuple(sorted(popular)), cache, where) if popular else None

    return veto, vetoes, popularity


def _exactly_on(index: SafelistIndex, name: str, domain: str, hostnames: set[str]) -> bool:
    """Whether ``domain`` itself (or with ``www.`` dropped) is an entry of list ``name``.

    ``name`` is already known to match. String lists match exactly; hostname lists
    (``hostnames``) match every subdomain of an entry, and a name whose parent is
    also on the list cannot be told apart from a subdomain, so it counts as not on it.
    """
    if name not in hostnames:
        return True
    d = domain.removeprefix("www.")
    if d != domain and name not in index.matches("domain", d):
        return False
    parent = d.partition(".")[2]
    return not parent or name not in index.matches("domain", parent)


class SafelistMatcher:
    """Matches values against the named safelists, then the vetoing warninglists.

    Build with :func:`spoorhound.services.safelists.load_matcher`. Thread-safe for
    reading; the tables are replaced whole when an entry expires.
    """

    def __init__(
        self,
        entries: Iterable[Entry],
        *,
        veto: SafelistIndex | None = None,
        veto_types: dict[str, frozenset[str]] | None = None,
        popularity: Callable[[], SafelistIndex | None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._entries = list(entries)
        self._clock = clock
        self._tables = _Tables(self._entries, clock())
        self._veto = veto
        self._veto_types = veto_types or {}
        # types no vetoing list covers (URLs, most hashes' cousins) skip the index
        self._vetoable = (
            frozenset().union(*self._veto_types.values()) if veto_types else frozenset()
        )
        self._hostname_lists = (
            {i.name for i in veto.lists if i.kind == "hostname"} if veto is not None else set()
        )
        self._reasons = {i.name: i.description for i in veto.lists} if veto is not None else {}
        self._popularity_loader = popularity
        self._popularity: SafelistIndex | None = None
        self._popularity_hostnames: set[str] = set()
        self._popularity_loaded = False

    @property
    def entries(self) -> list[Entry]:
        """The named-list entries that have not expired."""
        self._refresh()
        return list(self._tables.entries)

    def _refresh(self) -> None:
        if self._clock() >= self._tables.next_expiry:
            self._tables = _Tables(self._entries, self._clock())

    def match(self, itype: str, value: str) -> SafelistHit | None:
        """Why canonical ``value`` of type ``itype`` is safelisted, or None.

        Named lists win over warninglists; an expired entry never matches.
        """
        tables = self._tables
        if self._clock() >= tables.next_expiry:
            self._refresh()
            tables = self._tables
        idx = tables.match(itype, value)
        if idx is not None:
            return tables.hits[idx]
        return self.warninglist(itype, value)

    def warninglist(self, itype: str, value: str) -> SafelistHit | None:
        """The vetoing warninglist ``value`` is on, or None (named lists not consulted)."""
        veto = self._veto
        if veto is None or itype not in self._vetoable:
            return None
        for name in veto.matches(itype, value):
            if itype not in self._veto_types.get(name, ()):
                continue
            if name in _EXACT_ONLY and not _exactly_on(veto, name, value, self._hostname_lists):
                continue
            return SafelistHit(name, self._reasons.get(name) or None, "warninglist")
        return None

    def popularity(self, itype: str, value: str) -> str | None:
        """The most selective popularity list domain ``value`` itself is on, or None.

        A benign factor for scoring, never a veto. Only domains: a URL or e-mail
        address on a popular site says nothing about the site's users.
        """
        if itype != "domain":
            return None
        if not self._popularity_loaded:
            loader = self._popularity_loader
            self._popularity = index = loader() if loader is not None else None
            if index is not None:
                self._popularity_hostnames = {i.name for i in index.lists if i.kind == "hostname"}
            self._popularity_loaded = True
        index = self._popularity
        if index is None:
            return None
        found = set(index.matches("domain", value))
        if not found:
            return None
        for name in POPULARITY_LISTS:
            if name in found and _exactly_on(index, name, value, self._popularity_hostnames):
                return name
        return None
