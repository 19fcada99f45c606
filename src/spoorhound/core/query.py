"""The query language: a lexer and recursive-descent parser to an immutable AST (pure, no SQL).

Grammar (keywords are case-insensitive)::

    query    := or_expr END
    or_expr  := and_expr ("or" and_expr)*
    and_expr := not_expr ("and" not_expr)*
    not_expr := "not" not_expr | "(" or_expr ")" | term
    term     := FIELD op value ("," value)*      -- a comma list means "any of"
              | FIELD ["not"] "in" ( "(" value ("," value)* ")" | value )
              | FIELD "contains" value
    op       := "=" | "!=" | ">" | ">=" | "<" | "<=" | "~"
    value    := "double quoted" | 'single quoted' | bare-word

``not`` binds tighter than ``and``, which binds tighter than ``or``. Inside quotes a
backslash escapes the next character. A bare word runs to white space, ``(``, ``)``
or ``,``. ``field = a*`` with an unquoted ``*`` is a wildcard match (``~``), as in
Pulsedive's Explore (``ioc=*.example.com``); ``field = a, b`` means ``field in (a, b)``
(``risk=high,critical``).

Values are checked and converted here (dates, TLP levels, networks, numbers), so a
bad value is reported at its position; the SQL compiler
(:mod:`spoorhound.storage.query_sql`) receives only valid ASTs. :func:`to_text`
prints an AST back as a query that parses to an equal AST.

Errors: :class:`QuerySyntaxError` (a ``ValueError``) with ``message`` and
``position``; ``str(exc)`` is the (windowed) query with a caret line under the
position. The field reference is in ``docs/query.md``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime
from typing import Literal, cast

from spoorhound.core._query_values import (
    RISK_LEVELS,
    UNITS,
    VERDICTS,
    AbsTime,
    BadValue,
    RelTime,
    Scalar,
    convert,
    network,
)

__all__ = [
    "FIELDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_TERMS",
    "RISK_LEVELS",
    "VERDICTS",
    "AbsTime",
    "And",
    "Node",
    "Not",
    "Or",
    "QuerySyntaxError",
    "RelTime",
    "Scalar",
    "Term",
    "Value",
    "parse_query",
    "to_text",
]

MAX_LENGTH = 4000
MAX_DEPTH = 32
MAX_TERMS = 200


Op = Literal["=", "!=", ">", ">=", "<", "<=", "~", "in", "not in", "contains"]
_ORDER_OPS = frozenset({"=", "!=", ">", ">=", "<", "<=", "in", "not in"})
_TEXT_OPS = frozenset({"=", "!=", "~", "in", "not in"})
_EQ_OPS = frozenset({"=", "!=", "in", "not in"})


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed; ``position`` is a 0-based offset into ``query``."""

    def __init__(self, message: str, position: int, query: str = "") -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position
        self.query = query

    def __str__(self) -> str:
        # One line of context, at most ~70 characters either side of the caret.
        text, pos = self.query.replace("\n", " ").replace("\t", " "), self.position
        start = max(0, pos - 70)
        end = min(len(text), pos + 70)
        prefix = "…" if start else ""
        line = prefix + text[start:end] + ("…" if end < len(text) else "")
        caret = " " * (len(prefix) + pos - start) + "^ " + self.message
        return f"{line}\n{caret}" if text else self.message


Value = Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class Term:
    """``field op value``; ``value`` is a tuple for ``in`` / ``not in``."""

    field: str
    op: Op
    value: Value
    position: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class And:
    """All of ``items`` (two or more)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Any of ``items`` (two or more)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The negation of ``item``."""

    item: Node


Node = Term | And | Or | Not

Kind = Literal[
    "value", "text", "tag", "type", "risk", "number", "confidence", "tlp", "time", "bool",
    "sighted", "verdict", "ip", "cidr", "country", "asn",
]  # fmt: skip

#: Field name → kind of value. ``provider.<name>.verdict`` is matched separately.
FIELDS: dict[str, Kind] = {
    "value": "value",
    "type": "type",
    "tag": "tag",
    "threat": "tag",
    "enclave": "text",
    "source": "text",
    "risk": "risk",
    "score": "number",
    "tlp": "tlp",
    "confidence": "confidence",
    "first_seen": "time",
    "last_seen": "time",
    "created": "time",
    "sighted": "sighted",
    "safelisted": "bool",
    "high_priority": "bool",
    "retired": "bool",
    "country": "country",
    "asn": "asn",
    "ip": "ip",
    "cidr": "cidr",
}

#: Other spellings, including Pulsedive's Explore fields (``ioc``, ``feed``).
ALIASES: dict[str, str] = {
    "ioc": "value",
    "indicator": "value",
    "feed": "source",
    "created_at": "created",
    "firstseen": "first_seen",
    "lastseen": "last_seen",
    "seen": "last_seen",
}

