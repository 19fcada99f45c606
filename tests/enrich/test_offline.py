"""The built-in offline providers on real-shaped values.

Expensive reference data (the warninglist index, the Tranco bigram model) is built
once per session into pytest's cache directory (``.pytest_cache``), keyed by the data
version, so a second run reads it in well under a second.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spoorhound.core.indicators import Indicator, IndicatorType, parse
from spoorhound.enrich.lexical import (
    LookalikeIndex,
    bigram_model,
    osa_distance,
    shannon_entropy,
    skeleton,
)
from spoorhound.enrich.provider import (
    TLP_ORDER,
    EnrichmentResult,
    OfflineProvider,
    Related,
    Status,
    Verdict,
)
from spoorhound.enrich.providers.builtin_offline import OFFLINE_PROVIDERS
from spoorhound.enrich.providers.offline_data import OfflineDataConfig
from spoorhound.enrich.providers.offline_domain import DomainProvider
from spoorhound.enrich.providers.offline_geoip import GeoIpProvider
from spoorhound.enrich.providers.offline_hash import HashProvider
from spoorhound.enrich.providers.offline_ipclass import IpClassProvider
from spoorhound.enrich.providers.offline_lexical import LexicalConfig, LexicalProvider
from spoorhound.enrich.providers.offline_url import UrlProvider
from spoorhound.enrich.providers.offline_warninglists import WarninglistsProvider

PROTECTED = ["paypal.com", "www.Microsoft.com", "google.com", "bing.com"]


@pytest.fixture(scope="session")
def cache_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory that survives between runs (built indexes are keyed by data
    version, so a stale one is rebuilt, never trusted); a temporary one when pytest's
    cache plugin is off."""
    cache = getattr(request.config, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("spoorhound-offline-data")
    return Path(cache.mkdir("spoorhound-offline-data"))


@pytest.fixture(scope="session")
def warninglists(cache_dir: Path) -> WarninglistsProvider:
    return WarninglistsProvider(OfflineDataConfig(cache_dir=cache_dir))


@pytest.fixture(scope="session")
def lexical(cache_dir: Path) -> LexicalProvider:
    return LexicalProvider(LexicalConfig(cache_dir=cache_dir, protected_domains=PROTECTED))


@pytest.fixture(scope="session")
def hashes(cache_dir: Path) -> HashProvider:
    return HashProvider(OfflineDataConfig(cache_dir=cache_dir))


def one(provider: OfflineProvider, raw: str, type: str | None = None) -> EnrichmentResult:
    results = provider.enrich_many([parse(raw, type)])
    assert len(results) == 1
    assert results[0].provider == provider.name
    return results[0]


# -- the contract ---------------------------------------------------------------------


def test_every_offline_provider_declares_the_contract() -> None:
    for cls in OFFLINE_PROVIDERS:
        assert issubclass(cls, OfflineProvider)
        assert cls.name and cls.title and cls.types
        assert cls.network is False and cls.needs_key is False
        assert cls.cache_ttl > 0
        assert cls.config_model().enabled is True  # on by default


@pytest.mark.parametrize("tlp", [*TLP_ORDER, None])
def test_offline_providers_accept_every_tlp_up_to_red(tlp: str | None) -> None:
    ind = Indicator(IndicatorType.IPV4, "198.51.100.7")
    for cls in (IpClassProvider, GeoIpProvider):
        assert cls().accepts(ind, tlp)
    assert not IpClassProvider().accepts(parse("evil.example.com"), "red")  # wrong type


@pytest.fixture
def mixed() -> list[Indicator]:
    raws = ["8.8.8.8", "evil.example.com", "d41d8cd98f00b204e9800998ecf8427e", "CVE-2021-44228"]
    return [parse(r) for r in raws]


def test_results_only_for_accepted_types_in_order(
    mixed: list[Indicator], warninglists: WarninglistsProvider
) -> None:
    assert [r.indicator for r in IpClassProvider().enrich_many(mixed)] == [mixed[0]]
    assert [r.indicator for r in warninglists.enrich_many(mixed)] == mixed[:3]
    assert UrlProvider().enrich_many([]) == []


def test_importing_the_providers_loads_no_data() -> None:
    code = (
        "import sys\n"
        "import spoorhound.enrich.providers.builtin_offline as b\n"
        "from spoorhound.enrich.providers import offline_data as d\n"
        "from spoorhound.enrich import lexical as lx\n"
        "assert 'geoip2fast' not in sys.modules\n"
        "assert d.psl.cache_info().currsize == 0\n"
        "assert d._safelist_index.cache_info().currsize == 0\n"
        "assert lx._bigram_model.cache_info().currsize == 0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- ipclass ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cls", "bogon"),
    [
        ("8.8.8.8", "global", False),
        ("10.1.2.3", "private", True),
        ("172.31.255.255", "private", True),
        ("192.168.1.1", "private", True),
        ("100.64.0.1", "cgnat", True),
        ("100.127.255.254", "cgnat", True),
        ("100.128.0.1", "global", False),
        ("127.0.0.1", "loopback", True),
        ("169.254.169.254", "link-local", True),
        ("224.0.0.251", "multicast", True),
        ("198.51.100.7", "documentation", True),
        ("198.18.0.1", "benchmarking", True),
        ("240.0.0.1", "reserved", True),
        ("255.255.255.255", "broadcast", True),
        ("0.1.2.3", "unspecified", True),
        ("2606:4700:4700::1111", "global", False),
        ("::1", "loopback", True),
        ("fe80::1", "link-local", True),
        ("fd12:3456:789a::1", "private", True),
        ("ff02::1", "multicast", True),
        ("2001:db8::7", "documentation", True),
        ("4000::1", "reserved", True),  # outside 2000::/3: unallocated
        ("::ffff:10.0.0.1", "private", True),
        ("10.0.0.0/8", "private", True),
        ("100.64.0.0/10", "cgnat", True),
        ("8.8.8.0/24", "global", False),
        ("0.0.0.0/0", "mixed", False),
    ],
)
def test_ipclass(raw: str, cls: str, bogon: bool) -> None:
    r = one(IpClassProvider(), raw)
    assert r.status is Status.OK and r.verdict is Verdict.UNKNOWN and r.score is None
    assert r.attributes["class"] == cls
    assert r.attributes["is_bogon"] is bogon
    assert f"ip:{cls}" in r.tags
    assert ("ip:bogon" in r.tags) is bogon


