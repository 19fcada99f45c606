"""The safelist service on SQLite and PostgreSQL: lists, entries, audit, matching, expiry."""

from __future__ import annotations

from pathlib import Path

import pytest

from spoorhound.services import audit
from spoorhound.services import safelists as sl
from spoorhound.storage.engine import Store

NOW = 1_800_000_000


def _matcher(store: Store, lists_dir: Path | None = None, now: float = NOW) -> sl.SafelistMatcher:
    if lists_dir is None:
        return sl.load_matcher(store, warninglists=False, clock=lambda: now)
    return sl.load_matcher(store, lists_dir=lists_dir, clock=lambda: now)


def test_create_list_show_delete_with_audit(store: Store) -> None:
    sl.create_safelist(store, "corporate", "our own", actor="alice")
    e = sl.add_entry(store, "corporate", "*.example.com", reason="ours", actor="alice")
    assert (e["kind"], e["pattern"], e["reason"]) == ("domain", "*.example.com", "ours")
    assert sl.list_safelists(store) == [
        {"name": "corporate", "description": "our own", "created_at": sl.list_safelists(store)[0][
            "created_at"], "entries": 1, "expired": 0}
    ]  # fmt: skip
    shown = sl.get_safelist(store, "corporate")
    assert [x["pattern"] for x in shown["entries"]] == ["*.example.com"]
    removed = sl.remove_entry(store, "corporate", "*.EXAMPLE.com", actor="bob")
    assert removed["id"] == e["id"]
    sl.add_entry(store, "corporate", "10.0.0.0/8", actor="alice")
    assert sl.delete_safelist(store, "corporate", actor="bob") == 1
    assert sl.list_safelists(store) == []
    trail = [(a["actor"], a["action"], a["target"]) for a in reversed(audit.recent(store))]
    assert trail == [
        ("alice", "safelist.create", "safelist:corporate"),
        ("alice", "safelist.entry.add", "safelist:corporate"),
        ("bob", "safelist.entry.remove", "safelist:corporate"),
        ("alice", "safelist.entry.add", "safelist:corporate"),
        ("bob", "safelist.delete", "safelist:corporate"),
    ]
    assert audit.recent(store)[-2]["details"]["pattern"] == "*.example.com"


def test_errors_name_the_problem(store: Store) -> None:
    sl.create_safelist(store, "a")
    with pytest.raises(sl.SafelistExists, match="already exists"):
        sl.create_safelist(store, "a")
    with pytest.raises(ValueError, match="invalid safelist name"):
        sl.create_safelist(store, "bad name/")
    with pytest.raises(sl.SafelistNotFound, match="'nope' not found"):
        sl.add_entry(store, "nope", "example.com")
    with pytest.raises(sl.SafelistNotFound):
        sl.get_safelist(store, "nope")
    sl.add_entry(store, "a", "Example.COM.")
    with pytest.raises(sl.EntryExists, match="already on safelist"):
        sl.add_entry(store, "a", "example.com")
    with pytest.raises(sl.InvalidPattern, match="bad CIDR"):
        sl.add_entry(store, "a", "10.0.0.0/40")
    with pytest.raises(sl.InvalidPattern, match="bad regex"):
        sl.add_entry(store, "a", "re:[a-")
    with pytest.raises(ValueError, match="bad expiry"):
        sl.add_entry(store, "a", "8.8.4.4", expires="soonish")
    with pytest.raises(ValueError, match="not in the future"):
        sl.add_entry(store, "a", "8.8.4.4", expires="2001-01-01")
    with pytest.raises(ValueError, match="100 years"):
        sl.add_entry(store, "a", "8.8.4.4", expires="999999999y")
    with pytest.raises(sl.SafelistNotFound, match="not on safelist"):
        sl.remove_entry(store, "a", "other.example.com")
    with pytest.raises(sl.SafelistNotFound, match="entry 999"):
        sl.remove_entry_id(store, "a", 999)
    assert len(sl.get_safelist(store, "a")["entries"]) == 1  # failed adds left nothing