_KIND_OPS: dict[Kind, frozenset[str]] = {
    "value": _TEXT_OPS,
    "text": _TEXT_OPS,
    "tag": _TEXT_OPS,
    "type": _TEXT_OPS,
    "country": _TEXT_OPS,
    "asn": _TEXT_OPS,
    "verdict": _EQ_OPS,
    "risk": _ORDER_OPS,
    "number": _ORDER_OPS,
    "confidence": _ORDER_OPS,
    "tlp": _ORDER_OPS,
    "time": frozenset({"=", "!=", ">", ">=", "<", "<="}),
    "bool": frozenset({"=", "!="}),
    "sighted": frozenset({"=", "!=", ">", ">=", "<", "<="}),
    "ip": frozenset({"=", "!=", "in", "not in"}),
    "cidr": frozenset({"=", "!=", "in", "not in", "contains"}),
}

_PROVIDER_FIELD = re.compile(r"provider\.([a-z0-9][a-z0-9_-]{0,63})\.verdict")
_FIELD_CHARS = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_KEYWORDS = frozenset({"and", "or", "not", "in", "contains"})
_BARE_STOP = frozenset(" \t\r\n\f\v(),")


def kind_of(name: str) -> Kind | None:
    """The kind of a canonical field name, or None when it is not a field."""
    if name in FIELDS:
        return FIELDS[name]
    return "verdict" if _PROVIDER_FIELD.fullmatch(name) else None


@dataclass(slots=True)
class _Token:
    text: str
    pos: int
    quoted: bool = False


class _Parser:
    def __init__(self, query: str) -> None:
        self.q = query
        self.i = 0
        self.depth = 0
        self.terms = 0

    # -- errors and scanning -------------------------------------------------

    def fail(self, message: str, pos: int | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.i if pos is None else pos, self.q)

    def skip_ws(self) -> None:
        q, i = self.q, self.i
        while i < len(q) and q[i].isspace():
            i += 1
        self.i = i

    def at_end(self) -> bool:
        self.skip_ws()
        return self.i >= len(self.q)

    def peek_word(self) -> str:
        """The keyword-shaped word at the cursor, lower-cased ('' if none)."""
        self.skip_ws()
        m = _FIELD_CHARS.match(self.q, self.i)
        return m.group(0).lower() if m else ""

    def take_word(self, word: str) -> bool:
        """Consume keyword ``word`` if it is next and stands alone."""
        if self.peek_word() != word:
            return False
        end = self.i + len(word)
        if end < len(self.q) and not (self.q[end].isspace() or self.q[end] in "()"):
            return False
        self.i = end
        return True

    def take_char(self, c: str) -> bool:
        self.skip_ws()
        if self.q.startswith(c, self.i):
            self.i += 1
            return True
        return False

    # -- grammar ---------------------------------------------------------------

    def parse(self) -> Node:
        if len(self.q) > MAX_LENGTH:
            raise self.fail(f"query is longer than {MAX_LENGTH} characters", MAX_LENGTH)
        if self.at_end():
            raise self.fail("empty query: expected a term such as type = domain")
        node = self.or_expr()
        if not self.at_end():
            if self.q[self.i] == ")":
                raise self.fail("unbalanced ')': no '(' to close")
            raise self.fail("expected 'and', 'or' or the end of the query")
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.take_word("or"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self.take_word("and"):
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"query is nested more than {MAX_DEPTH} levels deep")

    def not_expr(self) -> Node:
        self.skip_ws()
        start = self.i
        if self.take_word("not"):
            self.nested()
            node: Node = Not(self.not_expr())
            self.depth -= 1
            return node
        if self.take_char("("):
            self.nested()
            node = self.or_expr()
            if not self.take_char(")"):
                raise self.fail(f"unbalanced '(' at position {start}: expected ')'")
            self.depth -= 1
            return node
        return self.term()

    def field_name(self) -> tuple[str, Kind, int]:
        self.skip_ws()
        pos = self.i
        m = _FIELD_CHARS.match(self.q, pos)
        if not m:
            if self.i >= len(self.q):
                raise self.fail("expected a field name")
            if self.q[self.i] == ")":
                raise self.fail("unbalanced ')': expected a field name")
            raise self.fail(f"expected a field name, not {self.q[self.i]!r}")
        raw = m.group(0)
        self.i = m.end()
        name = raw.lower()
        name = ALIASES.get(name, name)
        kind = kind_of(name)
        if kind is None:
            if name in _KEYWORDS:
                raise self.fail(f"expected a field name before '{raw}'", pos)
            names = [*FIELDS, *ALIASES, "provider.<name>.verdict"]
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f"; did you mean '{ALIASES.get(close[0], close[0])}'?" if close else ""
            raise self.fail(f"unknown field '{raw}'{hint}", pos)
        return name, kind, pos

    def operator(self, name: str) -> tuple[str, int]:
        self.skip_ws()
        pos = self.i
        q = self.q
        two = q[pos : pos + 2]
        if two in ("!=", ">=", "<="):
            self.i += 2
            return two, pos
        if two == "==":
            self.i += 2
            return "=", pos
        if pos < len(q) and q[pos] in "=<>~":
            self.i += 1
            return q[pos], pos
        if self.take_word("in"):
            return "in", pos
        if self.take_word("contains"):
            return "contains", pos
        if self.take_word("not"):
            if self.take_word("in"):
                return "not in", pos
            raise self.fail("expected 'in' after 'not'")
        if pos >= len(q):
            raise self.fail(f"expected an operator after '{name}'")
        raise self.fail(f"expected an operator (=, !=, <, <=, >, >=, ~, in) after '{name}'")

    def token(self) -> _Token:
        """A value: quoted string or bare word."""
        self.skip_ws()
        q, pos = self.q, self.i
        if pos >= len(q):
            raise self.fail("expected a value")
        c = q[pos]
        if c in "\"'":
            out: list[str] = []
            i = pos + 1
            while i < len(q):
                ch = q[i]
                if ch == "\\":
                    if i + 1 >= len(q):
                        break
                    out.append(q[i + 1])
                    i += 2
                    continue
                if ch == c:
                    self.i = i + 1
                    return _Token("".join(out), pos, quoted=True)
                out.append(ch)
                i += 1
            raise self.fail(f"unterminated string: expected a closing {c}", pos)
        i = pos
        while i < len(q) and q[i] not in _BARE_STOP:
            i += 1
        if i == pos:
            if c == ")":
                raise self.fail("expected a value before ')'")
            raise self.fail("expected a value")
        self.i = i
        return _Token(q[pos:i], pos)

    def value_list(self) -> list[_Token]:
        if self.take_char("("):
            toks = [self.token()]
            while self.take_char(","):
                toks.append(self.token())
            if not self.take_char(")"):
                raise self.fail("expected ',' or ')' in the list")
            return toks
        return [self.token()]

    def convert(self, kind: Kind, op: str, tok: _Token) -> Scalar:
        """Check and convert one value; a bad one fails at its position."""
        try:
            if op in ("in", "not in") and kind in ("ip", "cidr"):
                return network(tok.text)
            return convert(kind, op, tok.text)
        except BadValue as e:
            raise self.fail(str(e), tok.pos) from None

    def values(self, kind: Kind, toks: list[_Token]) -> tuple[Scalar, ...]:
        """The converted members of an ``in`` list (networks for ip / cidr)."""
        return tuple(self.convert(kind, "in" if kind in ("ip", "cidr") else "=", t) for t in toks)

    def term(self) -> Term:
        name, kind, pos = self.field_name()
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.fail(f"query has more than {MAX_TERMS} terms", pos)
        op, op_pos = self.operator(name)
        if op not in _KIND_OPS[kind]:
            allowed = " ".join(sorted(_KIND_OPS[kind]))
            raise self.fail(f"operator '{op}' does not apply to {name} (use: {allowed})", op_pos)
        if op in ("in", "not in"):
            toks = self.value_list()
            return Term(name, cast(Op, op), self.values(kind, toks), pos)
        tok = self.token()
        if op in ("=", "!=") and self.take_char(","):
            if kind == "cidr":
                raise self.fail("a list of networks: use cidr in (…) or cidr = … or …", tok.pos)
            toks = [tok, self.token()]
            while self.take_char(","):
                toks.append(self.token())
            return Term(name, "in" if op == "=" else "not in", self.values(kind, toks), pos)
        if op == "=" and not tok.quoted and "*" in tok.text and "~" in _KIND_OPS[kind]:
            op = "~"
        return Term(name, cast(Op, op), self.convert(kind, op, tok), pos)


