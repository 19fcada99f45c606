"""Indicator extraction from unstructured text: reports, alerts, e-mails, chat.

:func:`extract` returns every occurrence of every indicator it finds, as a
:class:`Candidate` with the canonical value (from :func:`spoorhound.core.indicators.normalize`,
so extraction and ingest always agree), the span exactly as written, its offsets in
the input, a confidence, a one-line context snippet and flags. :func:`unique` keeps
the first occurrence of each (type, value).

How it stays fast (tens of MB/s in CPython): a refang pre-pass that costs nothing on
text without defang markers; then a handful of big compiled regexes, each scanning the
whole text once in C; Python runs only per candidate (validation, heuristics), never
per character. Every pattern is linear-time on any input (see ``_extract_patterns``).

Flags a candidate may carry:

``defanged``        the text wrote it defanged (``evil[.]com``, ``hxxp``)
``benign-context``  the text calls it benign / legitimate / a false positive
``example``         an RFC example name or range, or introduced by "e.g." / "for example"
``url-host``        the host part of a URL also extracted as a URL
``email-domain``    the domain part of an e-mail address
``safelisted``      on a MISP warninglist (``Candidate.safelist`` names the list)
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol

from spoorhound.core import _extract_patterns as P
from spoorhound.core._extract_refang import refang_with_map
from spoorhound.core._hostnames import FILE_EXTENSION_TLDS, FILE_EXTENSIONS, tlds
from spoorhound.core.indicators import IndicatorType, InvalidIndicator, normalize

__all__ = ["Candidate", "Safelist", "extract", "is_real_tld", "unique"]

T = IndicatorType
_CONTEXT_WIDTH = 160
_LOOKBACK = 80  # characters before a candidate searched for benign / example words

#: The type of every indicator this module can find (string/bytes have no textual marker).
EXTRACTABLE: frozenset[IndicatorType] = frozenset(T) - {T.STRING, T.BYTES}


class Safelist(Protocol):
    """What :func:`extract` needs from a safelist (e.g. ``reference.warninglists.SafelistIndex``).

    A protocol, so that ``core`` stays pure and does not import the reference data layer.
    """

    def match(self, type: str, value: str) -> str | None:
        """Name of the first list flagging ``value`` of ``type``, or None."""
        ...


@dataclass(frozen=True, slots=True)
class Candidate:
    """One occurrence of an indicator in a text.

    ``value`` is canonical; ``span`` is the text as written (possibly defanged);
    ``start``/``end`` index the input string; ``confidence`` is 0..100.
    """

    type: IndicatorType
    value: str
    span: str
    start: int
    end: int
    confidence: int
    context: str
    flags: frozenset[str] = frozenset()
    safelist: str | None = None


def is_real_tld(label: str) -> bool:
    """True if ``label`` (any case) is a top-level domain in the Public Suffix List snapshot."""
    return label.lower() in tlds()


def unique(cands: Iterable[Candidate]) -> list[Candidate]:
    """Keep the first occurrence of each (type, value), in input order."""
    seen: set[tuple[str, str]] = set()
    out: list[Candidate] = []
    for c in cands:
        key = (c.type, c.value)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


class _Run:
    """State of one :func:`extract` call: the refanged text, the map, the results."""

    def __init__(self, original: str, types: frozenset[IndicatorType]) -> None:
        self.original = original
        self.text, self.omap = refang_with_map(original)
        self.types = types
        self.out: list[Candidate] = []
        # spans (refanged offsets) inside which dotted tokens are not separate indicators
        self.url_spans: list[tuple[int, int]] = []
        self.url_hosts: set[int] = set()  # refanged start offsets of URL hosts
        self.path_spans: list[tuple[int, int]] = []
        self.tld_set = tlds()

    # -- offsets and context ---------------------------------------------------------

    def _orig(self, start: int, end: int) -> tuple[int, int]:
        if self.omap is None:
            return start, end
        return self.omap.start(start), self.omap.end(end)

    def context(self, ostart: int, oend: int) -> str:
        """A single-line snippet of the original text around ``[ostart, oend)``."""
        text = self.original
        pad = max(0, (_CONTEXT_WIDTH - (oend - ostart)) // 2)
        lo = max(0, ostart - pad)
        hi = min(len(text), oend + pad)
        snippet = " ".join(text[lo:hi].split())
        return snippet[:_CONTEXT_WIDTH] if oend - ostart < _CONTEXT_WIDTH else snippet

    def add(
        self,
        itype: IndicatorType,
        raw: str,
        start: int,
        end: int,
        confidence: int,
        flags: Iterable[str] = (),
    ) -> Candidate | None:
        """Validate ``raw`` as ``itype`` and record it; refanged offsets in, None if invalid."""
        if itype not in self.types:
            return None
        try:
            value = normalize(itype, raw)
        except InvalidIndicator:
            return None
        ostart, oend = self._orig(start, end)
        fl = set(flags)
        if self.omap is not None and self.omap.touches(start, end):
            fl.add("defanged")
            confidence += 10
        before = self.text[max(0, start - _LOOKBACK) : start]
        nl = before.rfind("\n")
        line_before = before[nl + 1 :] if nl != -1 else before
        if P.BENIGN_BEFORE.search(line_before):
            fl.add("benign-context")
        if P.EXAMPLE_BEFORE.search(line_before) or _is_example(itype, value):
            fl.add("example")
        if fl & {"benign-context", "example"}:
            confidence -= 40
        cand = Candidate(
            type=itype,
            value=value,
            span=self.original[ostart:oend],
            start=ostart,
            end=oend,
            confidence=max(0, min(100, confidence)),
            context=self.context(ostart, oend),
            flags=frozenset(fl),
        )
        self.out.append(cand)
        return cand

    # -- passes ---------------------------------------------------------------------

    def urls(self) -> None:
        text = self.text
        for m in P.URL.finditer(text):
            start, end = m.span()
            raw = _trim_url(m.group())
            end = start + len(raw)
            self.url_spans.append((start, end))
            host_at = raw.find("//") + 2
            at = raw.find("@", host_at, _authority_end(raw, host_at))
            self.url_hosts.add(start + (at + 1 if at != -1 else host_at))
            self.add(T.URL, raw, start, end, 90)

    def dotted(self) -> None:
        text = self.text
        want_domain = T.DOMAIN in self.types
        want_ip = bool(self.types & {T.IPV4, T.CIDR})
        want_file = T.FILENAME in self.types
        url_spans = self.url_spans
        for m in P.DOTTED.finditer(text):
            start = m.start()
            if url_spans and _inside(url_spans, start) and start not in self.url_hosts:
                continue  # path parts of a URL are not separate indicators
            if self.path_spans and _inside(self.path_spans, start):
                continue
            tok = m.group()
            in_url = start in self.url_hosts
            core = tok
            port_at = core.rfind(":")
            if port_at != -1:
                core = core[:port_at]
            cidr_at = core.find("/")
            prefix = ""
            if cidr_at != -1:
                core, prefix = core[:cidr_at], core[cidr_at:]
            core = core.strip("-").rstrip("_")
            cstart = start + tok.find(core)
            cend = cstart + len(core)
            if P.IPV4_SHAPE.fullmatch(core):
                if not want_ip or self._versionish(cstart, cend):
                    continue
                conf = 80 if not in_url else 85
                if prefix and self.add(T.CIDR, core + prefix, cstart, cend + len(prefix), conf):
                    continue
                self.add(T.IPV4, core, cstart, cend, conf, ("url-host",) if in_url else ())
                continue
            if prefix or P.NUMERIC.fullmatch(core):
                continue  # versions, OIDs, section numbers, decimals
            tld = core[core.rfind(".") + 1 :]
            tld_l = tld.lower()
            if tld_l not in self.tld_set:
                if want_file and not in_url and tld_l in FILE_EXTENSIONS and tld.isalnum():
                    self.add(T.FILENAME, core, cstart, cend, 50)
                continue
            defanged = self.omap is not None and self.omap.touches(cstart, cend)
            if not defanged and self._code_identifier(core, cstart, cend):
                continue  # a defanged name was written as an indicator on purpose
            if tld_l in _FILE_TLDS and core.count(".") == 1 and not in_url:
                if want_file:
                    self.add(T.FILENAME, core, cstart, cend, 50)
                continue
            if not want_domain:
                continue
            flags: list[str] = []
            conf = 70
            if in_url:
                flags.append("url-host")
                conf = 80
            elif start > 0 and text[start - 1] == "@":
                flags.append("email-domain")
            self.add(T.DOMAIN, core, cstart, cend, conf, flags)

    def _versionish(self, start: int, end: int) -> bool:
        """A dotted quad written as a version (``version 1.2.3.4``, ``v1.2.3.4``)."""
        before = self.text[max(0, start - 12) : start]
        return P.VERSION_BEFORE.search(before) is not None

    def _code_identifier(self, core: str, start: int, end: int) -> bool:
        """``System.Net.WebClient``-style names, calls and member access, not hosts."""
        text = self.text
        labels = core.split(".")
        first = labels[0].lower()
        if first in P.CODE_PREFIXES:
            return True
        if len(labels) >= 3 and first in P.REVERSED_ROOTS:
            return True
        if end < len(text) and text[end] == "(":
            return True  # a call: obj.method(
        if text[max(0, start - 4) : start] == "new ":
            return True
        # Two or more Title-case labels (System.Net, Foo.Bar.Com) are namespaces;
        # people write domains in lower case, or capitalise one word (PayPal.com).
        if not core.isupper() and sum(1 for lab in labels if lab[:1].isupper()) >= 2:
            return True
        # camelCase inside a label (getElementById.host) is code, not a host name
        return any(_is_camel(lab) for lab in labels[1:])

    def emails(self) -> None:
        for m in P.EMAIL.finditer(self.text):
            start, end = m.span()
            if self.url_spans and _inside(self.url_spans, start):
                continue  # user@host inside a URL is userinfo, not a mailbox
            raw = m.group()
            lead = len(raw) - len(raw.lstrip(".'-"))
            raw = raw[lead:]
            self.add(T.EMAIL, raw, start + lead, end, 85)

    def hex_runs(self) -> None:
        text = self.text
        for m in P.HEX.finditer(text):
            raw = m.group()
            kind = P.HEX_TYPES.get(len(raw))
            if kind is None or raw.isdigit() or raw.isalpha():
                continue
            start, end = m.span()
            label = None
            for lm in P.HEX_LABEL.finditer(text, max(0, start - 40), start):
                label = lm.group(1).lower()
            conf = 95 if label else 80
            itype = T(kind)
            if kind == "md5" and label in P.HASH_LABEL_TYPES:
                itype = T(P.HASH_LABEL_TYPES[label])
            self.add(itype, raw, start, end, conf)

    def ipv6(self) -> None:
        for m in P.IPV6.finditer(self.text):
            raw = m.group().rstrip(".:")
            if raw.count(":") < 2:
                continue
            start = m.start()
            end = start + len(raw)
            if "/" in raw:
                if self.add(T.CIDR, raw, start, end, 80):
                    continue
                raw = raw.split("/", 1)[0]
                end = start + len(raw)
            self.add(T.IPV6, raw.split("%", 1)[0], start, end, 80)

    def simple(self, pattern: re.Pattern[str], itype: IndicatorType, confidence: int) -> None:
        for m in pattern.finditer(self.text):
            self.add(itype, m.group(), m.start(), m.end(), confidence)

    def ssdeep(self) -> None:
        for m in P.SSDEEP.finditer(self.text):
            size, _, rest = m.group().partition(":")
            if int(size) not in _SSDEEP_BLOCKS or len(rest) < 12:
                continue  # times (10:30:00), ratios, and other colon-separated numbers
            self.add(T.SSDEEP, m.group(), m.start(), m.end(), 85)

    def wallets(self) -> None:
        for m in P.WALLET.finditer(self.text):
            kind = m.lastgroup or "btc"
            self.add(T(kind), m.group(), m.start(), m.end(), 90)

    def paths(self) -> None:
        text = self.text
        spans: list[tuple[int, int]] = []
        for pattern, quoted, itype in (
            (P.QUOTED_REGKEY, True, T.REGKEY),
            (P.QUOTED_PATH, True, T.FILEPATH),
            (P.REGKEY, False, T.REGKEY),
            (P.FILEPATH, False, T.FILEPATH),
            (P.UNIX_PATH, False, T.FILEPATH),
        ):
            for m in pattern.finditer(text):
                start, end = m.span(1) if quoted else m.span()
                if not quoted and spans and _inside(spans, start):
                    continue  # already found with its quotes
                raw = text[start:end]
                stripped = raw.rstrip(".,;:)]'\"")
                end = start + len(stripped)
                spans.append((start, end))
                spans.sort()
                if itype in self.types:
                    self.add(itype, stripped, start, end, 75)
        self.path_spans = _merge(spans)

    def mutexes(self) -> None:
        for m in P.MUTEX.finditer(self.text):
            group = "label" if m.group("label") else "ns"
            start, end = m.span(group)
            self.add(T.MUTEX, m.group(group), start, end, 60)

    def user_agents(self) -> None:
        for m in P.USER_AGENT.finditer(self.text):
            raw = m.group().rstrip(" .,;")
            self.add(T.USER_AGENT, raw, m.start(), m.start() + len(raw), 70)

    def yara(self) -> None:
        text = self.text
        for m in P.YARA_START.finditer(text):
            end = _closing_brace(text, m.end(), m.end() + P.YARA_MAX)
            if end is not None:
                start = m.start() + len(m.group()) - len(m.group().lstrip())
                self.add(T.YARA, text[start:end], start, end, 95)


_SSDEEP_BLOCKS = frozenset(3 * 2**i for i in range(40))
# TLDs that, after exactly one label, are far more often file extensions in reports
# (``zuhag9.cab``, ``libfoo.so``, ``main.rs``); the indicators module's own list plus these.
_FILE_TLDS = FILE_EXTENSION_TLDS | {"cab", "so", "rs", "dot", "java"}


def _is_camel(label: str) -> bool:
    return any(a.islower() and b.isupper() for a, b in itertools.pairwise(label))


def _is_example(itype: IndicatorType, value: str) -> bool:
    if itype in (T.DOMAIN, T.EMAIL, T.URL):
        host = value.rsplit("@", 1)[-1]
        if itype is T.URL:
            host = host.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        tld = host.rsplit(".", 1)[-1]
        return (
            tld in P.EXAMPLE_TLDS
            or host in P.EXAMPLE_DOMAINS
            or any(host.endswith("." + d) for d in P.EXAMPLE_DOMAINS)
        )
    if itype in (T.IPV4, T.CIDR):
        return value.startswith(P.EXAMPLE_NETS_V4)
    if itype is T.IPV6:
        return value.startswith("2001:db8:")
    return False


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    """True if ``pos`` lies in one of the sorted, non-overlapping ``spans``."""
    i = bisect_right(spans, (pos, 1 << 62)) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _authority_end(url: str, begin: int) -> int:
    for i in range(begin, len(url)):
        if url[i] in "/?#":
            return i
    return len(url)


def _trim_url(raw: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from a URL's end."""
    cut = raw.find("](")  # Markdown [text](target): the link text ends at "]("
    if cut != -1:
        raw = raw[:cut]
    while raw:
        last = raw[-1]
        if last in P.URL_TRAILING or (
            last in P.BRACKETS and raw.count(last) > raw.count(P.BRACKETS[last])
        ):
            raw = raw[:-1]
        else:
            break
    return raw


