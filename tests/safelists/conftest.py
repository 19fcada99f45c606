"""Fixtures: a small stand-in for the MISP warninglists (fast matcher tests), an API client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from spoorhound.services import access, enclaves
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client, build_app

_HOSTS = ["hostname", "domain", "url", "domain|ip"]
_IPS = ["ip-src", "ip-dst", "domain|ip"]

#: name -> (MISP list type, matching attributes, entries)
LISTS: dict[str, tuple[str, list[str], list[str]]] = {
    "rfc1918": ("cidr", _IPS, ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]),
    "public-dns-v4": ("cidr", _IPS, ["8.8.8.8/32", "1.1.1.1"]),
    "shodan-scanning": ("cidr", _IPS, ["198.20.69.0/24"]),
    "amazon-aws": ("cidr", _IPS, ["3.0.0.0/8"]),
    "empty-hashes": ("string", ["md5", "sha256"], ["d41d8cd98f00b204e9800998ecf8427e"]),
    "tranco10k": ("hostname", _HOSTS, ["github.io", "google.com", "popular-site.com"]),
    "tranco": ("hostname", _HOSTS, ["github.io", "google.com", "popular-site.com", "mid.org"]),
    "dynamic-dns": ("hostname", _HOSTS, ["duckdns.org"]),
    "security-provider-blogpost": ("hostname", _HOSTS, ["github.com"]),
}


@pytest.fixture(scope="session")
def lists_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like pymispwarninglists' ``lists`` with the lists above."""
    root = tmp_path_factory.mktemp("warninglists")
    for name, (kind, attrs, entries) in LISTS.items():
        (root / name).mkdir()
        doc = {
            "name": name,
            "type": kind,
            "matching_attributes": attrs,
            "list": entries,
            "description": f"test list {name}",
        }
        (root / name / "list.json").write_text(json.dumps(doc))
    return root


@pytest.fixture
def api(store: Store) -> Iterator[tuple[Client, dict[str, str]]]:
    """A client for the app and keys: ``admin``, ``analyst`` (writes ``red``), ``reader``
    (read-only user) and ``admin_read`` (the admin's read-only key)."""
    admin = access.ensure_admin(store)
    assert admin
    enclaves.create_enclave(store, "red", actor="test")
    access.create_user(store, "ana", "analyst", actor="test")
    access.set_member(store, "red", "ana", "write", actor="test")
    access.create_user(store, "rob", "read-only", actor="test")
    access.set_member(store, "red", "rob", "read", actor="test")
    keys = {
        "admin": admin,
        "analyst": access.create_key(store, "ana", scope="write", actor="test").key,
        "reader": access.create_key(store, "rob", scope="read", actor="test").key,
        "admin_read": access.create_key(store, "admin", scope="read", actor="test").key,
    }
    client = Client(build_app(store))
    yield client, keys
    client.close()
