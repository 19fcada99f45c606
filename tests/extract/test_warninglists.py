"""SafelistIndex semantics over a small selection of the real MISP warninglists."""

from __future__ import annotations

from pathlib import Path

import pytest

from spoorhound.reference.warninglists import SafelistIndex

LISTS = [
    "rfc1918",
    "public-dns-v4",
    "tranco10k",
    "empty-hashes",
    "rfc3849",
    "disposable-email",
    "common-contact-emails",
]


@pytest.fixture(scope="module")
def index() -> SafelistIndex:
    return SafelistIndex.load(LISTS)


def test_cidr_v4_v6(index: SafelistIndex) -> None:
    assert index.match("ipv4", "10.20.30.40") == "rfc1918"
    assert index.match("ipv4", "8.8.8.8") == "public-dns-v4"
    assert index.match("ipv4", "23.95.97.59") is None
    assert index.match("ipv6", "2001:db8::1") == "rfc3849"
    assert index.match("cidr", "10.1.0.0/16") == "rfc1918"


def test_hostname_suffix_and_url_host(index: SafelistIndex) -> None:
    assert index.match("domain", "google.com") == "tranco10k"
    assert index.match("domain", "mail.google.com") == "tranco10k"
    assert index.match("url", "https://mail.google.com/x") == "tranco10k"
    assert index.match("domain", "google.com.evil-host.xyz") is None


def test_matching_attributes_respected(index: SafelistIndex) -> None:
    # a hostname list never flags a hash, a hash list never flags a domain
    assert index.match("md5", "google.com") is None
    assert index.match("md5", "d41d8cd98f00b204e9800998ecf8427e") == "empty-hashes"
    assert index.match("domain", "d41d8cd98f00b204e9800998ecf8427e") is None


def test_email_lists(index: SafelistIndex) -> None:
    assert "common-contact-emails" in index.matches("email", "abuse@evil.org")
    assert index.match("email", "x@mailinator.com") == "disposable-email"


def test_cache_roundtrip(tmp_path: Path) -> None:
    first = SafelistIndex.load(["rfc1918"], cache_dir=tmp_path)
    assert list(tmp_path.glob("*.pickle"))
    second = SafelistIndex.load(["rfc1918"], cache_dir=tmp_path)
    assert second.match("ipv4", "192.168.1.1") == first.match("ipv4", "192.168.1.1") == "rfc1918"
    # a damaged cache is rebuilt, not trusted
    for p in tmp_path.glob("*.pickle"):
        p.write_bytes(b"garbage")
    assert (
        SafelistIndex.load(["rfc1918"], cache_dir=tmp_path).match("ipv4", "10.0.0.1") == "rfc1918"
    )


def test_unknown_list() -> None:
    with pytest.raises(KeyError):
        SafelistIndex.load(["no-such-list"])
