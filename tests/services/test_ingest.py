"""The ingest service on both dialects: counts, context, idempotence, atomicity."""

from __future__ import annotations

import gzip
import io
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from spoorhound.core.indicators import indicator_id
from spoorhound.services import ingest as ingest_module
from spoorhound.services.indicators import lookup
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.services.jobs import get_job, job_errors
from spoorhound.storage import schema
from spoorhound.storage.engine import Store


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def _count(store: Store, table: sa.Table) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


PLAIN = "1.2.3.4\nevil[.]example.com\n# a comment\n\nhxxps://bad.example.org/x.php?a=1\n44D88612FEA8A8F36DE82E1278ABB02F\nnot an ioc\n"


def test_plain_list_counts_and_canonical_values(store: Store, tmp_path: Path) -> None:
    r = ingest(
        store, _write(tmp_path, "iocs.txt", PLAIN), IngestOptions(enclave="e1", tags=("batch",))
    )
    assert r.status == "done", r.error
    assert (r.accepted, r.new, r.updated, r.duplicate, r.rejected) == (4, 4, 0, 0, 1)
    errs = list(r.errors)
    assert errs[0].line == 7 and errs[0].raw == "not an ioc"
    with store.read() as conn:
        values = set(
            conn.execute(sa.select(schema.indicator.c.type, schema.indicator.c.value)).all()
        )
    assert values == {
        ("ipv4", "1.2.3.4"),
        ("domain", "evil.example.com"),
        ("url", "https://bad.example.org/x.php?a=1"),
        ("md5", "44d88612fea8a8f36de82e1278abb02f"),
    }
    # deterministic ids: uuid5 of (type, canonical value)
    with store.read() as conn:
        ids = set(conn.execute(sa.select(schema.indicator.c.id)).scalars())
    assert indicator_id("ipv4", "1.2.3.4") in ids


def test_reingest_is_idempotent_updates_last_seen_and_merges_tags(
    store: Store, tmp_path: Path
) -> None:
    f = _write(
        tmp_path,
        "a.csv",
        "value,tags,last_seen\n1.2.3.4,ddos,2024-01-01\nexample.com,,2024-01-01\n",
    )
    r1 = ingest(store, f, IngestOptions(enclave="e1"))
    assert (r1.new, r1.updated) == (2, 0)
    counts = {
        t: _count(store, t) for t in (schema.indicator, schema.observation, schema.indicator_tag)
    }
    f2 = _write(
        tmp_path,
        "b.csv",
        "value,tags,last_seen\n1.2.3.4,APT28,2025-06-01\nexample.com,,2024-01-01\n",
    )
    r2 = ingest(store, f2, IngestOptions(enclave="e1"))
    assert (r2.new, r2.updated, r2.duplicate) == (0, 2, 0)
    assert _count(store, schema.indicator) == counts[schema.indicator]
    assert _count(store, schema.observation) == counts[schema.observation]
    assert _count(store, schema.indicator_tag) == counts[schema.indicator_tag] + 1
    [ind] = lookup(store, "1.2.3.4")
    assert ind["tags"] == {"e1": ["APT28", "ddos"]}
    assert ind["last_seen"] == 1748736000  # 2025-06-01, the later of the two
    assert ind["observations"][0]["times_reported"] == 2
    # the very same file again: nothing new, nothing duplicated
    r3 = ingest(store, f2, IngestOptions(enclave="e1"))
    assert (r3.new, r3.updated) == (0, 2)
    assert _count(store, schema.indicator_tag) == counts[schema.indicator_tag] + 1


def test_duplicates_within_one_upload_are_counted_and_merged(store: Store, tmp_path: Path) -> None:
    text = "value,tags,first_seen\n" + "".join(f"1.2.3.4,t{i},2024-0{i + 1}-01\n" for i in range(3))
    r = ingest(store, _write(tmp_path, "d.csv", text), IngestOptions(enclave="e1"))
    assert (r.accepted, r.new, r.duplicate) == (3, 1, 2)
    [ind] = lookup(store, "1.2.3.4")
    assert ind["tags"]["e1"] == ["t0", "t1", "t2"]
    assert ind["first_seen"] == 1704067200  # 2024-01-01


def test_duplicates_across_chunks(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "CHUNK_ROWS", 3)
    values = [f"10.0.0.{i}" for i in range(7)]
    text = "\n".join(values + values[:4]) + "\n"
    r = ingest(store, _write(tmp_path, "x.txt", text), IngestOptions(enclave="e1"))
    assert (r.accepted, r.new, r.updated, r.duplicate) == (11, 7, 0, 4)
    assert _count(store, schema.indicator) == 7


