"""The probe's SSRF guard: refused destinations, pinning, redirects, allow-ranges."""

from __future__ import annotations

import ipaddress

import pytest

from spoorhound.core.indicators import parse
from spoorhound.services.analyze import probe
from spoorhound.services.netguard import NetGuard, Refused, classify, fetch
from tests.emulators.dnsserver import DnsServer
from tests.emulators.server import EmulatorServer


def guard(dns: DnsServer, *allow: str) -> NetGuard:
    return NetGuard.build(allow, nameservers=["127.0.0.1"], port=dns.port, timeout=2.0)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.8.9.10:8080/x", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata service"),
        ("http://169.254.1.1/", "link-local"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://100.100.100.200/", "cloud metadata service"),
        ("http://[::1]/", "loopback"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fd00:ec2::254]/", "cloud metadata service"),
        ("http://[::ffff:127.0.0.1]/", "loopback (IPv4 127.0.0.1 inside IPv6)"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
    ],
)
def test_non_public_addresses_are_refused_with_the_reason(
    dns: DnsServer, url: str, reason: str
) -> None:
    with pytest.raises(
        Refused, match="refused .*" + reason.replace("(", r"\(").replace(")", r"\)")
    ):
        guard(dns).target(url)


def test_names_are_resolved_and_every_address_checked(dns: DnsServer) -> None:
    g = guard(dns)
    with pytest.raises(Refused, match=r"refused rebind\.example\.net \(127\.0\.0\.1\): loopback"):
        g.target("http://rebind.example.net/")
    with pytest.raises(Refused, match=r"private\.example\.net \(10\.1\.2\.3\): private"):
        g.target("https://private.example.net/")
    with pytest.raises(Refused, match="cloud metadata service"):
        g.target("http://meta.example.net/")
    # One bad address among good ones is enough to refuse the name.
    with pytest.raises(Refused, match=r"10\.1\.2\.3"):
        guard(dns, "127.0.0.1/32").target("http://mixed.example.net/")
    with pytest.raises(Refused, match="does not resolve"):
        g.target("http://nothing-here.example.net/")


def test_schemes_and_credentials_are_refused(dns: DnsServer) -> None:
    g = guard(dns)
    for url, why in [
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://example.com/", "scheme 'gopher'"),
        ("http://user:pw@example.com/", "credentials"),
    ]:
        with pytest.raises(Refused, match=why):
            g.target(url)


def test_allow_range_permits_but_never_the_metadata_service(dns: DnsServer) -> None:
    g = guard(dns, "127.0.0.0/8", "169.254.0.0/16")
    t = g.target("http://local.example.net:8080/a?b=c")
    assert t.addresses == (ipaddress.ip_address("127.0.0.1"),) and t.port == 8080
    g.target("http://169.254.1.1/")
    with pytest.raises(Refused, match="never probed"):
        g.target("http://169.254.169.254/")
    assert classify(ipaddress.ip_address("8.8.8.8")) is None


def test_fetch_pins_the_checked_address_and_follows_redirects(
    dns: DnsServer, target: EmulatorServer
) -> None:
    g = guard(dns, "127.0.0.1/32")
    got = fetch(g, "GET", f"http://local.example.net:{target.port}/r1")
    assert got.error is None
    assert [h.status for h in got.hops] == [302, 200]
    assert got.hops[-1].url == f"http://local.example.net:{target.port}/"
    assert all(h.ip == "127.0.0.1" for h in got.hops)
    assert b"Probe &amp; Target" in got.body
    # The request went to the address with the name in Host.
    assert ("GET", "/r1", "") in target.requests


def test_a_redirect_to_a_refused_host_stops_the_chain(
    dns: DnsServer, target: EmulatorServer
) -> None:
    g = guard(dns, "127.0.0.1/32")
    got = fetch(g, "GET", f"http://127.0.0.1:{target.port}/toprivate")
    assert [h.status for h in got.hops] == [302]
    assert got.error == "redirect refused 10.0.0.1: private address (no allow-range permits it)"
    got = fetch(g, "GET", f"http://127.0.0.1:{target.port}/tometa")
    assert got.error is not None and "cloud metadata service" in got.error
    got = fetch(g, "GET", f"http://127.0.0.1:{target.port}/loop", max_redirects=5)
    assert got.error == "more than 5 redirects" and len(got.hops) == 6


def test_fetch_caps_the_body(dns: DnsServer, target: EmulatorServer) -> None:
    g = guard(dns, "127.0.0.1/32")
    got = fetch(g, "GET", f"http://127.0.0.1:{target.port}/", max_bytes=10)
    assert got.truncated and len(got.body) == 10


def test_probe_reports_title_redirects_and_refusals(dns: DnsServer, target: EmulatorServer) -> None:
    g = guard(dns, "127.0.0.1/32")
    url = f"http://local.example.net:{target.port}/r1"
    got = probe(parse(url), g, timeout=5.0)
    assert got["dns"] == {"A": ["127.0.0.1"]}
    assert got["addresses"] == ["127.0.0.1"]
    assert got["head"]["status"] in (302, 405)
    assert got["http"]["status"] == 200 and got["http"]["title"] == "Probe & Target"
    assert got["redirects"] == [{"url": url, "ip": "127.0.0.1", "status": 302, "location": "/"}]
    assert "refused" not in got
    # Without the allow-range the same probe is refused before any connection.
    before = len(target.requests)
    refused = probe(parse(url), guard(dns), timeout=5.0)
    assert refused["refused"].startswith("refused local.example.net (127.0.0.1): loopback")
    assert "http" not in refused and len(target.requests) == before
    # A hash is not something to probe.
    with pytest.raises(ValueError, match="domains, URLs and IP addresses"):
        probe(parse("d41d8cd98f00b204e9800998ecf8427e"), g)
