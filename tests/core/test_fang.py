"""refang / defang: every supported style, round trips, linear behaviour on long text."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import domains, urls

from spoorhound.core.fang import defang, refang
from spoorhound.core.indicators import IndicatorType, InvalidIndicator, normalize

T = IndicatorType

STYLES = [
    # schemes
    ("hxxp://evil.com", "http://evil.com"),
    ("hXXps://evil.com", "https://evil.com"),
    ("HXXPS://evil.com", "https://evil.com"),
    ("hxtp://evil.com", "http://evil.com"),
    ("h**p://evil.com", "http://evil.com"),
    ("fxp://files.evil.com", "ftp://files.evil.com"),
    ("hxxps[://]evil[.]com", "https://evil.com"),
    ("hxxp[:]//evil.com", "http://evil.com"),
    ("http(://)evil.com", "http://evil.com"),
    ("http:[//]evil.com", "http://evil.com"),
    ("http[:][/][/]evil.com", "http://evil.com"),
    ("http :// evil.com", "http://evil.com"),
    ("http: //evil.com", "http://evil.com"),
    ("http:// evil.com", "http://evil.com"),
    ("http:\\\\evil.com", "http://evil.com"),
    ("http:\\/\\/evil.com\\/a", "http://evil.com/a"),
    # dots
    ("evil[.]com", "evil.com"),
    ("evil(.)com", "evil.com"),
    ("evil{.}com", "evil.com"),
    ("evil<.>com", "evil.com"),
    ("evil[dot]com", "evil.com"),
    ("evil(dot)com", "evil.com"),
    ("evil{DOT}com", "evil.com"),
    ("evil [.] com", "evil.com"),
    ("evil[ . ]com", "evil.com"),
    ("evil[,]com", "evil.com"),
    ("evil dot com", "evil.com"),
    ("evil\\.com", "evil.com"),
    ("1.1.1[.1", "1.1.1.1"),
    ("1.1.1.]1", "1.1.1.1"),
    ("1[.]2[.]3[.]4", "1.2.3.4"),
    # at
    ("user[@]evil.com", "user@evil.com"),
    ("user(@)evil.com", "user@evil.com"),
    ("user{@}evil.com", "user@evil.com"),
    ("user[at]evil.com", "user@evil.com"),
    ("user(AT)evil.com", "user@evil.com"),
    ("user @ evil.com", "user@evil.com"),
    ("john at example dot com", "john@example.com"),
    # colons, slashes, dashes
    ("2001[:]db8[:][:]1", "2001:db8::1"),
    ("evil.com[/]gate.php", "evil.com/gate.php"),
    ("evil[-]site.com", "evil-site.com"),
]


@pytest.mark.parametrize(("defanged", "expected"), STYLES)
def test_refang_styles(defanged: str, expected: str) -> None:
    assert refang(defanged) == expected


@pytest.mark.parametrize(
    "text",
    [
        "plain text with no markers at all",
        "http://evil.com/a?b=c",
        "HKLM\\Software\\Classes\\.exe\\shell\\open",
        "HKEY_USERS\\.DEFAULT\\Software",
        "we met at noon at the office",
        "hxxp is a defanging convention",
        "C:\\Windows\\System32",
        "hosted at evil.com",
    ],
)
def test_refang_leaves_ordinary_text_alone(text: str) -> None:
    assert refang(text) == text


def test_refang_free_text() -> None:
    report = (
        "The dropper (hxxps[://]cdn-update[.]evil[.]com/a.php) beacons to 185[.]220[.]101[.]1 "
        "and mails ops[@]evil(.)ru; C2 backup: evil2 dot net."
    )
    assert refang(report) == (
        "The dropper (https://cdn-update.evil.com/a.php) beacons to 185.220.101.1 "
        "and mails ops@evil.ru; C2 backup: evil2.net."
    )


def test_refang_is_linear_on_adversarial_text() -> None:
    # Many partial matches of bracketed patterns; a backtracking regex would blow up.
    for chunk in ("[ [ [ (", "h" * 3 + "x", "a at b " * 3, "\\" * 7 + ".", "[.:/" * 5, " dot " * 4):
        text = chunk * 20000
        assert isinstance(refang(text), str)


DEFANG = [
    (T.URL, "https://evil.com/gate.php?x=1", "hxxps[://]evil[.]com/gate.php?x=1"),
    (T.URL, "http://user@198.51.100.7:8080/", "hxxp[://]user[@]198[.]51[.]100[.]7:8080/"),
    (T.URL, "http://[2001:db8::1]/", "hxxp[://][2001[:]db8[:][:]1]/"),
    (T.URL, "ftp://files.evil.com/", "fxp[://]files[.]evil[.]com/"),
    (T.URL, "tcp://198.51.100.7:4444", "tcp[://]198[.]51[.]100[.]7:4444"),
    (T.DOMAIN, "evil.example.com", "evil[.]example[.]com"),
    (T.IPV4, "198.51.100.7", "198[.]51[.]100[.]7"),
    (T.IPV6, "2001:db8::1", "2001[:]db8[:][:]1"),
    (T.CIDR, "10.0.0.0/8", "10[.]0[.]0[.]0/8"),
    (T.EMAIL, "John.Doe@evil.com", "John.Doe[@]evil[.]com"),
    (T.MD5, "44d88612fea8a8f36de82e1278abb02f", "44d88612fea8a8f36de82e1278abb02f"),
    (T.FILENAME, "setup.exe", "setup.exe"),
]


@pytest.mark.parametrize(("t", "value", "expected"), DEFANG)
def test_defang(t: IndicatorType, value: str, expected: str) -> None:
    assert defang(t, value) == expected
    assert defang(t.value, value) == expected
    assert refang(expected) == value


_NETWORK: dict[IndicatorType, st.SearchStrategy[str]] = {
    T.IPV4: st.ip_addresses(v=4).map(str),
    T.IPV6: st.ip_addresses(v=6).map(str),
    T.CIDR: st.tuples(st.ip_addresses(), st.integers(0, 128)).map(lambda p: f"{p[0]}/{p[1]}"),
    T.DOMAIN: domains()
    | st.from_regex(r"[a-zäöü0-9_-]{1,12}(\.dot)?\.(com|de|xn--p1ai)", fullmatch=True),
    T.URL: urls()
    | st.from_regex(
        r"(https?|ftp|tcp|wss)://([a-z]{1,5}@)?(hxxp\.)?[a-z0-9-]{1,12}\.(com|ru)(:[0-9]{1,5})?(/[a-zA-Z0-9._~%?=&-]{0,20})?",
        fullmatch=True,
    ),
    T.EMAIL: st.emails().map(str)
    | st.from_regex(r"[A-Za-z0-9._%+-]{1,10}@[a-z-]{1,10}\.(com|de)", fullmatch=True),
}


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(list(_NETWORK)).flatmap(lambda t: st.tuples(st.just(t), _NETWORK[t])))
def test_refang_inverts_defang(tv: tuple[IndicatorType, str]) -> None:
    t, raw = tv
    try:
        value = normalize(t, raw)
    except InvalidIndicator:
        assume(False)
        return
    assert refang(defang(t, value)) == value


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([t for t in IndicatorType if t not in _NETWORK]), st.text(max_size=30))
def test_defang_is_identity_for_other_types(t: IndicatorType, value: str) -> None:
    assert defang(t, value) == value


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_refang_is_idempotent_on_clean_output_and_total(text: str) -> None:
    out = refang(text)
    assert isinstance(out, str)
    assert len(out) <= len(text)
