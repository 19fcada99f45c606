"""One extraction run: the refanged text, its tokens, and every pass that finds candidates.

See :mod:`spoorhound.core.extract` for the public API and the design notes.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from functools import partial

from spoorhound.core import _extract_patterns as P
from spoorhound.core._extract_model import Candidate
from spoorhound.core._extract_refang import refang_with_map
from spoorhound.core._extract_util import (
    _CAMEL,
    _CONTEXT_WIDTH,
    _EMAIL_DOMAIN,
    _EXAMPLE_TYPES,
    _FILE_TLDS,
    _HEX_TYPE,
    _LOOKBACK,
    _MAX_URL,
    _NO_FLAGS,
    _SSDEEP_BLOCKS,
    _URL_HOST,
    T,
    _authority_end,
    _Blob,
    _closing_brace,
    _inside,
    _inside2,
    _is_example,
    _maybe_wallet,
    _merge,
    _trim_url,
    boundary_ok,
)
from spoorhound.core._hostnames import FILE_EXTENSIONS, tlds
from spoorhound.core.indicators import IndicatorType, normalize

__all__ = ["Run", "passes"]


class Run:
    """State of one :func:`extract` call: the refanged text, the map, the results."""

    def __init__(self, original: str, types: frozenset[IndicatorType]) -> None:
        self.original = original
        self.text, self.omap = refang_with_map(original)
        self.types = types
        self.out: list[Candidate] = []
        # spans (refanged offsets) inside which dotted tokens are not separate indicators
        self.url_spans: list[tuple[int, int]] = []
        self.url_starts: list[int] = []  # the same spans as two sorted lists, for bisect
        self.url_ends: list[int] = []
        self.url_hosts: set[int] = set()  # refanged start offsets of URL hosts
        self.path_spans: list[tuple[int, int]] = []
        self.path_starts: list[int] = []
        self.path_ends: list[int] = []
        self.tld_set = tlds()
        self._tokens: list[tuple[int, str]] | None = None
        self._blobs: dict[str, _Blob] = {}
        self._norm: dict[tuple[IndicatorType, str], str | None] = {}
        self._hints: list[int] | None = None
        self._lower: str | None = None

    def lower(self) -> str:
        """The text lower-cased, once (for case-insensitive presence tests)."""
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    def tokens(self) -> list[tuple[int, str]]:
        """(offset, token) for whitespace-separated tokens that may hold a host or address.

        ``str.split`` and the filter run in bulk; only tokens with a ".", ":" or 14+
        characters (hashes, wallets, MACs) are kept. Offsets are recovered with
        ``str.find`` from the previous kept token's end, which is exact because the
        tokens skipped in between are shorter and hold neither "." nor ":", so they
        cannot contain a kept token.
        """
        if self._tokens is None:
            text = self.text
            # isalpha() first: most tokens are plain words and leave after one C call
            kept = [
                t
                for t in text.split()
                if not t.isalpha() and (len(t) >= 14 or "." in t or ":" in t)
            ]
            out: list[tuple[int, str]] = []
            pos = 0
            for tok in kept:
                at = text.find(tok, pos)
                out.append((at, tok))
                pos = at + len(tok)
            self._tokens = out
        return self._tokens

    def blob(self, kind: str) -> _Blob:
        """Kept tokens of one kind joined, for one regex call per kind.

        Kinds: "dot" (has "."), "colon" (2+ ":"), "long" (14+ characters), and the
        subsets of long tokens that may be a hash ("hex"), a wallet or a MAC. All are
        sorted out in one loop over the kept tokens.
        """
        if not self._blobs:
            dot: list[tuple[int, str]] = []
            colon: list[tuple[int, str]] = []
            long: list[tuple[int, str]] = []
            hexes: list[tuple[int, str]] = []
            wallets: list[tuple[int, str]] = []
            macs: list[tuple[int, str]] = []
            for item in self.tokens():
                tok = item[1]
                if "." in tok:
                    dot.append(item)
                if ":" in tok and tok.count(":") >= 2:
                    colon.append(item)
                n = len(tok)
                if n < 14:
                    continue
                long.append(item)
                if n >= 32:
                    hexes.append(item)
                if n >= 26 and _maybe_wallet(tok):
                    wallets.append(item)
                if tok.count(":") >= 5 or tok.count("-") >= 5 or tok.count(".") >= 2:
                    macs.append(item)
            self._blobs = {
                "dot": _Blob(dot),
                "colon": _Blob(colon),
                "long": _Blob(long),
                "hex": _Blob(hexes),
                "wallet": _Blob(wallets),
                "mac": _Blob(macs),
            }
        return self._blobs[kind]

    # -- offsets and context ---------------------------------------------------------

    def _orig(self, start: int, end: int) -> tuple[int, int]:
        if self.omap is None:
            return start, end
        return self.omap.start(start), self.omap.end(end)

    def hints(self) -> list[int]:
        """Sorted offsets of every benign / example hint word in the text.

        Found once per text with ``str.find`` on the lower-cased text, so the
        per-candidate check is one bisect instead of a dozen substring searches.
        """
        if self._hints is None:
            low = self.lower()
            found: list[int] = []
            for word in P.BENIGN_HINTS + P.EXAMPLE_HINTS:
                at = low.find(word)
                while at != -1:
                    found.append(at)
                    at = low.find(word, at + 1)
            found.sort()
            self._hints = found
        return self._hints

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
        # The hot path of IOC-dense text: locals instead of attribute lookups, no set
        # unless a flag is set, the example check only where it can apply.
        if itype not in self.types:
            return None
        norm = self._norm
        key = (itype, raw)
        if key in norm:
            value = norm[key]
        else:
            try:
                value = normalize(itype, raw)
            except ValueError:  # InvalidIndicator, and codec errors from IDNA on odd input
                value = None
            norm[key] = value  # reports repeat the same indicators many times
        if value is None:
            return None
        fl: set[str] | None = set(flags) if flags else None
        omap = self.omap
        if omap is None:
            ostart, oend = start, end
        else:
            ostart, oend, defanged = omap.span(start, end)
            if defanged:
                fl = fl or set()
                fl.add("defanged")
                confidence += 10
        hints = self._hints if self._hints is not None else self.hints()
        if hints:
            i = bisect_left(hints, start - _LOOKBACK)
            if i < len(hints) and hints[i] < start:
                # bounded look-back: an unbounded rfind per candidate would be
                # quadratic on one huge line
                text = self.text
                lo = max(text.rfind("\n", max(0, start - _LOOKBACK), start) + 1, start - _LOOKBACK)
                line_before = text[lo:start].lower()
                if P.BENIGN_BEFORE.search(line_before):
                    fl = fl or set()
                    fl.add("benign-context")
                if P.EXAMPLE_BEFORE.search(line_before):
                    fl = fl or set()
                    fl.add("example")
        if itype in _EXAMPLE_TYPES and _is_example(itype, value):
            fl = fl or set()
            fl.add("example")
        if fl is None:
            frozen = _NO_FLAGS
        else:
            frozen = frozenset(fl)
            if "example" in fl or "benign-context" in fl:
                confidence -= 40
        original = self.original
        pad = (_CONTEXT_WIDTH - (oend - ostart)) >> 1
        if pad > 0:
            snippet = original[ostart - pad if ostart > pad else 0 : oend + pad]
        else:
            snippet = original[ostart : ostart + _CONTEXT_WIDTH]  # long spans: YARA rules
        if "\n" in snippet or "\r" in snippet or "\t" in snippet:
            # replace() scans in C; translate() would map every character via a dict
            snippet = snippet.replace("\r", " ").replace("\n", " ").replace("\t", " ")
        cand = Candidate(
            itype,
            value,
            original[ostart:oend],
            ostart,
            oend,
            confidence if 0 <= confidence <= 100 else max(0, min(100, confidence)),
            snippet,
            frozen,
        )
        self.out.append(cand)
        return cand

    # -- passes ---------------------------------------------------------------------

    def urls(self) -> None:
        text = self.text
        for m in P.URL_TAIL.finditer(text):
            sep = m.start()
            scheme = P.SCHEME_END.search(text, max(0, sep - 8), sep)
            if scheme is None:
                continue
            start = scheme.start()
            if not boundary_ok(text, start, "+.-"):
                continue
            if m.end() - start > _MAX_URL:
                continue  # a megabyte of non-space after "://" is not a URL
            raw = _trim_url(text[start : m.end()])
            end = start + len(raw)
            self.url_spans.append((start, end))
            host_at = raw.find("//") + 2
            at = raw.find("@", host_at, _authority_end(raw, host_at))
            self.url_hosts.add(start + (at + 1 if at != -1 else host_at))
            self.add(T.URL, raw, start, end, 90)
        merged = _merge(self.url_spans)
        self.url_starts = [a for a, _ in merged]
        self.url_ends = [b for _, b in merged]

    def dotted(self) -> None:
        want_domain = T.DOMAIN in self.types
        want_ip = bool(self.types & {T.IPV4, T.CIDR})
        want_file = T.FILENAME in self.types
        blob = self.blob("dot")
        starts, offsets = blob.starts, blob.offsets
        handle = self._dotted_token
        # inlined _Blob.finditer: this loop runs once per dotted token of the text
        for m in P.DOTTED.finditer(blob.text):
            at = m.start()
            k = bisect_right(starts, at) - 1
            handle(offsets[k] - starts[k] + at, m.group(), want_domain, want_ip, want_file)

    def _dotted_token(
        self, start: int, tok: str, want_domain: bool, want_ip: bool, want_file: bool
    ) -> None:
        # The hot path for IOC-dense text: cheap string tests first, regexes last.
        in_url = False
        if self.url_starts:
            if start in self.url_hosts:
                in_url = True
            elif _inside2(self.url_starts, self.url_ends, start):
                return  # path parts of a URL are not separate indicators
        if self.path_starts and _inside2(self.path_starts, self.path_ends, start):
            return
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
                return
        if len(core) > 255:
            return  # longer than any host name or file name
        cstart = start + tok.find(core)
        cend = cstart + len(core)
        last = core[-1]
        if last.isdigit():
            if not want_ip or not P.IPV4_SHAPE.fullmatch(core) or self._versionish(cstart):
                return  # versions, OIDs, section numbers, decimals (TLDs never end in a digit)
            conf = 85 if in_url else 80
            if prefix and self.add(T.CIDR, core + prefix, cstart, cend + len(prefix), conf):
                return
            self.add(T.IPV4, core, cstart, cend, conf, _URL_HOST if in_url else ())
            return
        if prefix:
            return
        tld = core[core.rfind(".") + 1 :]
        tld_l = tld.lower()
        if tld_l not in self.tld_set:
            if want_file and not in_url and tld_l in FILE_EXTENSIONS and tld.isalnum():
                self.add(T.FILENAME, core, cstart, cend, 50)
            return
        if not core.islower() and not core.isupper():
            omap = self.omap
            defanged = omap is not None and omap.touches(cstart, cend)
            if not defanged and self._code_identifier(core, cstart, cend):
                return  # a defanged name was written as an indicator on purpose
        elif self._code_call(core, cstart, cend):
            return
        if tld_l in _FILE_TLDS and not in_url and core.count(".") == 1:
            if want_file:
                self.add(T.FILENAME, core, cstart, cend, 50)
            return
        if not want_domain:
            return
        if in_url:
            self.add(T.DOMAIN, core, cstart, cend, 80, _URL_HOST)
        elif start and self.text[start - 1] == "@":
            self.add(T.DOMAIN, core, cstart, cend, 70, _EMAIL_DOMAIN)
        else:
            self.add(T.DOMAIN, core, cstart, cend, 70)

    def _code_call(self, core: str, start: int, end: int) -> bool:
        """Lower-case member access that is code: ``os.path(``, ``new foo.bar``, ``self.app``."""
        text = self.text
        if end < len(text) and (text[end] == "(" or text[end : end + 2] == ".*"):
            return True  # a call obj.method( or a package wildcard com.example.*
        if start >= 4 and text[start - 4 : start] == "new ":
            return True
        first = core[: core.find(".")]
        if first in P.CODE_PREFIXES:
            return True
        return first in P.REVERSED_ROOTS and core.count(".") >= 2

    def _versionish(self, start: int) -> bool:
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
        if end < len(text) and (text[end] == "(" or text[end : end + 2] == ".*"):
            return True  # a call: obj.method(
        if text[max(0, start - 4) : start] == "new ":
            return True
        # Two or more Title-case labels (System.Net, Foo.Bar.Com) are namespaces;
        # people write domains in lower case, or capitalise one word (PayPal.com).
        if not core.isupper() and sum(1 for lab in labels if lab[:1].isupper()) >= 2:
            return True
        # camelCase inside a label (getElementById.host) is code, not a host name
        return _CAMEL.search(core, len(labels[0])) is not None

    def emails(self) -> None:
        text = self.text
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
        for delta, m in self.blob("hex").finditer(P.HEX):
            self._hex(delta + m.start(), m.group())

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
        for delta, m in self.blob("mac").finditer(P.MAC):
            self.add(T.MAC, m.group(), delta + m.start(), delta + m.end(), 70)

    def simple(
        self, pattern: re.Pattern[str], itype: IndicatorType, confidence: int, gate: str
    ) -> None:
        text = self.text
        if gate not in (self.lower() if gate.islower() else text):
            return  # the pattern's literal prefix is absent: skip the scan
        for m in pattern.finditer(text):
            if boundary_ok(text, m.start(), "-"):
                self.add(itype, m.group(), m.start(), m.end(), confidence)

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
        for delta, m in self.blob("wallet").finditer(P.WALLET):
            start = delta + m.start()
            if boundary_ok(self.text, start):
                self.add(T(m.lastgroup or "btc"), m.group(), start, delta + m.end(), 90)

    def token_simple(self, pattern: re.Pattern[str], itype: IndicatorType) -> None:
        for delta, m in self.blob("long").finditer(pattern):
            start = delta + m.start()
            if boundary_ok(self.text, start, "-"):
                self.add(itype, m.group(), start, delta + m.end(), 90)

    def paths(self) -> None:
        text = self.text
        if "\\" not in text and "/" not in text:
            return  # every path pattern needs one of them
        spans: list[tuple[int, int]] = []
        quoted_spans: list[tuple[int, int]] = []
        for pattern, quoted, itype in (
            (P.QUOTED_REGKEY, True, T.REGKEY),
            (P.QUOTED_PATH, True, T.FILEPATH),
            (P.REGKEY, False, T.REGKEY),
            (P.DRIVE_PATH, False, T.FILEPATH),
            (P.UNC_PATH, False, T.FILEPATH),
            (P.ENV_PATH, False, T.FILEPATH),
            (P.UNIX_PATH, False, T.FILEPATH),
        ):
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
        if "utex" not in text and "\\" not in text:
            return
        for m in P.MUTEX_LABEL.finditer(text):
            at = m.start() - 1
            if at < 0 or text[at] not in "mM" or not boundary_ok(text, at):
                continue
            start, end = m.span("label")
            self.add(T.MUTEX, m.group("label"), start, end, 60)
        if "lobal\\" not in text and "ocal\\" not in text and "ession\\" not in text:
            return
        for m in P.MUTEX_NS.finditer(text):
            if boundary_ok(text, m.start(), "\\"):
                self.add(T.MUTEX, m.group(), m.start(), m.end(), 60)

    def user_agents(self) -> None:
        text = self.text
        if "Mozilla/" not in text and "Opera/" not in text:
            return
        for m in P.USER_AGENT.finditer(text):
            if not boundary_ok(text, m.start(), "/"):
                continue
            raw = m.group().rstrip(" .,;")
            self.add(T.USER_AGENT, raw, m.start(), m.start() + len(raw), 70)

    def yara(self) -> None:
        text = self.text
        if "rule" not in text:
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
        yield partial(run.token_simple, P.TLSH, T.TLSH)
    if T.JA4 in t:
        yield partial(run.token_simple, P.JA4, T.JA4)
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
    for pattern, itype, conf, gate in (
        (P.CVE, T.CVE, 95, "cve"),
        (P.ATTACK, T.ATTACK_TECHNIQUE, 90, "T1"),
        (P.ASN, T.ASN, 80, "AS"),
    ):
        if itype in t:
            yield partial(run.simple, pattern, itype, conf, gate)
