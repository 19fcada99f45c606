"""Reputation providers against their emulators: real HTTP over loopback.

Every provider gets the same contract tests (known and unknown indicators, wrong and
missing keys, its own quota response, every fault of the harness, the TLP ceiling,
and the API key never showing in a repr, a failure reason or a log record), then
tests of its own mapping rules. One emulator per provider is started for the module
and reset before each test (cases: ``reputation_harness``; client helpers: ``harness``).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.plugins import available_providers
from spoorhound.enrich.provider import Related, Status, Verdict
from spoorhound.enrich.providers import builtin_reputation
from spoorhound.enrich.providers.greynoise import verdict_for
from spoorhound.enrich.providers.otx import otx_type, verdict_from_general
from spoorhound.enrich.providers.shodan import verdict_from_host
from spoorhound.enrich.providers.virustotal import verdict_from_stats
from tests.emulators import abuseipdb as abuse_emu
from tests.emulators import greynoise as gn_emu
from tests.emulators import otx as otx_emu
from tests.emulators import shodan as shodan_emu
from tests.emulators import virustotal as vt_emu
from tests.emulators.server import EmulatorServer
from tests.enrich.harness import Emulators, configured, fails, run, run_batch
from tests.enrich.reputation_harness import BY_NAME, CASES, Running, start

T = IndicatorType


@pytest.fixture(params=[c.name for c in CASES])
def emu(request: pytest.FixtureRequest, emulators: Emulators) -> Running:
    """Each provider's emulator, fresh faults and quota."""
    return start(emulators, BY_NAME[request.param])


def emulator(emulators: Emulators, name: str) -> Running:
    """One named provider's emulator (for provider-specific tests)."""
    return start(emulators, BY_NAME[name])


# --- the contract, for every provider --------------------------------------------------


def test_known_indicator_is_an_answer(emu: Running) -> None:
    r = run(emu.provider(), emu.case.known)
    assert r.status is Status.OK
    assert r.provider == emu.case.name
    assert r.indicator == emu.case.known
    assert r.raw is not None
    assert r.score is None or 0 <= r.score <= 100


def test_unknown_indicator(emu: Running) -> None:
    r = run(emu.provider(), emu.case.unknown)
    assert r.status is emu.case.unknown_status
    assert r.ok


def test_wrong_key_is_one_clear_auth_failure(emu: Running) -> None:
    provider = emu.provider("definitely-not-the-key")
    errors = [fails(provider, i) for i in (emu.case.known, emu.case.unknown)]
    assert {e.status for e in errors} == {Status.AUTH_FAILED}
    assert len({e.reason for e in errors}) == 1
    assert "authentication failed" in errors[0].reason


def test_missing_key(emu: Running) -> None:
    provider = emu.provider(key=None)
    if not provider.needs_key:
        pytest.skip("works without a key")
    e = fails(provider, emu.case.known)
    assert e.status is Status.AUTH_FAILED
    assert "no API key configured" in e.reason
    assert emu.srv.requests == []


def test_exhausted_quota(emu: Running) -> None:
    emu.app.state.quota.reset(1)
    assert run(emu.provider(), emu.case.known).status is Status.OK
    e = fails(emu.provider(), emu.case.known)
    assert e.status is emu.case.quota_status
    assert e.retry_after == pytest.approx(emu.case.quota_retry_after, abs=2)


def test_429_fault_carries_retry_after(emu: Running) -> None:
    emu.srv.fault = "429"
    e = fails(emu.provider(), emu.case.known)
    assert e.status in (Status.RATE_LIMITED, Status.QUOTA_EXCEEDED)
    assert e.status is emu.case.quota_status
    assert e.retry_after == 7