def parse_query(query: str) -> Node:
    """Parse ``query`` into an AST; raise :class:`QuerySyntaxError` with the position.

    Limits: at most :data:`MAX_LENGTH` characters, :data:`MAX_TERMS` terms and
    :data:`MAX_DEPTH` levels of parentheses / ``not``.
    """
    return _Parser(query).parse()


# -- printing ---------------------------------------------------------------------


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rel(seconds: int) -> str:
    for unit, size in UNITS.items():
        if seconds % size == 0 and seconds // size < 10**9:
            return f"-{seconds // size}{unit}"
    return f"-{seconds}s"  # pragma: no cover - every count divides by 1 s


def _scalar(v: Scalar) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, RelTime):
        return _rel(v.seconds)
    if isinstance(v, AbsTime):
        return datetime.fromtimestamp(v.epoch, UTC).isoformat().replace("+00:00", "Z")
    return _quote(v)


def to_text(node: Node) -> str:
    """Print ``node`` as a query; ``parse_query(to_text(n)) == n`` for parsed ASTs."""
    if isinstance(node, Term):
        if isinstance(node.value, tuple):
            return f"{node.field} {node.op} ({', '.join(_scalar(v) for v in node.value)})"
        return f"{node.field} {node.op} {_scalar(node.value)}"
    if isinstance(node, Not):
        inner = to_text(node.item)
        return f"not ({inner})" if isinstance(node.item, And | Or) else f"not {inner}"
    if isinstance(node, And):
        return " and ".join(
            f"({to_text(n)})" if isinstance(n, And | Or) else to_text(n) for n in node.items
        )
    return " or ".join(f"({to_text(n)})" if isinstance(n, Or) else to_text(n) for n in node.items)
