"""One extraction run: the refanged text, its tokens, and every pass that finds candidates.

See :mod:`spoorhound.core.extract` for the public API and the design notes.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from functools import partial
from operator import sub
from types import ModuleType

from spoorhound.core import _extract_patterns as P
from spoorhound.core._extract_accel import C
from spoorhound.core._extract_emit import Row, emit
from spoorhound.core._extract_model import Candidate
from spoorhound.core._extract_refang import refang_with_map
from spoorhound.core._extract_tokens import hex_runs, token_around, token_spans
from spoorhound.core._extract_util import (
    _CAMEL,
    _EMAIL_DOMAIN,
    _EXAMPLE_TYPES,
    _FILE_TLDS,
    _HEX_TYPE,
    _MAX_URL,
    _SSDEEP_BLOCKS,
    _URL_HOST,
    T,
    _authority_end,
    _Blob,
    _closing_brace,
    _inside,
    _is_example,
    _maybe_wallet,
    _merge,
    _trim_url,
    anchored_finditer,
    boundary_ok,
    matches_at,
)
from spoorhound.core._hostnames import FILE_EXTENSIONS, tlds
from spoorhound.core.indicators import IndicatorType, normalize

__all__ = ["Run", "passes"]

_MATCH_START = re.Match.start

# kinds of dotted token (see Run._dotted_kind; _extract_c.c has the same numbers)
_IP, _FILE_EXT, _HOST = 1, 2, 3


def configure_c(c: ModuleType) -> None:
    """Hand the C accelerator the constants its loops need (once, at import)."""
    c.configure(T.CIDR, T.IPV4, T.DOMAIN, T.FILENAME, _URL_HOST, _EMAIL_DOMAIN, Candidate)


if C is not None:
    configure_c(C)


class Run:
    """State of one :func:`extract` call: the refanged text, its tokens, the accepted rows."""

    __slots__ = (
        "_blobs",
        "_examples",
        "_norm",
        "_t1",
        "omap",
        "original",
        "path_ends",
        "path_spans",
        "path_starts",
        "rows",
        "text",
        "tld_set",
        "types",
        "url_ends",
        "url_hosts",
        "url_spans",
        "url_starts",
    )

    def __init__(self, original: str, types: frozenset[IndicatorType]) -> None:
        self.original = original
        self.text, self.omap = refang_with_map(original)
        self.types = types
        self.rows: list[Row] = []
        # spans (refanged offsets) inside which dotted tokens are not separate indicators
        self.url_spans: list[tuple[int, int]] = []
        self.url_starts: list[int] = []  # the same spans as two sorted lists, for bisect
        self.url_ends: list[int] = []
        self.url_hosts: set[int] = set()  # refanged start offsets of URL hosts
        self.path_spans: list[tuple[int, int]] = []
        self.path_starts: list[int] = []
        self.path_ends: list[int] = []
        self.tld_set = tlds()
        self._blobs: dict[str, _Blob] = {}
        self._norm: dict[tuple[IndicatorType, str], str | None] = {}
        self._examples: set[tuple[IndicatorType, str]] = set()
        self._t1: list[int] | None = None  # where "T1" occurs (TLSH and ATT&CK ids)

    def candidates(self) -> list[Candidate]:
        """Every accepted occurrence as a :class:`Candidate`, sorted by offset."""
        return emit(self.rows, self.text, self.original, self.omap)

    def blob(self, kind: str) -> _Blob:
        """The tokens of one kind joined, for one regex call per kind (built once).

        Kinds: "dot" (holds a "." before a word character or "-") and "colon" (two or
        more ":"). Hashes, wallets, TLSH and JA4 digests are found in the whole text
        from literal anchors instead; MAC addresses from anchors over the blobs.
        """
        if not self._blobs:
            text = self.text
            if C is not None:  # the same spans, from one C loop per kind
                dot, colon = C.tokens(text, "dot"), C.tokens(text, "colons")
            else:
                rtext = text[::-1]
                dot, colon = token_spans(text, rtext, "dot"), token_spans(text, rtext, "colons")
            self._blobs = {"dot": _Blob(text, *dot), "colon": _Blob(text, *colon)}
        return self._blobs[kind]

    def add(
        self,
        itype: IndicatorType,
        raw: str,
        start: int,
        end: int,
        confidence: int,
        flags: tuple[str, ...] = (),
    ) -> bool:
        """Validate ``raw`` as ``itype`` and record it (refanged offsets); False if invalid.

        The hot path of IOC-dense text: one dict lookup for a value seen before in this
        text (reports repeat the same indicators many times), one tuple appended.
        """
        if itype not in self.types:
            return False
        key = (itype, raw)
        norm = self._norm
        value = norm[key] if key in norm else self._learn(key)
        if value is None:
            return False
        if self._examples and key in self._examples:
            # an RFC example name or range: marked down here, once for all flags
            self.rows.append((start, end, itype, value, confidence - 40, (*flags, "example")))
        else:
            self.rows.append((start, end, itype, value, confidence, flags))
        return True

    def _learn(self, key: tuple[IndicatorType, str]) -> str | None:
        """The canonical value of ``key`` = (type, raw), or None; recorded in ``_norm``.

        Once per distinct (type, raw) in a text (also called by ``_extract_c``).
        """
        itype, raw = key
        try:
            value = normalize(itype, raw)
        except ValueError:  # InvalidIndicator, and codec errors from IDNA on odd input
            value = None
        self._norm[key] = value
        if value is not None and itype in _EXAMPLE_TYPES and _is_example(itype, value):
            self._examples.add(key)
        return value

    # -- passes ---------------------------------------------------------------------

    def urls(self) -> None:
        text = self.text
        spans = self.url_spans
        hosts = self.url_hosts
        add = self.add
        scheme_end = P.SCHEME_END.search
        names, longest = P.SCHEME_NAMES, P.SCHEME_MAX
        for m in P.URL_TAIL.finditer(text):
            sep = m.start()
            lo = sep - 8 if sep > 8 else 0
            before = text[lo:sep]
            if before.isascii():
                # the longest scheme ending at "://" is the regex's leftmost match
                before = before.lower()
                for size in range(min(longest, len(before)), 1, -1):
                    if before[-size:] in names:
                        start = sep - size
                        break
                else:
                    continue
            else:  # re.IGNORECASE folds a few non-ASCII letters ("ſ", "K") too
                scheme = scheme_end(text, lo, sep)
                if scheme is None:
                    continue
                start = scheme.start()
            if start:
                c = text[start - 1]
                if c.isalnum() or c in "_+.-":
                    continue
            if m.end() - start > _MAX_URL:
                continue  # a megabyte of non-space after "://" is not a URL
            raw = _trim_url(text[start : m.end()])
            end = start + len(raw)
            spans.append((start, end))
            host_at = raw.find("//") + 2
            at = raw.find("@", host_at, _authority_end(raw, host_at))
            hosts.add(start + (at + 1 if at != -1 else host_at))
            add(T.URL, raw, start, end, 90)
        merged = _merge(spans)
        self.url_starts = [a for a, _ in merged]
        self.url_ends = [b for _, b in merged]

    def dotted(self) -> None:
        """Host names, IPv4 addresses, CIDRs and file names: the hot loop of most texts.

        One iteration per dotted token. What depends only on the token's text (its
        core, its TLD, code-like labels) is worked out once per distinct token
        (:meth:`_dotted_kind`; reports repeat their indicators); what depends on where
        it stands (in a URL, after "new ", before "(") is checked per occurrence.
        """
        types = self.types
        want_domain = T.DOMAIN in types
        want_file = T.FILENAME in types
        blob = self.blob("dot")
        if C is not None:
            # the same loop in C, over the tokens in the text (see _extract_c.c)
            C.dotted(self, blob.offsets, blob.ends, want_domain, want_file)
            return
        starts, offsets = blob.starts, blob.offsets
        text = self.text
        n_text = len(text)
        url_starts, url_ends, url_hosts = self.url_starts, self.url_ends, self.url_hosts
        path_starts, path_ends = self.path_starts, self.path_ends
        omap = self.omap
        add = self.add
        kinds: dict[str, tuple[int, int, str, str, bool, bool] | None] = {}
        kind_of = self._dotted_kind
        # A file name here is a run of [\w.-] under 256 characters: normalize() would
        # return it unchanged, so its row is appended without the lookup.
        row = self.rows.append
        dotted = P.DOTTED_ASCII if blob.text.isascii() else P.DOTTED
        # offset in the text = offset in the blob + the shift of the token holding it
        shifts = [0, *map(sub, offsets, starts)]
        # [-1, ends...]: ends[bisect_right(starts, x)] > x iff x lies in a span
        url_ends = [-1, *url_ends]
        path_ends = [-1, *path_ends]
        for m in dotted.finditer(blob.text):
            at = m.start()
            start = shifts[bisect_right(starts, at)] + at
            in_url = False
            if url_starts:
                if start in url_hosts:
                    in_url = True
                elif url_ends[bisect_right(url_starts, start)] > start:
                    continue  # path parts of a URL are not separate indicators
            if path_starts and path_ends[bisect_right(path_starts, start)] > start:
                continue
            tok = m[0]
            if tok in kinds:
                kind = kinds[tok]
            else:
                kind = kinds[tok] = kind_of(tok)
            if kind is None:
                continue
            what, rel, core, extra, mixed, code = kind
            cstart = start + rel
            cend = cstart + len(core)
            if what == _IP:
                if self._versionish(cstart):
                    continue
                conf = 85 if in_url else 80
                if extra and add(T.CIDR, core + extra, cstart, cend + len(extra), conf):
                    continue
                add(T.IPV4, core, cstart, cend, conf, _URL_HOST if in_url else ())
                continue
            if what == _FILE_EXT:
                if not in_url:
                    row((cstart, cend, T.FILENAME, core, 50, ()))
                continue
            # a host name, unless the text around makes it code: a call obj.method( or
            # a package wildcard com.example.*, or "new foo.bar"
            if mixed and omap is not None and omap.touches(cstart, cend):
                pass  # a defanged name was written as an indicator on purpose
            elif code or (
                (
                    cend < n_text
                    and (
                        text[cend] == "("
                        or (text[cend] == "." and text[cend + 1 : cend + 2] == "*")
                    )
                )
                or (cstart >= 4 and text[cstart - 4 : cstart] == "new ")
            ):
                continue
            if extra and not in_url:  # a TLD that is more often a file extension
                if want_file:
                    row((cstart, cend, T.FILENAME, core, 50, ()))
                continue
            if not want_domain:
                continue
            if in_url:
                add(T.DOMAIN, core, cstart, cend, 80, _URL_HOST)
            elif start and text[start - 1] == "@":
                add(T.DOMAIN, core, cstart, cend, 70, _EMAIL_DOMAIN)
            else:
                add(T.DOMAIN, core, cstart, cend, 70)

    def _dotted_kind(self, tok: str) -> tuple[int, int, str, str, bool, bool] | None:
        """What a dotted token is, from its text alone; None if nothing.

        (``_IP``, core offset, core, CIDR suffix, -, -), (``_FILE_EXT``, offset, core,
        "", -, -) or (``_HOST``, offset, core, "1" if a file-like TLD after one label,
        mixed case, code-like labels).
        """
        types = self.types
        core = tok
        prefix = ""
        if ":" in core:
            core = core[: core.rfind(":")]
        if "/" in core:
            cidr_at = core.find("/")
            core, prefix = core[:cidr_at], core[cidr_at:]
        if core[0] == "-" or core[-1] in "-_":
            core = core.strip("-").rstrip("_")
            if "." not in core:
                return None
        if len(core) > 255:
            return None  # longer than any host name or file name
        rel = 0 if core is tok else tok.find(core)
        if core[-1].isdigit():
            # versions, OIDs, section numbers, decimals (TLDs never end in a digit)
            if (T.IPV4 in types or T.CIDR in types) and P.IPV4_SHAPE.fullmatch(core):
                return _IP, rel, core, prefix, False, False
            return None
        if prefix:
            return None
        dot = core.rfind(".")
        tld = core[dot + 1 :]
        tld_l = tld.lower()
        if tld_l not in self.tld_set:
            if T.FILENAME in types and tld_l in FILE_EXTENSIONS and tld.isalnum():
                return _FILE_EXT, rel, core, "", False, False
            return None
        file_like = "1" if tld_l in _FILE_TLDS and core.find(".") == dot else ""
        if not core.islower() and not core.isupper():
            # System.Net.WebClient-style names and member access, not hosts
            labels = core.split(".")
            first = labels[0].lower()
            code = (
                first in P.CODE_PREFIXES
                or (len(labels) >= 3 and first in P.REVERSED_ROOTS)
                # two or more Title-case labels (System.Net, Foo.Bar.Com) are
                # namespaces; people write domains in lower case, or capitalise one
                # word (PayPal.com)
                or (not core.isupper() and sum(1 for lab in labels if lab[:1].isupper()) >= 2)
                # camelCase inside a label (getElementById.host) is code
                or _CAMEL.search(core, len(labels[0])) is not None
            )
            return _HOST, rel, core, file_like, True, code
        first = core[: core.find(".")]
        code = first in P.CODE_PREFIXES or (first in P.REVERSED_ROOTS and core.count(".") >= 2)
        return _HOST, rel, core, file_like, False, code

    def _versionish(self, start: int) -> bool:
        """A dotted quad written as a version (``version 1.2.3.4``, ``v1.2.3.4``)."""
        before = self.text[max(0, start - 12) : start]
        return P.VERSION_BEFORE.search(before) is not None

    def emails(self) -> None:
        text = self.text
        if "@" not in text:  # one memchr; the scan below is not
            return
        for m in P.EMAIL_TAIL.finditer(text):
            at = m.start()
            lo = max(0, at - 65)
            local = P.LOCAL_REVERSED.match(text[lo:at][::-1])
            if local is None:
                continue
            start, end = at - local.end(), m.end()
            if not boundary_ok(text, start, ".+%'-"):
                continue  # local part longer than 64: not a mailbox
            if self.url_spans and _inside(self.url_spans, start):
                continue  # user@host inside a URL is userinfo, not a mailbox
            raw = text[start:end]
            lead = len(raw) - len(raw.lstrip(".'-"))
            self.add(T.EMAIL, raw[lead:], start + lead, end, 85)

    def hex_runs(self) -> None:
        text = self.text
        for start, end in hex_runs(text, 32, 130):
            self._hex(start, text[start:end])

    def _hex(self, start: int, raw: str) -> None:
        kind = P.HEX_TYPES.get(len(raw))
        if kind is None or raw.isdigit() or raw.isalpha():
            return
        label = None
        window = self.text[max(0, start - 40) : start].lower()
        if "sha" in window or "md5" in window or "ja3" in window or "imphash" in window:
            for lm in P.HEX_LABEL.finditer(window):
                label = lm.group(1).lower()
        itype = _HEX_TYPE[kind]
        if kind == "md5" and label in P.HASH_LABEL_TYPES:
            itype = _HEX_TYPE[P.HASH_LABEL_TYPES[label]]
        self.add(itype, raw, start, start + len(raw), 95 if label else 80)

    def ipv6(self) -> None:
        for delta, m in self.blob("colon").finditer(P.IPV6):
            self._ipv6(delta + m.start(), m.group())

    def _ipv6(self, start: int, raw: str) -> None:
        raw = raw.rstrip(".:")
        if raw.count(":") < 2:
            return
        end = start + len(raw)
        if "/" in raw:
            if self.add(T.CIDR, raw, start, end, 80):
                return
            raw = raw.split("/", 1)[0]
            end = start + len(raw)
        self.add(T.IPV6, raw.split("%", 1)[0], start, end, 80)

    def macs(self) -> None:
        text = self.text
        if not self._blobs:
            found = anchored_finditer(P.MAC, text, P.MAC_ANCHORS)
        else:
            # Each anchor finds one form only (its separator), and a MAC address with
            # ":" lies in a token with two or more ":", one with "." in a dotted token:
            # those two anchors scan the token blobs, far shorter than the text. (A
            # blob puts "\n" where the text has the space before a token: the same
            # for the anchors' look-behinds.)
            (colon, back_c), (dash, back_d), (dot, back_p) = P.MAC_ANCHORS
            starts = {a.start() - back_d for a in dash.finditer(text)}
            for kind, anchor, back in (("colon", colon, back_c), ("dot", dot, back_p)):
                starts.update([d + a.start() - back for d, a in self.blob(kind).finditer(anchor)])
            found = matches_at(P.MAC, text, sorted(starts))
        for m in found:
            self.add(T.MAC, m.group(), m.start(), m.end(), 70)

    def simple(
        self,
        pattern: re.Pattern[str],
        itype: IndicatorType,
        confidence: int,
        anchors: tuple[tuple[re.Pattern[str], int], ...] = (),
        needs: str = "",
    ) -> None:
        """A pattern over the whole text (from literal ``anchors`` if it has any).

        ``needs``: a character every match holds, tested first (a memchr).
        """
        text = self.text
        if needs and needs not in text:
            return
        found = anchored_finditer(pattern, text, anchors) if anchors else pattern.finditer(text)
        for m in found:
            start = m.start()
            if boundary_ok(text, start, "-"):
                self.add(itype, m.group(), start, m.end(), confidence)

    def t1(self, pattern: re.Pattern[str], itype: IndicatorType) -> None:
        """TLSH digests or ATT&CK ids (both start with "T1"), from one scan for "T1"."""
        if self._t1 is None:
            self._t1 = list(map(_MATCH_START, P.T1.finditer(self.text)))
        text = self.text
        # no match holds a "T" after its first character: the hits are finditer's starts
        for m in matches_at(pattern, text, self._t1):
            start = m.start()
            if boundary_ok(text, start, "-"):
                self.add(itype, m.group(), start, m.end(), 90)

    def ssdeep(self) -> None:
        for delta, m in self.blob("colon").finditer(P.SSDEEP):
            start = delta + m.start()
            if not boundary_ok(self.text, start, ":"):
                continue
            size, _, rest = m.group().partition(":")
            if int(size) not in _SSDEEP_BLOCKS or len(rest) < 12:
                continue  # times (10:30:00), ratios, and other colon-separated numbers
            self.add(T.SSDEEP, m.group(), start, delta + m.end(), 85)

    def wallets(self) -> None:
        text = self.text
        rtext = ""
        token_end = -1
        looks_like = False
        for m in anchored_finditer(P.WALLET, text, P.WALLET_ANCHORS):
            start = m.start()
            if not boundary_ok(text, start):
                continue
            if start >= token_end:
                # only in a token that is an address as a whole (not "path/1Bv…"); each
                # token is measured once, so this stays linear
                rtext = rtext or text[::-1]
                lo, token_end = token_around(text, rtext, start)
                tok = text[lo:token_end]
                looks_like = len(tok) >= 26 and not tok.isalpha() and _maybe_wallet(tok)
            if looks_like:
                self.add(T(m.lastgroup or "btc"), m.group(), start, m.end(), 90)

    def paths(self) -> None:
        text = self.text
        if "\\" not in text and "/" not in text:
            return  # every path pattern needs one of them
        spans: list[tuple[int, int]] = []
        quoted_spans: list[tuple[int, int]] = []
        # every pattern but the Unix one needs a "\\", the quoted ones a '"' too: a
        # one-character test (a memchr) skips the scans that cannot match
        backslash = "\\" in text
        quote = backslash and '"' in text
        for pattern, quoted, itype in (
            (P.QUOTED_REGKEY, True, T.REGKEY),
            (P.QUOTED_PATH, True, T.FILEPATH),
            (P.REGKEY, False, T.REGKEY),
            (P.DRIVE_PATH, False, T.FILEPATH),
            (P.UNC_PATH, False, T.FILEPATH),
            (P.ENV_PATH, False, T.FILEPATH),
            (P.UNIX_PATH, False, T.FILEPATH),
        ):
            if not (backslash if not quoted else quote) and pattern is not P.UNIX_PATH:
                continue
            if pattern is P.REGKEY:
                quoted_spans = _merge(quoted_spans)  # both quoted patterns are done
            for m in pattern.finditer(text):
                start, end = m.span(1) if quoted else m.span()
                if pattern is P.DRIVE_PATH:
                    start -= 1  # the drive letter before ":\"
                    if start < 0 or not ("A" <= text[start].upper() <= "Z"):
                        continue
                if not quoted and not boundary_ok(text, start, "\\%/.:~-"):
                    continue
                if quoted:
                    quoted_spans.append((start, end))
                elif quoted_spans and _inside(quoted_spans, start):
                    continue  # already found with its quotes
                raw = text[start:end]
                stripped = raw.rstrip(".,;:)]'\"")
                end = start + len(stripped)
                spans.append((start, end))
                if itype in self.types:
                    self.add(itype, stripped, start, end, 75)
        self.path_spans = _merge(spans)
        self.path_starts = [a for a, _ in self.path_spans]
        self.path_ends = [b for _, b in self.path_spans]

    def mutexes(self) -> None:
        text = self.text
        for m in P.MUTEX_LABEL.finditer(text):
            at = m.start() - 1
            if at < 0 or text[at] not in "mM" or not boundary_ok(text, at):
                continue
            start, end = m.span("label")
            self.add(T.MUTEX, m.group("label"), start, end, 60)
        if "\\" not in text:
            return
        for m in anchored_finditer(P.MUTEX_NS, text, P.MUTEX_NS_ANCHORS):
            if boundary_ok(text, m.start(), "\\"):
                self.add(T.MUTEX, m.group(), m.start(), m.end(), 60)

    def user_agents(self) -> None:
        text = self.text
        for m in anchored_finditer(P.USER_AGENT, text, P.USER_AGENT_ANCHORS):
            if not boundary_ok(text, m.start(), "/"):
                continue
            raw = m.group().rstrip(" .,;")
            self.add(T.USER_AGENT, raw, m.start(), m.start() + len(raw), 70)

    def yara(self) -> None:
        text = self.text
        if "{" not in text:
            return
        covered = 0  # text before this was already scanned for a rule body
        for m in P.YARA_START.finditer(text):
            at = m.start()
            if at < covered:
                continue  # inside a rule already taken, or a body that never closed
            line_start = text.rfind("\n", max(0, at - 40), at) + 1
            if line_start == 0 and at > 40:
                continue  # more than modifiers before "rule" on this line
            modifiers = text[line_start:at]
            if " ".join(modifiers.split()) not in P.YARA_MODIFIERS:
                continue  # "rule" inside a sentence
            limit = m.end() + P.YARA_MAX
            end = _closing_brace(text, m.end(), limit)
            # each character is scanned for braces at most once: linear on any input
            covered = end if end is not None else limit
            if end is not None:
                start = line_start + len(modifiers) - len(modifiers.lstrip())
                self.add(T.YARA, text[start:end], start, end, 95)


def passes(run: Run) -> Iterator[Callable[[], None]]:
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
    if T.MAC in t:
        yield run.macs
    if T.TLSH in t:
        yield partial(run.t1, P.TLSH, T.TLSH)
    if T.JA4 in t:
        yield partial(run.simple, P.JA4, T.JA4, 90, P.JA4_ANCHORS, "_")
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
    if T.CVE in t:
        yield partial(run.simple, P.CVE, T.CVE, 95, P.CVE_ANCHORS)
    if T.ATTACK_TECHNIQUE in t:
        yield partial(run.t1, P.ATTACK, T.ATTACK_TECHNIQUE)
    if T.ASN in t:
        yield partial(run.simple, P.ASN, T.ASN, 80)
