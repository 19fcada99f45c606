"""Indicator types, canonical forms, type detection and deterministic ids (pure, no I/O).

Public API::

    IndicatorType, Indicator, TypeSpec, REGISTRY, SPOORHOUND_NAMESPACE,
    resolve_type(), detect(), normalize(), parse(), indicator_id()

Exceptions (both are ``ValueError``; ``str(exc)`` is a user-facing reason):

* :class:`InvalidIndicator` - a value is not a valid indicator of the given type, or
  its type could not be determined. The message starts with the type name, e.g.
  ``"ipv4: octet 256 out of range"``.
* :class:`UnknownType` - :func:`resolve_type` got a name it does not know.

Canonical forms and every judgement call are documented in ``docs/indicators.md``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from spoorhound.core._canon import (
    CANONICALISERS,
    HIVE_PREFIX_RE,
    IPV4_RE,
    canon_asn,
    canon_btc,
    canon_cidr,
    canon_email,
    canon_eth,
    canon_filename,
    canon_filepath,
    canon_ipv6,
    canon_ja4,
    canon_mac,
    canon_regkey,
    canon_ssdeep,
    canon_technique,
    canon_tlsh,
    canon_url,
    canon_user_agent,
    canon_xmr,
    canon_yara,
)
from spoorhound.core._hostnames import FILE_EXTENSION_TLDS, FILE_EXTENSIONS, canon_hostname
from spoorhound.core._itypes import (
    GENERIC_IP_NAMES,
    Fail,
    IndicatorType,
    UnknownType,
    resolve_type,
)
from spoorhound.core.fang import refang

__all__ = [
    "REGISTRY",
    "SPOORHOUND_NAMESPACE",
    "Indicator",
    "IndicatorType",
    "InvalidIndicator",
    "TypeSpec",
    "UnknownType",
    "detect",
    "indicator_id",
    "normalize",
    "parse",
    "resolve_type",
]

#: Namespace of every indicator id: ``uuid5(SPOORHOUND_NAMESPACE, f"{type}:{value}")``.
#: A fixed random UUID; changing it would change every stored id.
SPOORHOUND_NAMESPACE = uuid.UUID("9f02740b-3d2c-4fc2-a525-3850e711c11e")


class InvalidIndicator(ValueError):
    """A value is not a valid indicator; ``str(exc)`` says why, prefixed by the type."""


_NS_BYTES = SPOORHOUND_NAMESPACE.bytes


def indicator_id(type: IndicatorType | str, canonical_value: str) -> str:
    """Deterministic id of an indicator: ``str(uuid5(SPOORHOUND_NAMESPACE, "type:value"))``.

    ``canonical_value`` must already be canonical (see :func:`normalize`). Computed
    directly from SHA-1 rather than through ``uuid.uuid5`` because it sits on the ingest
    hot path; the result is identical (a test checks it).
    """
    t = type.value if type.__class__ is IndicatorType else _type_name(type)
    h = hashlib.sha1(_NS_BYTES + f"{t}:{canonical_value}".encode()).hexdigest()
    # Version nibble 5 at hex digit 12; RFC 4122 variant (10xx) at hex digit 16.
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


@dataclass(frozen=True, slots=True)
class Indicator:
    """An immutable, validated indicator: a type and its canonical value."""

    type: IndicatorType
    value: str

    @property
    def id(self) -> str:
        """The deterministic id, ``indicator_id(self.type, self.value)``."""
        return indicator_id(self.type, self.value)


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """One entry of :data:`REGISTRY`: what a type is and whether ``detect`` can find it."""

    type: IndicatorType
    category: str
    description: str
    detectable: bool
    example: str


_T = IndicatorType


def _spec(t: IndicatorType, category: str, description: str, example: str, *, detectable: bool = True) -> TypeSpec:  # fmt: skip
    return TypeSpec(t, category, description, detectable, example)


#: Every indicator type, in declaration order. Built once from constants.
REGISTRY: Mapping[IndicatorType, TypeSpec] = MappingProxyType(
    {
        s.type: s
        for s in (
            _spec(_T.IPV4, "network", "IPv4 address", "198.51.100.7"),
            _spec(_T.IPV6, "network", "IPv6 address", "2001:db8::7"),
            _spec(_T.CIDR, "network", "IPv4 or IPv6 network", "203.0.113.0/24"),
            _spec(_T.DOMAIN, "network", "DNS domain or host name", "xn--bcher-kva.de"),
            _spec(_T.URL, "network", "URL", "http://evil.example.com/gate.php?id=1"),
            _spec(_T.EMAIL, "identity", "e-mail address", "Billing.Dept@example.com"),
            _spec(_T.MD5, "file", "MD5 file hash", "44d88612fea8a8f36de82e1278abb02f"),
            _spec(_T.SHA1, "file", "SHA-1 file hash", "3395856ce81f2b7382dee72602f798b642f14140"),
            _spec(
                _T.SHA256,
                "file",
                "SHA-256 file hash",
                "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
            ),
            _spec(
                _T.SHA512,
                "file",
                "SHA-512 file hash",
                "cc805d5fab1fd71a4ab352a9c533e65fb2d5b885518f4e565e68847223b8e6b8"
                "5cb48f3afad842726d99239c9e36505c64b0dc9a061d9e507d833277ada336ab",
            ),
            _spec(
                _T.SSDEEP,
                "file",
                "ssdeep fuzzy hash",
                "3:a+JraNvsgzsVqSwHq9:tJuOgzsko",
            ),
            _spec(
                _T.TLSH,
                "file",
                "TLSH locality-sensitive hash",
                "T1" + "A5B3C2D1E0F9" * 5 + "A5B3C2D1E0",
            ),
            _spec(
                _T.IMPHASH,
                "file",
                "PE import hash (labelled only)",
                "f34d5f2d4577ed6d9ceec516c1f5a744",
                detectable=False,
            ),
            _spec(
                _T.JA3,
                "network",
                "JA3 TLS client fingerprint (labelled only)",
                "e7d705a3286e19ea42f587b344ee6865",
                detectable=False,
            ),
            _spec(
                _T.JA3S,
                "network",
                "JA3S TLS server fingerprint (labelled only)",
                "eb1d94daa7e0344597e756a1fb6e7054",
                detectable=False,
            ),
            _spec(
                _T.JA4,
                "network",
                "JA4 TLS client fingerprint",
                "t13d1516h2_8daaf6152771_b186095e22b6",
            ),
            _spec(_T.ASN, "network", "autonomous system number", "AS13335"),
            _spec(_T.CVE, "vulnerability", "CVE identifier", "CVE-2021-44228"),
            _spec(_T.MAC, "network", "MAC address", "00:1a:2b:3c:4d:5e"),
            _spec(_T.FILENAME, "file", "file name", "invoice_2024.pdf.exe"),
            _spec(_T.FILEPATH, "file", "file path", "C:\\Users\\Public\\svchost.exe"),
            _spec(
                _T.REGKEY,
                "registry",
                "Windows registry key",
                "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
            ),
            _spec(
                _T.MUTEX, "memory", "mutex name (labelled only)", "Global\\M5u7eX", detectable=False
            ),
            _spec(
                _T.USER_AGENT,
                "network",
                "HTTP User-Agent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
            ),
            _spec(_T.BTC, "finance", "Bitcoin address", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
            _spec(
                _T.ETH, "finance", "Ethereum address", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
            ),
            _spec(
                _T.XMR,
                "finance",
                "Monero address",
                "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
            ),
            _spec(_T.ATTACK_TECHNIQUE, "technique", "MITRE ATT&CK technique", "T1059.001"),
            _spec(
                _T.YARA,
                "technique",
                "YARA rule text",
                'rule demo\n{\n    strings:\n        $a = "evil"\n    condition:\n        $a\n}',
            ),
            _spec(
                _T.STRING,
                "memory",
                "arbitrary string (labelled only)",
                "cmd.exe /c whoami",
                detectable=False,
            ),
            _spec(
                _T.BYTES,
                "memory",
                "hex byte pattern (labelled only)",
                "4D 5A ?? 00",
                detectable=False,
            ),
        )
    }
)


def _type_name(t: IndicatorType | str) -> str:
    return t.value if isinstance(t, IndicatorType) else resolve_type(t).value


def _resolve_for_value(t: IndicatorType | str, value: str) -> IndicatorType:
    if isinstance(t, IndicatorType):
        return t
    key = t.strip().lower().replace("_", "-")
    if key in GENERIC_IP_NAMES:
        return _T.CIDR if "/" in value else _T.IPV6 if ":" in value else _T.IPV4
    return resolve_type(t)


def normalize(type: IndicatorType | str, raw: str) -> str:
    """Validate ``raw`` as an indicator of ``type`` and return its canonical value.

    Surrounding whitespace is ignored. Does not refang (see :func:`parse`). Raises
    :class:`InvalidIndicator` with the reason, or :class:`UnknownType` for a bad name.
    """
    s = raw.strip()
    t = _resolve_for_value(type, s)
    if not s:
        raise InvalidIndicator(f"{t.value}: empty value")
    r = CANONICALISERS[t](s)
    if isinstance(r, Fail):
        raise InvalidIndicator(f"{t.value}: {r.reason}")
    return r


# --- detection ---------------------------------------------------------------------------

_SPACE_RE = re.compile(r"\s")
_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_HEX_TYPES = {32: _T.MD5, 40: _T.SHA1, 64: _T.SHA256, 128: _T.SHA512, 70: _T.TLSH}
_IPV6_CHARS_RE = re.compile(r"\[?[0-9A-Fa-f:.]+\]?")
_CVE_START_RE = re.compile(r"[Cc][Vv][Ee][-_][0-9]")
_ASN_RE = re.compile(r"[Aa][Ss][Nn]?\s?[0-9]{1,10}")
_UA_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.!+-]{0,63}/[0-9][^/\s]*(?:\s|$)")
_UA_TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z0-9_!+-]{0,63}/[0-9][A-Za-z0-9._+-]*")
_YARA_START_RE = re.compile(r"(?:(?:private|global)\s+)*rule\s|import\s+\"|include\s+\"|//|/\*")
_WIN_ABS_RE = re.compile(r"[A-Za-z]:[\\/]|\\\\[^\\/\s]+\\|%[A-Za-z0-9_()]+%(?:[\\/]|$)")
_ETH_START = ("0x", "0X")
_MAC_DOT_RE = re.compile(r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}")

Detected = tuple[IndicatorType, str]


def _ok(t: IndicatorType, r: str | Fail) -> Detected | None:
    return None if isinstance(r, Fail) else (t, r)


def _detect(s: str) -> Detected | None:
    """Find the most specific detectable type of ``s`` and its canonical value."""
    n = len(s)
    if n == 0:
        return None
    if _SPACE_RE.search(s):
        return _detect_spaced(s)
    c0 = s[0]
    ht = _HEX_TYPES.get(n)
    if ht is not None and _HEX_RE.fullmatch(s):
        return (ht, "T1" + s.upper()) if ht is _T.TLSH else (ht, s.lower())
    if "://" in s:
        return _ok(_T.URL, canon_url(s))
    if c0 in "\"'":
        if n > 2 and s[-1] == c0:
            inner = _detect(s[1:-1].strip())
            if inner is not None and inner[0] in (_T.FILENAME, _T.FILEPATH, _T.REGKEY):
                return inner
        return None
    if "@" in s:
        r = canon_email(s)
        if not isinstance(r, Fail):
            return (_T.EMAIL, r)
        return _ok(_T.URL, canon_url(s)) if "/" in s else None
    if "\\" in s:
        if HIVE_PREFIX_RE.match(s):
            return _ok(_T.REGKEY, canon_regkey(s))
        if _WIN_ABS_RE.match(s) or c0 == "\\":
            return _ok(_T.FILEPATH, canon_filepath(s))
        return None
    if c0 == "/" or c0 == "~":
        return _ok(_T.FILEPATH, canon_filepath(s)) if n > 1 and s[1] != "/" else None
    if ":" in s:
        return _detect_colon(s, c0)
    if "/" in s:
        if c0.isdigit():
            r = canon_cidr(s)
            if not isinstance(r, Fail):
                return (_T.CIDR, r)
        r = canon_url(s)
        if not isinstance(r, Fail):
            return (_T.URL, r)
        if _UA_TOKEN_RE.fullmatch(s):
            return (_T.USER_AGENT, s)
        return None
    if "%" in s and _WIN_ABS_RE.match(s):
        return _ok(_T.FILEPATH, canon_filepath(s))
    if c0.isdigit():
        if IPV4_RE.fullmatch(s):
            return (_T.IPV4, s)
        if c0 in "13" and n >= 26:
            r = canon_btc(s)
            if not isinstance(r, Fail):
                return (_T.BTC, r)
        elif c0 in "48" and n == 95:
            return _ok(_T.XMR, canon_xmr(s))
        elif c0 == "0" and s.startswith(_ETH_START):
            return _ok(_T.ETH, canon_eth(s))
    else:
        found = _detect_by_letter(s, c0, n)
        if found is not None:
            return found
    if "." in s:
        return _detect_dotted(s)
    if "-" in s:
        return _ok(_T.MAC, canon_mac(s))
    return None


def _detect_by_letter(s: str, c0: str, n: int) -> Detected | None:
    u = c0.upper()
    if u == "T":
        if n == 72:
            return _ok(_T.TLSH, canon_tlsh(s))
        if n in (5, 9) and s[1].isdigit():
            return _ok(_T.ATTACK_TECHNIQUE, canon_technique(s))
    if u == "C" and _CVE_START_RE.match(s):
        from_cve = CANONICALISERS[_T.CVE](s)
        return _ok(_T.CVE, from_cve)
    if u == "A" and _ASN_RE.fullmatch(s):
        return _ok(_T.ASN, canon_asn(s))
    if u == "B" and s[:3].lower() == "bc1":
        return _ok(_T.BTC, canon_btc(s))
    if u == "H" and HIVE_PREFIX_RE.match(s):
        return _ok(_T.REGKEY, canon_regkey(s))
    if n == 36 and u in "TQD" and s[10:11] == "_":
        return _ok(_T.JA4, canon_ja4(s))
    return None


def _detect_colon(s: str, c0: str) -> Detected | None:
    if c0.isdigit() and s.count(":") == 2 and "." not in s:
        r = canon_ssdeep(s)
        if not isinstance(r, Fail):
            return (_T.SSDEEP, r)
    if len(s) == 17:
        r = canon_mac(s)
        if not isinstance(r, Fail):
            return (_T.MAC, r)
    if "/" in s and (c0 == "[" or s.count(":") >= 2) and "." not in s.rpartition("/")[2]:
        r = canon_cidr(s)
        if not isinstance(r, Fail):
            return (_T.CIDR, r)
    if s.count(":") >= 2 and _IPV6_CHARS_RE.fullmatch(s):
        return _ok(_T.IPV6, canon_ipv6(s))
    if len(s) > 2 and s[1] == ":" and s[2] == "/" and c0.isalpha():
        return _ok(_T.FILEPATH, canon_filepath(s))
    if c0.upper() == "H" and HIVE_PREFIX_RE.match(s):
        return _ok(_T.REGKEY, canon_regkey(s))
    # host:port[/path] without a scheme
    return _ok(_T.URL, canon_url(s)) if "." in s or c0 == "[" else None


def _detect_dotted(s: str) -> Detected | None:
    base = s[:-1] if s[-1] == "." else s
    ext = base[base.rfind(".") + 1 :].lower()
    if ext in FILE_EXTENSION_TLDS and base.count(".") == 1:
        return _ok(_T.FILENAME, canon_filename(s))
    r = canon_hostname(s)
    if not isinstance(r, Fail):
        return (_T.DOMAIN, r)
    if ext in FILE_EXTENSIONS:
        return _ok(_T.FILENAME, canon_filename(s))
    if _MAC_DOT_RE.fullmatch(s):
        return _ok(_T.MAC, canon_mac(s))
    return None


def _detect_spaced(s: str) -> Detected | None:
    c0 = s[0]
    if _YARA_START_RE.match(s):
        return _ok(_T.YARA, canon_yara(s))
    if c0 in "\"'" and len(s) > 2 and s[-1] == c0:
        inner = _detect_spaced(s[1:-1].strip()) if _SPACE_RE.search(s[1:-1].strip()) else None
        if inner is not None and inner[0] in (_T.FILENAME, _T.FILEPATH, _T.REGKEY):
            return inner
        return None
    if "\n" in s or "\r" in s:
        return None
    if HIVE_PREFIX_RE.match(s) or s[:10].upper() == "\\REGISTRY\\":
        return _ok(_T.REGKEY, canon_regkey(s))
    if _WIN_ABS_RE.match(s) or c0 == "/":
        return _ok(_T.FILEPATH, canon_filepath(s))
    if c0 in "Aa" and _ASN_RE.fullmatch(s):
        return _ok(_T.ASN, canon_asn(s))
    if _UA_RE.match(s):
        return _ok(_T.USER_AGENT, canon_user_agent(s))
    if "/" not in s and "\\" not in s:
        dot = s.rfind(".")
        if dot > 0 and s[dot + 1 :].lower() in FILE_EXTENSIONS:
            return _ok(_T.FILENAME, canon_filename(s))
    return None


def detect(raw: str) -> IndicatorType | None:
    """Return the single most specific detectable type of ``raw``, or None.

    ``raw`` must already be refanged and stripped. Only valid values are detected (a
    32-hex string is ``md5``; a name is a ``domain`` only under a real TLD). Types whose
    :attr:`TypeSpec.detectable` is False are never returned.
    """
    found = _detect(raw)
    return None if found is None else found[0]


# Types whose values can be defanged; only these are refanged by parse(), because refang
# would corrupt e.g. registry keys (`Classes\.exe`) or YARA regexes (`[.]`).
_FANGABLE = frozenset({_T.IPV4, _T.IPV6, _T.CIDR, _T.DOMAIN, _T.URL, _T.EMAIL})
# Types whose detection also matches defanged network indicators (`evil[.]com` is a valid
# file name); for these, parse() checks whether the refanged value is a network indicator.
_SHADOWS_DEFANGED = frozenset({_T.FILENAME, _T.FILEPATH, _T.USER_AGENT})


def parse(raw: str, type: IndicatorType | str | None = None) -> Indicator:
    """Strip, refang, detect (when ``type`` is None) and normalise ``raw``.

    Refanging applies only to network types (ip, cidr, domain, url, email): other values
    are taken as written. Raises :class:`InvalidIndicator` (also when no type can be
    determined) or :class:`UnknownType` for an unknown ``type`` name.
    """
    s = raw.strip()
    if type is None:
        found = _detect(s)
        if found is None or found[0] in _FANGABLE or found[0] in _SHADOWS_DEFANGED:
            r = refang(s)
            if r != s:
                refanged = _detect(r.strip())
                # `evil[.]example.com` is also a valid file name; a defanged network
                # indicator is what the writer meant.
                if refanged is not None and (found is None or refanged[0] in _FANGABLE):
                    found = refanged
        if found is None:
            raise InvalidIndicator("could not determine the indicator type")
        return Indicator(found[0], found[1])
    t = _resolve_for_value(type, s)
    if t in _FANGABLE:
        s = refang(s).strip()
        if isinstance(type, str) and t is not _resolve_for_value(type, s):
            t = _resolve_for_value(type, s)
    if not s:
        raise InvalidIndicator(f"{t.value}: empty value")
    v = CANONICALISERS[t](s)
    if isinstance(v, Fail):
        raise InvalidIndicator(f"{t.value}: {v.reason}")
    return Indicator(t, v)