#: (type, canonical value, safelisted?) against the entries of the test below.
CASES = [
    ("domain", "example.com", True),
    ("domain", "a.example.com", True),
    ("domain", "a.b.example.com", True),
    ("url", "http://a.example.com/x", True),
    ("url", "https://user@example.com:8443/?q", True),
    ("email", "bob@mail.example.com", True),
    ("domain", "badexample.com", False),
    ("domain", "example.com.evil.net", False),
    ("url", "http://evil.net/example.com", False),
    ("ipv4", "10.200.3.4", True),
    ("cidr", "10.1.0.0/16", True),
    ("cidr", "10.0.0.0/7", False),
    ("url", "http://10.9.9.9/payload", True),
    ("ipv4", "11.0.0.1", False),
    ("ipv6", "2001:db8::5", True),
    ("ipv6", "2001:db9::5", False),
    ("domain", "cdn42.corp.net", True),
    ("domain", "cdn42.corp.net.evil.com", False),
    ("domain", "CDN42.corp.net", False),
    ("domain", "www.exact.org", True),
    ("domain", "exact.org", False),
    ("md5", "d41d8cd98f00b204e9800998ecf8427e", True),
    ("md5", "d41d8cd98f00b204e9800998ecf8427f", False),
]


def test_each_kind_matches_and_does_not_over_match(store: Store) -> None:
    sl.create_safelist(store, "ours")
    for pattern in ("*.example.com", "10.0.0.0/8", "2001:db8::/32", "re:cdn[0-9]+\\.corp\\.net"):
        sl.add_entry(store, "ours", pattern, reason=f"because {pattern}")
    sl.add_entry(store, "ours", "WWW.Exact.ORG.")
    sl.add_entry(store, "ours", "D41D8CD98F00B204E9800998ECF8427E")
    m = _matcher(store)
    for itype, value, hit in CASES:
        found = m.match(itype, value)
        assert (found is not None) == hit, (itype, value)
        if found is not None:
            assert found.list == "ours" and found.source == "safelist"


def test_the_hit_names_the_list_entry_and_reason(store: Store) -> None:
    sl.create_safelist(store, "b-list")
    sl.create_safelist(store, "a-list")
    sl.add_entry(store, "b-list", "*.example.com", reason="vendor")
    e = sl.add_entry(store, "a-list", "*.example.com", reason="ours")
    hit = _matcher(store).match("domain", "x.example.com")
    assert hit == sl.SafelistHit("a-list", "ours", "safelist", "*.example.com", e["id"])


def test_expired_entries_never_match(store: Store) -> None:
    sl.create_safelist(store, "temp")
    sl.add_entry(store, "temp", "198.51.100.7", expires="1h", at=NOW)
    sl.add_entry(store, "temp", "*.example.com", expires="30d", at=NOW)
    clock = [float(NOW)]
    m = sl.load_matcher(store, warninglists=False, clock=lambda: clock[0])
    assert m.match("ipv4", "198.51.100.7") is not None
    clock[0] = NOW + 3600  # the same matcher, an hour later
    assert m.match("ipv4", "198.51.100.7") is None
    assert m.match("domain", "a.example.com") is not None
    clock[0] = NOW + 31 * 86400
    assert m.match("domain", "a.example.com") is None
    listed = sl.list_safelists(store, at=NOW + 2 * 3600)
    assert (listed[0]["entries"], listed[0]["expired"]) == (1, 1)
    flags = [e["expired"] for e in sl.get_safelist(store, "temp", at=NOW + 2 * 3600)["entries"]]
    assert flags == [True, False]


