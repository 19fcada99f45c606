"""``/api/v1/exports``: streamed formats, scope, and the TLP rule on both dialects."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import stix2

from spoorhound.services.exports import stix_pattern
from spoorhound.storage.engine import Store
from tests.access.apiclient import Client
from tests.api_v1.conftest import Keys

URL = "/api/v1/exports"


def _add(client: Client, key: str, enclave: str, value: str, tlp: str | None, **more: Any) -> None:
    body = {"enclave": enclave, "value": value, "tlp": tlp, **more}
    r = client.post("/api/v1/indicators", key=key, json=body)
    assert r.status_code == 201, r.text


def _jsonl(client: Client, key: str, q: str = "") -> tuple[dict[str, dict[str, Any]], str]:
    r = client.get(URL, key=key, params={"q": q, "format": "jsonl"})
    assert r.status_code == 200, r.text
    rows = [orjson.loads(line) for line in r.content.splitlines()]
    return {row["value"]: row for row in rows}, r.headers["x-tlp"]


def test_red_and_amber_strict_never_leave_their_enclave(
    store: Store, client: Client, keys: Keys
) -> None:
    w = keys.writer
    _add(client, w, "red-team", "only-red.example-zq.com", "red")
    _add(client, w, "red-team", "only-strict.example-zq.com", "amber+strict")
    _add(client, w, "red-team", "green.example-zq.com", "green", tags=["ok"])
    _add(client, w, "red-team", "amber.example-zq.com", "amber")
    _add(client, w, "red-team", "unmarked.example-zq.com", None)
    # one indicator, two observations: a RED one (own source, own tag) and a GREEN one
    _add(client, w, "red-team", "mixed.example-zq.com", "red", source="secret-src", confidence=99)
    _add(client, w, "red-team", "mixed.example-zq.com", "green", source="open-src", confidence=40)
    # RED in red-team, GREEN in blue-team: the tag of the RED-only enclave stays home
    _add(client, w, "red-team", "both.example-zq.com", "red", tags=["red-only-tag"])
    _add(client, keys.outsider, "blue-team", "both.example-zq.com", "green", tags=["blue-tag"])

    # members see RED / AMBER+STRICT through the read API...
    assert (
        client.get("/api/v1/indicators/only-red.example-zq.com", key=keys.reader).status_code == 200
    )
    # ...and never in an export, not even the enclave's own writer or the administrator
    for key in (w, keys.reader, keys.admin):
        rows, tlp = _jsonl(client, key)
        assert "only-red.example-zq.com" not in rows and "only-strict.example-zq.com" not in rows
        assert rows["mixed.example-zq.com"]["sources"] == ["open-src"]
        assert rows["mixed.example-zq.com"]["confidence"] == 40
        assert rows["mixed.example-zq.com"]["tlp"] == "green"
        if key == keys.admin:
            assert rows["both.example-zq.com"]["tags"] == ["blue-tag"]
        else:  # only its RED observation is visible to red-team members
            assert "both.example-zq.com" not in rows
        assert rows["amber.example-zq.com"]["tlp"] == "amber"
        assert rows["unmarked.example-zq.com"]["tlp"] is None
        assert tlp == "AMBER"  # the most restrictive TLP included
    # the export's TLP follows what it includes
    _, tlp = _jsonl(client, w, "tlp <= green")
    assert tlp == "GREEN"
    rows, tlp = _jsonl(client, w, "value = only-red.example-zq.com")
    assert rows == {} and tlp == "UNMARKED"
    for fmt in ("csv", "plain", "stix", "misp"):
        body = client.get(URL, key=keys.admin, params={"format": fmt}).text
        assert "only-red" not in body and "only-strict" not in body and "secret-src" not in body
        assert "red-only-tag" not in body and "tlp:red" not in body.lower()


def test_formats(store: Store, client: Client, keys: Keys) -> None:
    w = keys.writer
    _add(client, w, "red-team", "evil.example-zq.com", "amber", tags=["c2"], confidence=70)
    _add(client, w, "red-team", "45.77.10.7", "green")
    _add(client, w, "red-team", "5f4dcc3b5aa765d61d8327deb882cf99", None, type="md5")
    _add(client, w, "red-team", "CVE-2024-3094", "green")

    r = client.get(URL, key=keys.reader, params={"format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["value"] for row in rows} >= {"evil.example-zq.com", "45.77.10.7"}
    evil = next(row for row in rows if row["value"] == "evil.example-zq.com")
    assert (evil["tlp"], evil["confidence"], evil["tags"]) == ("amber", "70", "c2")

    plain = client.get(URL, key=keys.reader, params={"format": "plain", "q": "type = ipv4"})
    assert plain.text == "45.77.10.7\n"

    bundle = client.get(URL, key=keys.reader, params={"format": "stix"})
    assert bundle.headers["content-type"].startswith("application/stix+json")
    parsed = stix2.parse(bundle.text, allow_custom=False)
    indicators = [o for o in parsed.objects if o.type == "indicator"]
    assert {o.pattern for o in indicators} >= {
        "[domain-name:value = 'evil.example-zq.com']",
        "[ipv4-addr:value = '45.77.10.7']",
        "[file:hashes.MD5 = '5f4dcc3b5aa765d61d8327deb882cf99']",
    }
    evil_obj = next(o for o in indicators if o.name == "evil.example-zq.com")
    assert evil_obj.object_marking_refs == [stix2.TLP_AMBER.id]
    assert {o.id for o in parsed.objects if o.type == "marking-definition"} == {
        stix2.TLP_AMBER.id, stix2.TLP_GREEN.id,
    }  # fmt: skip

    misp = client.get(URL, key=keys.reader, params={"format": "misp"}).json()["Event"]
    assert misp["Tag"] == [{"name": "tlp:amber"}]
    attrs = {a["value"]: a for a in misp["Attribute"]}
    assert attrs["45.77.10.7"]["type"] == "ip-dst"
    assert attrs["CVE-2024-3094"]["type"] == "vulnerability"
    assert {"name": "tlp:amber"} in attrs["evil.example-zq.com"]["Tag"]


def test_stix_patterns_are_valid() -> None:
    for type_, value in (
        ("url", "http://a.example-zq.com/it's"), ("sha256", "a" * 64), ("filepath", r"C:\x\y.exe"),
        ("asn", "AS15169"), ("regkey", r"HKLM\Software\Run"), ("user-agent", "curl/8"),
        ("cidr", "10.0.0.0/8"), ("imphash", "b" * 32),
    ):  # fmt: skip
        pattern = stix_pattern(type_, value)
        assert pattern is not None
        stix2.Indicator(
            pattern=pattern[0], pattern_type=pattern[1], valid_from="2024-01-01T00:00:00Z"
        )
    assert stix_pattern("btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT") is None


def test_export_errors(client: Client, keys: Keys) -> None:
    assert client.get(URL).status_code == 401
    r = client.get(URL, key=keys.reader, params={"q": "score ~ 5"})
    assert r.status_code == 422 and "operator '~'" in r.json()["detail"]
    r = client.get(URL, key=keys.reader, params={"format": "xml"})
    assert r.status_code == 422 and "csv" in r.text
    # an enclave the caller cannot read narrows to nothing, never widens
    _add(client, keys.writer, "red-team", "x.example-zq.com", "green")
    r = client.get(URL, key=keys.outsider, params={"format": "plain", "enclave": "red-team"})
    assert r.status_code == 200 and r.text == ""
