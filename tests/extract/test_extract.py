"""Unit tests of core.extract: each type, each defang style, heuristics, offsets."""

from __future__ import annotations

import pytest

from spoorhound.core.extract import Candidate, extract, unique
from spoorhound.core.indicators import IndicatorType as T


def found(text: str, itype: T | None = None) -> set[tuple[str, str]]:
    return {(str(c.type), c.value) for c in extract(text) if itype is None or c.type == itype}


def values(text: str, itype: T) -> set[str]:
    return {c.value for c in extract(text) if c.type == itype}


@pytest.mark.parametrize(
    ("text", "itype", "value"),
    [
        ("seen 23.95.97.59 today", T.IPV4, "23.95.97.59"),
        ("net 10.1.2.0/24 blocked", T.CIDR, "10.1.2.0/24"),
        ("C2 2001:db8:85a3::8a2e:370:7334 up", T.IPV6, "2001:db8:85a3::8a2e:370:7334"),
        ("full 2001:0db8:0000:0000:0000:ff00:0042:8329 x", T.IPV6, "2001:db8::ff00:42:8329"),
        ("mapped ::ffff:192.0.2.128 x", T.IPV6, "::ffff:192.0.2.128"),
        ("loop ::1 only", T.IPV6, "::1"),
        ("range 2001:db8::/32 x", T.CIDR, "2001:db8::/32"),
        ("host evil-domain.xyz seen", T.DOMAIN, "evil-domain.xyz"),
        ("mail bad.guy@evil-mail.com now", T.EMAIL, "bad.guy@evil-mail.com"),
        ("get http://evil.com/a.php?x=1 now", T.URL, "http://evil.com/a.php?x=1"),
        ("md5 68b329da9893e34099c7d8ad5cb9c940", T.MD5, "68b329da9893e34099c7d8ad5cb9c940"),
        (
            "adc83b19e793491b1c6ea0fd8b46cd9f32e592fc",
            T.SHA1,
            "adc83b19e793491b1c6ea0fd8b46cd9f32e592fc",
        ),
        ("CVE-2021-44228 log4shell", T.CVE, "CVE-2021-44228"),
        ("technique T1059.001 used", T.ATTACK_TECHNIQUE, "T1059.001"),
        ("announced by AS13335 x", T.ASN, "AS13335"),
        ("mac 00:1a:2b:3c:4d:5e seen", T.MAC, "00:1a:2b:3c:4d:5e"),
        ("dropped invoice.exe on disk", T.FILENAME, "invoice.exe"),
        (
            "BTC 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 paid",
            T.BTC,
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        ),
        ("eth 0x52908400098527886E0F7030069857D2E4169EE7 x", T.ETH, None),
        ("ja3 e7d705a3286e19ea42f587b344ee6865 seen", T.JA3, "e7d705a3286e19ea42f587b344ee6865"),
        (
            "imphash: f34d5f2d4577ed6d9ceec516c1f5a744",
            T.IMPHASH,
            "f34d5f2d4577ed6d9ceec516c1f5a744",
        ),
        ("mutex: Global\\MyEvilMutex1 created", T.MUTEX, None),
    ],
)
def test_each_type(text: str, itype: T, value: str | None) -> None:
    got = values(text, itype)
    assert got, f"no {itype} in {text!r}"
    if value is not None:
        assert value in got


def test_sha256_and_sha512_with_labels() -> None:
    h256 = "2f3ec0e4998909bb0efab13c82d30708ca9f88679e42b75ef13ea0466951d862"
    h512 = "be688838ca8686e5c90689bf2ab585cef1137c999b48c70b92f67a5c34dc15697b5d11c982ed6d71be1e1e7f7b4e0733884aa97c3f7a339a8ed03577cf74be09"
    cands = extract(f"SHA256:{h256}\nSHA512: {h512}")
    assert {(c.type, c.value) for c in cands} == {(T.SHA256, h256), (T.SHA512, h512)}
    assert all(c.confidence >= 90 for c in cands)


def test_windows_paths_registry_and_quoted_spaces() -> None:
    text = (
        'wrote "C:\\Program Files\\Evil Corp\\run me.exe" and C:\\Users\\x\\AppData\\a.dll; '
        "key HKCU\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon set"
    )
    assert "C:\\Program Files\\Evil Corp\\run me.exe" in values(text, T.FILEPATH)
    assert "C:\\Users\\x\\AppData\\a.dll" in values(text, T.FILEPATH)
    regs = values(text, T.REGKEY)
    assert any(r.endswith("Windows NT\\CurrentVersion\\Winlogon") for r in regs)
    # file names inside paths are not reported again as separate file names
    assert "a.dll" not in values(text, T.FILENAME)


def test_yara_rule_whole_text() -> None:
    rule = 'rule Evil_Thing : apt {\n  strings:\n    $a = "x{y}" \n    $h = { 4D 5A }\n  condition:\n    all of them\n}'
    cands = [c for c in extract(f"Rule below:\n{rule}\nend") if c.type == T.YARA]
    assert len(cands) == 1
    assert cands[0].span == rule