def test_relative_and_absolute_expiry(store: Store) -> None:
    sl.create_safelist(store, "t")
    assert sl.add_entry(store, "t", "a.example.com", expires="30d", at=NOW)["expires_at"] == (
        NOW + 30 * 86400
    )
    e = sl.add_entry(store, "t", "b.example.com", expires="2030-01-01", at=NOW)
    assert e["expires_at"] == 1893456000


def test_named_lists_win_and_only_strong_warninglists_veto(store: Store, lists_dir: Path) -> None:
    sl.create_safelist(store, "ours")
    sl.add_entry(store, "ours", "8.8.8.8", reason="our resolver")
    m = _matcher(store, lists_dir)
    assert m.match("ipv4", "8.8.8.8") == sl.SafelistHit(
        "ours", "our resolver", "safelist", "8.8.8.8", 1
    )
    assert m.match("ipv4", "1.1.1.1") == sl.SafelistHit(
        "public-dns-v4", "test list public-dns-v4", "warninglist"
    )
    assert m.match("ipv4", "192.168.1.1").list == "rfc1918"  # type: ignore[union-attr]
    assert m.match("ipv4", "198.20.69.74").list == "shodan-scanning"  # type: ignore[union-attr]
    assert m.match("md5", "d41d8cd98f00b204e9800998ecf8427e").list == "empty-hashes"  # type: ignore[union-attr]
    # cloud ranges and dynamic DNS are where attackers live: never a veto
    assert m.match("ipv4", "3.3.3.3") is None
    assert m.match("domain", "evil.duckdns.org") is None
    # a top-10k name vetoes itself, not its subdomains, URLs or mailboxes on it
    assert m.match("domain", "google.com").list == "tranco10k"  # type: ignore[union-attr]
    assert m.match("domain", "www.google.com").list == "tranco10k"  # type: ignore[union-attr]
    assert m.match("domain", "phish.github.io") is None
    assert m.match("url", "https://google.com/url?q=evil") is None
    assert m.match("email", "attacker@google.com") is None
    # vendors' sites: the domain, never a URL on it
    assert m.match("domain", "github.com") is not None
    assert m.match("url", "https://github.com/evil/payload") is None


def test_popularity_is_a_benign_factor_not_a_veto(store: Store, lists_dir: Path) -> None:
    m = _matcher(store, lists_dir)
    assert m.popularity("domain", "mid.org") == "tranco"
    assert m.match("domain", "mid.org") is None
    assert m.popularity("domain", "google.com") == "tranco10k"
    assert m.popularity("domain", "sub.mid.org") is None
    assert m.popularity("url", "http://mid.org/") is None
    assert m.popularity("domain", "unknown-site.net") is None


def test_without_warninglists_only_named_lists_match(store: Store, lists_dir: Path) -> None:
    m = sl.load_matcher(store, warninglists=False, lists_dir=lists_dir)
    assert m.match("ipv4", "192.168.1.1") is None
    assert m.popularity("domain", "google.com") is None


def test_check_explains_a_raw_value(store: Store, lists_dir: Path) -> None:
    sl.create_safelist(store, "ours")
    sl.add_entry(store, "ours", "*.example.com", reason="ours")
    m = _matcher(store, lists_dir)
    res = sl.check(m, "hxxps://Login.Example[.]com/x")
    assert res == {
        "value": "https://login.example.com/x", "type": "url", "safelisted": True,
        "list": "ours", "reason": "ours", "source": "safelist", "pattern": "*.example.com",
        "entry_id": 1, "popularity": None,
    }  # fmt: skip
    assert sl.check(m, "mid.org")["popularity"] == "tranco"
    assert sl.check(m, "just some words")["type"] == "string"
    with pytest.raises(ValueError):
        sl.check(m, "999.1.1.1", itype="ipv4")


def test_a_matcher_is_a_snapshot(store: Store) -> None:
    sl.create_safelist(store, "ours")
    m = _matcher(store)
    sl.add_entry(store, "ours", "example.com")
    assert m.match("domain", "example.com") is None
    assert _matcher(store).match("domain", "example.com") is not None