def test_ipclass_flags_and_embedded_addresses() -> None:
    cgnat = one(IpClassProvider(), "100.64.1.2").attributes
    assert cgnat["is_private"] and not cgnat["is_global"] and cgnat["version"] == 4
    mapped = one(IpClassProvider(), "::ffff:192.168.0.1").attributes
    assert mapped["embedded_ipv4"] == "192.168.0.1"
    six_to_four = one(IpClassProvider(), "2002:c633:6401::1").attributes
    assert six_to_four["class"] == "6to4" and six_to_four["embedded_ipv4"] == "198.51.100.1"
    net = one(IpClassProvider(), "2001:db8::/48").attributes
    assert net["prefix_length"] == 48 and net["num_addresses"] == 2**80


# -- geoip --------------------------------------------------------------------------


def test_geoip_country_and_asn() -> None:
    r = one(GeoIpProvider(), "8.8.8.8")
    assert r.status is Status.OK
    a = r.attributes
    assert (a["country_code"], a["country_name"]) == ("US", "United States")
    assert a["asn_name"] == "GOOGLE" and a["asn_prefix"] == "8.8.8.0/24"
    assert "country:US" in r.tags
    assert r.related == (Related("announced-in", IndicatorType.CIDR, "8.8.8.0/24"),)


def test_geoip_ipv6_and_cidr() -> None:
    v6 = one(GeoIpProvider(), "2606:4700:4700::1111")
    assert v6.status is Status.OK and v6.attributes["asn_name"] == "CLOUDFLARENET"
    net = one(GeoIpProvider(), "8.0.0.0/8")
    assert net.status is Status.OK and net.attributes["partial"] is True


@pytest.mark.parametrize("raw", ["10.0.0.1", "100.64.0.1", "2001:db8::1", "fe80::1"])
def test_geoip_private_and_unknown_are_not_found(raw: str) -> None:
    r = one(GeoIpProvider(), raw)
    assert r.status is Status.NOT_FOUND and r.ok
    assert r.attributes["reason"]


# -- warninglists -------------------------------------------------------------------


def test_warninglists_top_site_is_benign(warninglists: WarninglistsProvider) -> None:
    r = one(warninglists, "google.com")
    assert (r.verdict, r.score) == (Verdict.BENIGN, 10)
    assert "tranco10k" in r.attributes["warninglists"]
    assert "safelisted" in r.tags and "warninglist:tranco10k" in r.tags


def test_warninglists_never_calls_urls_or_ips_benign(warninglists: WarninglistsProvider) -> None:
    url = one(warninglists, "https://docs.google.com/forms/d/e/1FAIpQLSd/viewform")
    assert url.status is Status.OK and url.verdict is Verdict.UNKNOWN
    dns = one(warninglists, "8.8.8.8")
    assert "public-dns-v4" in dns.attributes["warninglists"]
    assert dns.verdict is Verdict.UNKNOWN and "safelisted" in dns.tags


