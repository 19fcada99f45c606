"""``spoorhound export``: mass export by tag / filter / query, with the API's TLP and
safelist rules, written atomically."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import stix2
from click.testing import CliRunner, Result

from spoorhound.cli.main import cli


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, ok: bool = True) -> Result:
        result = runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), *args], input=input)
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    invoke("init")
    ingest = ("ingest", "-", "--no-score", "--json")
    invoke(*ingest, "--enclave", "ops", "--tag", "APT28", "--tlp", "amber",
           input="zq-apt-staging.xyz\n203.0.113.77\n")  # fmt: skip
    invoke(*ingest, "--enclave", "ops", "--tag", "APT28", "--tlp", "red",
           input="zq-red-only.top\n")  # fmt: skip
    invoke(*ingest, "--enclave", "ops", "--tag", "ddos", "--tlp", "green",
           input="zq-booter.top\n")  # fmt: skip
    invoke(*ingest, "--enclave", "partner", "--tag", "APT28", "--tlp", "green",
           input="zq-partner-only.top\n")  # fmt: skip
    invoke(*ingest, "--enclave", "ops", "--tag", "APT28", "--type", "regkey",
           input="HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\zqsvc\n")  # fmt: skip
    invoke(*ingest, "--enclave", "ops", "--tag", "exploited", input="CVE-2024-3400\n")
    return invoke


def _jsonl(text: str) -> dict[str, dict[str, object]]:
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return {str(r["value"]): r for r in rows}


def test_export_by_tag_leaves_red_home_and_reports_its_tlp(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "apt28.jsonl"
    r = run("export", "--tag", "APT28", "--format", "jsonl", "-o", str(out))
    rows = _jsonl(out.read_text())
    assert set(rows) == {
        "zq-apt-staging.xyz", "203.0.113.77", "zq-partner-only.top",
        "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\zqsvc",
    }  # fmt: skip
    assert "zq-red-only.top" not in out.read_text()  # TLP:RED never leaves its enclave
    assert "exported 4 indicator(s)" in r.stderr and "TLP:AMBER" in r.stderr
    assert rows["zq-apt-staging.xyz"]["tlp"] == "amber"
    # --enclave exports what that enclave holds, and the TLP follows what is included
    r = run("export", "--tag", "APT28", "--enclave", "partner", "--format", "plain")
    assert r.stdout.split() == ["zq-partner-only.top"] and "TLP:GREEN" in r.stderr


def test_export_query_and_filters_combine(run) -> None:  # type: ignore[no-untyped-def]
    r = run("export", "-q", "type = domain or type = ipv4", "--tag", "APT28", "--format", "csv")
    values = {row["value"] for row in csv.DictReader(io.StringIO(r.stdout))}
    assert values == {"zq-apt-staging.xyz", "203.0.113.77", "zq-partner-only.top"}
    r = run("export", "--tag", "ddos", "--format", "plain")
    assert r.stdout.split() == ["zq-booter.top"]


def test_stix_export_is_valid_and_says_what_stix_cannot_express(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "apt28.json"
    r = run("export", "--tag", "APT28", "--format", "stix", "-o", str(out))
    bundle = stix2.parse(out.read_text(), allow_custom=False)
    patterns = [o.pattern for o in bundle.objects if o.type == "indicator"]
    assert len(patterns) == 4 and any("zq-apt-staging.xyz" in p for p in patterns)
    assert "exported 4 indicator(s)" in r.stderr and "left out" not in r.stderr
    # a CVE has no STIX pattern: it is left out of the bundle, and the user is told
    r = run("export", "--format", "stix", "--tag", "exploited")
    empty = stix2.parse(r.stdout, version="2.1")  # STIX 2.1: no `objects` rather than []
    assert empty.type == "bundle" and "objects" not in json.loads(r.stdout)
    assert "exported 0 indicator(s)" in r.stderr and "STIX has no pattern for cve 1" in r.stderr


def test_bad_query_is_a_usage_error_and_leaves_the_old_file_alone(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "keep.csv"
    out.write_text("previous export\n")
    r = run("export", "-q", "risk >>= high", "-o", str(out), ok=False)
    assert r.exit_code == 2 and "bad query" in r.output
    assert out.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".keep")] == []
