"""``spoorhound safelist …`` run in-process on a temporary data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from spoorhound.cli.main import cli


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), *args])
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    invoke("init")
    return invoke


def test_create_add_show_check_remove_delete(run) -> None:  # type: ignore[no-untyped-def]
    run("safelist", "create", "corporate", "--description", "our own")
    added = json.loads(
        run(
            "safelist", "add", "corporate", "*.Example.COM", "--reason", "our domain",
            "--expires", "30d", "--no-rescore", "--json",
        ).stdout
    )  # fmt: skip
    assert (added["kind"], added["pattern"], added["reason"]) == (
        "domain", "*.example.com", "our domain"
    )  # fmt: skip
    run("safelist", "add", "corporate", "10.0.0.0/8", "--no-rescore")
    run("safelist", "add", "corporate", "cdn[0-9]+\\.ours\\.net", "--kind", "regex", "--no-rescore")
    listed = json.loads(run("safelist", "list", "--json").stdout)
    assert listed == [
        {"name": "corporate", "entries": 3, "expired": 0, "description": "our own",
         "created_at": listed[0]["created_at"]}
    ]  # fmt: skip
    shown = json.loads(run("safelist", "show", "corporate", "--json").stdout)
    assert [e["pattern"] for e in shown["entries"]] == [
        "*.example.com", "10.0.0.0/8", "re:cdn[0-9]+\\.ours\\.net"
    ]  # fmt: skip
    assert "*.example.com" in run("safelist", "show", "corporate", "--csv").stdout

    out = run("safelist", "check", "hxxps://login.example[.]com/x", "--no-warninglists").stdout
    assert "vetoed by safelist 'corporate'" in out and "*.example.com" in out
    hit = json.loads(
        run("safelist", "check", "cdn7.ours.net", "--no-warninglists", "--json").stdout
    )
    assert hit["pattern"] == "re:cdn[0-9]+\\.ours\\.net" and hit["source"] == "safelist"
    assert (
        "not safelisted" in run("safelist", "check", "badexample.com", "--no-warninglists").stdout
    )

    run("safelist", "remove", "corporate", "*.example.com", "--no-rescore")
    run("safelist", "remove", "corporate", str(shown["entries"][1]["id"]), "--no-rescore")
    left = json.loads(run("safelist", "show", "corporate", "--json").stdout)["entries"]
    assert [e["pattern"] for e in left] == ["re:cdn[0-9]+\\.ours\\.net"]
    run("safelist", "delete", "corporate", "--no-rescore")
    assert json.loads(run("safelist", "list", "--json").stdout) == []


def test_errors_are_messages_not_tracebacks(run) -> None:  # type: ignore[no-untyped-def]
    r = run("safelist", "add", "nope", "8.8.8.8", ok=False)
    assert r.exit_code == 1 and "safelist 'nope' not found" in r.output
    run("safelist", "create", "a")
    r = run("safelist", "create", "a", ok=False)
    assert r.exit_code == 1 and "already exists" in r.output
    r = run("safelist", "add", "a", "re:[unclosed", ok=False)
    assert r.exit_code == 1 and "bad regex" in r.output
    r = run("safelist", "add", "a", "10.0.0.0/99", ok=False)
    assert r.exit_code == 1 and "bad CIDR" in r.output
    r = run("safelist", "add", "a", "8.8.8.8", "--expires", "whenever", ok=False)
    assert r.exit_code == 1 and "bad expiry" in r.output
    r = run("safelist", "remove", "a", "8.8.8.8", ok=False)
    assert r.exit_code == 1 and "not on safelist" in r.output
    r = run("safelist", "check", "999.1.1.1", "--type", "ipv4", "--no-warninglists", ok=False)
    assert r.exit_code == 2 and "octet" in r.output


def test_check_names_the_vetoing_warninglist(run) -> None:  # type: ignore[no-untyped-def]
    res = json.loads(run("safelist", "check", "192.168.10.1", "--json").stdout)
    assert (res["safelisted"], res["list"], res["source"]) == (True, "rfc1918", "warninglist")
    out = run("safelist", "check", "d41d8cd98f00b204e9800998ecf8427e").stdout
    assert "vetoed by warninglist" in out
    assert "not safelisted" in run("safelist", "check", "evil.duckdns.org").stdout
