"""Properties of the parser: printing round-trips, and any text fails only cleanly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spoorhound.core.query import (
    AbsTime,
    And,
    Node,
    Not,
    Or,
    QuerySyntaxError,
    RelTime,
    Term,
    parse_query,
    to_text,
)

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: s.strip() != "")
_rel = st.builds(RelTime, st.integers(min_value=1, max_value=10**6).map(lambda n: n * 60))
_abs = st.builds(AbsTime, st.integers(min_value=-(10**10), max_value=253402300799))
_nets = st.sampled_from(
    ["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32", "1.2.3.4/32", "0.0.0.0/0"]
)
# Canonical tags only (normalize_tag strips a space after ":" and collapses runs of spaces).
_tag = st.from_regex(r"[a-z][a-z0-9]{0,5}(:[A-Za-z0-9]{1,3}( [A-Za-z0-9]{1,3})?)?", fullmatch=True)


def _in(field: str, values: st.SearchStrategy[object], neg: bool) -> st.SearchStrategy[Term]:
    return st.builds(
        Term, st.just(field), st.just("not in" if neg else "in"),
        st.lists(values, min_size=1, max_size=3).map(tuple),
    )  # fmt: skip


def _term() -> st.SearchStrategy[Term]:
    eq = st.sampled_from(["=", "!="])
    order = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
    return st.one_of(
        st.builds(Term, st.sampled_from(["value", "enclave", "source"]), st.sampled_from(["=", "!=", "~"]), _text),
        st.builds(Term, st.sampled_from(["tag", "threat"]), eq, _tag),
        st.builds(Term, st.just("type"), eq, st.sampled_from(["ipv4", "domain", "sha256", "url"])),
        st.builds(Term, st.just("risk"), order, st.sampled_from(["none", "low", "high", "critical"])),
        st.builds(Term, st.just("score"), order, st.integers(0, 100)),
        st.builds(Term, st.just("confidence"), order, st.integers(0, 100)),
        st.builds(Term, st.just("tlp"), order, st.sampled_from(["clear", "green", "amber", "amber+strict", "red"])),
        st.builds(Term, st.sampled_from(["first_seen", "last_seen", "created"]), order, st.one_of(_rel, _abs)),
        st.builds(Term, st.sampled_from(["safelisted", "retired", "sighted"]), eq, st.booleans()),
        st.builds(Term, st.just("sighted"), st.sampled_from(["<", "<=", ">", ">="]), _rel),
        st.builds(Term, st.just("provider.geoip.verdict"), eq, st.sampled_from(["malicious", "benign"])),
        st.builds(Term, st.just("cidr"), st.just("contains"), st.sampled_from(["1.2.3.4", "2001:db8::1", "10.0.0.0/8"])),
        _in("ip", _nets, False),
        _in("cidr", _nets, True),
        _in("source", _text, False),
        _in("score", st.integers(0, 100), True),
    )  # fmt: skip


def _nodes() -> st.SearchStrategy[Node]:
    return st.recursive(
        _term(),
        lambda kids: st.one_of(
            st.builds(Not, kids),
            st.lists(kids, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(kids, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
        ),
        max_leaves=8,
    )


@settings(max_examples=300, deadline=None)
@given(_nodes())
def test_parse_of_print_is_identity(node: Node) -> None:
    assert parse_query(to_text(node)) == node


_WORDS = ["and ", "or ", "not ", "in ", "contains ", "value", "tag", "ip", "cidr", "first_seen"]
_WORDS += ["tlp", "score", "-7d", "10.0.0.0/8", "2024-01-01"]
_QUERYISH = st.lists(
    st.sampled_from([*"abcdefghijklmnopqrstuvwxyz_.:/*-0123456789 ()=!<>~,'\"\\\t", *_WORDS]),
    max_size=40,
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.text(max_size=80), _QUERYISH))
def test_any_text_parses_or_raises_only_query_syntax_error(text: str) -> None:
    try:
        node = parse_query(text)
    except QuerySyntaxError as e:
        assert 0 <= e.position <= len(text)
        assert str(e)
    else:
        assert parse_query(to_text(node)) == node
