"""The query language parser: fields, operators, precedence, quoting, errors, limits."""

from __future__ import annotations

import pytest

from spoorhound.core.query import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
    AbsTime,
    And,
    Not,
    Or,
    QuerySyntaxError,
    RelTime,
    Term,
    parse_query,
    to_text,
)


def t(field: str, op: str, value: object) -> Term:
    return Term(field, op, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("value = evil.com", t("value", "=", "evil.com")),
        ("value != evil.com", t("value", "!=", "evil.com")),
        ("value ~ '*.example.com'", t("value", "~", "*.example.com")),
        ("value = hxxp://evil[.]com", t("value", "=", "hxxp://evil[.]com")),
        ("type = sha256", t("type", "=", "sha256")),
        ("type = ip", t("type", "=", "ipv4")),
        ("type in (md5, SHA1)", t("type", "in", ("md5", "sha1"))),
        ("type ~ sha*", t("type", "~", "sha*")),
        ("tag = Actor:APT28", t("tag", "=", "actor:APT28")),
        ("tag not in (a, b)", t("tag", "not in", ("a", "b"))),
        ("enclave = partners", t("enclave", "=", "partners")),
        ("source ~ 'feed-*'", t("source", "~", "feed-*")),
        ("risk >= high", t("risk", ">=", "high")),
        ("risk = unknown", t("risk", "=", "unknown")),
        ("score > 70", t("score", ">", 70)),
        ("score <= 0", t("score", "<=", 0)),
        ("tlp >= TLP:AMBER", t("tlp", ">=", "amber")),
        ("tlp = white", t("tlp", "=", "clear")),
        ("confidence < high", t("confidence", "<", 85)),
        ("confidence >= 60", t("confidence", ">=", 60)),
        ("first_seen < 2024-01-01", t("first_seen", "<", AbsTime(1704067200))),
        ("last_seen > -7d", t("last_seen", ">", RelTime(7 * 86400))),
        ("last_seen >= 24h", t("last_seen", ">=", RelTime(86400))),
        ("created > -30m", t("created", ">", RelTime(1800))),
        ("sighted = true", t("sighted", "=", True)),
        ("sighted > -1w", t("sighted", ">", RelTime(7 * 86400))),
        ("safelisted = false", t("safelisted", "=", False)),
        ("retired != yes", t("retired", "!=", True)),
        ("country = de", t("country", "=", "de")),
        ("asn = AS15169", t("asn", "=", "AS15169")),
        ("provider.geoip.verdict = Malicious", t("provider.geoip.verdict", "=", "malicious")),
        ("ip in 10.0.0.0/8", t("ip", "in", ("10.0.0.0/8",))),
        ("ip in (10.1.2.3/8, 2001:db8::/32)", t("ip", "in", ("10.0.0.0/8", "2001:db8::/32"))),
        ("ip = 1.2.3.4", t("ip", "=", "1.2.3.4")),
        ("ip = ::ffff:1.2.3.4", t("ip", "=", "::ffff:1.2.3.4")),
        ("cidr contains 1.2.3.4", t("cidr", "contains", "1.2.3.4")),
        ("cidr contains 10.1.0.0/16", t("cidr", "contains", "10.1.0.0/16")),
        ("cidr in 10.0.0.0/8", t("cidr", "in", ("10.0.0.0/8",))),
        ("cidr = 10.9.9.9/8", t("cidr", "=", "10.0.0.0/8")),
    ],
)
def test_fields_and_operators(query: str, expected: Term) -> None:
    assert parse_query(query) == expected


def test_precedence_not_over_and_over_or() -> None:
    a, b, c = (t("tag", "=", x) for x in "abc")
    assert parse_query("tag = a or tag = b and tag = c") == Or((a, And((b, c))))
    assert parse_query("tag = a and tag = b or tag = c") == Or((And((a, b)), c))
    assert parse_query("not tag = a and tag = b") == And((Not(a), b))
    assert parse_query("not (tag = a and tag = b)") == Not(And((a, b)))
    assert parse_query("(tag = a or tag = b) and tag = c") == And((Or((a, b)), c))
    assert parse_query("NOT tag = a OR tag = b") == Or((Not(a), b))
    assert parse_query("tag = a and tag = b and tag = c") == And((a, b, c))


