"""Bounded fuzzing: arbitrary bytes into every reader give reader items or an
InputError, never another exception and never a hang."""

from __future__ import annotations

import gzip
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spoorhound.ingest import READERS, InputError, ReadOptions, open_input, read, sniff_format
from spoorhound.ingest.records import RawRecord, Rejection, Skip

# Bytes biased towards the shapes readers care about, so the fuzzer reaches past the
# binary check and into the parsers.
_FRAGMENTS = st.sampled_from(
    [
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b'"',
        b"\n",
        b"\r",
        b"\r\n",
        b"#",
        b" ",
        b"\t",
        b'"type": "bundle"',
        b'"objects": [',
        b'"type": "indicator"',
        b'"pattern": "[ipv4-addr:value = \'1.2.3.4\']"',
        b'"Event": {',
        b'"Attribute": [',
        b'"type": "ip-dst|port"',
        b'"value": "1.2.3.4|80"',
        b"value,tags,first_seen\n",
        b"a.com,x,2020-01-01\n",
        b"\xff",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"\x00",
        b"1.2.3.4",
        b"http://x/",
        b"null",
        b"true",
        b"12",
        b"'",
    ]
)
FUZZ_BYTES = st.one_of(
    st.binary(max_size=2000),
    st.lists(_FRAGMENTS, max_size=60).map(b"".join),
)


def _check(fmt: str, data: bytes) -> None:
    try:
        for item in read(fmt, io.BytesIO(data), ReadOptions(name="fuzz")):
            assert isinstance(item, RawRecord | Rejection | Skip)
            if isinstance(item, RawRecord):
                assert isinstance(item.value, str) and item.value
    except InputError:
        pass


@pytest.mark.fuzz
@pytest.mark.parametrize("fmt", sorted(READERS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=FUZZ_BYTES)
def test_reader_fuzz(fmt: str, data: bytes) -> None:
    _check(fmt, data)


@pytest.mark.fuzz
@settings(max_examples=300, deadline=None)
@given(data=FUZZ_BYTES, compress=st.booleans())
def test_open_sniff_read_fuzz(data: bytes, compress: bool) -> None:
    raw = gzip.compress(data) if compress else data
    try:
        with open_input(io.BytesIO(raw), name="fuzz") as inp:
            head = inp.raw.peek(8192)[:8192]
            fmt = sniff_format(head, None)
            if fmt == "text":
                fmt = "plain"
            for item in read(fmt, inp.raw):
                assert isinstance(item, RawRecord | Rejection | Skip)
    except InputError:
        pass