def test_user_agent() -> None:
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
    assert values(f"UA: {ua}\nnext", T.USER_AGENT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("evil[.]com", "evil.com"),
        ("evil(.)com", "evil.com"),
        ("evil{.}com", "evil.com"),
        ("evil[dot]com", "evil.com"),
        ("evil(dot)com", "evil.com"),
        ("evil [.] com", "evil.com"),
    ],
)
def test_defang_dot_styles(text: str, expected: str) -> None:
    cands = [c for c in extract(f"x {text} y") if c.type == T.DOMAIN]
    assert [c.value for c in cands] == [expected]
    assert "defanged" in cands[0].flags
    assert cands[0].span == text  # the span is the text exactly as written


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hxxp://evil.com/a", "http://evil.com/a"),
        ("hXXps://evil.com/a", "https://evil.com/a"),
        ("hxxps[:]//evil[.]com/a", "https://evil.com/a"),
        ("http[://]evil.com/a", "http://evil.com/a"),
        ("http://evil.com[/]a", "http://evil.com/a"),
        ("fxp://evil.com/a", "ftp://evil.com/a"),
    ],
)
def test_defang_url_styles(text: str, expected: str) -> None:
    assert values(f"see {text} now", T.URL) == {expected}


@pytest.mark.parametrize("text", ["john[at]evil[.]com", "john(at)evil(.)com", "john[@]evil.com"])
def test_defang_email_styles(text: str) -> None:
    assert values(f"from {text} today", T.EMAIL) == {"john@evil.com"}


def test_offsets_refer_to_original_text() -> None:
    text = "first hxxps[:]//bad[.]example[.]org/x then 1.2.3[.]4 and plain.org"
    for c in extract(text):
        assert text[c.start : c.end] == c.span


def test_pdf_line_break_in_defanged_url() -> None:
    assert values("get hxxp://evil[.]exa-\nmple.com/p.bin now", T.URL) == {
        "http://evil.exa-mple.com/p.bin"
    }
    # prose hyphenation is left alone
    assert not values("a well-\nknown thing", T.DOMAIN)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("(see http://evil.com/a)", "http://evil.com/a"),
        ("(http://evil.com/a_(b))", "http://evil.com/a_(b)"),
        ("[x](https://bad.org/p?q=1).", "https://bad.org/p?q=1"),
        ('<a href="http://evil.com/dl">x</a>', "http://evil.com/dl"),
        ("'https://bad.net/p', next", "https://bad.net/p"),
        ("end http://evil.com/p.", "http://evil.com/p"),
    ],
)
def test_urls_in_brackets_quotes_markdown(text: str, url: str) -> None:
    assert url in values(text, T.URL)


@pytest.mark.parametrize(
    "text",
    [
        "run setup.py and readme.txt",
        "e.g. this, i.e. that",
        "version 1.2.3.4 fixed it",
        "the System.Net.WebClient class",
        "call obj.run() now",
        "use new Foo.Bar() there",
        "android package com.google.android.gms",
        "classes under com.rio.* are packed",
        "section 3.2.1 and 1.5",
    ],
)
def test_not_domains(text: str) -> None:
    assert not values(text, T.DOMAIN)
    assert not values(text, T.IPV4)


def test_url_host_and_email_domain_flags() -> None:
    cands = extract("http://evil.com/a and bob@bad.org")
    flags = {c.value: c.flags for c in cands if c.type == T.DOMAIN}
    assert "url-host" in flags["evil.com"]
    assert "email-domain" in flags["bad.org"]


def test_benign_and_example_context_flags() -> None:
    cands = extract("Legitimate traffic to update.microsoft.com\nFor example: test.example.com\n")
    by_value = {c.value: c for c in cands if c.type == T.DOMAIN}
    assert "benign-context" in by_value["update.microsoft.com"].flags
    assert "example" in by_value["test.example.com"].flags
    assert by_value["test.example.com"].confidence < 70


def test_types_filter_and_unique() -> None:
    text = "evil.com 1.2.3.4 evil.com"
    cands = extract(text, types=[T.DOMAIN])
    assert {c.type for c in cands} == {T.DOMAIN}
    assert len(cands) == 2
    assert len(unique(cands)) == 1


def test_times_and_macs_are_not_ipv6() -> None:
    assert not values("at 10:30:00 and 12:45 host 00:1a:2b:3c:4d:5e", T.IPV6)


def test_safelist_flags_but_keeps() -> None:
    class Fake:
        def match(self, type: str, value: str) -> str | None:
            return "rfc1918" if value.startswith("10.") else None

    cands = extract("10.0.0.1 and 23.95.97.59", safelist=Fake())
    flagged = {c.value: c for c in cands}
    assert flagged["10.0.0.1"].safelist == "rfc1918"
    assert "safelisted" in flagged["10.0.0.1"].flags
    assert flagged["23.95.97.59"].safelist is None


def test_candidate_is_frozen_and_context_single_line() -> None:
    c = extract("line one\nC2 evil.com here\nline three")[0]
    assert isinstance(c, Candidate)
    assert "\n" not in c.context
    assert len(c.context) <= 160
    with pytest.raises(AttributeError):
        c.value = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "a." * 50_000,
        "[.]" * 50_000,
        "0123456789abcdef" * 10_000,
        "(" * 50_000 + "http://x.com" + ")" * 50_000,
        "1." * 50_000,
        "a@" * 50_000,
        "hxxp[:]//x[.]" * 10_000,
        ":" * 100_000,
        "\\" * 100_000,
        "C:\\" + "a \\" * 30_000,
    ],
)
def test_adversarial_inputs_are_handled(text: str) -> None:
    # correctness only; timing is in bench/extract.py (no timed asserts)
    for c in extract(text):
        assert text[c.start : c.end] == c.span


def test_context_is_bounded_for_long_spans() -> None:
    rule = (
        "rule Big {\n strings:\n"
        + "".join(f'  $s{i} = "x{i}"\n' for i in range(50))
        + " condition:\n  any of them\n}"
    )
    (c,) = [c for c in extract(rule) if c.type == T.YARA]
    assert len(c.context) <= 160
    assert "\n" not in c.context
