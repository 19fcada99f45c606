"""The fast reader paths against straightforward references.

* compiled row builders (``fields.compile_builder``) against ``build_record``;
* the chunked CSV reader against a line-by-line reader (the original algorithm:
  ``iter_lines``, comments dropped between rows, ``build_record``), with tiny chunk
  and line limits so that chunk boundaries, over-long lines and bad bytes land
  everywhere;
* ``parse_time``'s fast path on the common shapes and the rest.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spoorhound.core.context import parse_time
from spoorhound.ingest import source
from spoorhound.ingest.formats import ReadOptions, delimited, read
from spoorhound.ingest.formats.fields import build_record, compile_builder, plan
from spoorhound.ingest.records import RawRecord, ReaderItem, Rejection, excerpt


def outcome(f: Any, *args: Any) -> Any:
    try:
        return f(*args)
    except Exception as e:  # the same crash is the same behaviour
        return (type(e).__name__, str(e))


# --- reference CSV reader: one line at a time -------------------------------------


def reference_csv(data: bytes, options: ReadOptions, max_line: int) -> Iterator[ReaderItem]:
    items = source.iter_lines(io.BytesIO(data), encoding=options.encoding, max_line_bytes=max_line)
    last_comment: str | None = None
    first: tuple[int, str] | None = None
    for item in items:
        if isinstance(item, Rejection):
            yield item
            continue
        line, text = item
        stripped = text.strip()
        if not stripped:
            continue
        if stripped[0] == "#":
            last_comment = stripped.lstrip("#").strip() or last_comment
            continue
        first = (line, text)
        break
    if first is None:
        return
    delim = options.delimiter or delimited._pick_delimiter(first[1])
    header = next(csv.reader([first[1]], delimiter=delim))
    p = plan(header, column_map=options.column_map)
    pending: list[tuple[int, str]] = []
    if not p.recognised():
        names: list[str] = []
        from_comment = None
        if last_comment:
            names = next(csv.reader([last_comment], delimiter=delim))
            if len(names) == len(header):
                from_comment = plan(names, column_map=options.column_map)
        if from_comment is not None and from_comment.recognised():
            header, p = names, from_comment
        else:
            header = ["value"] + [f"column_{i}" for i in range(2, len(header) + 1)]
            p = plan(header, column_map=options.column_map)
        pending.append(first)
    state = {"first": 0, "open": False}
    rejections: list[Rejection] = []

    def feed() -> Iterator[str]:
        for item in [*pending, *items]:
            if isinstance(item, Rejection):
                rejections.append(item)
                continue
            line, text = item
            if not state["open"] and (not text or text[0] == "#" or not text.strip()):
                continue
            if not state["open"]:
                state["first"], state["open"] = line, True
            yield text + "\n"

    reader = csv.reader(feed(), delimiter=delim, strict=False)
    while True:
        state["open"] = False
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            yield Rejection(state["first"], f"CSV error: {e}")
            continue
        yield from rejections
        rejections.clear()
        if len(row) != len(header):
            yield Rejection(
                state["first"],
                f"expected {len(header)} fields as in the header, found {len(row)}",
                excerpt(delim.join(row)),
            )
            continue
        yield build_record(state["first"], row, p, options.default_type)
    yield from rejections


def fast_csv(
    data: bytes, options: ReadOptions, chunk: int, max_line: int, mp: pytest.MonkeyPatch
) -> list[ReaderItem]:
    with mp.context() as m:
        m.setattr(delimited, "_CHUNK", chunk)
        m.setattr(delimited, "_MAX_LINE", max_line)
        return list(read("csv", io.BytesIO(data), options))


def same(data: bytes, chunk: int, max_line: int, mp: pytest.MonkeyPatch, **opts: Any) -> None:
    """The fast reader gives what the reference gives, items and InputError alike."""
    options = ReadOptions(**opts)
    with mp.context() as m:
        m.setattr(source, "CHUNK", chunk)
        expected = outcome(lambda: list(reference_csv(data, options, max_line)))
    assert outcome(fast_csv, data, options, chunk, max_line, mp) == expected


CELLS = st.sampled_from(
    [
        "a.com",
        "",
        " ",
        "1.2.3.4",
        '"q,uo\nted"',
        '"#x"',
        '"a""b"',
        '"ddos,APT28"',
        "2020-01-01T00:00:00Z",
        "2021-02-29",
        "high",
        "200",
        "TLP:RED",
        "purple",
        "#",
        '"multi\n\n# not a comment\n  \nline"',
        '"open',
        "\t",
        "é",
    ]
)
LINES = st.one_of(
    st.lists(CELLS, min_size=1, max_size=8).map(",".join),
    st.sampled_from(["", "  ", "# comment", '# "opens a quote', "\t\t", ",,,", '"', "\udcff"]),
)
HEADERS = st.sampled_from(
    [
        "value,tags,first_seen,confidence,tlp,source,notes",
        "x,y,z",
        "# id,url,tags",
        "ioc",
        "url,malware,tlp,extra,extra",
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    HEADERS,
    st.lists(LINES, max_size=30),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from([1, 5, 13, 64, 1 << 20]),
    st.sampled_from([6, 30, 1 << 20]),
)
def test_csv_matches_line_by_line_reference(
    head: str, lines: list[str], nl: str, chunk: int, max_line: int
) -> None:
    data = nl.join([head, *lines]).encode("utf-8", "surrogateescape")
    with pytest.MonkeyPatch.context() as mp:
        same(data, chunk, max_line, mp)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=300), st.sampled_from([1, 7, 1 << 20]), st.sampled_from([9, 1 << 20]))
def test_csv_matches_reference_on_any_bytes(data: bytes, chunk: int, max_line: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        same(data, chunk, max_line, mp)


@pytest.mark.parametrize("chunk", [1, 3, 8, 1 << 20])
def test_csv_comments_quotes_and_bad_lines(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    data = (
        b'value,notes\n"a.com","two\n# inside a field\n\n  \nlines"\n# between "rows\n'
        b'b.com,x\n  \n\t\n\n"c.com",\xff\n"d.com","e\n\xff\nf"\n,,\ne.com,"#"\n# END\n'
    )
    same(data, chunk, 1 << 20, monkeypatch)
    out = fast_csv(data, ReadOptions(), chunk, 1 << 20, monkeypatch)
    assert [(type(x).__name__, x.line) for x in out] == [
        ("RawRecord", 2),
        ("RawRecord", 8),
        ("Rejection", 12),  # bad byte on a line of its own
        ("Rejection", 14),  # bad line inside d.com's field: reported before d.com
        ("RawRecord", 13),
        ("Rejection", 16),
        ("RawRecord", 17),
    ]
    assert isinstance(out[0], RawRecord) and out[0].notes == "two\n# inside a field\n\n  \nlines"
    assert isinstance(out[4], RawRecord) and out[4].notes == "e\nf"


def test_csv_over_long_lines_and_tsv_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"value\tnotes\na.com\t" + b"x" * 50 + b"\n\t\t\nb.com\tok\n"
    for chunk in (4, 16, 1 << 20):
        same(data, chunk, 40, monkeypatch, delimiter="\t")
    out = fast_csv(data, ReadOptions(delimiter="\t"), 16, 40, monkeypatch)
    assert [(type(x).__name__, x.line) for x in out] == [("Rejection", 2), ("RawRecord", 4)]


def test_csv_line_numbers_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [f"host{i}.example,tag{i % 3},2024-01-0{1 + i % 9}T00:00:00Z" for i in range(300)]
    data = ("# banner\n\nindicator,tags,first_seen\n" + "\n".join(rows) + "\n").encode()
    out = fast_csv(data, ReadOptions(), 97, 1 << 20, monkeypatch)
    assert [x.line for x in out] == list(range(4, 304))
    assert all(isinstance(x, RawRecord) and x.first_seen for x in out)
    same(data, 97, 1 << 20, monkeypatch)


# --- compiled builders against build_record ----------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 300)
    | st.floats(allow_nan=True)
    | st.sampled_from(
        [
            "",
            " ",
            "a.com",
            "2020-01-01T00:00:00Z",
            "2020-01-01T24:00:00Z",
            "1600000000",
            "high",
            "77",
            "TLP:RED",
            "purple",
            "x,y",
            "y,y",
            "Actor:APT1",
            "\x01",
            "a" * 250,
            "true",
        ]
    ),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["a", "b"]), c, max_size=2),
    max_leaves=5,
)
KEYS = [
    "indicator",
    "url",
    "tags",
    "malware",
    "first_seen",
    "last_seen",
    "confidence",
    "tlp",
    "source",
    "notes",
    "type",
    "extra",
]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.sampled_from(KEYS), min_size=1, max_size=8, unique=True),
    st.data(),
    st.sampled_from([None, "ip"]),
)
def test_compiled_builder_json(keys: list[str], data: st.DataObject, default: str | None) -> None:
    p = plan(keys, keys)
    build = compile_builder(p, default, strings=False)
    typed: dict[str, Any] = {
        "tags": st.lists(st.sampled_from(["x", "ddos", "ddos", " ", "Y:z", 1, True]), max_size=3),
        "confidence": st.integers(-1, 101) | st.floats(-1, 101) | st.booleans(),
        "first_seen": st.integers(0, 2**40) | st.floats() | st.booleans(),
    }

    def value(key: str) -> Any:
        pick = data.draw(st.integers(0, 9))
        if pick == 0:
            return data.draw(JSON_VALUES)
        if pick < 3 and key in typed:
            return data.draw(typed[key])
        return data.draw(st.sampled_from(GOOD_CELLS.get(key, ANY_CELLS)))

    objs = [{k: value(k) for k in keys} for _ in range(data.draw(st.integers(1, 6)))]
    for obj in objs + objs:  # twice: the second time from the memos
        assert outcome(build, 7, obj) == outcome(build_record, 7, obj, p, default)


TAG_CELLS = ["ddos,APT28", "ddos;ddos", " c2 ; x|y", "Actor:APT1", "", " "]
GOOD_CELLS: dict[str, list[str]] = {
    "indicator": ["a.com", " b.com ", "1.2.3.4"],
    "url": ["http://x/", ""],
    "tags": TAG_CELLS,
    "malware": ["Emotet", "a:b", "Emotet,Emotet", ""],
    "family": TAG_CELLS,
    "labels": TAG_CELLS,
    "first_seen": ["2020-01-01T00:00:00Z", "2020-01-01 10:00:00", "1600000000", ""],
    "last_seen": ["2021-06-01T12:30:00+00:00", "2020-01-01", ""],
    "confidence": ["high", " 42.4 ", "7", "90%", ""],
    "tlp": ["amber", " TLP:WHITE ", "", " "],
}
BAD_CELLS = ["\x01", "x" * 201, "2020-02-30T00:00:00Z", "soon", "101", "purple", " "]
ANY_CELLS = ["", " ", "a.com", "z", "ddos,APT28"]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.sampled_from([*KEYS, "family", "labels", "column_9"]), min_size=1, max_size=9),
    st.data(),
)
def test_compiled_builder_csv(header: list[str], data: st.DataObject) -> None:
    p = plan(header)
    build = compile_builder(p, None, strings=True)

    def cell(name: str) -> str:
        if data.draw(st.integers(0, 9)) == 0:
            return data.draw(st.sampled_from(BAD_CELLS))
        return data.draw(st.sampled_from(GOOD_CELLS.get(name, ANY_CELLS)))

    rows = [[cell(n) for n in header] for _ in range(data.draw(st.integers(1, 6)))]
    for row in rows + rows:  # twice: the second time from the memos
        assert outcome(build, 3, row) == outcome(build_record, 3, row, p, None)


def test_compiled_builder_quotes_names_safely() -> None:
    header = ["ioc", "x'); import os #", 'a"b', "\\"]
    p = plan(header)
    rec = compile_builder(p, None, strings=True)(1, ["v", "1", "2", "3"])
    assert isinstance(rec, RawRecord)
    assert rec.attributes == {"x'); import os #": "1", 'a"b': "2", "\\": "3"}


# --- parse_time's fast path ----------------------------------------------------------


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_parse_time_common_shapes(dt: datetime) -> None:
    dt = dt.replace(microsecond=0)
    expected = int(dt.replace(tzinfo=UTC).timestamp())
    day = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
    clock = f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    for s in (f"{day}T{clock}Z", f"{day} {clock}", f"{day}T{clock}+00:00", f" {day}T{clock} "):
        assert parse_time(s) == expected


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("20201006", 20201006),  # digits are epoch seconds, not a basic-format date
        ("1601985600000", 1601985600),
        ("2020-10-06T14:00:00+02:00", 1601985600),
        ("2020/10/06 12:00:00", 1601985600),
        ("2020-10-06 12:00:00 UTC", 1601985600),
        ("1601985600.5", 1601985600),
    ],
)
def test_parse_time_other_shapes_unchanged(s: str, expected: int) -> None:
    assert parse_time(s) == expected


@pytest.mark.parametrize("s", ["", " ", "2020-02-30T00:00:00Z", "2020-01-01T24:00:01Z", "soon"])
def test_parse_time_still_rejects(s: str) -> None:
    with pytest.raises(ValueError):
        parse_time(s)