def _closing_brace(text: str, pos: int, limit: int) -> int | None:
    """Offset just past the ``}`` that closes a YARA rule body opened before ``pos``."""
    depth = 1
    limit = min(limit, len(text))
    braces = re.compile(r'[{}]|"(?:[^"\\\n]|\\.)*+"|/(?:[^/\\\n]|\\.)++/')
    for m in braces.finditer(text, pos, limit):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth == 0:
                return m.end()
    return None


def _passes(run: _Run) -> Iterator[Callable[[], None]]:
    """The passes needed for ``run.types``, in dependency order (URLs and paths first)."""
    t = run.types
    if t & {T.URL, T.DOMAIN, T.IPV4, T.FILENAME}:
        yield run.urls
    if t & {T.FILEPATH, T.REGKEY, T.FILENAME, T.DOMAIN}:
        yield run.paths
    if t & {T.DOMAIN, T.IPV4, T.CIDR, T.FILENAME}:
        yield run.dotted
    if T.EMAIL in t:
        yield run.emails
    if t & {T.MD5, T.SHA1, T.SHA256, T.SHA512, T.TLSH, T.IMPHASH, T.JA3, T.JA3S}:
        yield run.hex_runs
    if t & {T.IPV6, T.CIDR}:
        yield run.ipv6
    if T.SSDEEP in t:
        yield run.ssdeep
    if t & {T.BTC, T.ETH, T.XMR}:
        yield run.wallets
    if T.MUTEX in t:
        yield run.mutexes
    if T.USER_AGENT in t:
        yield run.user_agents
    if T.YARA in t:
        yield run.yara
    for pattern, itype, conf in (
        (P.CVE, T.CVE, 95),
        (P.ATTACK, T.ATTACK_TECHNIQUE, 90),
        (P.ASN, T.ASN, 80),
        (P.MAC, T.MAC, 70),
        (P.TLSH, T.TLSH, 90),
        (P.JA4, T.JA4, 90),
    ):
        if itype in t:
            yield partial(run.simple, pattern, itype, conf)


def extract(
    text: str,
    *,
    types: Collection[IndicatorType] | None = None,
    safelist: Safelist | None = None,
) -> list[Candidate]:
    """Find every indicator in ``text``; every occurrence, sorted by offset.

    ``types`` restricts the search (default: every extractable type). With a
    ``safelist``, candidates on a warninglist are kept but flagged ``safelisted``
    with :attr:`Candidate.safelist` naming the list.
    """
    wanted = EXTRACTABLE if types is None else frozenset(T(t) for t in types) & EXTRACTABLE
    run = _Run(text, wanted)
    for step in _passes(run):
        step()
    out = run.out
    if safelist is not None:
        out = _apply_safelist(out, safelist)
    out.sort(key=lambda c: (c.start, -c.end))
    return out


def _apply_safelist(cands: list[Candidate], index: Safelist) -> list[Candidate]:
    verdicts: dict[tuple[str, str], str | None] = {}
    result: list[Candidate] = []
    for c in cands:
        key = (c.type, c.value)
        if key not in verdicts:
            verdicts[key] = index.match(c.type, c.value)
        name = verdicts[key]
        if name is None:
            result.append(c)
        else:
            result.append(replace(c, flags=c.flags | {"safelisted"}, safelist=name))
    return result
