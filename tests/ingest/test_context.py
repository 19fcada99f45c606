"""core.context: TLP, time, confidence and tag parsers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stix2.v21 import common

from spoorhound.core.context import (
    TLP_LEVELS,
    normalize_tag,
    parse_confidence,
    parse_time,
    parse_tlp,
)


@pytest.mark.parametrize(
    ("raw", "level"),
    [
        ("TLP:WHITE", "clear"),
        ("white", "clear"),
        ("TLP:CLEAR", "clear"),
        ("tlp:amber+strict", "amber+strict"),
        ("AMBER", "amber"),
        ("Tlp:Green", "green"),
        ("red", "red"),
        ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "clear"),
        ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "green"),
        ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "amber"),
        ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red"),
        ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"),
        ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict"),
        ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red"),
    ],
)
def test_parse_tlp(raw: str, level: str) -> None:
    assert parse_tlp(raw) == level


def test_tlp_v1_ids_match_stix2() -> None:
    for name, level in [("WHITE", "clear"), ("GREEN", "green"), ("AMBER", "amber"), ("RED", "red")]:
        assert parse_tlp(getattr(common, f"TLP_{name}").id) == level


@pytest.mark.parametrize("raw", ["", "purple", "tlp:", "marking-definition--x"])
def test_parse_tlp_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="unknown TLP"):
        parse_tlp(raw)


@given(st.sampled_from(TLP_LEVELS))
def test_parse_tlp_idempotent(level: str) -> None:
    assert parse_tlp(level) == level
    assert parse_tlp(f"TLP:{level.upper()}") == level


@pytest.mark.parametrize(
    ("raw", "epoch"),
    [
        ("2020-10-06", 1601942400),
        ("2020-10-06 12:00:00", 1601985600),
        ("2020-10-06T12:00:00Z", 1601985600),
        ("2020-10-06T12:00:00.999Z", 1601985600),
        ("2020-10-06T14:00:00+02:00", 1601985600),
        ("2020-10-06 12:00:00 UTC", 1601985600),
        ("2020/10/06 12:00:00", 1601985600),
        (1601985600, 1601985600),
        (1601985600000, 1601985600),
        (1601985600.5, 1601985600),
        ("1601985600", 1601985600),
        ("1601985600000", 1601985600),
    ],
)
def test_parse_time(raw: str | int | float, epoch: int) -> None:
    assert parse_time(raw) == epoch


@pytest.mark.parametrize("raw", ["", "yesterday", "2020-13-45", "10**99", float("nan"), 10**20])
def test_parse_time_rejects(raw: str | float) -> None:
    with pytest.raises(ValueError):
        parse_time(raw)


@given(st.datetimes(timezones=st.just(UTC)))
def test_parse_time_roundtrip_iso(dt: datetime) -> None:
    expected = int(dt.timestamp())  # truncation towards zero, as parse_time does
    assert parse_time(dt.isoformat()) == expected


@given(st.integers(min_value=0, max_value=4_000_000_000))
def test_parse_time_epoch_seconds_and_ms_agree(t: int) -> None:
    assert parse_time(t) == t
    if t * 1000 > 10**11:
        assert parse_time(t * 1000) == t


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (0, 0),
        (100, 100),
        ("75", 75),
        ("high", 85),
        ("Medium", 50),
        ("low", 15),
        (" 42.4 ", 42),
        ("90%", 90),
    ],
)
def test_parse_confidence(raw: str | int, value: int) -> None:
    assert parse_confidence(raw) == value


@pytest.mark.parametrize("raw", [-1, 101, "very", "", True])
def test_parse_confidence_rejects(raw: str | int) -> None:
    with pytest.raises(ValueError):
        parse_confidence(raw)


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("  Actor:APT28 ", "actor:APT28"),
        ('misp-galaxy:threat-actor="Lazarus  Group"', 'misp-galaxy:threat-actor="Lazarus Group"'),
        ("Cobalt\tStrike", "Cobalt Strike"),
        ("http://x.y/z", "http://x.y/z"),
        ("TLP:WHITE", "tlp:WHITE"),
    ],
)
def test_normalize_tag(raw: str, tag: str) -> None:
    assert normalize_tag(raw) == tag


@pytest.mark.parametrize("raw", ["", "   ", "a\x00b", "x" * 201])
def test_normalize_tag_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_tag(raw)


@given(st.text(max_size=60))
def test_normalize_tag_idempotent(s: str) -> None:
    try:
        once = normalize_tag(s)
    except ValueError:
        return
    assert normalize_tag(once) == once


@pytest.mark.parametrize("bad", [[], {}, ["2024-01-01"], {"a": 1}, None])
def test_non_scalar_json_values_are_clear_errors(bad: object) -> None:
    with pytest.raises(ValueError, match="string or a number"):
        parse_time(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="string or a number"):
        parse_confidence(bad)  # type: ignore[arg-type]


def test_json_row_with_list_in_a_time_field_is_rejected_not_fatal() -> None:
    import io

    from spoorhound.ingest.formats import read
    from spoorhound.ingest.records import RawRecord, Rejection

    data = b'[{"indicator": "a.example.com", "first_seen": []}, {"indicator": "b.example.com"}]'
    items = list(read("json", io.BytesIO(data)))
    assert [type(i) for i in items] == [Rejection, RawRecord]