def test_warninglists_platform_subdomain_is_not_safelisted(
    warninglists: WarninglistsProvider,
) -> None:
    r = one(warninglists, "evil-login.blogspot.com")
    assert r.verdict is Verdict.UNKNOWN and "safelisted" not in r.tags
    assert "tranco" in r.attributes["platform_warninglists"]


def test_warninglists_context_lists_do_not_safelist(warninglists: WarninglistsProvider) -> None:
    r = one(warninglists, "someone@mailinator.com")
    assert "warninglist:disposable-email" in r.tags and "safelisted" not in r.tags


def test_warninglists_known_benign_hash(warninglists: WarninglistsProvider) -> None:
    r = one(warninglists, "d41d8cd98f00b204e9800998ecf8427e")  # MD5 of nothing
    assert (r.verdict, r.score) == (Verdict.BENIGN, 10)
    assert "empty-hashes" in r.attributes["warninglists"]


def test_warninglists_miss_is_not_found(warninglists: WarninglistsProvider) -> None:
    r = one(warninglists, "xjw9q2kzpf-qv7.top")
    assert r.status is Status.NOT_FOUND and r.tags == ()


# -- domain -------------------------------------------------------------------------


def test_domain_structure() -> None:
    r = one(DomainProvider(), "www.mail.example.co.uk")
    a = r.attributes
    assert a["registered_domain"] == "example.co.uk"
    assert (a["public_suffix"], a["tld"]) == ("co.uk", "uk")
    assert (a["subdomain"], a["subdomain_depth"], a["label_count"]) == ("www.mail", 2, 5)
    assert a["is_idn"] is False and a["platform"] is False
    assert r.related == (Related("registered-domain", IndicatorType.DOMAIN, "example.co.uk"),)


def test_domain_idn_and_platform() -> None:
    idn = one(DomainProvider(), "bücher.de")
    assert idn.indicator.value == "xn--bcher-kva.de"
    assert idn.attributes["is_idn"] and idn.attributes["unicode"] == "bücher.de"
    assert "domain:idn" in idn.tags and idn.related == ()  # already registered
    blog = one(DomainProvider(), "evil.blogspot.com")
    assert blog.attributes["registered_domain"] == "evil.blogspot.com"
    assert blog.attributes["platform"] is True


def test_domain_of_url_and_email() -> None:
    url = one(DomainProvider(), "https://login.paypal.com.evil.xyz/signin")
    assert url.attributes["registered_domain"] == "evil.xyz"
    assert url.attributes["subdomain_depth"] == 3
    mail = one(DomainProvider(), "billing@corp.example.org")
    assert mail.related == (Related("registered-domain", IndicatorType.DOMAIN, "example.org"),)
    ip = one(DomainProvider(), "http://203.0.113.9/x.exe")
    assert ip.status is Status.NOT_FOUND


# -- lexical ------------------------------------------------------------------------


def test_bigram_likelihood_orders_top_sites_above_dga(cache_dir: Path) -> None:
    model = bigram_model(cache_dir)
    tops = ["google", "wikipedia", "facebook", "amazon", "microsoft"]
    dgas = ["xjw9q2kzpf", "qzxvbnmkl", "a8f3k2l9d0s1", "kdjq0zpxwv7"]
    assert min(map(model.score, tops)) > max(map(model.score, dgas))


def test_lexical_features_of_a_top_domain_and_a_dga(lexical: LexicalProvider) -> None:
    top = one(lexical, "wikipedia.org").attributes
    dga = one(lexical, "xjw9q2kzpf.net").attributes
    assert top["bigram_loglik"] > dga["bigram_loglik"]
    assert dga["max_consonant_run"] >= 4 and dga["digit_ratio"] > 0
    assert top["name"] == "wikipedia" and top["vowel_ratio"] > dga["vowel_ratio"]
    for a in (top, dga):
        assert one(lexical, "wikipedia.org").verdict is Verdict.UNKNOWN
        assert "lookalike" not in a


def test_lexical_typosquat_of_protected_domain(lexical: LexicalProvider) -> None:
    r = one(lexical, "paypa1.com")
    assert r.verdict is Verdict.SUSPICIOUS and r.score is not None and r.score >= 50
    assert r.attributes["lookalike"]["target"] == "paypal.com"
    assert "lookalike:paypal.com" in r.tags
    typo = one(lexical, "microsfot.com")
    assert typo.verdict is Verdict.SUSPICIOUS
    assert typo.attributes["lookalike"] == {
        "target": "microsoft.com",
        "kind": "typo",
        "distance": 1,
    }