FAULTS = {
    "html": "expected JSON",
    "garbage": "expected JSON",
    "error200": "error in response body",
    "huge": "larger than",
    "hang": "timed out",
    "500": "HTTP 500",
    "reset": "",
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_is_a_clear_error(emu: Running, fault: str) -> None:
    emu.srv.fault = fault
    provider = emu.provider(timeout=0.5, max_response_bytes=16 << 10)
    e = fails(provider, emu.case.known)
    assert e.status is Status.ERROR
    assert e.reason.startswith(f"{emu.case.name}: ")
    assert FAULTS[fault] in e.reason


def test_401_fault_is_auth_failure(emu: Running) -> None:
    emu.srv.fault = "401"
    assert fails(emu.provider(), emu.case.known).status is Status.AUTH_FAILED


def test_tlp_ceiling(emu: Running) -> None:
    provider = emu.provider()
    known = emu.case.known
    assert provider.accepts(known)
    assert provider.accepts(known, "clear")
    assert provider.accepts(known, provider.max_tlp)
    assert not provider.accepts(known, "amber+strict")
    assert not provider.accepts(known, "red")
    assert not provider.accepts(Indicator(T.MUTEX, "Global\\x"))


def test_api_key_never_leaks(emu: Running, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "SECRET-" + emu.case.api_key
    app = emu.case.app(secret)
    seen: list[str] = []
    with EmulatorServer(app) as srv:
        good = configured(
            emu.case.provider,
            srv.base_url + emu.case.prefix,
            secret,
            timeout=0.5,
            max_response_bytes=16 << 10,
            **emu.case.config,
        )
        seen += [repr(good), str(good.config), repr(good.config), repr(good.__dict__)]
        assert run(good, emu.case.known).status is Status.OK
        srv.hang_seconds = 1.0
        srv.huge_bytes = 64 << 10
        for fault in [*FAULTS, "429", "401"]:
            srv.fault = fault
            e = fails(good, emu.case.known)
            seen += [e.reason, str(e), repr(e)]
    assert caplog.records, "expected httpx to log its requests"
    for record in caplog.records:
        seen += [record.getMessage(), repr(record.args)]
    leaks = [s for s in seen if secret in s]
    assert leaks == []


def test_registered_through_the_plugin_hook() -> None:
    classes = builtin_reputation.spoorhound_providers()
    for case in CASES:
        assert case.provider in classes
        assert available_providers()[case.name] is case.provider
    for cls in classes:
        assert cls.network
        assert cls.max_tlp == "green"


# --- VirusTotal -------------------------------------------------------------------------


def test_vt_stats_rules() -> None:
    def v(m: int, s: int, h: int, u: int = 0) -> tuple[Verdict, int | None]:
        return verdict_from_stats({"malicious": m, "suspicious": s, "harmless": h, "undetected": u})

    assert v(5, 0, 0, 5) == (Verdict.MALICIOUS, 80)
    assert v(70, 0, 0) == (Verdict.MALICIOUS, 100)
    assert v(4, 0, 60)[0] is Verdict.SUSPICIOUS
    assert v(0, 1, 60) == (Verdict.SUSPICIOUS, 28)
    assert v(0, 0, 5) == (Verdict.BENIGN, 0)
    assert v(0, 0, 4, 60) == (Verdict.UNKNOWN, None)
    assert verdict_from_stats({}) == (Verdict.UNKNOWN, None)
    assert verdict_from_stats({"malicious": "9", "harmless": True}) == (Verdict.UNKNOWN, None)


def test_vt_malicious_ip(emulators: Emulators) -> None:
    r = run(emulator(emulators, "virustotal").provider(), Indicator(T.IPV4, vt_emu.BAD_IP))
    assert r.verdict is Verdict.MALICIOUS
    assert r.score == 60 + round(40 * 12 / 94)
    assert r.tags == ("tor",)
    assert r.attributes["detections.malicious"] == 12
    assert r.attributes["as_owner"] == "Example Bulletproof Hosting"
    assert set(r.related) == {
        Related("in-asn", T.ASN, "AS64500"),
        Related("in-network", T.CIDR, "185.220.101.0/24"),
    }


def test_vt_benign_ip(emulators: Emulators) -> None:
    r = run(emulator(emulators, "virustotal").provider(), Indicator(T.IPV4, vt_emu.GOOD_IP))
    assert (r.verdict, r.score) == (Verdict.BENIGN, 0)


def test_vt_domain_pivots_from_dns_records(emulators: Emulators) -> None:
    r = run(emulator(emulators, "virustotal").provider(), Indicator(T.DOMAIN, vt_emu.BAD_DOMAIN))
    assert r.verdict is Verdict.SUSPICIOUS
    assert r.related == (
        Related("resolves-to", T.IPV4, vt_emu.BAD_IP),
        Related("resolves-to", T.IPV6, "2001:db8::66"),
        Related("name-server", T.DOMAIN, "ns1.example.net"),
        Related("mail-server", T.DOMAIN, "mail.example.net"),
    )


def test_vt_url_by_base64_id(emulators: Emulators) -> None:
    r = run(emulator(emulators, "virustotal").provider(), Indicator(T.URL, vt_emu.BAD_URL))
    assert r.verdict is Verdict.MALICIOUS
    assert Related("redirects-to", T.URL, "http://evil.example.com/landing.php") in r.related
    assert Related("hosted-on", T.DOMAIN, vt_emu.BAD_DOMAIN) in r.related


def test_vt_file_by_md5(emulators: Emulators) -> None:
    r = run(emulator(emulators, "virustotal").provider(), Indicator(T.MD5, vt_emu.EICAR_MD5))
    assert r.verdict is Verdict.MALICIOUS
    assert r.tags == (
        "text",
        "attachment",
        "label:virus.eicar/test",
        "malware:eicar",
        "category:virus",
    )
    assert r.related == (
        Related("same-file", T.SHA1, vt_emu.EICAR_SHA1),
        Related("same-file", T.SHA256, vt_emu.EICAR_SHA256),
    )
    assert r.attributes["meaningful_name"] == "eicar.com"


# --- AbuseIPDB --------------------------------------------------------------------------


def test_abuseipdb_reported_tor_exit(emulators: Emulators) -> None:
    r = run(emulator(emulators, "abuseipdb").provider(), Indicator(T.IPV4, abuse_emu.BAD_IP))
    assert (r.verdict, r.score) == (Verdict.MALICIOUS, 100)
    assert r.tags == ("tor-exit", "usage:data center/web hosting/transit")
    assert r.attributes["totalReports"] == 1534
    assert r.related == (
        Related("has-hostname", T.DOMAIN, "tor-exit-1.example-hosting.de"),
        Related("operated-by", T.DOMAIN, "example-hosting.de"),
    )


def test_abuseipdb_whitelisted_and_low_scores(emulators: Emulators) -> None:
    provider = emulator(emulators, "abuseipdb").provider()
    good = run(provider, Indicator(T.IPV4, abuse_emu.WHITELISTED_IP))
    assert (good.verdict, good.score) == (Verdict.BENIGN, 0)
    some = run(provider, Indicator(T.IPV4, abuse_emu.SOME_REPORTS_IP))
    assert (some.verdict, some.score) == (Verdict.SUSPICIOUS, 40)
    never = run(provider, Indicator(T.IPV4, "198.51.100.1"))
    assert (never.status, never.verdict, never.score) == (Status.OK, Verdict.UNKNOWN, 0)


def test_abuseipdb_daily_quota_message(emulators: Emulators) -> None:
    emu = emulator(emulators, "abuseipdb")
    emu.app.state.quota.reset(0)
    e = fails(emu.provider(), Indicator(T.IPV4, abuse_emu.BAD_IP))
    assert e.status is Status.QUOTA_EXCEEDED
    assert e.reason == "abuseipdb: daily CHECK quota used up; it resets in 8.1 h"


def test_abuseipdb_sends_max_age_and_uses_no_bulk(emulators: Emulators) -> None:
    emu = emulator(emulators, "abuseipdb")
    ips = [Indicator(T.IPV4, abuse_emu.BAD_IP), Indicator(T.IPV4, "198.51.100.2")]
    results = run_batch(emu.provider(max_age_days=30), ips)
    assert [r.indicator for r in results] == ips
    assert [q for _, _, q in emu.srv.requests] == [
        "ipAddress=185.220.101.1&maxAgeInDays=30",
        "ipAddress=198.51.100.2&maxAgeInDays=30",
    ]


# --- GreyNoise --------------------------------------------------------------------------


def test_greynoise_rules() -> None:
    assert verdict_for("malicious", riot=True) == (Verdict.MALICIOUS, 85)
    assert verdict_for("suspicious", riot=False) == (Verdict.SUSPICIOUS, 55)
    assert verdict_for("benign", riot=True, trust_level="1") == (Verdict.BENIGN, 0)
    assert verdict_for(None, riot=True, trust_level="2") == (Verdict.BENIGN, 10)
    assert verdict_for("benign", riot=False) == (Verdict.BENIGN, 10)
    assert verdict_for("unknown", riot=False) == (Verdict.UNKNOWN, 30)
    assert verdict_for("surprising", riot=False) == (Verdict.UNKNOWN, None)


def test_greynoise_community_classifications(emulators: Emulators) -> None:
    provider = emulator(emulators, "greynoise").provider(key=None)  # works without a key
    expected = {
        gn_emu.BAD_IP: (Verdict.MALICIOUS, 85, ("internet-scanner",)),
        gn_emu.RIOT_IP: (Verdict.BENIGN, 10, ("business-service",)),
        gn_emu.BENIGN_SCANNER_IP: (Verdict.BENIGN, 10, ("internet-scanner",)),
        gn_emu.UNKNOWN_SCANNER_IP: (Verdict.UNKNOWN, 30, ("internet-scanner",)),
    }
    for ip, (verdict, score, tags) in expected.items():
        r = run(provider, Indicator(T.IPV4, ip))
        assert (r.verdict, r.score, r.tags) == (verdict, score, tags), ip
    r = run(provider, Indicator(T.IPV4, gn_emu.RIOT_IP))
    assert r.attributes["name"] == "Google Public DNS"
    assert r.attributes["link"] == "https://viz.greynoise.io/riot/8.8.8.8"


def test_greynoise_enterprise_batches_in_one_request(emulators: Emulators) -> None:
    emu = emulator(emulators, "greynoise-enterprise")
    ips = [gn_emu.RIOT_IP, "198.51.100.8", gn_emu.BAD_IP, gn_emu.UNKNOWN_SCANNER_IP]
    results = run_batch(emu.provider(), [Indicator(T.IPV4, ip) for ip in ips])
    assert [r.indicator.value for r in results] == ips
    assert [(r.status, r.verdict, r.score) for r in results] == [
        (Status.OK, Verdict.BENIGN, 0),  # RIOT trust level 1
        (Status.NOT_FOUND, Verdict.UNKNOWN, None),
        (Status.OK, Verdict.MALICIOUS, 85),
        (Status.OK, Verdict.UNKNOWN, 30),
    ]
    assert emu.srv.requests == [("POST", "/v3/ip", "quick=true")]


def test_greynoise_enterprise_chunks_by_batch_size(emulators: Emulators) -> None:
    emu = emulator(emulators, "greynoise-enterprise")
    provider = emu.provider()
    provider.batch_size = 2  # type: ignore[misc]
    results = run_batch(provider, [Indicator(T.IPV4, f"198.51.100.{n}") for n in range(5)])
    assert len(results) == 5
    assert len(emu.srv.requests) == 3


# --- AlienVault OTX ---------------------------------------------------------------------


def test_otx_rules() -> None:
    def pulses(n: int, **extra: Any) -> dict[str, Any]:
        return {"pulse_info": {"count": n}, **extra}

    assert verdict_from_general(pulses(0)) == (Verdict.UNKNOWN, None)
    assert verdict_from_general(pulses(1)) == (Verdict.SUSPICIOUS, 40)
    assert verdict_from_general(pulses(2)) == (Verdict.SUSPICIOUS, 50)
    assert verdict_from_general(pulses(3)) == (Verdict.MALICIOUS, 75)
    assert verdict_from_general(pulses(40)) == (Verdict.MALICIOUS, 100)
    assert verdict_from_general(pulses(9, false_positive=[{"x": 1}])) == (Verdict.BENIGN, 0)
    assert verdict_from_general({"pulse_info": {"count": "7"}}) == (Verdict.UNKNOWN, None)


def test_otx_type_slugs() -> None:
    assert otx_type(Indicator(T.DOMAIN, "example.co.uk")) == "domain"
    assert otx_type(Indicator(T.DOMAIN, "www.example.co.uk")) == "hostname"
    assert otx_type(Indicator(T.SHA1, "a" * 40)) == "file"
    assert otx_type(Indicator(T.IPV6, "2001:db8::1")) == "IPv6"


def test_otx_pulses_make_a_malicious_ip(emulators: Emulators) -> None:
    r = run(emulator(emulators, "otx").provider(), Indicator(T.IPV4, otx_emu.BAD_IP))
    assert (r.verdict, r.score) == (Verdict.MALICIOUS, 90)
    assert r.tags[:3] == (
        "pulse:cobalt strike c2 servers",
        "pulse:tor exit nodes",
        "pulse:botnet feed 3",
    )
    assert {"malware:emotet", "malware:cobalt strike", "actor:apt-example"} <= set(r.tags)
    assert r.attributes["pulse_count"] == 6
    assert r.attributes["country_code"] == "DE"
    assert r.related == (
        Related("in-asn", T.ASN, "AS64500"),
        Related("uses-technique", T.ATTACK_TECHNIQUE, "T1071.001"),
    )


def test_otx_allow_list_wins_over_pulses(emulators: Emulators) -> None:
    r = run(emulator(emulators, "otx").provider(), Indicator(T.DOMAIN, otx_emu.ALLOW_LISTED_DOMAIN))
    assert (r.verdict, r.score) == (Verdict.BENIGN, 0)
    assert r.attributes["validation"] == ["Listed on Alexa", "Whitelisted domain"]


def test_otx_hostname_file_and_url_paths(emulators: Emulators) -> None:
    emu = emulator(emulators, "otx")
    host = run(emu.provider(), Indicator(T.DOMAIN, otx_emu.BAD_HOSTNAME))
    assert (host.verdict, host.score) == (Verdict.SUSPICIOUS, 40)
    file = run(emu.provider(), Indicator(T.SHA256, otx_emu.EICAR_SHA256))
    assert file.tags == ("pulse:eicar",)
    url = run(emu.provider(), Indicator(T.URL, "http://evil.example.com/a/b.php?id=1"))
    assert (url.status, url.verdict) == (Status.OK, Verdict.UNKNOWN)
    assert [path for _, path, _ in emu.srv.requests] == [
        f"/api/v1/indicators/hostname/{otx_emu.BAD_HOSTNAME}/general",
        f"/api/v1/indicators/file/{otx_emu.EICAR_SHA256}/general",
        "/api/v1/indicators/url/http://evil.example.com/a/b.php?id=1/general",
    ]


# --- Shodan -----------------------------------------------------------------------------


def test_shodan_rules() -> None:
    assert verdict_from_host({"tags": ["cloud"], "vulns": []}) == (Verdict.UNKNOWN, None)
    assert verdict_from_host({"vulns": ["CVE-2021-44228"]}) == (Verdict.SUSPICIOUS, 25)
    assert verdict_from_host({"vulns": {f"CVE-2020-{n:04d}": {} for n in range(30)}}) == (
        Verdict.SUSPICIOUS,
        60,
    )
    assert verdict_from_host({"tags": ["c2"], "vulns": ["CVE-2021-44228"]}) == (
        Verdict.MALICIOUS,
        80,
    )


def test_shodan_vulnerable_host_context(emulators: Emulators) -> None:
    emu = emulator(emulators, "shodan")
    r = run(emu.provider(), Indicator(T.IPV4, shodan_emu.VULNERABLE_IP))
    assert (r.verdict, r.score) == (Verdict.SUSPICIOUS, 35)
    assert r.tags == ("cloud", "self-signed")
    assert r.attributes["ports"] == [22, 80, 443]
    assert r.attributes["vuln_count"] == 3
    assert "data" not in r.raw  # minified: no banners
    assert r.related == (
        Related("has-vulnerability", T.CVE, "CVE-2021-44228"),
        Related("has-vulnerability", T.CVE, "CVE-2023-44487"),
        Related("has-hostname", T.DOMAIN, "mail.example.org"),
        Related("has-domain", T.DOMAIN, "example.org"),
        Related("in-asn", T.ASN, "AS64501"),
    )
    (_, path, query), *_ = emu.srv.requests
    assert path == f"/shodan/host/{shodan_emu.VULNERABLE_IP}"
    assert query.startswith("minify=true&key=")


def test_shodan_c2_label_and_quiet_host(emulators: Emulators) -> None:
    provider = emulator(emulators, "shodan").provider()
    c2 = run(provider, Indicator(T.IPV4, shodan_emu.C2_IP))
    assert (c2.verdict, c2.score, c2.tags) == (Verdict.MALICIOUS, 80, ("c2",))
    quiet = run(provider, Indicator(T.IPV4, shodan_emu.QUIET_IP))
    assert (quiet.status, quiet.verdict, quiet.score) == (Status.OK, Verdict.UNKNOWN, None)
    assert Related("has-hostname", T.DOMAIN, "dns.google") in quiet.related


def test_shodan_key_in_url_is_scrubbed_from_httpx_log(
    emulators: Emulators, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    run(emulator(emulators, "shodan").provider(), Indicator(T.IPV4, shodan_emu.QUIET_IP))
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines and all("key=***" in line for line in lines)
    assert not any(shodan_emu.API_KEY in line for line in lines)
