"""Real documents from ../shared/data/samples through the whole ingest service.

Figures come from the sample README (and were checked by hand in the files); the
files are read from ../shared at test time, never copied into the repository.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from spoorhound.services.indicators import SearchFilter, lookup, search
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.storage import schema
from spoorhound.storage.engine import Store


def _types(store: Store, enclave: str) -> Counter[str]:
    q = (
        sa.select(schema.indicator.c.type)
        .join(schema.observation, schema.observation.c.indicator_pk == schema.indicator.c.pk)
        .join(schema.enclave, schema.enclave.c.id == schema.observation.c.enclave_id)
        .where(schema.enclave.c.name == enclave)
    )
    with store.read() as conn:
        return Counter(conn.execute(q).scalars())


def test_feodo_csv_with_banner_and_trailer(store: Store, samples: Path) -> None:
    f = samples / "feeds" / "feodotracker_ipblocklist_2024-04-04.csv"
    r = ingest(store, f, IngestOptions(enclave="feodo", source="feodotracker"))
    assert r.status == "done" and r.format == "csv"
    assert (r.rows, r.accepted, r.new, r.rejected) == (28, 28, 28, 0)
    assert _types(store, "feodo") == {"ipv4": 28}
    some = search(store, SearchFilter(enclave="feodo"), limit=1)[0]
    [ind] = lookup(store, some["value"])
    assert "dst_port" in ind["observations"][0]["attributes"]


def test_urlhaus_csv_all_rows_kept_with_tags(store: Store, samples: Path) -> None:
    f = samples / "feeds" / "urlhaus_online_2025-04-21_sample2000.csv"
    r = ingest(store, f, IngestOptions(enclave="urlhaus"))
    assert r.status == "done"
    assert (r.rows, r.accepted, r.rejected) == (2000, 2000, 0)
    assert _types(store, "urlhaus") == {"url": 2000}
    with store.read() as conn:
        tagged = conn.execute(
            sa.select(sa.func.count(sa.distinct(schema.indicator_tag.c.indicator_pk)))
        ).scalar()
    assert tagged == 2000


def test_misp_event_attributes_objects_and_idempotent_reimport(store: Store, samples: Path) -> None:
    f = samples / "misp" / "circl_osint_hidden_cobra_fallchill.json"
    r = ingest(store, f, IngestOptions(enclave="misp"))
    assert r.status == "done" and r.format == "misp"
    types = _types(store, "misp")
    assert types["ipv4"] >= 87 and types["md5"] >= 14 and types["sha256"] >= 1
    # link / comment attributes are reported as skipped, never silently dropped
    assert any("link" in e.reason for e in r.errors if e.kind == "skipped")
    # the one broken ssdeep (CRLF inside the value) is rejected with its reason
    assert [e.reason.split(":")[0] for e in r.errors if e.kind == "rejected"] == ["ssdeep"]
    # TLP comes from the tlp:white tag, the galaxy tags become tags
    ind = search(store, SearchFilter(enclave="misp", type="ipv4"), limit=1)[0]
    [detail] = lookup(store, ind["value"])
    assert detail["observations"][0]["tlp"] == "clear"
    assert any("Lazarus" in t for t in detail["tags"]["misp"])
    before = sum(types.values())
    again = ingest(store, f, IngestOptions(enclave="misp"))
    assert again.new == 0 and sum(_types(store, "misp").values()) == before


def test_misp_mislabelled_paths_are_kept_as_filepaths(store: Store, samples: Path) -> None:
    f = samples / "misp" / "circl_osint_qakbot_emotet_mitigation.json"
    r = ingest(store, f, IngestOptions(enclave="qakbot"))
    assert r.status == "done"
    assert r.rejected == 0, [e.reason for e in r.errors if e.kind == "rejected"]
    [ind] = lookup(store, r"%APPDATA%\Microsoft\Cexpalgxx\Cexpalgxx.exe")
    assert ind["type"] == "filepath"
    assert ind["observations"][0]["attributes"]["declared_type"] == "filename"
    assert _types(store, "qakbot")["ipv4"] == 43


def test_stix21_bundle_patterns_and_relationship_tags(store: Store, samples: Path) -> None:
    f = samples / "stix" / "oasis_apt1_stix21.json"
    r = ingest(store, f, IngestOptions(enclave="apt1"))
    assert r.status == "done" and r.format == "stix"
    assert _types(store, "apt1") == {"cidr": 4, "domain": 3, "md5": 3}
    assert r.skipped == 68  # SDOs, relationships and x509 comparisons, each reported


def test_stix21_compound_or_patterns(store: Store, samples: Path) -> None:
    f = samples / "stix" / "oasis_poisonivy_stix21.json"
    r = ingest(store, f, IngestOptions(enclave="pivy"))
    assert r.status == "done"
    assert r.accepted == 66 and r.rejected == 1  # 'domain autuo.xicp.net' is not a domain
    assert "domain autuo" in next(e.raw for e in r.errors if e.kind == "rejected")


def test_stix20_bundle_with_placeholder_urls(store: Store, samples: Path) -> None:
    f = samples / "stix" / "unit42_2024-03-07_latrodectus_lumma_stix20.json"
    r = ingest(store, f, IngestOptions(enclave="latro"))
    assert r.status == "done"
    assert (r.accepted, r.duplicate) == (24, 3)  # the placeholder URL appears four times
    assert lookup(store, "https://something.com/someurlpath")
