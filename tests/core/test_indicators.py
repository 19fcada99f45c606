"""Indicator types: canonical forms, validation reasons, detection, ids, properties."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import domains, urls

from spoorhound.core.indicators import (
    REGISTRY,
    SPOORHOUND_NAMESPACE,
    Indicator,
    IndicatorType,
    InvalidIndicator,
    UnknownType,
    detect,
    indicator_id,
    normalize,
    parse,
    resolve_type,
)

T = IndicatorType

# (type, raw, canonical)
CANONICAL = [
    (T.IPV4, "8.8.8.8", "8.8.8.8"),
    (T.IPV4, " 192.0.2.1 ", "192.0.2.1"),
    (T.IPV6, "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
    (T.IPV6, "[2001:db8::1]", "2001:db8::1"),
    (T.IPV6, "1:0:0:1:0:0:0:1", "1:0:0:1::1"),
    (T.IPV6, "::FFFF:192.0.2.1", "::ffff:192.0.2.1"),
    (T.IPV6, "::ffff:c000:201", "::ffff:192.0.2.1"),
    (T.CIDR, "10.1.2.3/8", "10.0.0.0/8"),
    (T.CIDR, "192.0.2.0/255.255.255.0", "192.0.2.0/24"),
    (T.CIDR, "2001:DB8::1/32", "2001:db8::/32"),
    (T.DOMAIN, "Evil.Example.COM.", "evil.example.com"),
    (T.DOMAIN, "bücher.de", "xn--bcher-kva.de"),
    (T.DOMAIN, "ｅｘａｍｐｌｅ．ｃｏｍ", "example.com"),
    (T.DOMAIN, "_dmarc.example.com", "_dmarc.example.com"),
    (T.DOMAIN, "setup.py", "setup.py"),
    (T.DOMAIN, "abc.onion", "abc.onion"),
    (T.URL, "HTTP://Evil.COM", "http://evil.com/"),
    (T.URL, "https://evil.com:443/a/../b?X=%2F#frag", "https://evil.com/a/../b?X=%2F"),
    (T.URL, "http://evil.com:8080?q=1", "http://evil.com:8080/?q=1"),
    (T.URL, "evil.com/gate.php", "http://evil.com/gate.php"),
    (T.URL, "ftp://files.example.org:21/x", "ftp://files.example.org/x"),
    (T.URL, "http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
    (T.URL, "http://bücher.de/Straße", "http://xn--bcher-kva.de/Straße"),
    (T.URL, "http://User:Pw@evil.com/", "http://User:Pw@evil.com/"),
    (T.URL, "tcp://198.51.100.7:4444", "tcp://198.51.100.7:4444"),
    (T.URL, "ldap://evil.com:1389/a", "ldap://evil.com:1389/a"),
    (T.EMAIL, "John.Doe@Example.COM", "John.Doe@example.com"),
    (T.EMAIL, "mailto:x@bücher.de", "x@xn--bcher-kva.de"),
    (T.MD5, "44D88612FEA8A8F36DE82E1278ABB02F", "44d88612fea8a8f36de82e1278abb02f"),
    (
        T.SHA1,
        "3395856CE81F2B7382DEE72602F798B642F14140",
        "3395856ce81f2b7382dee72602f798b642f14140",
    ),
    (T.SHA256, "A" * 64, "a" * 64),
    (T.SHA512, "B" * 128, "b" * 128),
    (T.IMPHASH, "F34D5F2D4577ED6D9CEEC516C1F5A744", "f34d5f2d4577ed6d9ceec516c1f5a744"),
    (T.JA3, "E7D705A3286E19EA42F587B344EE6865", "e7d705a3286e19ea42f587b344ee6865"),
    (T.JA3S, "eb1d94daa7e0344597e756a1fb6e7054", "eb1d94daa7e0344597e756a1fb6e7054"),
    (T.JA4, "T13D1516H2_8DAAF6152771_B186095E22B6", "t13d1516h2_8daaf6152771_b186095e22b6"),
    (T.SSDEEP, '3:a+JraNvsgzsVqSwHq9:tJuOgzsko,"/tmp/x"', "3:a+JraNvsgzsVqSwHq9:tJuOgzsko"),
    (T.TLSH, "a" * 70, "T1" + "A" * 70),
    (T.TLSH, "t1" + "b" * 70, "T1" + "B" * 70),
    (T.ASN, "AS13335", "AS13335"),
    (T.ASN, "as13335", "AS13335"),
    (T.ASN, "ASN 13335", "AS13335"),
    (T.ASN, "13335", "AS13335"),
    (T.ASN, "AS1.10", "AS65546"),
    (T.CVE, "cve-2021-44228", "CVE-2021-44228"),
    (T.CVE, "CVE_2014_0160", "CVE-2014-0160"),
    (T.MAC, "AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff"),
    (T.MAC, "aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff"),
    (T.MAC, "AABBCCDDEEFF", "aa:bb:cc:dd:ee:ff"),
    (T.FILENAME, '"Invoice 2024.pdf.exe"', "Invoice 2024.pdf.exe"),
    (T.FILEPATH, '"C:\\Program Files\\Evil\\x.exe"', "C:\\Program Files\\Evil\\x.exe"),
    (T.FILEPATH, "\\\\server\\share\\x.dll", "\\\\server\\share\\x.dll"),
    (T.FILEPATH, "%APPDATA%\\Roaming\\x.exe", "%APPDATA%\\Roaming\\x.exe"),
    (T.FILEPATH, "/tmp/.X11-unix/x", "/tmp/.X11-unix/x"),
    (T.FILEPATH, "AppData\\Local\\Temp\\a.exe", "AppData\\Local\\Temp\\a.exe"),
    (
        T.REGKEY,
        "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
        "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
    ),
    (T.REGKEY, "hkcu\\\\Software\\\\Evil\\", "HKEY_CURRENT_USER\\Software\\Evil"),
    (T.REGKEY, "HKLM:\\SOFTWARE\\x", "HKEY_LOCAL_MACHINE\\SOFTWARE\\x"),
    (T.REGKEY, "Registry::HKEY_USERS\\S-1-5-21\\x", "HKEY_USERS\\S-1-5-21\\x"),
    (T.REGKEY, "\\REGISTRY\\MACHINE\\SYSTEM\\x", "HKEY_LOCAL_MACHINE\\SYSTEM\\x"),
    (T.REGKEY, "HKCR", "HKEY_CLASSES_ROOT"),
    (T.MUTEX, " Global\\M5u7eX ", "Global\\M5u7eX"),
    (T.USER_AGENT, "curl/7.68.0", "curl/7.68.0"),
    (T.BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
    (T.BTC, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
    (
        T.BTC,
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    ),
    (
        T.BTC,
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    ),
    (
        T.ETH,
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
    ),
    (T.ETH, "0X" + "AB" * 20, "0x" + "ab" * 20),
    (T.ATTACK_TECHNIQUE, "t1059.001", "T1059.001"),
    (
        T.YARA,
        "rule x {\r\n  condition:   \r\n  true\r\n}\r\n\r\n",
        "rule x {\n  condition:\n  true\n}",
    ),
    (T.STRING, "  cmd.exe /c whoami ", "cmd.exe /c whoami"),
    (T.BYTES, "{ 4d 5a ?? 00 }", "4D 5A ?? 00"),
    (T.BYTES, "4d5a9000", "4D 5A 90 00"),
    (T.BYTES, "\\x4d\\x5a", "4D 5A"),
    (T.BYTES, "0x4D, 0x5A", "4D 5A"),
    (T.BYTES, "4D [2-4] ( 01 | 02 ) ?A", "4D [2-4] ( 01 | 02 ) ?A"),
]


@pytest.mark.parametrize(("t", "raw", "canonical"), CANONICAL)
def test_normalize_canonical(t: IndicatorType, raw: str, canonical: str) -> None:
    assert normalize(t, raw) == canonical
    assert normalize(t, canonical) == canonical


# (type, raw, substring of the reason)
INVALID = [
    (T.IPV4, "256.1.1.1", "ipv4: octet 256 out of range"),
    (T.IPV4, "010.1.1.1", "leading zero"),
    (T.IPV4, "1.2.3", "4 dot-separated"),
    (T.IPV4, "1.2.3.x", "not a decimal"),
    (T.IPV6, "fe80::1%eth0", "zone index"),
    (T.IPV6, "2001:db8::g", "ipv6:"),
    (T.CIDR, "10.0.0.0", "missing '/prefix'"),
    (T.CIDR, "10.0.0.0/33", "out of range"),
    (T.CIDR, "10.0.0.0/255.0.255.0", "not contiguous"),
    (T.DOMAIN, "readme.txtx", "not a known top-level domain"),
    (T.DOMAIN, "localhost", "at least two labels"),
    (T.DOMAIN, "-evil.com", "must not start or end"),
    (T.DOMAIN, "a" * 64 + ".com", "max 63"),
    (T.DOMAIN, "evil..com", "empty label"),
    (T.DOMAIN, "xn--zz.com", "punycode"),
    (T.URL, "gopher://evil.com/", "unsupported scheme"),
    (T.URL, "http://evil.com/a b", "whitespace"),
    (T.URL, "http://evil.com:99999/", "port 99999 out of range"),
    (T.URL, "http:///x", "missing host"),
    (T.URL, "file:///etc/passwd", "unsupported scheme"),
    (T.EMAIL, "no-at.example.com", "missing '@'"),
    (T.EMAIL, "a b@example.com", "invalid local part"),
    (T.EMAIL, "x@example.invalidtld", "domain:"),
    (T.MD5, "44d88612fea8a8f36de82e1278abb02", "expected 32"),
    (T.SHA256, "g" * 64, "non-hexadecimal character 'g'"),
    (T.SSDEEP, "5:abc:def", "power of two"),
    (T.TLSH, "T1abc", "70 hexadecimal"),
    (T.JA4, "t13d1516h2_8daaf6152771", "JA4"),
    (T.ASN, "AS4294967296", "out of range"),
    (T.ASN, "ASX", "expected 'AS'"),
    (T.CVE, "CVE-1998-0001", "1999"),
    (T.CVE, "CVE-2021-044228", "leading zero"),
    (T.MAC, "aa:bb-cc:dd:ee:ff", "six hex octets"),
    (T.FILENAME, "C:\\x.exe", "directory separator"),
    (T.FILEPATH, "x.exe", "no directory separator"),
    (T.REGKEY, "HKXX\\Software", "unknown registry hive 'HKXX'"),
    (T.USER_AGENT, "a\nb", "line breaks"),
    (T.BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "checksum"),
    (T.BTC, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "bech32"),
    (T.BTC, "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "mixes upper and lower"),
    (T.ETH, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "EIP-55"),
    (T.ETH, "0x123", "40 hexadecimal"),
    (T.XMR, "4" + "A" * 94, "checksum"),
    (T.ATTACK_TECHNIQUE, "T105", "T1234"),
    (T.YARA, "rule x { strings: $a = 1 }", "condition"),
    (T.YARA, "not a rule", "no 'rule <name>'"),
    (T.STRING, "   ", "empty"),
    (T.BYTES, "4D 5", "odd number"),
    (T.BYTES, "4D ZZ", "unexpected character 'Z'"),
    (T.BYTES, "( 4D", "unbalanced"),
]


@pytest.mark.parametrize(("t", "raw", "reason"), INVALID)
def test_normalize_rejects_with_reason(t: IndicatorType, raw: str, reason: str) -> None:
    with pytest.raises(InvalidIndicator) as info:
        normalize(t, raw)
    assert reason in str(info.value)
    assert str(info.value).startswith(f"{t.value}: ")


DETECT = [
    ("8.8.8.8", T.IPV4),
    ("2001:db8::1", T.IPV6),
    ("::1", T.IPV6),
    ("10.0.0.0/8", T.CIDR),
    ("2001:db8::/32", T.CIDR),
    ("evil.example.com", T.DOMAIN),
    ("bücher.de", T.DOMAIN),
    ("1password.com", T.DOMAIN),
    ("dead.beef.cafe", T.DOMAIN),
    ("https://evil.com/x", T.URL),
    ("evil.com/gate.php", T.URL),
    ("evil.com:8080", T.URL),
    ("198.51.100.7:8080/a", T.URL),
    ("x@example.com", T.EMAIL),
    ("44d88612fea8a8f36de82e1278abb02f", T.MD5),
    ("3395856ce81f2b7382dee72602f798b642f14140", T.SHA1),
    ("a" * 64, T.SHA256),
    ("a" * 128, T.SHA512),
    ("3:a+JraNvsgzsVqSwHq9:tJuOgzsko", T.SSDEEP),
    ("T1" + "a" * 70, T.TLSH),
    ("t13d1516h2_8daaf6152771_b186095e22b6", T.JA4),
    ("AS13335", T.ASN),
    ("ASN 13335", T.ASN),
    ("CVE-2021-44228", T.CVE),
    ("aa:bb:cc:dd:ee:ff", T.MAC),
    ("aa-bb-cc-dd-ee-ff", T.MAC),
    ("aabb.ccdd.eeff", T.MAC),
    ("setup.py", T.FILENAME),
    ("install.sh", T.FILENAME),
    ("invoice.zip", T.FILENAME),
    ("readme.txt", T.FILENAME),
    ("Invoice 2024.pdf.exe", T.FILENAME),
    ("C:\\Windows\\System32\\evil.dll", T.FILEPATH),
    ("C:\\Program Files\\x.exe", T.FILEPATH),
    ("\\\\server\\share\\x", T.FILEPATH),
    ("%APPDATA%\\x.exe", T.FILEPATH),
    ("/tmp/x", T.FILEPATH),
    ("HKLM\\Software\\Run", T.REGKEY),
    ("HKEY_CURRENT_USER\\Software\\Microsoft\\Windows NT\\x", T.REGKEY),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", T.USER_AGENT),
    ("curl/7.68.0", T.USER_AGENT),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", T.BTC),
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", T.BTC),
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", T.ETH),
    (REGISTRY[T.XMR].example, T.XMR),
    ("T1059", T.ATTACK_TECHNIQUE),
    ("T1059.001", T.ATTACK_TECHNIQUE),
    ("rule x { condition: true }", T.YARA),
    # not indicators
    ("", None),
    ("hello", None),
    ("hello world", None),
    ("file.qqq", None),
    ("256.1.1.1", None),
    ("localhost", None),
    ("aabbccddeeff", None),
]


@pytest.mark.parametrize(("raw", "expected"), DETECT)
def test_detect(raw: str, expected: IndicatorType | None) -> None:
    assert detect(raw) == expected


@pytest.mark.parametrize("t", list(IndicatorType))
def test_registry_is_complete_and_examples_are_canonical(t: IndicatorType) -> None:
    spec = REGISTRY[t]
    assert spec.type is t
    assert spec.category in {
        "network",
        "file",
        "registry",
        "memory",
        "vulnerability",
        "identity",
        "finance",
        "technique",
    }
    assert normalize(t, spec.example) == spec.example
    if spec.detectable:
        assert detect(spec.example) == t
    else:
        assert detect(spec.example) != t


def test_labelled_only_types() -> None:
    assert {t for t, s in REGISTRY.items() if not s.detectable} == {
        T.IMPHASH,
        T.JA3,
        T.JA3S,
        T.MUTEX,
        T.STRING,
        T.BYTES,
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("IPv4", T.IPV4),
        ("ip", T.IPV4),
        ("ip-dst", T.IPV4),
        ("IP_SRC", T.IPV4),
        ("ipv4-addr", T.IPV4),
        ("ipv6-addr", T.IPV6),
        ("hostname", T.DOMAIN),
        ("domain-name", T.DOMAIN),
        ("FQDN", T.DOMAIN),
        ("uri", T.URL),
        ("email-addr", T.EMAIL),
        ("email-src", T.EMAIL),
        ("email-dst", T.EMAIL),
        ("SHA-256", T.SHA256),
        ("sha-1", T.SHA1),
        ("file-name", T.FILENAME),
        ("file-path", T.FILEPATH),
        ("path", T.FILEPATH),
        ("registry", T.REGKEY),
        ("windows-registry-key", T.REGKEY),
        ("user_agent", T.USER_AGENT),
        ("useragent", T.USER_AGENT),
        ("AS", T.ASN),
        ("autonomous-system", T.ASN),
        ("vulnerability", T.CVE),
        ("mutant", T.MUTEX),
        ("mac-addr", T.MAC),
        ("bitcoin", T.BTC),
        ("ethereum", T.ETH),
        ("monero", T.XMR),
        ("ja3-fingerprint-md5", T.JA3),
        ("attack-technique", T.ATTACK_TECHNIQUE),
        (T.TLSH, T.TLSH),
    ],
)
def test_resolve_type(name: str, expected: IndicatorType) -> None:
    assert resolve_type(name) is expected


@pytest.mark.parametrize("name", ["link", "foo", "", "jarm"])
def test_resolve_type_unknown(name: str) -> None:
    with pytest.raises(UnknownType, match="unknown indicator type"):
        resolve_type(name)


def test_indicator_id_is_uuid5() -> None:
    for t, _raw, canonical in CANONICAL:
        expected = str(uuid.uuid5(SPOORHOUND_NAMESPACE, f"{t.value}:{canonical}"))
        assert indicator_id(t, canonical) == expected
        assert indicator_id(t.value, canonical) == expected
        assert Indicator(t, canonical).id == expected


def test_parse_pipeline() -> None:
    assert parse("  hxxps[://]Evil[.]com/gate.php  ") == Indicator(
        T.URL, "https://evil.com/gate.php"
    )
    assert parse("1.2.3[.]4") == Indicator(T.IPV4, "1.2.3.4")
    assert parse("user[@]evil[.]com") == Indicator(T.EMAIL, "user@evil.com")
    assert parse("evil[.]com", "domain") == Indicator(T.DOMAIN, "evil.com")
    assert parse("2001[:]db8[:][:]1", "ip-dst") == Indicator(T.IPV6, "2001:db8::1")
    assert parse("10.0.0.0/8", "ip-src") == Indicator(T.CIDR, "10.0.0.0/8")
    assert parse("8.8.8.8", "ip") == Indicator(T.IPV4, "8.8.8.8")
    # labelled types that look like others
    assert parse("F34D5F2D4577ED6D9CEEC516C1F5A744", T.IMPHASH).type is T.IMPHASH
    assert parse("setup.py", T.DOMAIN) == Indicator(T.DOMAIN, "setup.py")
    # non-network types are taken as written: no refang of "\." in registry keys
    key = "HKLM\\Software\\Classes\\.exe\\shell"
    assert parse(key).value == "HKEY_LOCAL_MACHINE\\Software\\Classes\\.exe\\shell"
    assert (
        parse("rule a { strings: $r = /evil[.]com/ condition: $r }", T.YARA).value.count("[.]") == 1
    )


def test_parse_errors() -> None:
    with pytest.raises(InvalidIndicator, match="could not determine the indicator type"):
        parse("hello world")
    with pytest.raises(InvalidIndicator, match="ipv4: octet 256 out of range"):
        parse("1.2.3.256", T.IPV4)
    with pytest.raises(UnknownType):
        parse("x", "nope")


def test_indicator_is_frozen() -> None:
    ind = parse("8.8.8.8")
    with pytest.raises(AttributeError):
        ind.value = "x"  # type: ignore[misc]


# --- properties -------------------------------------------------------------------------

_hex = st.text("0123456789abcdefABCDEF", min_size=1, max_size=130)
_b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

STRATEGIES: dict[IndicatorType, st.SearchStrategy[str]] = {
    T.IPV4: st.ip_addresses(v=4).map(str),
    T.IPV6: st.ip_addresses(v=6).map(str) | st.ip_addresses(v=6).map(lambda a: a.exploded.upper()),
    T.CIDR: st.tuples(st.ip_addresses(), st.integers(0, 128)).map(lambda p: f"{p[0]}/{p[1]}"),
    T.DOMAIN: domains() | st.from_regex(r"[a-zA-Z0-9ü_-]{1,20}\.(com|de|py|xn--p1ai|onion)\.?", fullmatch=True),
    T.URL: urls() | st.from_regex(r"(HTTP|https|tcp)://[a-z0-9.-]{1,20}\.(com|ru)(:[0-9]{1,5})?(/[a-z?=&%]*)?", fullmatch=True),
    T.EMAIL: st.emails().map(str) | st.from_regex(r"[A-Za-z.+]{1,10}@[a-z]{1,8}\.(COM|de)", fullmatch=True),
    T.MD5: _hex,
    T.SHA1: _hex,
    T.SHA256: _hex,
    T.SHA512: _hex,
    T.IMPHASH: _hex,
    T.JA3: _hex,
    T.JA3S: _hex,
    T.SSDEEP: st.from_regex(r"(3|6|12|96|7):[A-Za-z0-9/+]{1,64}:[A-Za-z0-9/+]{1,64}", fullmatch=True),
    T.TLSH: st.from_regex(r"([Tt]1)?[0-9A-Fa-f]{70}", fullmatch=True),
    T.JA4: st.from_regex(r"[tqdTQD](13|12|s3|00)[dDiI][0-9]{4}[a-z0-9]{2}_[0-9a-fA-F]{12}_[0-9a-f]{12}", fullmatch=True),
    T.ASN: st.from_regex(r"(AS|as|ASN |asn)?[0-9]{1,11}(\.[0-9]{1,5})?", fullmatch=True),
    T.CVE: st.from_regex(r"[cC][vV][eE][-_][0-9]{4}[-_][0-9]{4,7}", fullmatch=True),
    T.MAC: st.from_regex(r"[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9A-F]{4}|[0-9a-f]{12}", fullmatch=True),
    T.FILENAME: st.text(min_size=1, max_size=30) | st.from_regex(r"\"?[a-zA-Z0-9 _-]{1,10}\.(exe|py|zip|txt)\"?", fullmatch=True),
    T.FILEPATH: st.text(min_size=1, max_size=30) | st.from_regex(r"(C:\\|\\\\srv\\|%TEMP%\\|/)[a-zA-Z0-9 \\/._-]{1,30}", fullmatch=True),
    T.REGKEY: st.from_regex(r"(HKLM|hkcu|HKEY_USERS|HKCR:|\\REGISTRY\\MACHINE)(\\{1,3}[a-zA-Z0-9 ._-]{1,10}){0,4}\\?", fullmatch=True),
    T.MUTEX: st.text(min_size=1, max_size=40),
    T.USER_AGENT: st.text(min_size=1, max_size=60) | st.from_regex(r"Mozilla/5\.0 \([A-Za-z0-9 ;.]{1,30}\)", fullmatch=True),
    T.BTC: st.sampled_from(["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"]) | st.text(_b58, min_size=26, max_size=40).map(lambda s: "1" + s),
    T.ETH: st.from_regex(r"0[xX][0-9a-fA-F]{40}", fullmatch=True) | st.just("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
    T.XMR: st.just(REGISTRY[T.XMR].example) | st.text(_b58, min_size=94, max_size=94).map(lambda s: "4" + s),
    T.ATTACK_TECHNIQUE: st.from_regex(r"[Tt][0-9]{4}(\.[0-9]{3})?", fullmatch=True),
    T.YARA: st.builds(lambda name, ws, body: f"{ws}rule {name}{ws}{{{ws}condition:{ws}{body}{ws}}}{ws}", st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), st.sampled_from(["\n", "\r\n", " \t\r\n", "  "]), st.text("abc $=()\n\r\t", max_size=20)),
    T.STRING: st.text(min_size=1, max_size=40),
    T.BYTES: st.from_regex(r"\{?( ?([0-9a-fA-F?]{2}|\[[0-9]{1,2}(-[0-9]{0,2})?\]|\\x[0-9a-f]{2})){1,8} ?\}?", fullmatch=True),
}  # fmt: skip


def test_every_type_has_a_strategy() -> None:
    assert set(STRATEGIES) == set(IndicatorType)


def _typed_values() -> st.SearchStrategy[tuple[IndicatorType, str]]:
    return st.sampled_from(list(IndicatorType)).flatmap(
        lambda t: st.tuples(st.just(t), STRATEGIES[t])
    )


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_typed_values())
def test_normalize_is_idempotent(tv: tuple[IndicatorType, str]) -> None:
    t, raw = tv
    try:
        once = normalize(t, raw)
    except InvalidIndicator:
        assume(False)
        return
    assert normalize(t, once) == once


# Random text is rarely an indicator, so many examples are discarded by design.
@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_typed_values() | st.text(max_size=40).map(lambda s: (T.STRING, s)))
def test_detect_is_stable_under_normalisation(tv: tuple[IndicatorType, str]) -> None:
    raw = tv[1].strip()
    found = detect(raw)
    assume(found is not None)
    assert found is not None
    canonical = normalize(found, raw)
    assert detect(canonical) == found
    assert REGISTRY[found].detectable


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=80), st.none() | st.sampled_from(list(IndicatorType)))
def test_parse_only_raises_invalid_indicator(text: str, t: IndicatorType | None) -> None:
    try:
        ind = parse(text, t)
    except InvalidIndicator:
        return
    assert ind.value == normalize(ind.type, ind.value)


@settings(max_examples=500, deadline=None)
@given(_typed_values())
def test_parse_typed_values_roundtrip(tv: tuple[IndicatorType, str]) -> None:
    t, raw = tv
    try:
        ind = parse(raw, t)
    except InvalidIndicator:
        return
    assert parse(ind.value, t) == ind
    assert len(ind.id) == 36 and ind.id == ind.id.lower()