def test_context_lands_on_the_observation(store: Store, tmp_path: Path) -> None:
    text = (
        "indicator,tags,first_seen,last_seen,confidence,tlp,source,notes,port\n"
        '198.51.100.7,"c2,actor:APT28",2024-03-01T10:00:00Z,2024-03-05,80,TLP:AMBER,feed-x,beacon seen,443\n'
    )
    r = ingest(
        store, _write(tmp_path, "c.csv", text), IngestOptions(enclave="e1", source="default-src")
    )
    assert r.status == "done" and r.accepted == 1
    [ind] = lookup(store, "198.51.100.7")
    [obs] = ind["observations"]
    assert obs["source"] == "feed-x"
    assert obs["tlp"] == "amber"
    assert obs["confidence"] == 80
    assert obs["notes"] == "beacon seen"
    assert obs["first_seen"] == 1709287200
    assert obs["attributes"] == {"port": "443"}
    assert ind["tags"] == {"e1": ["actor:APT28", "c2"]}


def test_defaults_apply_where_rows_are_silent(store: Store, tmp_path: Path) -> None:
    opts = IngestOptions(
        enclave="e2", source="osint", tlp="green", confidence=40, tags=("campaign:x",)
    )
    ingest(store, _write(tmp_path, "p.txt", "example.org\n"), opts)
    [ind] = lookup(store, "example.org")
    [obs] = ind["observations"]
    assert (obs["enclave"], obs["source"], obs["tlp"], obs["confidence"]) == (
        "e2",
        "osint",
        "green",
        40,
    )
    assert ind["tags"] == {"e2": ["campaign:x"]}


def test_same_indicator_in_two_enclaves_keeps_separate_context(
    store: Store, tmp_path: Path
) -> None:
    f = _write(tmp_path, "p.txt", "example.org\n")
    ingest(store, f, IngestOptions(enclave="a", tags=("ta",), tlp="red"))
    ingest(store, f, IngestOptions(enclave="b", tags=("tb",), tlp="clear"))
    assert _count(store, schema.indicator) == 1
    [a] = lookup(store, "example.org", scope=["a"])
    assert a["tags"] == {"a": ["ta"]} and [o["enclave"] for o in a["observations"]] == ["a"]
    assert lookup(store, "example.org", scope=["c"]) == []


def test_job_record_holds_counts_and_every_row_error(store: Store, tmp_path: Path) -> None:
    text = "value,first_seen\nexample.com,2024-01-01\nbad value here,2024-01-01\nexample.net,not-a-date\n"
    r = ingest(store, _write(tmp_path, "e.csv", text), IngestOptions(enclave="e1"))
    job = get_job(store, r.job_id)
    assert job is not None and job["status"] == "done"
    assert job["result"]["accepted"] == 1 and job["result"]["rejected"] == 2
    errs = job_errors(store, r.job_id)
    assert [(e.kind, e.line) for e in errs] == [("rejected", 3), ("rejected", 4)]
    assert "first_seen" in errs[1].reason
    as_json = json.loads(json.dumps(r.to_dict()))
    assert len(as_json["errors"]) == 2


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("bin.dat", b"\x00\x01\x02\x03" * 1000, "binary"),
        ("img.png", b"\x89PNG\r\n\x1a\n" + os.urandom(2000), "PNG"),
    ],
)
def test_whole_file_errors_fail_the_job_and_write_nothing(
    store: Store, tmp_path: Path, name: str, payload: bytes, message: str
) -> None:
    r = ingest(store, _write(tmp_path, name, payload), IngestOptions(enclave="e1"))
    assert r.status == "failed"
    assert r.error is not None and message in r.error and name in r.error
    assert _count(store, schema.indicator) == 0
    job = get_job(store, r.job_id)
    assert job is not None and job["status"] == "failed" and message in job["error"]


