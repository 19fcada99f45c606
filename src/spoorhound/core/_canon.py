"""Per-type canonicalisers: ``str -> str | Fail``.

Each function takes an already stripped value and returns the canonical form, or a
:class:`~spoorhound.core._itypes.Fail` carrying a user-facing reason. They never raise
for bad input, so ``detect`` can probe several candidate types cheaply; the public
``normalize`` turns a ``Fail`` into :class:`~spoorhound.core.indicators.InvalidIndicator`.
Every choice made here is documented in ``docs/indicators.md``.

Why over 600 lines: it is a flat table of ~30 small, independent functions (one per
type) ending in ``CANONICALISERS``; keeping every canonical form in one file makes
reviewing a change to stored ids a one-file job.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from spoorhound.core._checksums import (
    base58check_payload,
    bech32_segwit_ok,
    eip55_ok,
    keccak256,
)
from spoorhound.core._hostnames import canon_hostname
from spoorhound.core._itypes import Fail, IndicatorType

__all__ = ["CANONICALISERS", "IPV4_RE", "URL_SCHEMES", "fmt_ipv6"]

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_RE = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_MAX_FREE_TEXT = 65536

# --- IP addresses ---------------------------------------------------------------------


def _explain_ipv4(s: str) -> Fail:
    parts = s.split(".")
    if len(parts) != 4:
        return Fail(f"expected 4 dot-separated octets, got {len(parts)}")
    for p in parts:
        if not (p.isascii() and p.isdigit()):
            return Fail(f"octet {p!r} is not a decimal number")
        if len(p) > 1 and p[0] == "0":
            return Fail(f"octet '{p}' has a leading zero (ambiguous: octal or decimal)")
        if int(p) > 255:
            return Fail(f"octet {int(p)} out of range")
    return Fail("invalid address")  # unreachable when the regex and this loop agree


def canon_ipv4(s: str) -> str | Fail:
    """Dotted quad, no leading zeros (``010.1.1.1`` is rejected, not guessed)."""
    if IPV4_RE.fullmatch(s):
        return s
    return _explain_ipv4(s)


def fmt_ipv6(n: int) -> str:
    """RFC 5952 text form, identical on every Python version.

    ``ipaddress`` changed how IPv4-mapped addresses print in 3.13; ids must not depend
    on the interpreter, so the formatting is done here. IPv4-mapped addresses
    (``::ffff:0:0/96``) use the dotted tail recommended by RFC 5952 section 5.
    """
    if n >> 32 == 0xFFFF:
        v4 = n & 0xFFFFFFFF
        return f"::ffff:{v4 >> 24}.{(v4 >> 16) & 255}.{(v4 >> 8) & 255}.{v4 & 255}"
    hextets = [(n >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    best_start, best_len, cur_start, cur_len = -1, 0, -1, 0
    for i, h in enumerate(hextets):
        if h == 0:
            if cur_start < 0:
                cur_start, cur_len = i, 0
            cur_len += 1
            if cur_len > best_len:
                best_start, best_len = cur_start, cur_len
        else:
            cur_start = -1
    if best_len < 2:
        return ":".join(f"{h:x}" for h in hextets)
    head = ":".join(f"{h:x}" for h in hextets[:best_start])
    tail = ":".join(f"{h:x}" for h in hextets[best_start + best_len :])
    return f"{head}::{tail}"


def _ipv6_int(s: str) -> int | Fail:
    if "%" in s:
        return Fail("zone index ('%...') is not allowed in an indicator")
    try:
        return int(ipaddress.IPv6Address(s))
    except ValueError as exc:
        return Fail(str(exc))


def canon_ipv6(s: str) -> str | Fail:
    """Compressed lower-case RFC 5952 form; brackets are removed, zone ids rejected."""
    if s.startswith("[") and s.endswith("]"):
        s = s[1:-1]
    n = _ipv6_int(s)
    return n if isinstance(n, Fail) else fmt_ipv6(n)


def canon_cidr(s: str) -> str | Fail:
    """``network/prefix``; host bits are masked off (``10.1.2.3/8`` -> ``10.0.0.0/8``)."""
    addr, sep, prefix = s.partition("/")
    if not sep:
        return Fail("missing '/prefix'")
    v6 = ":" in addr
    width = 128 if v6 else 32
    if prefix.isascii() and prefix.isdigit():
        if len(prefix) > 1 and prefix[0] == "0":
            return Fail(f"prefix '/{prefix}' has a leading zero")
        plen = int(prefix)
        if plen > width:
            return Fail(f"prefix /{plen} out of range (max /{width})")
    elif not v6 and IPV4_RE.fullmatch(prefix):
        # Netmask notation (10.0.0.0/255.0.0.0) is accepted and converted.
        mask = int(ipaddress.IPv4Address(prefix))
        plen = bin(mask).count("1")
        if mask != ((1 << 32) - 1) ^ ((1 << (32 - plen)) - 1):
            return Fail(f"netmask {prefix} is not contiguous")
    else:
        return Fail(f"prefix '/{prefix}' is not a number")
    mask = ((1 << width) - 1) ^ ((1 << (width - plen)) - 1)
    if v6:
        n6 = _ipv6_int(addr[1:-1] if addr.startswith("[") and addr.endswith("]") else addr)
        if isinstance(n6, Fail):
            return n6
        return f"{fmt_ipv6(n6 & mask)}/{plen}"
    if not IPV4_RE.fullmatch(addr):
        return _explain_ipv4(addr)
    a, b, c, d = (int(x) for x in addr.split("."))
    n = ((a << 24) | (b << 16) | (c << 8) | d) & mask
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}/{plen}"


# --- Names, URLs and e-mail -----------------------------------------------------------


def canon_domain(s: str) -> str | Fail:
    """Lower-case A-label name under a real TLD, without the trailing dot."""
    return canon_hostname(s)


# Scheme -> its IANA default port (None: no default). See docs/indicators.md.
URL_SCHEMES: dict[str, int | None] = {
    "http": 80,
    "https": 443,
    "ftp": 21,
    "ftps": 990,
    "sftp": 22,
    "tftp": 69,
    "ws": 80,
    "wss": 443,
    "smb": 445,
    "ldap": 389,
    "ldaps": 636,
    "rmi": 1099,
    "irc": 6667,
    "tcp": None,
    "udp": None,
}
# Pseudo-schemes naming a socket, where "/" would be meaningless.
_NO_ROOT_PATH = frozenset({"tcp", "udp"})
_URL_BAD_RE = re.compile(r"[\x00-\x20\x7f]")
_AUTHORITY_END_RE = re.compile(r"[/?#]")


def _canon_host(host: str) -> str | Fail:
    if not host:
        return Fail("missing host")
    if host[0] == "[":
        if host[-1] != "]":
            return Fail("unterminated '[' in IPv6 host")
        v6 = canon_ipv6(host[1:-1])
        return v6 if isinstance(v6, Fail) else f"[{v6}]"
    if host[-1].isdigit() and not host.endswith("."):
        # A name ending in a digit can only be an IPv4 literal (TLDs start with a letter).
        return canon_ipv4(host)
    return canon_hostname(host)


def canon_url(s: str) -> str | Fail:
    """Lower-case scheme and host, IDNA host, no default port, no fragment.

    Path and query are kept byte-exact (percent escapes are neither decoded nor added);
    an empty path becomes ``/`` (except for ``tcp``/``udp``); a missing scheme means
    ``http://``.
    """
    if _URL_BAD_RE.search(s):
        return Fail("contains whitespace or control characters")
    i = s.find("://")
    if i < 0:
        scheme, rest = "http", s
    else:
        scheme = s[:i].lower()
        if scheme not in URL_SCHEMES:
            return Fail(f"unsupported scheme '{scheme}'")
        rest = s[i + 3 :]
    m = _AUTHORITY_END_RE.search(rest)
    if m is None:
        authority, tail = rest, ""
    else:
        authority, tail = rest[: m.start()], rest[m.start() :]
    hash_at = tail.find("#")
    if hash_at >= 0:
        tail = tail[:hash_at]
    at = authority.rfind("@")
    userinfo = authority[: at + 1]
    hostport = authority[at + 1 :]
    port = ""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            return Fail("unterminated '[' in IPv6 host")
        host, after = hostport[: close + 1], hostport[close + 1 :]
        if after:
            if after[0] != ":":
                return Fail(f"unexpected {after!r} after IPv6 host")
            port = after[1:]
    else:
        c = hostport.rfind(":")
        if c >= 0:
            host, port = hostport[:c], hostport[c + 1 :]
        else:
            host = hostport
    chost = _canon_host(host)
    if isinstance(chost, Fail):
        return Fail(f"host: {chost.reason}")
    if port:
        if not (port.isascii() and port.isdigit()):
            return Fail(f"port '{port}' is not a number")
        p = int(port)
        if p > 65535:
            return Fail(f"port {p} out of range")
        port = "" if p == URL_SCHEMES[scheme] else f":{p}"
    if scheme not in _NO_ROOT_PATH and (not tail or tail[0] == "?"):
        tail = "/" + tail
    return f"{scheme}://{userinfo}{chost}{port}{tail}"


# Dot-atom local part (RFC 5322) without quoted strings or braces; see the docs.
_LOCAL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`|~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`|~-]+)*")


def canon_email(s: str) -> str | Fail:
    """Local part as written (it is case-sensitive by RFC 5321), domain canonicalised."""
    if s[:7].lower() == "mailto:":
        s = s[7:]
    at = s.rfind("@")
    if at < 0:
        return Fail("missing '@'")
    local, domain = s[:at], s[at + 1 :]
    if not local:
        return Fail("empty local part")
    if len(local) > 64:
        return Fail(f"local part is {len(local)} characters long (max 64)")
    if not _LOCAL_RE.fullmatch(local):
        return Fail(f"invalid local part '{local}'")
    cdom = canon_hostname(domain)
    if isinstance(cdom, Fail):
        return Fail(f"domain: {cdom.reason}")
    return f"{local}@{cdom}"


# --- Hashes and fingerprints ----------------------------------------------------------

_HEX_RE = re.compile(r"[0-9a-fA-F]+")


def _hex_of(length: int) -> Callable[[str], str | Fail]:
    def canon(s: str) -> str | Fail:
        if len(s) == length and _HEX_RE.fullmatch(s):
            return s.lower()
        if len(s) != length:
            return Fail(f"expected {length} hexadecimal characters, got {len(s)}")
        bad = next(c for c in s if c not in "0123456789abcdefABCDEF")
        return Fail(f"non-hexadecimal character {bad!r}")

    canon.__doc__ = f"{length} hex characters, lower case."
    return canon


_SSDEEP_RE = re.compile(r"([0-9]{1,10}):([A-Za-z0-9/+]{1,64}):([A-Za-z0-9/+]{1,64})")


def canon_ssdeep(s: str) -> str | Fail:
    """``blocksize:hash:hash`` as written; a trailing ``,"filename"`` is dropped."""
    comma = s.find(',"')
    if comma >= 0:
        s = s[:comma]
    m = _SSDEEP_RE.fullmatch(s)
    if m is None:
        return Fail("expected 'blocksize:hash:hash'")
    bs = int(m.group(1))
    if bs < 3 or bs % 3 or (bs // 3) & (bs // 3 - 1):
        return Fail(f"block size {bs} is not 3 times a power of two")
    return f"{bs}:{m.group(2)}:{m.group(3)}"


_TLSH_RE = re.compile(r"(?:[Tt]1)?([0-9A-Fa-f]{70})")


def canon_tlsh(s: str) -> str | Fail:
    """``T1`` + 70 upper-case hex; the version prefix is added to pre-4.0 digests."""
    m = _TLSH_RE.fullmatch(s)
    if m is None:
        return Fail("expected 'T1' followed by 70 hexadecimal characters")
    return "T1" + m.group(1).upper()


_JA4_RE = re.compile(
    r"[tqd](?:1[0-3]|s[23]|d[123]|00)[di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}"
)


def canon_ja4(s: str) -> str | Fail:
    """JA4 TLS client fingerprint ``a_b_c``, lower case."""
    low = s.lower()
    if _JA4_RE.fullmatch(low):
        return low
    return Fail("expected a JA4 fingerprint like 't13d1516h2_8daaf6152771_b186095e22b6'")


# --- Network identifiers --------------------------------------------------------------

_ASN_RE = re.compile(r"(?:[Aa][Ss][Nn]?)?[ ]?([0-9]{1,10})(?:\.([0-9]{1,5}))?")


def canon_asn(s: str) -> str | Fail:
    """``AS`` + decimal number; ``ASN 13335``/``as13335``/asdot ``AS1.10`` accepted."""
    m = _ASN_RE.fullmatch(s)
    if m is None:
        return Fail("expected 'AS' followed by a number")
    n = int(m.group(1))
    if m.group(2) is not None:
        low = int(m.group(2))
        if n > 65535 or low > 65535:
            return Fail("asdot halves must be at most 65535")
        n = n * 65536 + low
    if n > 4294967295:
        return Fail(f"AS number {n} out of range (max 4294967295)")
    return f"AS{n}"


_CVE_RE = re.compile(r"[Cc][Vv][Ee][-_]([0-9]{4})[-_]([0-9]{4,7})")


def canon_cve(s: str) -> str | Fail:
    """``CVE-YYYY-NNNN...`` upper case."""
    m = _CVE_RE.fullmatch(s)
    if m is None:
        return Fail("expected 'CVE-YYYY-NNNN'")
    year, seq = m.groups()
    if int(year) < 1999:
        return Fail(f"year {year} is before the first CVE year (1999)")
    if len(seq) > 4 and seq[0] == "0":
        return Fail("sequence numbers longer than 4 digits have no leading zero")
    return f"CVE-{year}-{seq}"


_MAC_SEP_RE = re.compile(r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}")
_MAC_DOT_RE = re.compile(r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}")
_MAC_BARE_RE = re.compile(r"[0-9A-Fa-f]{12}")


def canon_mac(s: str) -> str | Fail:
    """Lower-case colon form from ``:``/``-``/Cisco-dot/bare forms."""
    if _MAC_SEP_RE.fullmatch(s) or _MAC_DOT_RE.fullmatch(s) or _MAC_BARE_RE.fullmatch(s):
        h = s.replace(":", "").replace("-", "").replace(".", "").lower()
        return ":".join(h[i : i + 2] for i in range(0, 12, 2))
    return Fail("expected six hex octets like 'aa:bb:cc:dd:ee:ff'")


_TECHNIQUE_RE = re.compile(r"[Tt][0-9]{4}(?:\.[0-9]{3})?")


def canon_technique(s: str) -> str | Fail:
    """MITRE ATT&CK technique or sub-technique id, upper case."""
    if _TECHNIQUE_RE.fullmatch(s):
        return s.upper()
    return Fail("expected 'T1234' or 'T1234.001'")


# --- Host artefacts --------------------------------------------------------------------


def _unquote(s: str) -> str:
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        return s[1:-1].strip()
    return s


def canon_filename(s: str) -> str | Fail:
    """A bare file name as written (case kept), surrounding quotes removed."""
    s = _unquote(s)
    if not s:
        return Fail("empty file name")
    if "/" in s or "\\" in s:
        return Fail("contains a directory separator (use filepath)")
    if s in (".", ".."):
        return Fail(f"'{s}' is not a file name")
    if _CONTROL_RE.search(s) or "\t" in s:
        return Fail("contains control characters")
    if len(s) > 255:
        return Fail(f"file name is {len(s)} characters long (max 255)")
    return s


_ABS_PATH_RE = re.compile(r"[A-Za-z]:[\\/]|\\\\[^\\/]+[\\/]|%[A-Za-z0-9_()]+%|/[^/]|~[\\/]|\\[^\\]")


def canon_filepath(s: str) -> str | Fail:
    """A path as written: separators and case kept, surrounding quotes removed.

    Absolute forms (drive, UNC, ``%VAR%``, POSIX ``/``, ``~/``) are detected; labelled
    relative paths are accepted when they contain a separator.
    """
    s = _unquote(s)
    if not s:
        return Fail("empty path")
    if _CONTROL_RE.search(s):
        return Fail("contains control characters")
    if len(s) > 32767:
        return Fail(f"path is {len(s)} characters long (max 32767)")
    if not _ABS_PATH_RE.match(s) and "/" not in s and "\\" not in s:
        return Fail("no directory separator (use filename)")
    return s


_HIVES = {
    "HKEY_LOCAL_MACHINE": "HKEY_LOCAL_MACHINE",
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKEY_CURRENT_USER": "HKEY_CURRENT_USER",
    "HKCU": "HKEY_CURRENT_USER",
    "HKEY_CLASSES_ROOT": "HKEY_CLASSES_ROOT",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKEY_USERS": "HKEY_USERS",
    "HKU": "HKEY_USERS",
    "HKEY_CURRENT_CONFIG": "HKEY_CURRENT_CONFIG",
    "HKCC": "HKEY_CURRENT_CONFIG",
    "HKEY_PERFORMANCE_DATA": "HKEY_PERFORMANCE_DATA",
    "HKPD": "HKEY_PERFORMANCE_DATA",
}
# Kernel-object spellings used by Sysmon and EDR telemetry.
_KERNEL_HIVES = {"MACHINE": "HKEY_LOCAL_MACHINE", "USER": "HKEY_USERS"}
_MULTI_BACKSLASH_RE = re.compile(r"\\{2,}")
_REGISTRY_PROVIDER_RE = re.compile(r"(?i)(?:Microsoft\.PowerShell\.Core\\)?Registry::")
HIVE_PREFIX_RE = re.compile(
    r"(?i)(?:HKEY_(?:LOCAL_MACHINE|CURRENT_USER|CLASSES_ROOT|USERS|CURRENT_CONFIG|"
    r"PERFORMANCE_DATA)|HK(?:LM|CU|CR|U|CC|PD)):?(?:\\|$)|\\REGISTRY\\(?:MACHINE|USER)(?:\\|$)"
)


def canon_regkey(s: str) -> str | Fail:
    """Full upper-case hive name, single backslashes, no trailing backslash, case kept."""
    s = _unquote(s)
    m = _REGISTRY_PROVIDER_RE.match(s)
    if m:
        s = s[m.end() :]
    if _CONTROL_RE.search(s):
        return Fail("contains control characters")
    # Trailing separators and blanks are dropped together so the result is stable.
    s = _MULTI_BACKSLASH_RE.sub("\\\\", s).rstrip("\\ \t")
    if s[:10].upper() == "\\REGISTRY\\":
        first, _, rest = s[10:].partition("\\")
        hive = _KERNEL_HIVES.get(first.upper())
    else:
        first, _, rest = s.partition("\\")
        hive = _HIVES.get(first.rstrip(":").upper())
    if hive is None:
        return Fail(f"unknown registry hive '{first}'")
    return f"{hive}\\{rest}" if rest else hive


def _free_text(what: str, max_len: int = _MAX_FREE_TEXT) -> Callable[[str], str | Fail]:
    def canon(s: str) -> str | Fail:
        if not s:
            return Fail(f"empty {what}")
        if len(s) > max_len:
            return Fail(f"{what} is {len(s)} characters long (max {max_len})")
        if "\x00" in s:
            return Fail("contains a NUL character")
        return s

    canon.__doc__ = f"Any non-empty {what}, kept as written."
    return canon


def canon_user_agent(s: str) -> str | Fail:
    """A User-Agent header value as written (single line)."""
    if not s:
        return Fail("empty user agent")
    if _CONTROL_RE.search(s):
        return Fail("contains line breaks or control characters")
    if len(s) > 8192:
        return Fail(f"user agent is {len(s)} characters long (max 8192)")
    return s


# --- Cryptocurrency ---------------------------------------------------------------------

_B58 = "1-9A-HJ-NP-Za-km-z"
_BTC_LEGACY_RE = re.compile(rf"[13][{_B58}]{{25,34}}")
_BTC_BECH32_RE = re.compile(r"bc1[ac-hj-np-z02-9]{8,87}")


def canon_btc(s: str) -> str | Fail:
    """Base58Check P2PKH/P2SH (as written) or Bech32/Bech32m ``bc1`` (lower case)."""
    if _BTC_LEGACY_RE.fullmatch(s):
        payload = base58check_payload(s)
        if payload is None:
            return Fail("Base58Check checksum mismatch")
        if len(payload) != 21 or payload[0] != (0 if s[0] == "1" else 5):
            return Fail("not a mainnet P2PKH/P2SH address")
        return s
    low = s.lower()
    if low.startswith("bc1"):
        if s != low and s != s.upper():
            return Fail("bech32 address mixes upper and lower case")
        if not _BTC_BECH32_RE.fullmatch(low) or not bech32_segwit_ok(low):
            return Fail("bech32 checksum or witness program invalid")
        return low
    return Fail("expected a '1...', '3...' or 'bc1...' address")


_ETH_RE = re.compile(r"0[xX]([0-9a-fA-F]{40})")


def canon_eth(s: str) -> str | Fail:
    """``0x`` + 40 lower-case hex; a mixed-case input must carry a valid EIP-55 checksum."""
    m = _ETH_RE.fullmatch(s)
    if m is None:
        return Fail("expected '0x' followed by 40 hexadecimal characters")
    body = m.group(1)
    low = body.lower()
    if body != low and body != body.upper() and not eip55_ok(body):
        return Fail("EIP-55 checksum mismatch")
    return "0x" + low


_XMR_RE = re.compile(rf"[48][{_B58}]{{94}}")
_B58_MAP = {
    c: i for i, c in enumerate("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
}


def _monero_b58decode(s: str) -> bytes:
    # Monero base58 works on 8-byte blocks encoded as 11 characters (last block shorter).
    sizes = {2: 1, 3: 2, 5: 3, 6: 4, 7: 5, 9: 6, 10: 7, 11: 8}
    out = bytearray()
    for off in range(0, len(s), 11):
        block = s[off : off + 11]
        num = 0
        for ch in block:
            num = num * 58 + _B58_MAP[ch]
        out += num.to_bytes(sizes[len(block)], "big")
    return bytes(out)


def canon_xmr(s: str) -> str | Fail:
    """95-character standard or sub-address (``4``/``8``), Keccak checksum verified."""
    if not _XMR_RE.fullmatch(s):
        return Fail("expected a 95-character base58 address starting with 4 or 8")
    try:
        raw = _monero_b58decode(s)
    except OverflowError:
        return Fail("invalid base58 block")
    if keccak256(raw[:-4])[:4] != raw[-4:]:
        return Fail("checksum mismatch")
    return s


# --- Rules and patterns --------------------------------------------------------------

_YARA_RULE_RE = re.compile(r"\brule\s+[A-Za-z_][A-Za-z0-9_]{0,127}\b")
_YARA_CONDITION_RE = re.compile(r"\bcondition\s*:")
_TRAILING_WS_RE = re.compile(r"[ \t\f\v]+$", re.MULTILINE)


def canon_yara(s: str) -> str | Fail:
    """Rule text with ``\\n`` line endings, no trailing whitespace, no outer blank lines."""
    text = _TRAILING_WS_RE.sub("", s.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not _YARA_RULE_RE.search(text):
        return Fail("no 'rule <name>' found")
    if "{" not in text or not text.endswith("}"):
        return Fail("rule body must be enclosed in braces")
    if not _YARA_CONDITION_RE.search(text):
        return Fail("rule has no 'condition:' section")
    return text


_BYTES_PREFIX_RE = re.compile(r"\\x|0[xX](?=[0-9A-Fa-f?]{2})|,")
_BYTES_TOKEN_RE = re.compile(r"[0-9A-Fa-f?]+|\[[^\]]{0,32}\]|[()|]|\S")
_JUMP_RE = re.compile(r"\[\s*([0-9]*)\s*(-?)\s*([0-9]*)\s*\]")


def canon_bytes(s: str) -> str | Fail:
    """Upper-case hex byte tokens separated by single spaces (YARA hex-string syntax)."""
    t = s
    if t.startswith("{") and t.endswith("}"):
        t = t[1:-1]
    t = _BYTES_PREFIX_RE.sub(" ", t)
    out: list[str] = []
    depth = 0
    nbytes = 0
    for tok in _BYTES_TOKEN_RE.findall(t):
        c = tok[0]
        if c == "[":
            m = _JUMP_RE.fullmatch(tok)
            if m is None or (m.group(1) and m.group(3) and int(m.group(1)) > int(m.group(3))):
                return Fail(f"invalid jump {tok!r}")
            lo, dash, hi = m.groups()
            if not dash and not lo:
                return Fail(f"invalid jump {tok!r}")
            out.append(f"[{lo}{dash}{hi}]")
        elif tok in "()|":
            depth += 1 if tok == "(" else -1 if tok == ")" else 0
            if depth < 0:
                return Fail("unbalanced ')'")
            out.append(tok)
        elif c in "0123456789abcdefABCDEF?":
            if len(tok) % 2:
                return Fail(f"odd number of hex digits in {tok!r}")
            up = tok.upper()
            out.extend(up[i : i + 2] for i in range(0, len(up), 2))
            nbytes += len(tok) // 2
        else:
            return Fail(f"unexpected character {c!r}")
    if depth:
        return Fail("unbalanced '('")
    if not nbytes:
        return Fail("no hex bytes")
    return " ".join(out)


CANONICALISERS: dict[IndicatorType, Callable[[str], str | Fail]] = {
    IndicatorType.IPV4: canon_ipv4,
    IndicatorType.IPV6: canon_ipv6,
    IndicatorType.CIDR: canon_cidr,
    IndicatorType.DOMAIN: canon_domain,
    IndicatorType.URL: canon_url,
    IndicatorType.EMAIL: canon_email,
    IndicatorType.MD5: _hex_of(32),
    IndicatorType.SHA1: _hex_of(40),
    IndicatorType.SHA256: _hex_of(64),
    IndicatorType.SHA512: _hex_of(128),
    IndicatorType.SSDEEP: canon_ssdeep,
    IndicatorType.TLSH: canon_tlsh,
    IndicatorType.IMPHASH: _hex_of(32),
    IndicatorType.JA3: _hex_of(32),
    IndicatorType.JA3S: _hex_of(32),
    IndicatorType.JA4: canon_ja4,
    IndicatorType.ASN: canon_asn,
    IndicatorType.CVE: canon_cve,
    IndicatorType.MAC: canon_mac,
    IndicatorType.FILENAME: canon_filename,
    IndicatorType.FILEPATH: canon_filepath,
    IndicatorType.REGKEY: canon_regkey,
    IndicatorType.MUTEX: _free_text("mutex name", 4096),
    IndicatorType.USER_AGENT: canon_user_agent,
    IndicatorType.BTC: canon_btc,
    IndicatorType.ETH: canon_eth,
    IndicatorType.XMR: canon_xmr,
    IndicatorType.ATTACK_TECHNIQUE: canon_technique,
    IndicatorType.YARA: canon_yara,
    IndicatorType.STRING: _free_text("string"),
    IndicatorType.BYTES: canon_bytes,
}
