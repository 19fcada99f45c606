"""The indicator type enumeration, in its own module so ``fang`` and ``indicators`` share it."""

from __future__ import annotations

import enum

__all__ = ["GENERIC_IP_NAMES", "Fail", "IndicatorType", "UnknownType", "resolve_type"]


class IndicatorType(enum.StrEnum):
    """Every indicator type Spoorhound knows; the value is the stable wire/storage name."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    CIDR = "cidr"
    DOMAIN = "domain"
    URL = "url"
    EMAIL = "email"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"
    SSDEEP = "ssdeep"
    TLSH = "tlsh"
    IMPHASH = "imphash"
    JA3 = "ja3"
    JA3S = "ja3s"
    JA4 = "ja4"
    ASN = "asn"
    CVE = "cve"
    MAC = "mac"
    FILENAME = "filename"
    FILEPATH = "filepath"
    REGKEY = "regkey"
    MUTEX = "mutex"
    USER_AGENT = "user-agent"
    BTC = "btc"
    ETH = "eth"
    XMR = "xmr"
    ATTACK_TECHNIQUE = "attack-technique"
    YARA = "yara"
    STRING = "string"
    BYTES = "bytes"


class Fail:
    """Internal: a failed validation with a user-facing reason.

    Canonicalisers return ``str | Fail`` instead of raising, so that ``detect`` can try
    several candidate types without paying for exceptions on the hot path.
    """

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Fail({self.reason!r})"


class UnknownType(ValueError):
    """:func:`resolve_type` was given a type name it does not know."""


# Aliases are looked up after lower-casing and mapping "_" to "-". Sources: MISP
# attribute types, STIX 2.1 cyber-observable names, and common column headers.
_ALIASES: dict[str, IndicatorType] = {t.value: t for t in IndicatorType} | {
    # Generic IP names resolve to ipv4; parse()/normalize() given one of these *names*
    # pick ipv4/ipv6/cidr from the value (see GENERIC_IP_NAMES).
    "ip": IndicatorType.IPV4,
    "ip-dst": IndicatorType.IPV4,
    "ip-src": IndicatorType.IPV4,
    "ip-addr": IndicatorType.IPV4,
    "ip-address": IndicatorType.IPV4,
    "ipaddress": IndicatorType.IPV4,
    "ipv4-addr": IndicatorType.IPV4,
    "ipv6-addr": IndicatorType.IPV6,
    "ip-range": IndicatorType.CIDR,
    "network": IndicatorType.CIDR,
    "hostname": IndicatorType.DOMAIN,
    "host": IndicatorType.DOMAIN,
    "domain-name": IndicatorType.DOMAIN,
    "fqdn": IndicatorType.DOMAIN,
    "uri": IndicatorType.URL,
    "email-addr": IndicatorType.EMAIL,
    "email-address": IndicatorType.EMAIL,
    "email-src": IndicatorType.EMAIL,
    "email-dst": IndicatorType.EMAIL,
    "e-mail": IndicatorType.EMAIL,
    "md-5": IndicatorType.MD5,
    "sha-1": IndicatorType.SHA1,
    "sha-256": IndicatorType.SHA256,
    "sha-512": IndicatorType.SHA512,
    "sha2-256": IndicatorType.SHA256,
    "ja3-fingerprint-md5": IndicatorType.JA3,
    "ja3s-fingerprint-md5": IndicatorType.JA3S,
    "ja4-fingerprint": IndicatorType.JA4,
    "ja4+": IndicatorType.JA4,
    "as": IndicatorType.ASN,
    "as-number": IndicatorType.ASN,
    "autonomous-system": IndicatorType.ASN,
    "vulnerability": IndicatorType.CVE,
    "cve-id": IndicatorType.CVE,
    "mac-addr": IndicatorType.MAC,
    "mac-address": IndicatorType.MAC,
    "file-name": IndicatorType.FILENAME,
    "file-path": IndicatorType.FILEPATH,
    "path": IndicatorType.FILEPATH,
    "registry": IndicatorType.REGKEY,
    "registry-key": IndicatorType.REGKEY,
    "windows-registry-key": IndicatorType.REGKEY,
    "mutant": IndicatorType.MUTEX,
    "useragent": IndicatorType.USER_AGENT,
    "http-user-agent": IndicatorType.USER_AGENT,
    "bitcoin": IndicatorType.BTC,
    "ethereum": IndicatorType.ETH,
    "monero": IndicatorType.XMR,
    "technique": IndicatorType.ATTACK_TECHNIQUE,
    "attack-pattern": IndicatorType.ATTACK_TECHNIQUE,
    "mitre-attack": IndicatorType.ATTACK_TECHNIQUE,
    "yara-rule": IndicatorType.YARA,
    "text": IndicatorType.STRING,
    "hex": IndicatorType.BYTES,
    "pattern-in-file": IndicatorType.BYTES,
    "byte-pattern": IndicatorType.BYTES,
}
GENERIC_IP_NAMES = frozenset({"ip", "ip-dst", "ip-src", "ip-addr", "ip-address", "ipaddress"})


def resolve_type(name: str) -> IndicatorType:
    """Map a type name or common alias (MISP, STIX, column headers) to an IndicatorType.

    Case-insensitive; ``_`` and ``-`` are interchangeable. Generic IP names (``ip``,
    ``ip-dst``, ``ip-src``) resolve to ``ipv4``. Raises :class:`UnknownType`.
    """
    if isinstance(name, IndicatorType):
        return name
    t = _ALIASES.get(name.strip().lower().replace("_", "-"))
    if t is None:
        raise UnknownType(f"unknown indicator type {name!r}")
    return t
