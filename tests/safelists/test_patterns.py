"""Pattern parsing: every kind detected and normalised; bad input is a clear error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spoorhound.services.safelists import MAX_PATTERN, InvalidPattern, Pattern, parse_pattern


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("*.Example.COM", Pattern("domain", "*.example.com")),
        ("*.example[.]com.", Pattern("domain", "*.example.com")),
        ("10.1.2.3/8", Pattern("cidr", "10.0.0.0/8")),
        ("2001:DB8::/32", Pattern("cidr", "2001:db8::/32")),
        ("re:cdn[0-9]+\\.example\\.net", Pattern("regex", "re:cdn[0-9]+\\.example\\.net")),
        ("/CDN[0-9]+\\.example\\.net/i", Pattern("regex", "re:(?i:CDN[0-9]+\\.example\\.net)")),
        ("Example.COM.", Pattern("value", "example.com")),
        ("hxxps://Evil.example.com:443/a", Pattern("value", "https://evil.example.com/a")),
        ("D41D8CD98F00B204E9800998ECF8427E", Pattern("value", "d41d8cd98f00b204e9800998ecf8427e")),
        ("Global\\MyMutex", Pattern("value", "Global\\MyMutex")),
    ],
)
def test_kind_is_detected_and_the_pattern_normalised(raw: str, expected: Pattern) -> None:
    assert parse_pattern(raw) == expected


def test_explicit_kind_and_type() -> None:
    assert parse_pattern("example.com", "domain") == Pattern("domain", "*.example.com")
    assert parse_pattern("192.0.2.7", "cidr") == Pattern("cidr", "192.0.2.7/32")
    assert parse_pattern("2001:db8::1", "cidr") == Pattern("cidr", "2001:db8::1/128")
    assert parse_pattern("abc", "regex") == Pattern("regex", "re:abc")
    assert parse_pattern("AS13335", itype="asn").kind == "value"


@pytest.mark.parametrize(
    ("raw", "kind", "message"),
    [
        ("", None, "empty pattern"),
        ("   ", None, "empty pattern"),
        ("re:(", None, "bad regex"),
        ("re:.*", None, "matches (nearly) everything"),
        ("re:a|", None, "matches (nearly) everything"),
        ("/abc/x", None, "flag"),
        ("*.", None, "bad domain wildcard"),
        ("*.com", None, "bad domain wildcard"),
        ("10.0.0.0/33", None, "bad CIDR"),
        ("300.1.1.1/8", None, "bad CIDR"),
        ("not-an-ip", "cidr", "bad CIDR"),
        ("x" * (MAX_PATTERN + 1), None, f"max {MAX_PATTERN}"),
        ("a\x00b", None, "NUL"),
        ("example.com", "glob", "unknown kind"),
    ],
)
def test_bad_patterns_are_clear_errors(raw: str, kind: str | None, message: str) -> None:
    with pytest.raises(InvalidPattern) as e:
        parse_pattern(raw, kind)
    assert message in str(e.value)


def test_a_value_that_is_invalid_for_its_named_type_is_an_error() -> None:
    with pytest.raises(InvalidPattern, match="bad value"):
        parse_pattern("999.1.1.1", itype="ipv4")
    with pytest.raises(InvalidPattern, match="unknown"):
        parse_pattern("x", itype="no-such-type")


@settings(max_examples=150, deadline=None)
@given(
    raw=st.one_of(
        st.text(max_size=40),
        st.text(alphabet="*./:[]re0123456789abcdef()+?|^$\\-", max_size=40),
        st.builds(lambda s: "re:" + s, st.text(max_size=30)),
        st.builds(lambda s: "*." + s, st.text(max_size=30)),
        st.builds(lambda s: f"/{s}/", st.text(max_size=30)),
    ),
    kind=st.sampled_from([None, "value", "domain", "cidr", "regex"]),
)
def test_fuzzed_patterns_parse_or_fail_cleanly(raw: str, kind: str | None) -> None:
    try:
        p = parse_pattern(raw, kind)
    except InvalidPattern as e:
        assert str(e)
        return
    assert p.kind in ("value", "domain", "cidr", "regex")
    assert p.pattern and len(p.pattern) <= MAX_PATTERN + 16
    # canonical patterns are stable: parsing the stored form gives the same entry
    assert parse_pattern(p.pattern, p.kind) == p
