"""Format readers on the real sample files (facts from shared/data/README.md) and on
small synthetic files for the edge cases."""

from __future__ import annotations

import collections
import io
from collections.abc import Iterable
from pathlib import Path

import pytest

from spoorhound.ingest import (
    RawRecord,
    ReadOptions,
    Rejection,
    Skip,
    open_input,
    peek_head,
    read,
    sniff_format,
)

DATA = Path(__file__).parents[2].parent / "shared" / "data"
SAMPLES = DATA / "samples"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared sample data not present")


def items(fmt: str, data: bytes | Path, **opts: object) -> list[object]:
    stream = data.open("rb") if isinstance(data, Path) else io.BytesIO(data)
    with stream:
        return list(read(fmt, stream, ReadOptions(**opts)))  # type: ignore[arg-type]


def records(xs: Iterable[object]) -> list[RawRecord]:
    return [x for x in xs if isinstance(x, RawRecord)]


def kinds(xs: Iterable[object]) -> collections.Counter[str]:
    return collections.Counter(type(x).__name__ for x in xs)


# --- real files -------------------------------------------------------------------


@needs_samples
def test_feodo_tracker_csv() -> None:
    out = items("csv", SAMPLES / "feeds" / "feodotracker_ipblocklist_2024-04-04.csv")
    recs = records(out)
    assert len(out) == len(recs) == 28  # banner and "# END 28 entries" are not rows
    assert all(r.type == "ip" and "dst_port" in r.attributes for r in recs)
    assert all(r.tags == ("malware:Pikabot",) for r in recs)
    first = recs[0]
    assert (first.line, first.value, first.attributes["dst_port"]) == (10, "192.9.135.73", "1194")
    assert first.first_seen == 1684864304  # 2023-05-23 17:51:44 UTC


@needs_samples
def test_urlhaus_csv() -> None:
    out = items("csv", SAMPLES / "feeds" / "urlhaus_online_2025-04-21_sample2000.csv")
    recs = records(out)
    assert len(out) == len(recs) == 2000
    assert all(r.type == "url" and r.tags and "malware_download" in r.tags for r in recs)
    assert all(r.source and r.first_seen and "urlhaus_link" in r.attributes for r in recs)
    assert recs[0].line == 2 and recs[-1].line == 2001
    assert "Mozi" in recs[0].tags


@needs_samples
def test_apt1_bundle() -> None:
    out = items("stix", SAMPLES / "stix" / "oasis_apt1_stix21.json")
    recs = records(out)
    # 12 indicators: 4 CIDRs, 3 domains, 3 MD5s as records; 2 x509 AND patterns whose
    # 4 comparisons are skipped. The other 64 objects are one Skip each.
    assert collections.Counter(r.type for r in recs) == {"ip": 4, "domain": 3, "md5": 3}
    skips = [x for x in out if isinstance(x, Skip)]
    assert len(skips) == 64 + 4
    assert sum("x509-certificate" in s.reason for s in skips) == 4
    htran = next(r for r in recs if r.value == "223.166.0.0/15")
    assert "malware:HUC Packet Transmit Tool (HTRAN)" in htran.tags  # from 'indicates'
    assert any("actor:Ugly Gorilla" in r.tags for r in recs)


@needs_samples
def test_poisonivy_bundle_compound_or() -> None:
    out = items("stix", SAMPLES / "stix" / "oasis_poisonivy_stix21.json")
    recs = records(out)
    assert len({r.attributes["stix_id"] for r in recs}) == 25  # every indicator gave records
    assert len(recs) > 25  # OR patterns give several records
    assert not any("pattern_compound" in r.attributes for r in recs)
    assert any(t.startswith("campaign:") for r in recs for t in r.tags)
    assert sum(isinstance(x, Skip) for x in out) == 155 - 25


@needs_samples
def test_latrodectus_stix20() -> None:
    out = items("stix", SAMPLES / "stix" / "unit42_2024-03-07_latrodectus_lumma_stix20.json")
    recs = records(out)
    assert len(recs) == 24 and kinds(out)["Skip"] == 1
    assert sum(r.value == "https://something.com/someurlpath" for r in recs) == 4
    assert collections.Counter(r.type for r in recs)["sha256"] == 7


