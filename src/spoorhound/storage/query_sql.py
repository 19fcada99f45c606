"""Compile a query AST (:mod:`spoorhound.core.query`) to a SQLAlchemy Core condition.

The result is a boolean expression over ``indicator`` (correlated ``EXISTS``
subqueries for observations, tags, sightings and enrichment), to be used in
``select(indicator).where(...)``. It already contains the caller's scope: an
indicator without an observation in a visible enclave never matches, and every
observation-, tag- and sighting-based term only looks at visible enclaves, so a
query that names another enclave's tag, source or enclave matches nothing there.

Semantics worth knowing (also in ``docs/query.md``):

* Multi-valued fields (``tag``, ``threat``, ``enclave``, ``source``, ``tlp``,
  ``confidence``, ``sighted``) match when *some* visible row matches;
  ``!=`` / ``not in`` are the negation of ``=`` / ``in`` ("has no such tag").
* Every term is two-valued (never SQL NULL), so ``not`` is an exact complement:
  ``not score > 50`` includes indicators with no score.
* Within a scope, ``first_seen`` / ``last_seen`` / ``created`` are the envelope of
  the *visible* observations, as everywhere else in the services.
* ``country`` / ``asn`` read the latest good ``geoip`` enrichment's attributes
  (:data:`ATTRIBUTE_FIELDS`); ``provider.<name>.verdict`` the latest good row of
  that provider.

Network terms, one implementation per dialect:

* PostgreSQL: ``CAST(value AS inet) <<= CAST(:network AS inet)`` inside a ``CASE``
  on the indicator type (so other types are never cast).
* SQLite, IPv4: canonical dotted quads sort as strings, so a network is the union
  of at most 128 string ranges computed in Python (``10.0.0.0/8`` →
  ``value >= '10.' AND value < '10/'``) - exact, and it walks ``ix_indicator_value``.
  CIDR indicators additionally compare their prefix length.
* SQLite, IPv6: compressed text does not sort by address, so a deterministic SQL
  function ``spoorhound_ip_within(value, network)`` (Python ``ipaddress``) is
  registered on the connection by :func:`compile_query`.
* ``cidr contains X`` is exact and index-friendly on both: the networks containing
  an address are the 33 (129 for IPv6) canonical prefixes of it, an ``IN`` list.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import re
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from spoorhound.core.context import TLP_LEVELS
from spoorhound.core.fang import refang
from spoorhound.core.indicators import InvalidIndicator, UnknownType, normalize, parse
from spoorhound.core.query import (
    RISK_LEVELS,
    AbsTime,
    And,
    Node,
    Not,
    Or,
    RelTime,
    Scalar,
)
from spoorhound.storage import schema

__all__ = ["ATTRIBUTE_FIELDS", "GOOD_STATUSES", "compile_query", "like_pattern"]

I = schema.indicator  # noqa: E741 - short aliases keep the queries readable
O = schema.observation  # noqa: E741
E = schema.enclave
S = schema.source
T = schema.tag
IT = schema.indicator_tag
SC = schema.indicator_score
SG = schema.sighting
EN = schema.enrichment

#: Enrichment statuses that are answers (failed attempts never count as "latest").
GOOD_STATUSES = ("ok", "not_found")
#: Query field → (provider, attribute keys) read from that provider's latest answer.
ATTRIBUTE_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "country": ("geoip", ("country_code",)),
    "asn": ("geoip", ("asn_number", "asn_name")),
}
_ASN_NUMBER = re.compile(r"(?i)(?:as)?(\d{1,10})")
_ADDRESS_TYPES = ("ipv4", "ipv6")
_SQLITE_FN = "spoorhound_ip_within"

Cond = sa.ColumnElement[bool]


def like_pattern(wildcard: str) -> str:
    """A LIKE pattern (escape ``\\``) for a ``*`` wildcard: ``%`` and ``_`` match literally."""
    escaped = wildcard.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


@functools.lru_cache(maxsize=256)
def _net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text, strict=False)


def _ip_within(value: Any, network: Any) -> int:
    """SQLite function: 1 when address/CIDR ``value`` lies inside ``network``."""
    try:
        inner, outer = _net(str(value)), _net(str(network))
        return int(inner.version == outer.version and inner.subnet_of(outer))  # type: ignore[arg-type]
    except ValueError:
        return 0


def _cmp(col: Any, op: str, v: Any) -> Cond:
    ops = {"=": col.__eq__, ">": col.__gt__, ">=": col.__ge__, "<": col.__lt__, "<=": col.__le__}
    return ops[op](v)  # type: ignore[no-any-return]


def _ordered(levels: Sequence[str], op: str, v: str) -> list[str]:
    """The levels satisfying ``level op v`` on the ordered scale ``levels``."""
    if v not in levels:
        return [v] if op == "=" else []
    i = levels.index(v)
    return {
        "=": [v],
        ">": list(levels[i + 1 :]),
        ">=": list(levels[i:]),
        "<": list(levels[:i]),
        "<=": list(levels[: i + 1]),
    }[op]


def _v4_prefixes(net: ipaddress.IPv4Network, terminal: str) -> list[str]:
    """String prefixes of every canonical value inside ``net``.

    ``terminal`` ends a complete address: ``""`` for addresses (the prefix is then
    the whole value) and ``"/"`` for CIDR values. The empty prefix matches all.
    """
    octets = [str(o) for o in net.network_address.packed]
    full, rem = divmod(net.prefixlen, 8)
    if rem == 0:
        if full == 0:
            return [""]
        return [".".join(octets[:full]) + ("." if full < 4 else terminal)]
    base = net.network_address.packed[full]
    sep = "." if full < 3 else terminal
    return [".".join([*octets[:full], str(v)]) + sep for v in range(base, base + (1 << (8 - rem)))]


def _prefix_match(col: Any, prefixes: list[str]) -> Cond:
    exact = [p for p in prefixes if p and p[-1] not in "./"]
    ranges = [p for p in prefixes if p and p[-1] in "./"]
    if "" in prefixes:
        # 0.0.0.0/0: every IPv4 value, and no IPv6 one.
        return sa.func.instr(col, ":") == 0
    conds: list[Cond] = [sa.and_(col >= p, col < p[:-1] + chr(ord(p[-1]) + 1)) for p in ranges]
    if exact:
        conds.append(col.in_(exact))
    return sa.or_(*conds)


def _supernets(text: str) -> list[str]:
    """Canonical CIDR strings of every network containing address or network ``text``."""
    net = _net(text)
    out: list[str] = []
    for plen in range(net.prefixlen + 1):
        with contextlib.suppress(InvalidIndicator):
            out.append(normalize("cidr", str(net.supernet(new_prefix=plen))))
    return out


def candidate_values(value: str) -> list[str]:
    """The stored values ``value`` may be: canonical form(s) and the text as written."""
    raw = value.strip()
    out = [raw]
    for text in dict.fromkeys((raw, refang(raw).strip())):
        with contextlib.suppress(InvalidIndicator, UnknownType):
            out.append(parse(text).value)
    return list(dict.fromkeys(v for v in out if v))


class _Compiler:
    def __init__(self, conn: Connection, visible: list[int] | None, now: int) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.visible = visible
        self.now = now

    def ids(self, table: sa.Table, cond: Cond) -> list[int]:
        """Keys of the (small) name table rows matching ``cond``, looked up now.

        Resolving names before the main query turns a name that matches nothing
        (or only invisible enclaves) into a constant false instead of a full walk.
        """
        return [int(x) for x in self.conn.execute(sa.select(table.c.id).where(cond)).scalars()]

    # -- helpers ---------------------------------------------------------------

    def like(self, col: Any, wildcard: str) -> Cond:
        pattern = like_pattern(wildcard)
        # SQLite's LIKE is already case-insensitive for ASCII (and keeps the index usable).
        return col.ilike(pattern, escape="\\") if self.pg else col.like(pattern, escape="\\")  # type: ignore[no-any-return]

    def text(self, col: Any, op: str, v: Scalar | tuple[Scalar, ...], fold: bool = False) -> Cond:
        """``col op v`` for = / ~ / in, optionally case-folded."""
        if op == "~":
            return self.like(col, str(v))
        values = [str(x) for x in v] if isinstance(v, tuple) else [str(v)]
        if fold:
            col, values = sa.func.lower(col), [x.lower() for x in values]
        return col.in_(values) if len(values) > 1 else col == values[0]  # type: ignore[no-any-return]

    def obs(self, *conds: Cond) -> Cond:
        q = sa.exists().where(O.c.indicator_pk == I.c.pk, *conds)
        if self.visible is not None:
            q = q.where(O.c.enclave_id.in_(self.visible))
        return q

    def time(self, v: Scalar) -> int:
        if isinstance(v, RelTime):
            return self.now - v.seconds
        assert isinstance(v, AbsTime)
        return v.epoch

    def envelope(self, ind_col: Any, obs_col: Any, is_max: bool, op: str, t: int) -> Cond:
        """``ind_col op t`` where the column is the max/min of visible observations."""
        if self.visible is None:
            return _cmp(ind_col, op, t)
        toward = (">", ">=") if is_max else ("<", "<=")
        if op in toward:
            # Some visible row satisfies it; the indicator's overall envelope is a
            # necessary condition that the indexes can use.
            return sa.and_(_cmp(ind_col, op, t), self.obs(_cmp(obs_col, op, t)))
        beyond = ">" if is_max else "<"
        if op == "=":
            return sa.and_(self.obs(obs_col == t), ~self.obs(_cmp(obs_col, beyond, t)))
        # max < t ⇔ no row >= t; min > t ⇔ no row <= t.
        flipped = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]
        return ~self.obs(_cmp(obs_col, flipped, t))

    def latest(self, provider: str, column: Any) -> Any:
        """Scalar subquery: ``column`` of the latest good answer of ``provider``."""
        return (
            sa.select(column)
            .where(
                EN.c.indicator_pk == I.c.pk,
                EN.c.provider == provider,
                EN.c.status.in_(GOOD_STATUSES),
            )
            .order_by(EN.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    # -- nodes -------------------------------------------------------------------

    def node(self, n: Node) -> Cond:
        if isinstance(n, And):
            return sa.and_(*(self.node(x) for x in n.items))
        if isinstance(n, Or):
            return sa.or_(*(self.node(x) for x in n.items))
        if isinstance(n, Not):
            return sa.not_(self.node(n.item))
        if n.op == "!=":
            return sa.not_(self.term(n.field, "=", n.value))
        if n.op == "not in":
            return sa.not_(self.term(n.field, "in", n.value))
        return self.term(n.field, n.op, n.value)

    def term(self, f: str, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        handler = getattr(self, "f_" + f, None)
        if handler is not None:
            return handler(op, v)  # type: ignore[no-any-return]
        if f.startswith("provider."):
            provider = f.split(".")[1]
            return sa.func.coalesce(self.latest(provider, EN.c.verdict), "").in_(_list(v))
        raise ValueError(f"field {f!r} has no SQL translation")  # pragma: no cover

    def f_value(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        if op == "~":
            return self.like(I.c.value, refang(str(v)))
        values = [c for x in _list(v) for c in candidate_values(x)]
        return I.c.value.in_(list(dict.fromkeys(values)))

    def f_type(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        return self.text(I.c.type, op, v)

    def tag_names(self, op: str, v: Scalar | tuple[Scalar, ...], threat: bool) -> Cond:
        values = _list(v)
        if threat:
            values = [f"{ns}{x}" for x in values for ns in ("", "malware:", "actor:", "threat:")]
        if op == "~":
            return sa.or_(*(self.like(T.c.name, x) for x in values))
        return sa.func.lower(T.c.name).in_([x.lower() for x in values])

    def tagged(self, cond: Cond) -> Cond:
        tag_ids = self.ids(T, cond)
        if not tag_ids:
            return sa.false()
        q = sa.exists().where(IT.c.indicator_pk == I.c.pk, IT.c.tag_id.in_(tag_ids))
        if self.visible is not None:
            q = q.where(IT.c.enclave_id.in_(self.visible))
        return q

    def f_tag(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        return self.tagged(self.tag_names(op, v, threat=False))

    def f_threat(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        return self.tagged(self.tag_names(op, v, threat=True))

    def f_enclave(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        ids = self.ids(E, self.text(E.c.name, op, v))
        if self.visible is not None:
            ids = [i for i in ids if i in self.visible]
        return self.obs(O.c.enclave_id.in_(ids)) if ids else sa.false()

    def f_source(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        ids = self.ids(S, self.text(S.c.name, op, v))
        return self.obs(O.c.source_id.in_(ids)) if ids else sa.false()

    def scored(self, cond: Cond) -> Cond:
        """A stored score in a visible enclave satisfies ``cond`` (scores are per enclave)."""
        q = sa.exists().where(SC.c.indicator_pk == I.c.pk, cond)
        if self.visible is not None:
            q = q.where(SC.c.enclave_id.in_(self.visible))
        return q

    def f_risk(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        levels = _list(v) if op == "in" else _ordered(RISK_LEVELS, op, str(v))
        cond = self.scored(SC.c.risk.in_(levels))
        if "unknown" in levels:  # never scored counts as unknown
            return sa.or_(cond, ~self.scored(sa.true()))
        return cond

    def f_score(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        if op == "in":
            return self.scored(SC.c.score.in_(list(_tuple(v))))
        return self.scored(_cmp(SC.c.score, op, v))

    def f_high_priority(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        q = self.scored(SC.c.high_priority.is_(True))
        return q if bool(v) else ~q

    def f_tlp(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        levels = _list(v) if op == "in" else _ordered(TLP_LEVELS, op, str(v))
        return self.obs(O.c.tlp.in_(levels))

    def f_confidence(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        if op == "in":
            return self.obs(O.c.confidence.in_(list(_tuple(v))))
        return self.obs(_cmp(O.c.confidence, op, v))

    def f_first_seen(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        return self.envelope(I.c.first_seen, O.c.first_seen, False, op, self.time(_one(v)))

    def f_last_seen(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        return self.envelope(I.c.last_seen, O.c.last_seen, True, op, self.time(_one(v)))

    def f_created(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        return self.envelope(I.c.created_at, O.c.created_at, False, op, self.time(_one(v)))

    def f_sighted(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        q = sa.exists().where(SG.c.indicator_pk == I.c.pk)
        if self.visible is not None:
            q = q.where(SG.c.enclave_id.in_(self.visible))
        if isinstance(v, bool):
            return q if v else ~q
        return q.where(_cmp(SG.c.seen_at, op, self.time(_one(v))))

    def f_safelisted(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        return I.c.safelisted == bool(v)

    def f_retired(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        return I.c.retired == bool(v)

    def f_country(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        provider, (key,) = ATTRIBUTE_FIELDS["country"]
        attr = sa.func.coalesce(self.latest(provider, EN.c.attributes[key].as_string()), "")
        return self.text(attr, op, v if op == "~" else tuple(x.upper() for x in _list(v)))

    def f_asn(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        provider, (num_key, name_key) = ATTRIBUTE_FIELDS["asn"]
        number = sa.cast(self.latest(provider, EN.c.attributes[num_key].as_string()), sa.Text)
        name = self.latest(provider, EN.c.attributes[name_key].as_string())
        if op == "~":
            return self.like(sa.func.coalesce(name, ""), str(v))
        conds: list[Cond] = []
        for x in _list(v):
            m = _ASN_NUMBER.fullmatch(x.strip())
            if m:
                conds.append(sa.func.coalesce(number, "") == str(int(m.group(1))))
            else:
                conds.append(sa.func.lower(sa.func.coalesce(name, "")) == x.lower())
        return sa.or_(*conds)

    # -- networks ----------------------------------------------------------------

    def within(self, network: str, types: tuple[str, ...]) -> Cond:
        """Indicators of ``types`` (addresses and/or ``cidr``) inside ``network``."""
        net = _net(network)
        if self.pg:
            inside = sa.cast(I.c.value, postgresql.INET).op("<<=")(
                sa.cast(sa.literal(str(net)), postgresql.INET)
            )
            guarded = sa.case((I.c.type.in_(types), inside), else_=sa.false())
            return sa.and_(I.c.type.in_(types), guarded)
        if isinstance(net, ipaddress.IPv6Network):
            fn = getattr(sa.func, _SQLITE_FN)(I.c.value, str(net)) == 1
            return sa.and_(I.c.type.in_(types), sa.func.instr(I.c.value, ":") > 0, fn)
        conds: list[Cond] = []
        if "ipv4" in types:
            conds.append(
                sa.and_(I.c.type == "ipv4", _prefix_match(I.c.value, _v4_prefixes(net, "")))
            )
        if "cidr" in types:
            plen = sa.cast(sa.func.substr(I.c.value, sa.func.instr(I.c.value, "/") + 1), sa.Integer)
            conds.append(
                sa.and_(
                    I.c.type == "cidr",
                    _prefix_match(I.c.value, _v4_prefixes(net, "/")),
                    plen >= net.prefixlen,
                )
            )
        return sa.or_(*conds)

    def f_ip(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        if op == "=":
            return sa.and_(I.c.type.in_(_ADDRESS_TYPES), I.c.value == str(v))
        return sa.or_(*(self.within(n, (*_ADDRESS_TYPES, "cidr")) for n in _list(v)))

    def f_cidr(self, op: str, v: Scalar | tuple[Scalar, ...]) -> Cond:
        if op == "=":
            return sa.and_(I.c.type == "cidr", I.c.value == str(v))
        if op == "contains":
            return sa.and_(I.c.type == "cidr", I.c.value.in_(_supernets(str(v))))
        return sa.or_(*(self.within(n, ("cidr",)) for n in _list(v)))


def _tuple(v: Scalar | tuple[Scalar, ...]) -> tuple[Scalar, ...]:
    return v if isinstance(v, tuple) else (v,)


def _list(v: Scalar | tuple[Scalar, ...]) -> list[str]:
    return [str(x) for x in _tuple(v)]


def _one(v: Scalar | tuple[Scalar, ...]) -> Scalar:
    assert not isinstance(v, tuple)
    return v


def _register_sqlite_functions(conn: Connection) -> None:
    dbapi = conn.connection.driver_connection
    if dbapi is not None:
        dbapi.create_function(_SQLITE_FN, 2, _ip_within, deterministic=True)


def compile_query(
    conn: Connection, node: Node | None, *, scope: Collection[str] | None, now: int
) -> Cond:
    """The condition on ``indicator`` for ``node`` (None: every visible indicator).

    ``scope`` is the enclave names the caller may read (None: all, the local
    administrator); ``now`` (epoch seconds) resolves relative times. Looks up the
    scope's enclave ids on ``conn`` and, on SQLite, registers the
    ``spoorhound_ip_within`` function on it, so execute the result on ``conn``.
    """
    dialect = conn.dialect.name
    visible: list[int] | None = None
    if scope is not None:
        names = list(scope)
        visible = [
            int(x) for x in conn.execute(sa.select(E.c.id).where(E.c.name.in_(names))).scalars()
        ]
        if not visible:
            return sa.false()
    if dialect == "sqlite":
        _register_sqlite_functions(conn)
    c = _Compiler(conn, visible, now)
    conds: list[Cond] = []
    if visible is not None:
        conds.append(c.obs())
    if node is not None:
        conds.append(c.node(node))
    return sa.and_(*conds) if conds else sa.true()
