"""Compiled queries on both dialects: exact results, scope, networks, times, pages."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from spoorhound.core.query import QuerySyntaxError
from spoorhound.services.explore import InvalidCursor, explore
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

HEADER = "indicator,tags,first_seen,last_seen,confidence,tlp\n"
ENCLAVE_A = HEADER + (
    "1.2.3.4,c2,2024-01-01,2024-03-01,80,amber\n"
    '10.1.2.3,"actor:APT28,scanner",2024-02-01,2024-02-10,50,green\n'
    "evil[.]example.com,malware:Emotet,2023-06-01,2024-04-30,90,red\n"
    "hxxp://evil[.]com/x,phishing,2024-04-01,2024-04-02,20,clear\n"
    "10.0.0.0/16,,2024-01-05,2024-01-06,50,green\n"
    "192.168.1.0/24,,2024-01-05,2024-01-06,50,green\n"
    "2001:db8::1,,2024-01-05,2024-01-07,60,green\n"
    "2001:db8::/48,,2024-01-05,2024-01-07,60,green\n"
    "44D88612FEA8A8F36DE82E1278ABB02F,Emotet,2024-01-10,2024-01-11,,\n"
    "cdn.example.net,benign_cdn,2024-01-10,2024-01-12,10,clear\n"
)
ENCLAVE_B = HEADER + (
    "secret.example.org,actor:APT28,2024-01-01,2024-01-02,99,red\n"
    "1.2.3.4,bonly,2023-01-01,2025-01-01,10,red\n"
    "10.200.0.0/16,bonly,2024-01-01,2024-01-02,50,green\n"
)
AT = int(datetime(2024, 5, 1, tzinfo=UTC).timestamp())
ALL_A = {
    "1.2.3.4", "10.1.2.3", "evil.example.com", "http://evil.com/x", "10.0.0.0/16",
    "192.168.1.0/24", "2001:db8::1", "2001:db8::/48", "44d88612fea8a8f36de82e1278abb02f",
    "cdn.example.net",
}  # fmt: skip
ALL = ALL_A | {"secret.example.org", "10.200.0.0/16"}


def _pk(conn: sa.Connection, value: str) -> int:
    I = schema.indicator  # noqa: E741
    return int(conn.execute(sa.select(I.c.pk).where(I.c.value == value)).scalar_one())


@pytest.fixture
def loaded(store: Store) -> Store:
    for enclave, source, text in (("A", "feed-a", ENCLAVE_A), ("B", "feed-b", ENCLAVE_B)):
        r = ingest(
            store, io.BytesIO(text.encode()),
            IngestOptions(enclave=enclave, source=source, format="csv", safelist=False),
            name=f"{enclave}.csv",
        )  # fmt: skip
        assert r.status == "done" and r.rejected == 0, (r.error, list(r.errors))
    I, EN, SG = schema.indicator, schema.enrichment, schema.sighting  # noqa: E741
    with store.write() as conn:
        # Scores are stored per (indicator, enclave): B's critical score of 1.2.3.4 must
        # never show, or match, for a caller who sees only A.
        eid = {n: i for i, n in conn.execute(sa.select(schema.enclave.c.id, schema.enclave.c.name))}
        for value, enclave, score, risk in (
            ("1.2.3.4", "A", 90, "high"),
            ("10.1.2.3", "A", 40, "medium"),
            ("1.2.3.4", "B", 99, "critical"),
        ):
            conn.execute(
                schema.indicator_score.insert().values(
                    indicator_pk=_pk(conn, value), enclave_id=eid[enclave], score=score, risk=risk,
                    score_recommended=score, risk_recommended=risk, high_priority=score >= 70,
                    base=score / 100, evidence={}, factors=[], anchor=AT, scored_at=AT,
                )
            )  # fmt: skip
        conn.execute(I.update().where(I.c.value == "cdn.example.net").values(safelisted=True))
        ips = {v: _pk(conn, v) for v in ("1.2.3.4", "10.1.2.3", "secret.example.org")}
        rows = [
            # an older answer, replaced by the newer one below
            (ips["1.2.3.4"], "geoip", 10, "ok", None, {"country_code": "RU", "asn_name": "OLD"}),
            (ips["1.2.3.4"], "geoip", 20, "ok", None, {"country_code": "US", "asn_name": "Google LLC", "asn_number": 15169}),
            # a failed attempt never counts as the latest answer
            (ips["1.2.3.4"], "geoip", 30, "error", None, None),
            (ips["10.1.2.3"], "geoip", 20, "ok", None, {"country_code": "DE", "asn_name": "Hetzner Online GmbH"}),
            (ips["1.2.3.4"], "virustotal", 20, "ok", "malicious", None),
            (ips["10.1.2.3"], "virustotal", 20, "ok", "benign", None),
            (ips["10.1.2.3"], "virustotal", 30, "ok", "suspicious", None),
        ]  # fmt: skip
        for pk, provider, at, status, verdict, attrs in rows:
            conn.execute(
                EN.insert().values(
                    indicator_pk=pk, provider=provider, fetched_at=at, checked_at=at,
                    status=status, verdict=verdict, attributes=attrs,
                )
            )  # fmt: skip
        enclaves = dict(conn.execute(sa.select(schema.enclave.c.name, schema.enclave.c.id)).all())
        conn.execute(
            SG.insert().values(
                indicator_pk=ips["10.1.2.3"], enclave_id=enclaves["A"], seen_at=AT - 3600
            )
        )
        conn.execute(
            SG.insert().values(
                indicator_pk=ips["1.2.3.4"], enclave_id=enclaves["B"], seen_at=AT - 60
            )
        )
    return store


def values(store: Store, query: str, scope: list[str] | None = None) -> set[str]:
    page = explore(store, query, scope=scope, limit=1000, at=AT)
    assert page.cursor is None
    return {r["value"] for r in page.rows}


CASES: list[tuple[str, set[str] | None, set[str]]] = [
    # (query, expected unscoped (None: same as scoped), expected for scope ["A"])
    ("", ALL, ALL_A),
    ("value = hxxp://evil[.]com/x", None, {"http://evil.com/x"}),
    ("value = EVIL.example.com", None, {"evil.example.com"}),
    ("value = 44d88612fea8a8f36de82e1278abb02f", None, {"44d88612fea8a8f36de82e1278abb02f"}),
    ("value = secret.example.org", {"secret.example.org"}, set()),
    ("value ~ '*.example.*'", {"evil.example.com", "cdn.example.net", "secret.example.org"}, {"evil.example.com", "cdn.example.net"}),
    ("value ~ '*EXAMPLE.COM'", None, {"evil.example.com"}),
    ("value ~ '10.%'", None, set()),
    ("ioc=*.example.com", None, {"evil.example.com"}),
    ("type = domain", {"evil.example.com", "cdn.example.net", "secret.example.org"}, {"evil.example.com", "cdn.example.net"}),
    ("type in (url, md5)", None, {"http://evil.com/x", "44d88612fea8a8f36de82e1278abb02f"}),
    ("tag = actor:apt28", {"10.1.2.3", "secret.example.org"}, {"10.1.2.3"}),
    ("tag = bonly", {"1.2.3.4", "10.200.0.0/16"}, set()),
    ("tag ~ 'actor:*'", {"10.1.2.3", "secret.example.org"}, {"10.1.2.3"}),
    ("threat = emotet", None, {"evil.example.com", "44d88612fea8a8f36de82e1278abb02f"}),
    ("threat = APT28", {"10.1.2.3", "secret.example.org"}, {"10.1.2.3"}),
    ("not tag = c2 and type = ipv4", {"10.1.2.3"}, {"10.1.2.3"}),
    ("tag != bonly and type = ipv4", {"10.1.2.3"}, {"1.2.3.4", "10.1.2.3"}),
    ("enclave = B", {"secret.example.org", "1.2.3.4", "10.200.0.0/16"}, set()),
    ("enclave = A and enclave = B", {"1.2.3.4"}, set()),
    ("source = feed-b", {"secret.example.org", "1.2.3.4", "10.200.0.0/16"}, set()),
    ("feed = feed-a and type = ipv4", None, {"1.2.3.4", "10.1.2.3"}),
    ("risk = high", None, {"1.2.3.4"}),
    ("risk >= medium", None, {"1.2.3.4", "10.1.2.3"}),
    ("risk=high,critical", None, {"1.2.3.4"}),
    ("risk != high and type = ipv4", None, {"10.1.2.3"}),
    ("score > 50", None, {"1.2.3.4"}),
    ("not score > 50 and type = ipv4", None, {"10.1.2.3"}),
    ("tlp >= red", {"evil.example.com", "secret.example.org", "1.2.3.4"}, {"evil.example.com"}),
    ("tlp = amber", None, {"1.2.3.4"}),
    ("tlp < green", None, {"http://evil.com/x", "cdn.example.net"}),
    ("confidence >= 90", {"evil.example.com", "secret.example.org"}, {"evil.example.com"}),
    ("confidence <= 10", {"cdn.example.net", "1.2.3.4"}, {"cdn.example.net"}),
    ("first_seen < 2024-01-01", {"evil.example.com", "1.2.3.4"}, {"evil.example.com"}),
    ("last_seen >= 2024-04-01", {"evil.example.com", "http://evil.com/x", "1.2.3.4"}, {"evil.example.com", "http://evil.com/x"}),
    ("last_seen > -7d", {"evil.example.com", "1.2.3.4"}, {"evil.example.com"}),
    ("last_seen < 2024-01-07 and type = cidr", {"10.0.0.0/16", "192.168.1.0/24", "10.200.0.0/16"}, {"10.0.0.0/16", "192.168.1.0/24"}),
    ("last_seen = 2024-03-01", set(), {"1.2.3.4"}),
    ("sighted = true", {"10.1.2.3", "1.2.3.4"}, {"10.1.2.3"}),
    ("sighted > -2h", {"10.1.2.3", "1.2.3.4"}, {"10.1.2.3"}),
    ("sighted > -30m", {"1.2.3.4"}, set()),
    ("sighted = false and type = ipv4", set(), {"1.2.3.4"}),
    ("safelisted = true", None, {"cdn.example.net"}),
    ("safelisted = false and type = domain", {"evil.example.com", "secret.example.org"}, {"evil.example.com"}),
    ("retired = true", set(), set()),
    ("country = us", None, {"1.2.3.4"}),
    ("country in (DE, RU)", None, {"10.1.2.3"}),
    ("country ~ 'D*'", None, {"10.1.2.3"}),
    ("asn = AS15169", None, {"1.2.3.4"}),
    ("asn = 'google llc'", None, {"1.2.3.4"}),
    ("asn ~ '*hetzner*'", None, {"10.1.2.3"}),
    ("provider.virustotal.verdict = malicious", None, {"1.2.3.4"}),
    ("provider.virustotal.verdict = suspicious", None, {"10.1.2.3"}),
    ("provider.virustotal.verdict in (benign, unknown)", None, set()),
    ("provider.geoip.verdict = malicious", None, set()),
    ("ip in 10.0.0.0/8", {"10.1.2.3", "10.0.0.0/16", "10.200.0.0/16"}, {"10.1.2.3", "10.0.0.0/16"}),
    ("ip in 10.1.0.0/16", None, {"10.1.2.3"}),
    ("ip in 10.0.0.0/15", None, {"10.1.2.3", "10.0.0.0/16"}),
    ("ip in (1.2.3.0/24, 192.168.0.0/16)", None, {"1.2.3.4", "192.168.1.0/24"}),
    ("ip in 0.0.0.0/0", {"1.2.3.4", "10.1.2.3", "10.0.0.0/16", "192.168.1.0/24", "10.200.0.0/16"}, {"1.2.3.4", "10.1.2.3", "10.0.0.0/16", "192.168.1.0/24"}),
    ("ip in 1.2.3.4", None, {"1.2.3.4"}),
    ("ip in 2001:db8::/32", None, {"2001:db8::1", "2001:db8::/48"}),
    ("ip in 2001:db8:0:1::/64", None, set()),
    ("ip = 1.2.3.4", None, {"1.2.3.4"}),
    ("cidr in 10.0.0.0/8", {"10.0.0.0/16", "10.200.0.0/16"}, {"10.0.0.0/16"}),
    ("cidr contains 10.0.3.4", None, {"10.0.0.0/16"}),
    ("cidr contains 10.200.1.1", {"10.200.0.0/16"}, set()),
    ("cidr contains 10.0.0.0/24", None, {"10.0.0.0/16"}),
    ("cidr contains 10.0.0.0/8", set(), set()),
    ("cidr contains 2001:db8::5", None, {"2001:db8::/48"}),
    ("cidr = 192.168.1.7/24", None, {"192.168.1.0/24"}),
    ("(type = ipv4 or type = ipv6) and not tag = c2", {"10.1.2.3", "2001:db8::1"}, {"10.1.2.3", "2001:db8::1"}),
]  # fmt: skip


@pytest.mark.parametrize(("query", "unscoped", "scoped"), CASES, ids=[c[0] for c in CASES])
def test_query_results(
    loaded: Store, query: str, unscoped: set[str] | None, scoped: set[str]
) -> None:
    assert values(loaded, query, ["A"]) == scoped
    assert values(loaded, query) == (scoped if unscoped is None else unscoped)


def test_scope_hides_other_enclaves_everywhere(loaded: Store) -> None:
    for query in (
        "value = secret.example.org",
        "enclave = B",
        "tag = bonly",
        "source = feed-b",
        "threat = APT28 and type = domain",
    ):
        assert values(loaded, query, ["A"]) == set(), query
        assert values(loaded, query, []) == set(), query
    assert values(loaded, "value = secret.example.org", ["A", "B"]) == {"secret.example.org"}
    assert values(loaded, "", ["nonexistent"]) == set()


def test_scores_of_invisible_enclaves_never_match(loaded: Store) -> None:
    assert values(loaded, "risk = critical", ["A"]) == set()
    assert values(loaded, "score > 95", ["A"]) == set()
    assert values(loaded, "risk = critical", ["B"]) == {"1.2.3.4"}
    assert values(loaded, "high_priority = true", ["A"]) == {"1.2.3.4"}
    assert "1.2.3.4" not in values(loaded, "risk = unknown", ["A"])
    assert "evil.example.com" in values(loaded, "risk = unknown", ["A"])


def test_rows_show_only_what_the_scope_sees(loaded: Store) -> None:
    (row,) = explore(loaded, "value = 1.2.3.4", scope=["A"], at=AT).rows
    assert row["tags"] == ["c2"]
    assert (row["first_seen"], row["last_seen"]) == (1704067200, 1709251200)
    assert row["score"] == 90 and row["risk"] == "high"
    assert set(row) == {"id", "type", "value", "first_seen", "last_seen", "score", "risk", "tags"}
    (full,) = explore(loaded, "value = 1.2.3.4", at=AT).rows
    assert full["tags"] == ["bonly", "c2"] and full["last_seen"] == 1735689600


def test_pages_return_every_row_once(loaded: Store) -> None:
    for scope in (None, ["A"]):
        seen: list[str] = []
        page = explore(loaded, "", scope=scope, limit=3, at=AT)
        pages = 1
        while True:
            seen += [r["value"] for r in page.rows]
            if page.cursor is None:
                break
            page = explore(loaded, "", scope=scope, limit=3, cursor=page.cursor, at=AT)
            pages += 1
        expected = ALL if scope is None else ALL_A
        assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
        assert pages == -(-len(expected) // 3)
        whole = [r["value"] for r in explore(loaded, "", scope=scope, limit=100, at=AT).rows]
        assert seen == whole  # same order as one big page: last seen desc


def test_cursor_of_an_invisible_indicator_is_refused(loaded: Store) -> None:
    secret = explore(loaded, "value = secret.example.org", at=AT).rows[0]["id"]
    with pytest.raises(InvalidCursor):
        explore(loaded, "", scope=["A"], cursor=secret)
    with pytest.raises(InvalidCursor):
        explore(loaded, "", cursor="not-an-id")


def test_bad_query_raises_syntax_error(loaded: Store) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        explore(loaded, "tlp = purple")
    assert info.value.position == 6