@needs_samples
def test_misp_fallchill() -> None:
    out = items("misp", SAMPLES / "misp" / "circl_osint_hidden_cobra_fallchill.json")
    recs = records(out)
    by_misp = collections.Counter(r.attributes["misp_type"] for r in recs)
    assert by_misp["ip-dst"] == 90 and by_misp["ip-dst|port"] == 3
    assert by_misp["md5"] == 16
    assert all(r.tlp == "clear" and r.source == "CIRCL" for r in recs)
    assert all('misp-galaxy:threat-actor="Lazarus Group"' in r.tags for r in recs)
    assert not any(t.startswith("tlp:") for r in recs for t in r.tags)
    port = [r for r in recs if r.attributes["misp_type"] == "ip-dst|port"]
    assert all(r.type == "ip" and r.attributes["port"] for r in port)
    obj_ips = [r for r in recs if r.attributes.get("misp_object") == "ip-port"]
    assert len(obj_ips) == 3 and all(r.attributes["dst-port"] for r in obj_ips)
    reasons = [x.reason for x in out if isinstance(x, Skip)]
    assert (
        sum("'link'" in r for r in reasons) == 3 and sum("'attachment'" in r for r in reasons) == 1
    )
    assert len(out) == 111 + 17  # one item per attribute: ip-dst|port gives one record


@needs_samples
def test_misp_qakbot() -> None:
    out = items("misp", SAMPLES / "misp" / "circl_osint_qakbot_emotet_mitigation.json")
    recs = records(out)
    assert collections.Counter(r.type for r in recs)["regkey"] == 3
    assert sum(r.attributes["misp_type"] == "ip-dst" for r in recs) == 43
    assert sum(isinstance(x, Skip) and "'link'" in x.reason for x in out) == 6


@needs_samples
@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("feeds/feodotracker_ipblocklist_2024-04-04.csv", "csv"),
        ("feeds/urlhaus_online_2025-04-21_sample2000.csv", "csv"),
        ("stix/oasis_apt1_stix21.json", "stix"),
        ("stix/unit42_2024-03-07_latrodectus_lumma_stix20.json", "stix"),
        ("misp/circl_osint_hidden_cobra_fallchill.json", "misp"),
        ("reports/unit42_2020-10-06_ta551_icedid.txt", "text"),
        ("reports/avast_guptiminer_iocs.md", "text"),
        ("logs/loghub_apache_error_2k.log", "text"),
    ],
)
def test_sniff_samples(path: str, fmt: str) -> None:
    with open_input(SAMPLES / path) as inp:
        head, _ = peek_head(inp.raw)
        assert sniff_format(head, inp.name) == fmt


# --- synthetic edge cases ---------------------------------------------------------


def test_plain_comments_and_inline_notes() -> None:
    out = items("plain", b"# header\n\n// also\n1.2.3.4 # c2 server\nhttp://x/#frag\r\n")
    assert [(r.line, r.value, r.notes) for r in records(out)] == [
        (4, "1.2.3.4", "c2 server"),
        (5, "http://x/#frag", None),
    ]
    assert len(out) == 2


def test_csv_ragged_rows_and_multiline_fields() -> None:
    data = b'value,notes\n"a.com","two\nlines"\nb.com\nc.com,x,y\n# trailer\nd.com,"e,f"\n'
    out = items("csv", data)
    assert isinstance(out[0], RawRecord) and out[0].notes == "two\nlines" and out[0].line == 2
    assert isinstance(out[1], Rejection) and out[1].line == 4 and "found 1" in out[1].reason
    assert isinstance(out[2], Rejection) and out[2].line == 5 and "found 3" in out[2].reason
    assert isinstance(out[3], RawRecord) and out[3].line == 7 and out[3].notes == "e,f"


def test_csv_header_in_comment() -> None:
    out = items("csv", b'# generated\n# id,url,tags\n1,http://x/a,"a,b"\n')
    (r,) = records(out)
    assert (r.line, r.value, r.type, r.tags, r.attributes) == (
        3,
        "http://x/a",
        "url",
        ("a", "b"),
        {"id": "1"},
    )


def test_csv_bad_values_name_the_column() -> None:
    out = items("csv", b"ioc,first_seen,tlp\na.com,yesterday,green\nb.com,2020-01-01,purple\n")
    assert isinstance(out[0], Rejection) and "'first_seen'" in out[0].reason
    assert isinstance(out[1], Rejection) and "'tlp'" in out[1].reason and out[1].line == 3


def test_csv_explicit_column_map_and_tsv() -> None:
    out = items(
        "tsv", b"who\twhat\nevil.com\tEmotet\n", column_map={"value": "who", "tags": "what"}
    )
    (r,) = records(out)
    assert (r.value, r.tags) == ("evil.com", ("Emotet",))