def test_error_mid_stream_rolls_back_chunks_already_written(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 5 good chunks are merged before the gzip stream turns out to be truncated.
    monkeypatch.setattr(ingest_module, "CHUNK_ROWS", 100)
    body = "".join(f"10.1.{i // 250}.{i % 250}\n" for i in range(2000)).encode()
    packed = gzip.compress(body)
    r = ingest(
        store,
        _write(tmp_path, "cut.txt.gz", packed[: len(packed) - 40]),
        IngestOptions(enclave="e1"),
    )
    assert r.status == "failed", r.counts()
    assert r.error and "cut.txt.gz" in r.error
    assert _count(store, schema.indicator) == 0
    assert _count(store, schema.enclave) == 0


def test_gzip_bomb_is_refused(store: Store, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as gz:
        line = b"1.2.3.4\n" * 8192
        for _ in range(2048):  # 128 MiB of text that compresses ~1000:1
            gz.write(line)
    r = ingest(store, _write(tmp_path, "bomb.txt.gz", buf.getvalue()), IngestOptions(enclave="e1"))
    assert r.status == "failed" and r.error and "bomb" in r.error
    assert _count(store, schema.indicator) == 0


def test_compressed_inputs(store: Store, tmp_path: Path) -> None:
    import zipfile

    gz = _write(tmp_path, "a.gz", gzip.compress(b"example.com\n1.2.3.4\n"))
    zpath = tmp_path / "b.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("iocs.txt", "example.net\n")
    assert ingest(store, gz, IngestOptions(enclave="e1")).new == 2
    assert ingest(store, zpath, IngestOptions(enclave="e1")).new == 1
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.txt", "example.net\n")
        z.writestr("b.txt", "example.org\n")
    r = ingest(store, two, IngestOptions(enclave="e1"))
    assert r.status == "failed" and r.error and "a.txt" in r.error


def test_encodings_bom_crlf(store: Store, tmp_path: Path) -> None:
    bom = _write(tmp_path, "bom.csv", b"\xef\xbb\xbfvalue,tags\r\nexample.com,x\r\n")
    assert ingest(store, bom, IngestOptions(enclave="e1")).new == 1
    u16 = _write(tmp_path, "u16.txt", "example.org\r\n1.2.3.4\r\n".encode("utf-16"))
    assert ingest(store, u16, IngestOptions(enclave="e1")).new == 2
    latin = _write(tmp_path, "latin.csv", "value,notes\nexample.net,caf\xe9\n".encode("latin-1"))
    r = ingest(store, latin, IngestOptions(enclave="e1"))
    assert r.rejected == 1 and "encoding" in next(iter(r.errors)).reason
    r2 = ingest(store, latin, IngestOptions(enclave="e1", encoding="latin-1"))
    assert r2.accepted == 1
    [ind] = lookup(store, "example.net")
    assert ind["observations"][0]["notes"] == "café"


def test_huge_line_is_rejected_and_the_rest_kept(store: Store, tmp_path: Path) -> None:
    text = b"example.com\n" + b"a" * (3 << 20) + b"\nexample.org\n"
    r = ingest(store, _write(tmp_path, "long.txt", text), IngestOptions(enclave="e1"))
    assert r.status == "done"
    assert r.new == 2 and r.rejected == 1
    assert next(iter(r.errors)).line == 2


def test_stdin_like_stream(store: Store) -> None:
    r = ingest(store, io.BytesIO(b"example.com\n"), IngestOptions(enclave="e1"), name="<stdin>")
    assert r.status == "done" and r.new == 1 and r.name == "<stdin>"


def test_forced_type_and_unknown_type(store: Store, tmp_path: Path) -> None:
    f = _write(tmp_path, "m.txt", "Global\\evil-mutex\n")
    assert ingest(store, f, IngestOptions(enclave="e1", type="mutex")).new == 1
    r = ingest(store, f, IngestOptions(enclave="e1", type="nonsense"))
    assert r.rejected == 1 and "nonsense" in next(iter(r.errors)).reason


def test_streaming_memory_does_not_grow_with_file_size(sqlite_store: Store, tmp_path: Path) -> None:
    import tracemalloc

    def peak(lines: int) -> int:
        # The same 50 indicators over and over: the store stays tiny, only the input grows.
        body = "".join(f"10.2.0.{i % 50}\n" for i in range(lines)).encode()
        f = _write(tmp_path, f"rep{lines}.txt", body)
        tracemalloc.start()
        r = ingest(sqlite_store, f, IngestOptions(enclave="e1"))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert r.status == "done" and r.accepted == lines
        return top

    small, large = peak(50_000), peak(400_000)
    assert large < small * 1.5 + (2 << 20), (small, large)


def test_scoped_search_shows_only_visible_seen_times(store: Store, tmp_path: Path) -> None:
    from spoorhound.services.indicators import SearchFilter, search

    ingest(
        store,
        _write(tmp_path, "a.csv", "value,last_seen\nexample.org,2024-01-01\n"),
        IngestOptions(enclave="a"),
    )
    ingest(
        store,
        _write(tmp_path, "b.csv", "value,last_seen\nexample.org,2025-06-01\n"),
        IngestOptions(enclave="b"),
    )
    [mine] = search(store, SearchFilter(), scope=["a"])
    assert mine["last_seen"] == 1704067200  # enclave b's later sighting does not leak
    [everything] = search(store, SearchFilter(), scope=None)
    assert everything["last_seen"] == 1748736000
