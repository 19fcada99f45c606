"""The DNS provider against a real UDP+TCP DNS server on loopback (``tests/emulators/dnsserver``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from spoorhound.core.indicators import Indicator, IndicatorType, parse
from spoorhound.enrich.provider import Status, Verdict
from spoorhound.enrich.providers.dns import DnsConfig, DnsProvider
from tests.emulators.dnsserver import DnsServer
from tests.enrich.harness import fails, rel, run

T = IndicatorType


# --- DNS -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    with DnsServer() as srv:
        yield srv


def _dns(srv: DnsServer, **kw: Any) -> DnsProvider:
    return DnsProvider(
        DnsConfig(nameservers=["127.0.0.1"], port=srv.port, enabled=True, **{"timeout": 2, **kw})
    )


def dom(value: str) -> Indicator:
    return Indicator(T.DOMAIN, value)


def test_dns_records_and_pivots(dns_server: DnsServer) -> None:
    r = run(_dns(dns_server), dom("www.example.net"))
    assert (r.status, r.verdict, r.score) == (Status.OK, Verdict.UNKNOWN, None)
    a = r.attributes
    assert a["A"] == ["192.0.2.1", "192.0.2.2"] and a["AAAA"] == ["2001:db8::1"]
    assert a["MX"] == [
        {"preference": 10, "exchange": "mail.example.net"},
        {"preference": 20, "exchange": "mx2.example.org"},
    ]
    assert a["NS"] == ["ns1.example.net", "ns2.example.net"] and a["TXT"] == ["v=spf1 -all"]
    assert a["CNAME"] == [] and a["ttl"]["A"] == 300
    assert set(r.related) == {
        rel("resolves-to", T.IPV4, "192.0.2.1"),
        rel("resolves-to", T.IPV4, "192.0.2.2"),
        rel("resolves-to", T.IPV6, "2001:db8::1"),
        rel("mail-server", T.DOMAIN, "mail.example.net"),
        rel("mail-server", T.DOMAIN, "mx2.example.org"),
        rel("name-server", T.DOMAIN, "ns1.example.net"),
        rel("name-server", T.DOMAIN, "ns2.example.net"),
    }


def test_dns_cname(dns_server: DnsServer) -> None:
    r = run(_dns(dns_server), dom("alias.example.net"))
    assert r.attributes["CNAME"] == ["www.example.net"]
    assert r.attributes["A"] == ["192.0.2.1", "192.0.2.2"]  # followed by the resolver
    assert rel("alias-of", T.DOMAIN, "www.example.net") in r.related


def test_dns_nodata_and_multi_string_txt(dns_server: DnsServer) -> None:
    r = run(_dns(dns_server, record_types=["A", "TXT"]), dom("textonly.example.net"))
    assert r.status is Status.OK and r.attributes["A"] == [] and r.related == ()
    assert r.attributes["TXT"] == ["hello world"]


def test_dns_nxdomain_is_not_found(dns_server: DnsServer) -> None:
    r = run(_dns(dns_server), dom("nothing-here.example.net"))
    assert r.status is Status.NOT_FOUND


def test_dns_truncated_udp_falls_back_to_tcp(dns_server: DnsServer) -> None:
    dns_server.queries.clear()
    r = run(_dns(dns_server, record_types=["TXT"]), dom("big.example.net"))
    assert len(r.attributes["TXT"]) == 6
    assert ("udp", "big.example.net", "TXT") in dns_server.queries
    assert ("tcp", "big.example.net", "TXT") in dns_server.queries


def test_dns_tcp_only(dns_server: DnsServer) -> None:
    dns_server.queries.clear()
    r = run(_dns(dns_server, tcp=True, record_types=["A"]), dom("mail.example.net"))
    assert r.attributes["A"] == ["192.0.2.25"]
    assert {q[0] for q in dns_server.queries} == {"tcp"}


def test_dns_timeout_is_error(dns_server: DnsServer) -> None:
    e = fails(_dns(dns_server, timeout=0.5, record_types=["A"]), dom("hang.example.net"))
    assert e.status is Status.ERROR and "timed out" in e.reason


def test_dns_servfail_is_error(dns_server: DnsServer) -> None:
    e = fails(_dns(dns_server, record_types=["A"]), dom("servfail.example.net"))
    assert e.status is Status.ERROR and "SERVFAIL" in e.reason


def test_dns_nothing_listening_is_error() -> None:
    with DnsServer() as srv:
        port = srv.port
    p = DnsProvider(DnsConfig(nameservers=["127.0.0.1"], port=port, timeout=0.5, enabled=True))
    e = fails(p, dom("www.example.net"))
    assert e.status is Status.ERROR


@pytest.mark.parametrize(
    ("ip", "names"),
    [
        ("192.0.2.1", ["www.example.net"]),
        ("192.0.2.2", ["web.example.org", "www.example.net"]),
        ("2001:db8::1", ["www.example.net"]),
    ],
)
def test_dns_ptr_of_addresses(dns_server: DnsServer, ip: str, names: list[str]) -> None:
    dns_server.queries.clear()
    r = run(_dns(dns_server), parse(ip))
    assert (r.status, r.verdict, r.score) == (Status.OK, Verdict.UNKNOWN, None)
    assert r.attributes["PTR"] == names
    assert r.attributes["ttl"]["PTR"] > 0
    assert set(r.related) == {rel("has-hostname", T.DOMAIN, n) for n in names}
    # Only the reverse query is sent for an address, never the domain record types.
    assert {q[2] for q in dns_server.queries} == {"PTR"}
    assert all(q[1].endswith((".in-addr.arpa", ".ip6.arpa")) for q in dns_server.queries)


def test_dns_ptr_missing_or_empty(dns_server: DnsServer) -> None:
    assert run(_dns(dns_server), parse("198.51.100.7")).status is Status.NOT_FOUND
    r = run(_dns(dns_server), parse("192.0.2.99"))  # reverse name exists, no PTR
    assert r.status is Status.OK and r.attributes["PTR"] == [] and r.related == ()


def test_dns_provider_contract() -> None:
    p = DnsProvider(DnsConfig(nameservers=["192.0.2.53"]))
    assert p.network and not p.config.enabled and p.max_tlp == "green"
    assert p.accepts(dom("www.example.net"), "green")
    assert not p.accepts(dom("www.example.net"), "amber")
    assert p.accepts(parse("192.0.2.1")) and p.accepts(parse("2001:db8::1"))
    assert not p.accepts(Indicator(T.URL, "http://www.example.net/"))
    with pytest.raises(ValueError):
        DnsConfig(nameservers=[])
    with pytest.raises(ValueError):
        DnsConfig(nameservers=["127.0.0.1"], base_url="http://x")  # type: ignore[call-arg]