def test_quoting_and_escapes() -> None:
    assert parse_query('value = "a b \\" c"') == t("value", "=", 'a b " c')
    assert parse_query("value = 'it\\'s'") == t("value", "=", "it's")
    assert parse_query(r'value = "C:\\Windows\\x.exe"') == t("value", "=", r"C:\Windows\x.exe")
    # a quoted '*' is literal for '=', an unquoted one makes a wildcard match
    assert parse_query('value = "*.x"') == t("value", "=", "*.x")
    assert parse_query("value = *.x") == t("value", "~", "*.x")
    # keywords are values after an operator; bare words may hold quotes and '='
    assert parse_query("tag = and") == t("tag", "=", "and")
    assert parse_query("value = http://x.test/?a=1&b=~2") == t(
        "value", "=", "http://x.test/?a=1&b=~2"
    )
    assert parse_query("value = O'Brien.exe") == t("value", "=", "O'Brien.exe")


def test_pulsedive_subset() -> None:
    assert parse_query("ioc=*.example.com") == t("value", "~", "*.example.com")
    assert parse_query("ioc=pulsedive.com") == t("value", "=", "pulsedive.com")
    assert parse_query("risk=high,critical") == t("risk", "in", ("high", "critical"))
    assert parse_query("type=domain and risk!=none") == And(
        (t("type", "=", "domain"), t("risk", "!=", "none"))
    )
    assert parse_query("threat=Zeus or feed=urlhaus") == Or(
        (t("threat", "=", "Zeus"), t("source", "=", "urlhaus"))
    )
    assert parse_query("not ioc=*.ru") == Not(t("value", "~", "*.ru"))


def _error(query: str) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    return info.value


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("value = ", 8, "expected a value"),
        ("valu = x", 0, "unknown field 'valu'; did you mean 'value'?"),
        ("type = ip and tags = x", 14, "did you mean 'tag'?"),
        ("attribute = port", 0, "unknown field 'attribute'"),
        ("score ~ 5", 6, "operator '~' does not apply to score"),
        ("first_seen ~ x", 11, "operator '~' does not apply to first_seen"),
        ("score = high", 8, "bad score 'high'"),
        ("score = 101", 8, "bad score '101'"),
        ("first_seen < 2024-13-01", 13, "bad time '2024-13-01'"),
        ("tlp = purple", 6, "unknown TLP 'purple'"),
        ("ip in 10.0.0.0/33", 6, "bad network '10.0.0.0/33'"),
        ("cidr contains nope", 14, "bad address 'nope'"),
        ("type = nonsense", 7, "unknown indicator type 'nonsense'"),
        ("risk = severe", 7, "unknown risk 'severe'"),
        ("risk > unknown", 7, "has no order"),
        ("safelisted = maybe", 13, "expected true or false"),
        ("(type = ip", 10, "unbalanced '(' at position 0"),
        ("type = ip)", 9, "unbalanced ')'"),
        ("type = ip garbage", 10, "expected 'and', 'or' or the end of the query"),
        ("type = ip and", 13, "expected a field name"),
        ("type ip", 5, "expected an operator"),
        ("tag not x", 8, "expected 'in' after 'not'"),
        ("tag = 'abc", 6, "unterminated string"),
        ("tag in (a, b", 12, "expected ',' or ')'"),
        ("", 0, "empty query"),
        ("= x", 0, "expected a field name"),
    ],
)
def test_errors_are_positioned(query: str, position: int, message: str) -> None:
    err = _error(query)
    assert err.position == position
    assert message in err.message


def test_error_renders_a_caret_line() -> None:
    assert str(_error("value = ")) == "value = \n        ^ expected a value"
    long = "tag = a and " * 30 + "tagz = b"
    lines = str(_error(long)).splitlines()
    assert lines[0].startswith("…") and len(lines[0]) < 160
    assert lines[1].index("^") == lines[0].index("tagz")


def test_limits() -> None:
    assert "longer than" in _error("tag = " + "a" * MAX_LENGTH).message
    assert parse_query("(" * MAX_DEPTH + "tag = a" + ")" * MAX_DEPTH)
    assert (
        "nested more than"
        in _error("(" * (MAX_DEPTH + 1) + "tag = a" + ")" * (MAX_DEPTH + 1)).message
    )
    assert "nested more than" in _error("not " * (MAX_DEPTH + 1) + "tag = a").message
    assert parse_query(" or ".join(["tag = a"] * MAX_TERMS))
    assert "more than 200 terms" in _error(" or ".join(["tag = a"] * (MAX_TERMS + 1))).message


def test_printer_round_trips_the_examples() -> None:
    for q in (
        "ioc=*.example.com and risk=high,critical",
        "type = ip and not (tag = c2 or tag ~ 'apt*') or last_seen > -7d",
        "(tag = a and tag = b) and tag = c",
        "not not tag = a",
        "first_seen < 2024-01-01 and sighted = true and cidr contains 10.0.0.1",
        'value = "a \\"quoted\\" \\\\ value"',
    ):
        ast = parse_query(q)
        assert parse_query(to_text(ast)) == ast, to_text(ast)
