"""Bounded fuzzing: arbitrary input gives Candidates or DocumentError, never anything else."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spoorhound.core.extract import Candidate, extract
from spoorhound.ingest.documents import KINDS, DocumentError, DocumentLimits, extract_document

pytestmark = pytest.mark.fuzz

# Characters that drive the extractor's patterns, so random text reaches deep paths.
ALPHABET = st.sampled_from(
    [*list("a0f9.:/[]()@\\-_ hxtp%\nAZ{}\"'x1T"), "[.]", "hxxp", "://", "CVE-", "HKLM\\"]
)
TEXTS = st.one_of(st.text(max_size=300), st.lists(ALPHABET, max_size=120).map("".join))
LIMITS = DocumentLimits(max_seconds=5.0)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_extract_never_raises(text: str) -> None:
    for c in extract(text):
        assert isinstance(c, Candidate)
        assert text[c.start : c.end] == c.span


HEADS = {
    "pdf": b"%PDF-1.4\n",
    "docx": b"PK\x03\x04",
    "eml": b"From: a@b.com\nSubject: x\n\n",
    "html": b"<html><body>",
    "markdown": b"# t\n",
    "text": b"",
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), body=st.binary(max_size=400))
def test_front_ends_never_raise_anything_else(kind: str, body: bytes) -> None:
    data = HEADS[kind] + body
    try:
        cands = extract_document(io.BytesIO(data), f"fuzz.{kind}", limits=LIMITS, kind=kind)
    except DocumentError as exc:
        assert exc.name == f"fuzz.{kind}"
        return
    assert all(isinstance(c, Candidate) for c in cands)
