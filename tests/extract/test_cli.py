"""The ``extract`` Click command, run in-process."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from spoorhound.cli import extract_cmd as cmd
from spoorhound.cli.extract_cmd import extract
from spoorhound.reference.warninglists import SafelistIndex

TEXT = "C2 hxxp://evil-c2[.]xyz/gate.php from 23.95.97.59 and 10.0.0.1\nsha256 2f3ec0e4998909bb0efab13c82d30708ca9f88679e42b75ef13ea0466951d862\n"


def run(args: list[str], data: str = TEXT) -> str:
    result = CliRunner().invoke(extract, args, input=data)
    assert result.exit_code == 0, result.output
    return result.output


def test_json_from_stdin() -> None:
    rows = json.loads(run(["-", "--json"]))
    values = {(r["type"], r["value"]) for r in rows}
    assert ("url", "http://evil-c2.xyz/gate.php") in values
    assert ("ipv4", "23.95.97.59") in values


def test_csv_defang_and_types() -> None:
    out = run(["-", "--csv", "--defang", "--types", "url", "--types", "ipv4"])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["type"] for r in rows} == {"url", "ipv4"}
    assert all("[.]" in r["value"] for r in rows)


def test_table_and_file(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text(TEXT)
    out = run([str(path)])
    assert "sha256" in out and "indicators in" in out


def test_no_safelisted_drops_private_ranges(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a two-list index keeps the test fast; the full index is covered by the bench
    small = SafelistIndex.load(["rfc1918", "rfc5735"])
    monkeypatch.setattr(cmd.SafelistIndex, "load", classmethod(lambda cls, **kw: small))
    monkeypatch.setenv("SPOORHOUND_DATA_DIR", str(tmp_path))
    rows = json.loads(run(["-", "--json", "--no-safelisted", "--types", "ipv4"]))
    assert "10.0.0.1" not in {r["value"] for r in rows}


def test_bad_input_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00\x01" * 100)
    result = CliRunner().invoke(extract, [str(path)])
    assert result.exit_code != 0
    assert "binary data" in result.output


def test_json_and_csv_are_exclusive() -> None:
    result = CliRunner().invoke(extract, ["-", "--json", "--csv"], input="x")
    assert result.exit_code == 2