def test_csv_headerless() -> None:
    out = items("csv", b"1.2.3.4,scanner\n5.6.7.8,c2\n")
    assert [(r.value, r.attributes) for r in records(out)] == [
        ("1.2.3.4", {"column_2": "scanner"}),
        ("5.6.7.8", {"column_2": "c2"}),
    ]


def test_json_shapes() -> None:
    arr = items("json", b'[{"indicator": "a.com", "confidence": "high"}, "b.com", 3]')
    assert isinstance(arr[0], RawRecord) and arr[0].confidence == 85
    assert isinstance(arr[1], RawRecord) and arr[1].value == "b.com"
    assert isinstance(arr[2], Rejection) and arr[2].line == 3
    wrapped = items("json", b'{"meta": {"n": 1}, "iocs": [{"sha256": "ab", "tags": ["x"]}]}')
    (r,) = records(wrapped)
    assert (r.value, r.type, r.tags) == ("ab", "sha256", ("x",))
    single = records(items("json", b'{"value": "c.com", "tlp": "TLP:WHITE"}'))
    assert [(x.value, x.tlp) for x in single] == [("c.com", "clear")]


def test_json_syntax_error_keeps_items_before() -> None:
    out = items("json", b'[{"ioc": "a.com"}, {"ioc": "b.com"} {"ioc": "c.com"}]')
    assert len(records(out)) == 2
    rej = out[-1]
    assert isinstance(rej, Rejection) and rej.reason.startswith("JSON syntax error before byte")
    assert "2 items read before it were kept" in rej.reason


def test_jsonl_bad_line() -> None:
    out = items("jsonl", b'{"ioc": "a.com"}\n{nope\n\n"c.com"\n')
    assert isinstance(out[1], Rejection) and out[1].line == 2 and "invalid JSON" in out[1].reason
    assert [r.line for r in records(out)] == [1, 4]


def test_stix_pattern_error_and_compound_and() -> None:
    bundle = b"""{"type": "bundle", "id": "bundle--1", "objects": [
      {"type": "indicator", "id": "indicator--1", "pattern": "[ipv4-addr:value = '1.2.3.4'",
       "pattern_type": "stix", "valid_from": "2020-01-01T00:00:00Z"},
      {"type": "indicator", "id": "indicator--2", "pattern_type": "stix",
       "pattern": "[network-traffic:dst_ref.value = '5.6.7.8' AND network-traffic:dst_port = 443]",
       "valid_from": "2020-01-01T00:00:00Z",
       "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]},
      {"type": "ipv4-addr", "id": "ipv4-addr--3", "value": "9.9.9.9"},
      {"type": "file", "id": "file--4", "hashes": {"SHA-256": "aa", "MD5": "bb"}, "name": "x.exe"}
    ]}"""
    out = items("stix", bundle)
    assert isinstance(out[0], Rejection) and out[0].line == 1 and "pattern syntax" in out[0].reason
    recs = records(out)
    nt = next(r for r in recs if r.value == "5.6.7.8")
    assert nt.attributes["pattern_compound"] == "AND" and nt.tlp == "green" and nt.line == 2
    assert any(isinstance(x, Skip) and "dst_port" in x.reason for x in out)
    assert {(r.value, r.type) for r in recs} >= {("9.9.9.9", "ip"), ("aa", "sha256"), ("bb", "md5")}


def test_misp_response_list_and_composites() -> None:
    doc = b"""{"response": [{"Event": {"info": "ev", "uuid": "u1", "Orgc": {"name": "ORG"},
      "Tag": [{"name": "tlp:amber"}, {"name": "Actor:APT1"}],
      "Attribute": [
        {"type": "domain|ip", "value": "a.com|1.2.3.4", "to_ids": true},
        {"type": "filename|sha256", "value": "x.exe|abcd"},
        {"type": "regkey|value", "value": "HKLM\\\\Run|evil"},
        {"type": "text", "value": "hello"}
      ]}}]}"""
    out = items("misp", doc)
    recs = records(out)
    assert [(r.value, r.type) for r in recs] == [
        ("a.com", "domain"),
        ("1.2.3.4", "ip"),
        ("x.exe", "filename"),
        ("abcd", "sha256"),
        ("HKLM\\Run", "regkey"),
    ]
    assert recs[3].attributes["filename"] == "x.exe" and recs[2].attributes["sha256"] == "abcd"
    assert recs[4].attributes["regkey_value"] == "evil"
    assert all(r.tlp == "amber" and r.tags == ("actor:APT1",) and r.source == "ORG" for r in recs)
    assert isinstance(out[-1], Skip) and out[-1].line == 4


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format 'text'"):
        read("text", io.BytesIO(b"x"))
