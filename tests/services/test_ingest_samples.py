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


def test_prose_report_is_extracted_linked_and_idempotent(
    store: Store, samples: Path, safelist_cache: Path
) -> None:
    f = samples / "reports" / "unit42_2020-10-06_ta551_icedid.txt"
    opts = IngestOptions(enclave="reports", source="unit42", cache_dir=safelist_cache)
    r = ingest(store, f, opts)
    assert r.status == "done" and r.format == "text", r.error
    assert r.new > 100 and r.rejected == 0
    # defanged in the text, canonical in the store, linked to the report with its context
    [dom] = lookup(store, "a020dxl[.]com")
    [rep] = dom["reports"]
    assert rep["title"] == "unit42_2020-10-06_ta551_icedid.txt"
    [sha] = lookup(store, "29e2518acbe312e574dd0d21551b785a5ce117723f8159d9307a4cfd73c267f0")
    assert sha["type"] == "sha256" and sha["reports"] == [rep]
    assert lookup(store, "193.201.126.200")[0]["reports"] == [rep]
    again = ingest(store, f, opts)
    assert again.new == 0 and again.updated == r.new
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.report)).scalar() == 1


def test_html_and_pdf_advisory(store: Store, samples: Path, safelist_cache: Path) -> None:
    opts = IngestOptions(enclave="cisa", cache_dir=safelist_cache)
    html = ingest(store, samples / "reports" / "cisa_aa20-302a_ransomware_healthcare.html", opts)
    pdf = ingest(store, samples / "reports" / "cisa_aa20-302a_ransomware_healthcare.pdf", opts)
    assert (html.status, html.format, pdf.status, pdf.format) == ("done", "html", "done", "pdf")
    [ind] = lookup(store, "kostunivo[.]com")
    assert {r["title"][:20] for r in ind["reports"]} == {
        "Ransomware Activity ",
        "Joint Cybersecurity ",
    }
    # safelisted / example candidates are skipped with their reason, never silently dropped
    assert html.skipped > 0 and all(e.reason for e in html.errors if e.kind == "skipped")
    assert any("warninglist" in e.reason for e in html.errors)


def test_flagged_candidates_kept_on_request(
    store: Store, tmp_path: Path, safelist_cache: Path
) -> None:
    f = tmp_path / "note.txt"
    f.write_text(
        "The implant beaconed to evil-c2.example.com and checked connectivity with google.com.\n"
    )
    skip = ingest(store, f, IngestOptions(enclave="a", cache_dir=safelist_cache, format="text"))
    assert {e.reason.split(" ")[1] for e in skip.errors if e.kind == "skipped"} >= {"google.com"}
    assert not lookup(store, "google.com")
    keep = ingest(
        store,
        f,
        IngestOptions(enclave="a", cache_dir=safelist_cache, format="text", keep_flagged=True),
    )
    assert keep.status == "done" and lookup(store, "google.com")


def test_broken_pdf_fails_cleanly(store: Store, tmp_path: Path, safelist_cache: Path) -> None:
    f = tmp_path / "broken.pdf"
    f.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n" + b"\x00garbage" * 100)
    r = ingest(store, f, IngestOptions(enclave="a", cache_dir=safelist_cache))
    assert r.status == "failed" and r.error and "broken.pdf" in r.error
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.indicator)).scalar() == 0