def test_lexical_idn_homoglyph(lexical: LexicalProvider) -> None:
    r = one(lexical, "pаypal.com")  # Cyrillic а
    assert r.indicator.value.startswith("xn--")
    assert r.attributes["punycode"] and r.attributes["mixed_script"]
    assert r.verdict is Verdict.SUSPICIOUS
    assert r.attributes["lookalike"]["kind"] == "homoglyph"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("www.paypal.com", "own"),
        ("paypal.com", "own"),
        ("paypal-account-verify.com", "combo"),
        ("paypal.net", "tld-swap"),
        ("https://paypal.com.secure.evil.xyz/", "subdomain"),
    ],
)
def test_lexical_lookalikes_that_are_not_squats(
    lexical: LexicalProvider, raw: str, kind: str
) -> None:
    r = one(lexical, raw)
    assert r.verdict is Verdict.UNKNOWN and r.score is None
    assert r.attributes["lookalike"]["kind"] == kind


def test_lexical_short_brand_needs_a_homoglyph(lexical: LexicalProvider) -> None:
    assert one(lexical, "ding.com").verdict is Verdict.UNKNOWN  # a real company, 1 edit
    assert one(lexical, "b1ng.com").verdict is Verdict.SUSPICIOUS


def test_lexical_ip_url_is_not_found(lexical: LexicalProvider) -> None:
    assert one(lexical, "http://203.0.113.9/a").status is Status.NOT_FOUND


def test_lexical_helpers() -> None:
    assert shannon_entropy("") == 0.0 and shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert osa_distance("paypal", "pyapal", 2) == 1
    assert osa_distance("paypal", "xxxxxx", 2) == 3  # capped at limit + 1
    assert skeleton("rnicrosoft") == skeleton("microsoft")
    empty = LookalikeIndex([])
    assert not empty


# -- hash ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "algorithm", "bits"),
    [
        ("44d88612fea8a8f36de82e1278abb02f", "md5", 128),
        ("3395856ce81f2b7382dee72602f798b642f14140", "sha1", 160),
        ("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", "sha256", 256),
    ],
)
def test_hash_types(hashes: HashProvider, raw: str, algorithm: str, bits: int) -> None:
    r = one(hashes, raw)
    assert r.verdict is Verdict.UNKNOWN
    assert (r.attributes["algorithm"], r.attributes["bits"]) == (algorithm, bits)
    assert r.attributes["empty_file"] is False


def test_hash_empty_file_is_known_benign(hashes: HashProvider) -> None:
    r = one(hashes, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    a: dict[str, Any] = dict(r.attributes)
    assert a["empty_file"] and a["known_benign"] and "empty-hashes" in a["benign_lists"]
    assert "hash:known-benign" in r.tags


def test_hash_fuzzy(hashes: HashProvider) -> None:
    r = one(hashes, "3:a+JraNvsgzsVqSwHq9:tJuOgzsko")
    assert r.attributes["fuzzy"] and r.attributes["block_size"] == 3


# -- url ----------------------------------------------------------------------------


def test_url_structure_and_pivot() -> None:
    r = one(
        UrlProvider(), "https://paypal.com@login-verify.evil.xyz:8081/wp-admin/x/gate.php?id=1&u=2"
    )
    a = r.attributes
    assert (a["scheme"], a["host"], a["host_type"], a["port"]) == (
        "https",
        "login-verify.evil.xyz",
        "domain",
        8081,
    )
    assert a["userinfo"] and a["non_standard_port"] and not a["ip_host"]
    assert (a["path_depth"], a["query_params"], a["extension"]) == (3, 2, "php")
    assert {"login", "verify", "wp-admin", "gate.php", ".php?"} <= set(a["suspicious_tokens"])
    assert {"url:userinfo", "url:odd-port"} <= set(r.tags)
    assert r.related == (Related("hosted-on", IndicatorType.DOMAIN, "login-verify.evil.xyz"),)
    assert r.verdict is Verdict.UNKNOWN


def test_url_ip_hosts() -> None:
    v4 = one(UrlProvider(), "http://203.0.113.9/payload.exe")
    assert v4.attributes["ip_host"] and v4.attributes["executable"]
    assert v4.related == (Related("hosted-on", IndicatorType.IPV4, "203.0.113.9"),)
    v6 = one(UrlProvider(), "http://[2001:db8::1]:8080/")
    assert v6.attributes["host_type"] == "ipv6" and not v6.attributes["non_standard_port"]
    assert v6.related == (Related("hosted-on", IndicatorType.IPV6, "2001:db8::1"),)


@pytest.fixture(autouse=True)
def _no_stray_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline means offline: any socket connect during these tests is a failure."""

    def refuse(self: socket.socket, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("an offline provider tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
