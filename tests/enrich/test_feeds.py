"""Feed and network providers against their emulators, over real loopback HTTP/DNS.

Each HTTP provider gets the same battery (known, unknown, wrong key, 429, every fault,
TLP ceiling, key never leaked) from the ``CASES`` table, plus its own mapping tests.
The DNS provider (not HTTP) is tested in ``test_feeds_dns.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from spoorhound.core.indicators import Indicator, IndicatorType, parse
from spoorhound.enrich.provider import HttpProvider, ProviderError, Status, Verdict
from spoorhound.enrich.providers.malwarebazaar import MalwareBazaarConfig, MalwareBazaarProvider
from spoorhound.enrich.providers.misp import MispConfig, MispProvider
from spoorhound.enrich.providers.pulsedive import PulsediveConfig, PulsediveProvider
from spoorhound.enrich.providers.rdap import RdapProvider
from spoorhound.enrich.providers.threatfox import ThreatFoxProvider
from spoorhound.enrich.providers.urlhaus import UrlhausProvider
from tests.emulators import abusech, misp, pulsedive, rdap
from tests.emulators.server import EmulatorServer
from tests.enrich.harness import Emulators, configured, fails, rel, run, run_batch

T = IndicatorType


# --- the table every HTTP provider goes through --------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    app: Callable[[], FastAPI]
    provider: type[HttpProvider]
    key: str  # "" for a provider without keys
    known: Indicator
    unknown: Indicator
    prefix: str = ""


CASES = [
    Case(
        "urlhaus",
        abusech.abusech_app,
        UrlhausProvider,
        abusech.AUTH_KEY,
        parse("http://malware.example.com/bins/mozi.m"),
        parse("http://clean.example.org/"),
        "/urlhaus",
    ),
    Case(
        "threatfox",
        abusech.abusech_app,
        ThreatFoxProvider,
        abusech.AUTH_KEY,
        parse("evil-c2.example.net"),
        parse("clean.example.org"),
        "/threatfox",
    ),
    Case(
        "malwarebazaar",
        abusech.abusech_app,
        MalwareBazaarProvider,
        abusech.AUTH_KEY,
        Indicator(T.SHA256, abusech.QAKBOT_SHA256),
        Indicator(T.SHA256, "e" * 64),
        "/bazaar",
    ),
    Case(
        "pulsedive",
        pulsedive.pulsedive_app,
        PulsediveProvider,
        pulsedive.API_KEY,
        parse("bad.example.com"),
        parse("clean.example.org"),
    ),
    Case(
        "misp",
        misp.misp_app,
        MispProvider,
        misp.API_KEY,
        parse("phish.example.com"),
        parse("clean.example.org"),
    ),
    Case(
        "rdap",
        rdap.rdap_app,
        RdapProvider,
        "",
        parse("oldsite.com"),
        parse("unregistered-name.com"),
    ),
]
BY_NAME = {c.name: c for c in CASES}


def provider_for(
    emulators: Emulators, case: Case, key: str | None = None, **kw: Any
) -> tuple[HttpProvider, EmulatorServer]:
    srv = emulators.get(case.app.__name__, case.app)
    srv.hang_seconds = 1.0
    return configured(case.provider, srv.base_url + case.prefix, key or case.key, **kw), srv


@pytest.fixture(params=CASES, ids=lambda c: c.name)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


def test_known_indicator_is_ok(emulators: Emulators, case: Case) -> None:
    p, _ = provider_for(emulators, case)
    r = run(p, case.known)
    assert r.status is Status.OK and r.provider == case.name
    assert r.raw is not None


def test_unknown_indicator_is_not_found(emulators: Emulators, case: Case) -> None:
    p, _ = provider_for(emulators, case)
    r = run(p, case.unknown)
    assert r.status is Status.NOT_FOUND and r.ok


def test_wrong_key_is_auth_failed(
    emulators: Emulators, case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    if not case.key:
        pytest.skip("no key")
    caplog.set_level(logging.DEBUG)
    p, _ = provider_for(emulators, case, key="wrong-key-do-not-leak")
    e = fails(p, case.known)
    assert e.status is Status.AUTH_FAILED
    assert "key" in e.reason.lower() and e.reason.count("\n") == 0
    assert "wrong-key-do-not-leak" not in e.reason + caplog.text


def test_429_is_rate_limited_with_retry_after(emulators: Emulators, case: Case) -> None:
    p, srv = provider_for(emulators, case)
    srv.retry_after = 7
    srv.fault = "429"
    e = fails(p, case.known)
    assert e.status is Status.RATE_LIMITED and e.retry_after == 7


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("html", "expected JSON, got text/html"),
        ("garbage", "expected JSON"),
        ("error200", ""),
        ("huge", "larger than"),
        ("hang", "timed out"),
        ("500", "HTTP 500"),
        ("reset", ""),
    ],
)
def test_faults_are_errors(emulators: Emulators, case: Case, fault: str, reason: str) -> None:
    p, srv = provider_for(emulators, case, timeout=0.5, max_response_bytes=64 << 10)
    srv.huge_bytes = 1 << 20
    srv.fault = fault
    e = fails(p, case.known)
    assert e.status is Status.ERROR, (fault, e.reason)
    assert e.reason.startswith(case.name + ":") and reason in e.reason


def test_tlp_ceiling(emulators: Emulators, case: Case) -> None:
    p, _ = provider_for(emulators, case)
    assert p.accepts(case.known, None) and p.accepts(case.known, p.max_tlp)
    assert not p.accepts(case.known, "red")
    if p.max_tlp == "green":
        assert not p.accepts(case.known, "amber")


def test_key_never_leaks(
    emulators: Emulators, case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    if not case.key:
        pytest.skip("no key")
    caplog.set_level(logging.DEBUG)
    p, srv = provider_for(emulators, case)
    texts = [repr(p.config), str(p.config), repr(p), str(p.config.model_dump())]
    texts.append(repr(run(p, case.known)))
    for fault in ("html", "500", "401", "429"):
        srv.fault = fault
        texts.append(str(fails(p, case.known)))
    assert srv.requests, "the emulator saw no request"
    assert all(case.key not in t for t in texts)
    assert case.key not in caplog.text


def test_missing_key_is_one_clear_message(emulators: Emulators, case: Case) -> None:
    p, srv = provider_for(emulators, case)
    if not p.needs_key:
        pytest.skip("no key needed")
    p.config = p.config.model_copy(update={"api_key": None})
    e = fails(p, case.known)
    assert e.status is Status.AUTH_FAILED and "no API key" in e.reason
    assert not srv.requests  # never sent


# --- URLhaus -------------------------------------------------------------------------------


def test_urlhaus_url_online_is_malicious(emulators: Emulators) -> None:
    p, srv = provider_for(emulators, BY_NAME["urlhaus"])
    r = run(p, parse("http://malware.example.com/bins/mozi.m"))
    assert (r.verdict, r.score) == (Verdict.MALICIOUS, 95)
    assert set(r.tags) == {"threat:malware_download", "urlhaus:elf", "urlhaus:mozi", "malware:Mozi"}
    assert r.attributes["url_status"] == "online" and r.attributes["payload_count"] == 1
    assert rel("hosted-on", T.DOMAIN, "malware.example.com") in r.related
    assert rel("delivers", T.SHA256, abusech.MOZI_SHA256) in r.related
    assert srv.requests[-1][:2] == ("POST", "/urlhaus/v1/url/")


def test_urlhaus_url_offline_is_suspicious(emulators: Emulators) -> None:
    p, _ = provider_for(emulators, BY_NAME["urlhaus"])
    r = run(p, parse("http://198.51.100.23/x.exe"))
    assert (r.verdict, r.score) == (Verdict.SUSPICIOUS, 50)
    assert r.related == (rel("hosted-on", T.IPV4, "198.51.100.23"),)


def test_urlhaus_hosts(emulators: Emulators) -> None:
    p, srv = provider_for(emulators, BY_NAME["urlhaus"])
    r = run(p, parse("malware.example.com"))
    assert (r.verdict, r.score) == (Verdict.MALICIOUS, 90)
    assert r.related == (rel("hosts", T.URL, "http://malware.example.com/bins/mozi.m"),)
    assert srv.requests[-1][1] == "/urlhaus/v1/host/"
    r = run(p, parse("198.51.100.23"))
    assert (r.verdict, r.score) == (Verdict.SUSPICIOUS, 40)
    assert r.attributes["online_url_count"] == 0
    assert run(p, parse("203.0.113.9")).status is Status.NOT_FOUND


def test_urlhaus_payload(emulators: Emulators) -> None:
    p, srv = provider_for(emulators, BY_NAME["urlhaus"])
    r = run(p, Indicator(T.MD5, abusech.MOZI_MD5))
    assert (r.verdict, r.score, r.tags) == (Verdict.MALICIOUS, 90, ("malware:Mozi",))
    assert r.attributes["file_type"] == "elf" and r.attributes["virustotal"] == "41 / 64"
    assert rel("same-file", T.SHA256, abusech.MOZI_SHA256) in r.related
    assert rel("downloaded-from", T.URL, "http://malware.example.com/bins/mozi.m") in r.related
    assert srv.requests[-1][1] == "/urlhaus/v1/payload/"
    assert run(p, Indicator(T.SHA256, "f" * 64)).status is Status.NOT_FOUND


def test_abusech_auth_failure_in_a_200_body(emulators: Emulators) -> None:
    p, _ = provider_for(emulators, BY_NAME["urlhaus"], key="wrong")
    emulators.apps["abusech_app"].state.auth_failure_status = 200
    try:
        e = fails(p, parse("malware.example.com"))
    finally:
        emulators.apps["abusech_app"].state.auth_failure_status = 401
    assert e.status is Status.AUTH_FAILED and "unknown_auth_key" in e.reason


def test_abusech_other_query_status_is_error() -> None:
    from spoorhound.enrich.providers._abusech import check_query_status

    with pytest.raises(ProviderError) as info:
        check_query_status("urlhaus", {"query_status": "invalid_url"})
    assert info.value.status is Status.ERROR and "invalid_url" in info.value.reason
    assert check_query_status("x", {"query_status": "no_results"}) is None
    with pytest.raises(ProviderError):
        check_query_status("x", ["not", "a", "dict"])


# --- ThreatFox -----------------------------------------------------------------------------


def test_threatfox_domain(emulators: Emulators) -> None:
    p, srv = provider_for(emulators, BY_NAME["threatfox"])
    r = run(p, parse("evil-c2.example.net"))
    # The substring hit "not-evil-c2.example.net" (confidence 100) is filtered out.
    assert (r.verdict, r.score) == (Verdict.MALICIOUS, 75)
    assert r.attributes["entries"] == 1
    assert set(r.tags) == {
        "malware:Cobalt Strike",
        "threat:botnet_cc",
        "threatfox:c2",
        "threatfox:cobaltstrike",
    }
    assert r.attributes["malware"] == ["win.cobalt_strike"]
    assert "BEACON" in r.attributes["malware_alias"]
    assert r.related == (rel("contacted-by", T.SHA256, abusech.QAKBOT_SHA256),)
    assert srv.requests[-1][:2] == ("POST", "/threatfox/api/v1/")


def test_threatfox_ip_matches_ip_port(emulators: Emulators) -> None:
    p, _ = provider_for(emulators, BY_NAME["threatfox"])
    r = run(p, parse("203.0.113.50"))
    assert (r.verdict, r.score) == (Verdict.MALICIOUS, 100)
    assert r.attributes["ports"] == ["443"] and "malware:QakBot" in r.tags
    assert run(p, parse("203.0.113.5")).status is Status.NOT_FOUND  # prefix, not the IP


def test_threatfox_hash_pivots_to_infrastructure(emulators: Emulators) -> None:
    p, _ = provider_for(emulators, BY_NAME["threatfox"])
    r = run(p, Indicator(T.MD5, abusech.QAKBOT_MD5))
    assert r.status is Status.OK and r.score == 100
    assert set(r.related) == {
        rel("communicates-with", T.DOMAIN, "evil-c2.example.net"),
        rel("communicates-with", T.IPV4, "203.0.113.50"),
    }


def test_threatfox_low_confidence_is_suspicious() -> None:
    from spoorhound.enrich.providers import threatfox

    m = threatfox._map(parse("x.example.com"), [{"ioc": "x.example.com", "confidence_level": 25}])
    assert (m["verdict"], m["score"]) == (Verdict.SUSPICIOUS, 25)


# --- MalwareBazaar -------------------------------------------------------------------------


def test_malwarebazaar_sample(emulators: Emulators) -> None:
    p, srv = provider_for(emulators, BY_NAME["malwarebazaar"])
    r = run(p, Indicator(T.SHA1, abusech.QAKBOT_SHA1))
    assert (r.verdict, r.score) == (Verdict.MALICIOUS, 90)
    assert set(r.tags) == {"malware:QakBot", "bazaar:dll", "bazaar:qakbot", "bazaar:tr"}
    a = r.attributes
    assert (a["file_type"], a["file_type_mime"], a["file_size"]) == (
        "dll",
        "application/x-dosexec",
        1187840,
    )
    assert a["yara_rules"] == ["win_qakbot_auto"] and a["delivery_method"] == "email_attachment"
    assert set(r.related) == {
        rel("same-file", T.MD5, abusech.QAKBOT_MD5),
        rel("same-file", T.SHA256, abusech.QAKBOT_SHA256),
        rel("has-imphash", T.IMPHASH, abusech.BAZAAR_SAMPLE["imphash"]),
        rel("has-ssdeep", T.SSDEEP, abusech.BAZAAR_SAMPLE["ssdeep"]),
        rel("has-tlsh", T.TLSH, abusech.BAZAAR_SAMPLE["tlsh"]),
    }
    assert srv.requests[-1][:2] == ("POST", "/bazaar/api/v1/")


def test_malwarebazaar_rejects_other_types_and_tlp() -> None:
    p = MalwareBazaarProvider(MalwareBazaarConfig(api_key="k"))
    assert p.accepts(Indicator(T.MD5, abusech.QAKBOT_MD5), "green")
    assert not p.accepts(Indicator(T.MD5, abusech.QAKBOT_MD5), "amber")
    assert not p.accepts(parse("evil.example.com"))
    assert p.http.base_url == "https://mb-api.abuse.ch" and not p.config.enabled


# --- Pulsedive -----------------------------------------------------------------------------


def test_pulsedive_high_risk_domain(emulators: Emulators) -> None:
    p, srv = provider_for(emulators, BY_NAME["pulsedive"])
    r = run(p, parse("bad.example.com"))
    assert (r.verdict, r.score) == (Verdict.MALICIOUS, 80)
    assert set(r.tags) == {"malware:Zeus", "threat:Phishing Kit X", "feed:Zeus Bad Domains"}
    assert r.attributes["riskfactors"] == ["found in threat feeds", "newer domain"]
    assert r.attributes["properties"]["geo"]["countrycode"] == "NL"
    assert r.attributes["attributes"]["port"] == ["80", "443"]
    assert set(r.related) == {
        rel("resolves-to", T.IPV4, "192.0.2.10"),
        rel("resolves-to", T.IPV4, "192.0.2.11"),
        rel("name-server", T.DOMAIN, "ns1.example.net"),
        rel("redirects-to", T.URL, "https://landing.example.net/"),
    }
    method, path, query = srv.requests[-1]
    assert (method, path) == ("GET", "/api/info.php") and "indicator=bad.example.com" in query


def test_pulsedive_risk_none_is_benign_and_key_is_optional(emulators: Emulators) -> None:
    p, srv = provider_for(emulators, BY_NAME["pulsedive"])
    p.config = p.config.model_copy(update={"api_key": None})
    r = run(p, parse("198.51.100.77"))
    assert (r.status, r.verdict, r.score) == (Status.OK, Verdict.BENIGN, 0)
    assert "key=" not in srv.requests[-1][2]


def test_pulsedive_not_found_in_a_200_body(emulators: Emulators) -> None:
    p, _ = provider_for(emulators, BY_NAME["pulsedive"])
    emulators.apps["pulsedive_app"].state.not_found_status = 200
    try:
        r = run(p, parse("clean.example.org"))
    finally:
        emulators.apps["pulsedive_app"].state.not_found_status = 404
    assert r.status is Status.NOT_FOUND


@pytest.mark.parametrize(
    ("error", "status"),
    [
        ("Invalid API key.", Status.AUTH_FAILED),
        ("API rate limit exceeded: 1 requests per second.", Status.RATE_LIMITED),
        ("Something else broke.", Status.ERROR),
    ],
)
def test_pulsedive_error_bodies(error: str, status: Status) -> None:
    p = PulsediveProvider(PulsediveConfig(api_key="k"))
    with pytest.raises(ProviderError) as info:
        p._raise_for_error(error)
    assert info.value.status is status


def test_pulsedive_risk_levels() -> None:
    from spoorhound.enrich.providers import pulsedive as mod

    got = {r: mod._map({"risk": r})["score"] for r in ("none", "low", "medium", "high", "critical")}
    assert got == {"none": 0, "low": 30, "medium": 55, "high": 80, "critical": 95}
    assert mod._map({"risk": "unknown"})["verdict"] is Verdict.UNKNOWN


# --- MISP ----------------------------------------------------------------------------------


def test_misp_batch_is_one_documented_request(emulators: Emulators) -> None:
    p, srv = provider_for(emulators, BY_NAME["misp"])
    inds = [
        parse("phish.example.com"),
        parse("192.0.2.66"),
        Indicator(T.SHA256, "c" * 64),
        parse("cdn.example.org"),
        parse("https://watch.example.net/login"),
        parse("clean.example.org"),
    ]
    results = run_batch(p, inds)
    assert [r.indicator for r in results] == inds
    assert srv.requests == [("POST", "/attributes/restSearch", "")]
    body = emulators.apps["misp_app"].state.bodies[-1]
    assert body["returnFormat"] == "json" and body["includeEventTags"] is True
    assert body["value"] == [i.value for i in inds]
    assert {"domain", "ip-dst", "domain|ip", "url", "filename|sha256"} <= set(body["type"])
    assert isinstance(body["limit"], int) and body["page"] == 1

    dom, ip, sha, fp, url, clean = results
    assert (dom.verdict, dom.score) == (Verdict.MALICIOUS, 80)  # to_ids on attribute 101
    assert dom.attributes["hits"] == 2 and dom.attributes["event_count"] == 1
    assert dom.attributes["event_info"] == ["Phishing campaign targeting finance"]
    assert dom.attributes["tlp"] == ["tlp:amber"]
    assert dom.tags == ('misp-galaxy:threat-actor="FIN7"',)
    assert dom.related == (rel("resolves-to", T.IPV4, "192.0.2.66"),)
    assert dom.attributes["first_seen"] == "2024-04-01T19:33:20Z"
    assert (ip.verdict, ip.score) == (Verdict.SUSPICIOUS, 50)  # no to_ids
    assert ip.related == (rel("resolved-from", T.DOMAIN, "phish.example.com"),)
    assert sha.verdict is Verdict.MALICIOUS
    assert sha.related == (rel("file-name", T.FILENAME, "invoice.js"),)
    assert (fp.verdict, fp.score) == (Verdict.BENIGN, 10)  # false-positive:risk="high"
    assert (url.verdict, url.tags) == (Verdict.SUSPICIOUS, ("type:OSINT",))
    assert clean.status is Status.NOT_FOUND


def test_misp_malicious_tags_and_tlp_ceiling(emulators: Emulators) -> None:
    p, _ = provider_for(emulators, BY_NAME["misp"], malicious_tags=["type:OSINT"])
    r = run(p, parse("https://watch.example.net/login"))
    assert (r.verdict, r.score) == (Verdict.MALICIOUS, 90)
    ind = parse("phish.example.com")
    assert p.accepts(ind, "amber") and not p.accepts(ind, "amber+strict")
    own, _ = provider_for(emulators, BY_NAME["misp"], own_instance=True)
    assert own.accepts(ind, "amber+strict") and not own.accepts(ind, "red")


def test_misp_empty_response_forms() -> None:
    p = MispProvider(MispConfig(base_url="http://misp.invalid", api_key="k"))
    assert p._attributes({"response": []}) == []
    assert p._attributes({"response": {"Attribute": []}}) == []
    with pytest.raises(ProviderError) as info:
        p._attributes({"name": "Authentication failed.", "message": "Authentication failed."})
    assert info.value.status is Status.AUTH_FAILED


# --- RDAP ----------------------------------------------------------------------------------


def test_rdap_domain(emulators: Emulators) -> None:
    p, srv = provider_for(emulators, BY_NAME["rdap"])
    r = run(p, parse("oldsite.com"))
    assert (r.verdict, r.score, r.tags) == (Verdict.UNKNOWN, None, ())
    a = r.attributes
    assert a["registered"] == "1995-08-14T00:00:00Z" and a["expires"] == "2030-01-01T00:00:00Z"
    assert a["last_changed"] == "2024-05-05T05:05:05Z" and a["age_days"] > 10_000
    assert (a["registrar"], a["registrar_iana_id"]) == ("Example Registrar, Inc.", "9999")
    assert (a["abuse_email"], a["abuse_phone"]) == ("abuse@registrar.example", "+1.5555550100")
    assert "registrant" not in a  # redacted
    assert a["status"] == ["client transfer prohibited", "active"] and a["dnssec"] is False
    assert r.related == (
        rel("name-server", T.DOMAIN, "ns1.example.net"),
        rel("name-server", T.DOMAIN, "ns2.example.net"),
    )
    assert srv.requests[-1][:2] == ("GET", "/domain/oldsite.com")


def test_rdap_new_domain_is_tagged(emulators: Emulators) -> None:
    p, _ = provider_for(emulators, BY_NAME["rdap"])
    r = run(p, parse("freshsite.com"))
    assert r.attributes["age_days"] == 5 and r.tags == ("rdap:newly-registered",)


def test_rdap_ip_network(emulators: Emulators) -> None:
    p, srv = provider_for(emulators, BY_NAME["rdap"])
    r = run(p, parse("192.0.2.44"))
    a = r.attributes
    assert (a["name"], a["country"], a["cidr"]) == ("TEST-NET-1", "US", ["192.0.2.0/24"])
    assert a["abuse_email"] == "abuse@net.example"
    assert r.related == (rel("within", T.CIDR, "192.0.2.0/24"),)
    assert srv.requests[-1][1] == "/ip/192.0.2.44"
    assert run(p, parse("198.51.100.1")).status is Status.NOT_FOUND


def test_rdap_wrong_object_class_is_error(emulators: Emulators) -> None:
    p, _ = provider_for(emulators, BY_NAME["rdap"])
    p.config = p.config.model_copy(update={"base_url": p.http.base_url + "/ip/192.0.2.1#"})
    e = fails(p, parse("oldsite.com"))
    assert e.status is Status.ERROR
