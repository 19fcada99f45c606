"""The command line, run in-process with Click's runner on a temporary data dir."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from spoorhound.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, ok: bool = True):  # type: ignore[no-untyped-def]
        result = runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), *args], input=input)
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    invoke("init")
    return invoke


def test_init_is_idempotent_and_creates_default_enclave(run) -> None:  # type: ignore[no-untyped-def]
    run("init")
    out = run("enclave", "list", "--json").stdout
    assert [e["name"] for e in json.loads(out)] == ["default"]


def test_ingest_demo_set_then_lookup_search_stats(run) -> None:  # type: ignore[no-untyped-def]
    r = run("ingest", str(ROOT / "examples" / "demo-iocs.csv"), "--enclave", "demo", "--json")
    res = json.loads(r.stdout)
    assert res["status"] == "done" and res["accepted"] == 20 and res["rejected"] == 0
    look = json.loads(run("lookup", "cdn-sync[.]example[.]net", "--json").stdout)
    assert look[0]["type"] == "domain" and look[0]["tags"]["demo"] == ["actor:APT28", "c2"]
    table = run("lookup", "198.51.100.23").stdout
    assert "198.51.100.23" in table and "spoorhound-demo" in table
    found = json.loads(run("search", "--tag", "actor:APT28", "--type", "domain", "--json").stdout)
    assert [f["value"] for f in found] == ["cdn-sync.example.net"]
    wildcard = json.loads(run("search", "--value", "*.example.com", "--json").stdout)
    assert {f["value"] for f in wildcard} == {"login-update.example.com"}
    rows = list(csv.DictReader(io.StringIO(run("search", "--since", "3650d", "--csv").stdout)))
    assert len(rows) == 20
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["enclave"] == {"demo": 20} and stats["type"]["url"] == 2


def test_search_with_the_query_language(run) -> None:  # type: ignore[no-untyped-def]
    run("ingest", str(ROOT / "examples" / "demo-iocs.csv"), "--enclave", "demo")
    found = json.loads(run("search", "-q", "tag = c2 and type in (domain, url)", "--json").stdout)
    assert {f["type"] for f in found} == {"domain", "url"} and len(found) >= 2
    assert all("c2" in f["tags"] for f in found)
    # -q and the filters must all hold; rows carry the stored risk and score
    narrowed = json.loads(
        run("search", "-q", "tag = c2", "--type", "domain", "--limit", "1", "--json").stdout
    )
    assert len(narrowed) == 1 and narrowed[0]["type"] == "domain"
    assert narrowed[0]["risk"] in ("none", "low", "medium", "high", "critical")
    assert isinstance(narrowed[0]["score"], int)
    bad = run("search", "-q", "risk >>= high", ok=False)
    assert bad.exit_code == 2 and "bad query" in bad.output


def test_ingest_from_stdin_with_context_flags(run) -> None:  # type: ignore[no-untyped-def]
    r = run(
        "ingest", "-", "--enclave", "e", "--tag", "ddos", "--tlp", "amber", "--confidence", "high",
        "--source", "pasted", "--json", input="203.0.113.9\nexample.org\n",
    )  # fmt: skip
    assert json.loads(r.stdout)["new"] == 2
    [ind] = json.loads(run("lookup", "203.0.113.9", "--json").stdout)
    obs = ind["observations"][0]
    assert (obs["tlp"], obs["confidence"], obs["source"]) == ("amber", 85, "pasted")


def test_bad_input_exit_code_and_message(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\xff" * 100)
    r = run("ingest", str(binary), ok=False)
    assert r.exit_code == 1
    assert "binary" in r.output and "nothing was written" in r.output
    r = run("ingest", "-", "--tlp", "purple", ok=False)
    assert r.exit_code == 2 and "unknown TLP" in r.output
    r = run("ingest", str(tmp_path / "missing.txt"), ok=False)
    assert r.exit_code == 1 and "cannot open" in r.output


def test_rejected_rows_are_listed_with_lines(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "mixed.txt"
    f.write_text(
        "example.com\nnot an indicator\n1.2.3.999\nexample.org\n8.8.8.8\nhttp://x.example.com/a\n"
    )
    r = run("ingest", str(f), "--json")
    res = json.loads(r.stdout)
    assert res["format"] == "plain" and res["accepted"] == 4
    assert [(e["line"], e["kind"]) for e in res["errors"]] == [(2, "rejected"), (3, "rejected")]
    human = run("ingest", str(f)).output
    assert "line 2" in human and "line 3" in human


def test_column_mapping_option(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "odd.csv"
    f.write_text("foo,bar\nexample.com,c2\n")
    res = json.loads(
        run("ingest", str(f), "--map", "value=foo", "--map", "tags=bar", "--json").stdout
    )
    assert res["accepted"] == 1
    assert json.loads(run("lookup", "example.com", "--json").stdout)[0]["tags"] == {
        "default": ["c2"]
    }
    assert run("ingest", str(f), "--map", "nonsense", ok=False).exit_code == 2


def test_bulk_tag_add_and_remove(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("ingest", str(ROOT / "examples" / "demo-iocs.csv"), "--enclave", "demo")
    out = run("tag", "add", "watch:ddos", "--enclave", "demo", "--tag", "ddos").output
    assert re.search(r"tagged 4 indicators", out), out
    assert len(json.loads(run("search", "--tag", "watch:ddos", "--json").stdout)) == 4
    out = run("tag", "remove", "watch:ddos", "--enclave", "demo", "--type", "ipv6").output
    assert "untagged 1 indicators" in out
    assert len(json.loads(run("search", "--tag", "watch:ddos", "--json").stdout)) == 3
    assert run("tag", "add", "x", "--tag", "ddos", ok=False).exit_code == 2  # --enclave required


def test_enclave_create_and_duplicate(run) -> None:  # type: ignore[no-untyped-def]
    run("enclave", "create", "isac-shared", "--description", "partners")
    assert run("enclave", "create", "isac-shared", ok=False).exit_code == 1
    names = [e["name"] for e in json.loads(run("enclave", "list", "--json").stdout)]
    assert names == ["default", "isac-shared"]


def test_lookup_not_found_exits_1(run) -> None:  # type: ignore[no-untyped-def]
    assert run("lookup", "nothing.example.org", ok=False).exit_code == 1


def test_db_commands(run) -> None:  # type: ignore[no-untyped-def]
    run("db", "upgrade")
    out = run("db", "current").stdout
    database, code = (part.split(":")[1].strip() for part in out.strip().split(";"))
    assert database == code != "uninitialised"


def test_uninitialised_database_gives_a_clear_message(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "none"), "search"])
    assert r.exit_code == 1 and "spoorhound init" in r.output


def _commands(group, prefix=()):  # type: ignore[no-untyped-def]
    import click

    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


def test_every_command_is_documented() -> None:
    docs = (ROOT / "docs" / "cli.md").read_text()
    for path, cmd in _commands(cli):
        assert cmd.help or cmd.short_help, path
        assert f"spoorhound {' '.join(path)}" in docs, (
            f"`spoorhound {' '.join(path)}` missing from docs/cli.md"
        )


def test_ingest_with_enrich_then_history(run) -> None:  # type: ignore[no-untyped-def]
    run(
        "ingest",
        str(ROOT / "examples" / "demo-iocs.csv"),
        "--enclave",
        "demo",
        "--enrich",
        "--enrich-provider",
        "ipclass",
    )
    out = run("lookup", "198.51.100.23", "--history").stdout
    assert "ipclass" in out and "documentation" in out
    timeline = json.loads(run("lookup", "198.51.100.23", "--history", "--json").stdout)
    assert timeline[0]["providers"]["ipclass"][0]["status"] == "ok"
