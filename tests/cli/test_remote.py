"""Remote mode: the CLI against a real ``spoorhound serve`` on 127.0.0.1.

One server per module (a subprocess on a free port, its own data directory); the
CLI runs in-process with ``--server``/``--key`` (or the environment variables) and
its output is compared with the local commands' output on the same database.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from spoorhound.cli.main import cli
from spoorhound.client import Client, NotFound

SEED = "evil.example.com\n198.51.100.7\nhttp://evil.example.com/gate.php\n"


@dataclass
class Server:
    """A running ``spoorhound serve``: its URL, admin key, data dir and log file."""

    url: str
    key: str
    data_dir: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("remote")
    data = root / "data"
    exe = [sys.executable, "-m", "spoorhound.cli"]
    env = {**os.environ, "SPOORHOUND_DATA_DIR": str(data)}
    env.pop("SPOORHOUND_SERVER", None)
    subprocess.run([*exe, "init"], env=env, check=True, capture_output=True)
    port = _free_port()
    log = root / "serve.log"
    with open(root / "serve.out", "wb") as out, open(log, "wb") as errf:
        proc = subprocess.Popen(
            [*exe, "serve", "--port", str(port)], env=env, stdout=out, stderr=errf
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start: {log.read_text()}")
            time.sleep(0.1)
        key = (root / "serve.out").read_text().split()[0]
        yield Server(url, key, data, log)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def remote(server: Server, *args: str, key: str | None = None, input: str | None = None) -> Result:
    """Run the CLI against ``server`` (no local data directory involved)."""
    runner = CliRunner()
    return runner.invoke(
        cli, ["--server", server.url, "--key", key or server.key, *args], input=input
    )


def local(server: Server, *args: str) -> Result:
    """Run the CLI locally on the server's own database."""
    return CliRunner().invoke(cli, ["--data-dir", str(server.data_dir), *args])


@pytest.fixture(scope="module")
def seeded(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Server:
    path = tmp_path_factory.mktemp("seed") / "iocs.txt"
    path.write_text(SEED)
    r = remote(server, "ingest", str(path), "--enclave", "default", "--tag", "c2", "--json")
    assert r.exit_code == 0, r.output
    return server


def test_ingest_submits_a_job_and_prints_the_local_summary(seeded: Server, tmp_path: Path) -> None:
    path = tmp_path / "more.csv"
    path.write_text("value,tags\n203.0.113.5,scan\nnot an indicator at all!,x\n")
    r = remote(seeded, "ingest", str(path), "--enclave", "default", "--source", "partner")
    assert r.exit_code == 0, r.output
    assert "ingested more.csv (csv) into enclave default" in r.stderr
    assert "rejected" in r.stderr and "line 3" in r.stderr
    j = json.loads(remote(seeded, "ingest", str(path), "--enclave", "default", "--json").stdout)
    assert (j["status"], j["rows"], j["accepted"], j["rejected"]) == ("done", 2, 1, 1)
    assert j["errors"][0]["line"] == 3
    shown = remote(seeded, "jobs", "show", j["job_id"], "--json")
    assert json.loads(shown.stdout)["status"] == "done"


def test_ingest_from_stdin_and_refused_local_options(seeded: Server) -> None:
    r = remote(seeded, "ingest", "-", "--enclave", "default", "--tlp", "amber", "--json",
               input="192.0.2.44\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["new"] == 1
    looked = json.loads(remote(seeded, "lookup", "192.0.2.44", "--json").stdout)
    assert looked[0]["observations"][0]["tlp"] == "amber"
    bad = remote(seeded, "ingest", "-", "--map", "value=x", input="192.0.2.45\n")
    assert bad.exit_code == 2 and "--map: not available with --server" in bad.output
    missing = remote(seeded, "ingest", "-", "--enclave", "nowhere", input="192.0.2.46\n")
    assert missing.exit_code == 1 and "not found" in missing.output


def test_lookup_search_stats_enclaves_match_local_output(seeded: Server) -> None:
    for args in (
        ("lookup", "hxxp://evil[.]example[.]com/gate.php", "--json"),
        ("lookup", "198.51.100.7", "--csv"),
        ("search", "--tag", "c2", "--json"),
        ("search", "--value", "*.example.com", "--type", "domain", "--csv"),
        ("search", "--since", "1d", "--source", "manual", "--json"),
        ("search", "-q", "type = url or type = ipv4", "--tag", "c2", "--json"),
        ("stats", "--json"),
        ("enclave", "list", "--json"),
    ):
        r, lo = remote(seeded, *args), local(seeded, *args)
        assert r.exit_code == lo.exit_code == 0, (args, r.output, lo.output)
        assert r.stdout == lo.stdout, (args, r.stdout, lo.stdout)
    table = remote(seeded, "lookup", "evil.example.com").stdout
    assert "evil.example.com (domain)" in table and "tags in default: c2" in table


def test_lookup_not_found_exits_1(seeded: Server) -> None:
    r = remote(seeded, "lookup", "absent.example.org")
    assert r.exit_code == 1 and "not found" in r.stderr
    j = remote(seeded, "lookup", "absent.example.org", "--json")
    assert j.exit_code == 1 and json.loads(j.stdout) == []


def test_tag_add_and_remove(seeded: Server) -> None:
    r = remote(seeded, "tag", "add", "watch", "--enclave", "default", "--type", "domain")
    assert r.exit_code == 0 and "tagged 1 indicators in enclave default with 'watch'" in r.stderr
    found = json.loads(remote(seeded, "search", "--tag", "watch", "--json").stdout)
    assert [f["value"] for f in found] == ["evil.example.com"]
    r = remote(seeded, "tag", "remove", "watch", "--enclave", "default", "--value", "evil")
    assert r.exit_code == 0 and "untagged 1" in r.stderr
    assert json.loads(remote(seeded, "search", "--tag", "watch", "--json").stdout) == []
    assert remote(seeded, "tag", "add", "x", "--enclave", "default").exit_code == 2


def test_environment_variables_select_remote_mode(seeded: Server) -> None:
    env = {"SPOORHOUND_SERVER": seeded.url, "SPOORHOUND_KEY": seeded.key}
    r = CliRunner(env=env).invoke(cli, ["search", "--json"])
    assert r.exit_code == 0, r.output
    assert "evil.example.com" in {f["value"] for f in json.loads(r.stdout)}


def test_commands_without_a_remote_form_are_refused(seeded: Server) -> None:
    for args in (("init",), ("db", "upgrade"), ("serve",), ("enclave", "grant", "a", "b")):
        r = remote(seeded, *args)
        assert r.exit_code == 2, args
        assert "has no remote form" in r.output, args


def test_key_is_never_printed_or_logged(seeded: Server) -> None:
    with Client(seeded.url, seeded.key) as api:
        reader = api.create_key(scope="read")["key"]
    outputs = [
        remote(seeded, "tag", "add", "x", "--enclave", "default", "--type", "domain", key=reader),
        remote(seeded, "lookup", "evil.example.com", key=reader),
        remote(seeded, "lookup", "x", key=reader + "x"),
        remote(seeded, "jobs", "show", "nope", key=reader),
        remote(seeded, "--help", key=reader),
        remote(seeded, "init", key=reader),
    ]
    assert outputs[0].exit_code == 1 and "HTTP 403" in outputs[0].output
    assert outputs[2].exit_code == 1 and "refused the key (HTTP 401)" in outputs[2].output
    for r in outputs:
        assert reader not in r.output and reader.split("_")[2] not in r.output
    log = seeded.log.read_text()
    assert seeded.key not in log and reader not in log


def test_unreachable_server_and_missing_key(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    r = CliRunner().invoke(cli, ["--server", url, "--key", "sk_a_b", "stats"])
    assert r.exit_code == 1 and "ConnectError" in r.output and "sk_a_b" not in r.output
    r = CliRunner(env={"SPOORHOUND_KEY": ""}).invoke(cli, ["--server", url, "stats"])
    assert r.exit_code == 2 and "needs an API key" in r.output


def test_client_saved_searches_and_reports(seeded: Server, tmp_path: Path) -> None:
    doc = tmp_path / "advisory.md"
    doc.write_text(
        "# Nightjar\n\nC2 at c2.nightjar-ops.net and 203.0.113.77, again c2.nightjar-ops.net.\n"
    )
    r = remote(seeded, "ingest", str(doc), "--enclave", "default", "--tlp", "amber", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["format"] == "markdown", r.output
    with Client(seeded.url, seeded.key) as api:
        saved = api.save_search("c2 hosts", "tag = c2 and type = domain")
        assert saved["owner"] == "admin"
        assert [s["name"] for s in api.saved_searches()] == ["c2 hosts"]
        assert api.saved_search("c2 hosts")["query"] == "tag = c2 and type = domain"
        run = api.run_saved_search("c2 hosts")
        assert [i["value"] for i in run["indicators"]] == ["evil.example.com"]
        api.delete_saved_search("c2 hosts")
        assert api.saved_searches() == []
        page = api.reports()
        # 203.0.113.77 (a documentation range) is skipped by the server's warninglists
        assert [(x["title"], x["tlp"], x["indicators"]) for x in page["reports"]] == [
            ("Nightjar", "amber", 1)
        ]
        report = api.report(page["reports"][0]["id"])
        assert report["indicators"][0] == {
            **report["indicators"][0], "value": "c2.nightjar-ops.net", "occurrences": 2,
        }  # fmt: skip


def test_export_remote_equals_local_and_is_written_atomically(
    seeded: Server, tmp_path: Path
) -> None:
    args = ("export", "--tag", "c2", "--format", "jsonl", "--include-safelisted")
    out = tmp_path / "c2.jsonl"
    r = remote(seeded, *args, "-o", str(out))
    assert r.exit_code == 0, r.output
    assert f"to {out}" in r.stderr and "TLP:" in r.stderr
    here = local(seeded, *args)
    assert here.exit_code == 0, here.output
    assert out.read_text() == here.stdout
    values = {json.loads(line)["value"] for line in here.stdout.splitlines()}
    assert {"evil.example.com", "http://evil.example.com/gate.php"} <= values
    # a query the server refuses: exit 1 with its message, the old file untouched
    r = remote(seeded, "export", "-q", "risk >>= high", "-o", str(out))
    assert r.exit_code == 1 and "422" in r.output
    assert out.read_text() == here.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["c2.jsonl"]


def test_client_scores_verdicts_pins_and_sightings(seeded: Server) -> None:
    v = "zq-remote-c2.top"
    with Client(seeded.url, seeded.key) as api:
        api.create_indicator(v, "default", source="ir-team", confidence=40)
        before = api.score(v)["score"]
        assert before is not None and before["score"] < 90 and before["pinned"] is None
        pinned = api.pin(v, "critical", "default", comment="seen on the proxy")["score"]
        assert pinned["risk"] == "critical" and pinned["pinned"]["by"] == "admin"
        assert pinned["risk_recommended"] == before["risk"]  # the formula's level stays visible
        assert api.unpin(v, "default")["score"]["pinned"] is None
        with pytest.raises(NotFound):
            api.unpin(v, "default")
        after = api.add_verdict(v, "malicious", "default", comment="IR-12")["score"]
        assert after["score"] >= 90 > before["score"]  # confirmed malicious floors the score
        assert [(x["verdict"], x["comment"]) for x in api.verdicts(v)] == [("malicious", "IR-12")]
        seen = api.add_sighting(v, "default", location="proxy-1")["score"]
        assert any(f["kind"] == "sighting" for f in seen["risk_factors"])
        assert {"name": "ir-team", "reliability": 3, "indicators": 1} in api.sources()


def test_verdict_pin_unpin_sighting_remote(seeded: Server) -> None:
    v = "zq-remote-cli.top"
    with Client(seeded.url, seeded.key) as api:
        api.create_indicator(v, "default", source="ir-team")
    r = remote(seeded, "pin", v, "high", "--enclave", "default", "--until", "30d")
    assert r.exit_code == 0, r.output
    assert f"{v} pinned to high in default" in r.stderr and "risk high" in r.stdout
    assert "pinned by admin" in r.stdout
    r = remote(seeded, "unpin", v, "--enclave", "default")
    assert r.exit_code == 0 and "unpinned" in r.stderr, r.output
    r = remote(seeded, "unpin", v, "--enclave", "default")
    assert r.exit_code == 1 and "no pin in that enclave" in r.output
    r = remote(seeded, "verdict", v, "false-positive", "--enclave", "default", "--json")
    assert r.exit_code == 0, r.output
    score = json.loads(r.stdout)["score"]
    assert score["score"] == 0 and any(f["kind"] == "verdict" for f in score["risk_factors"])
    r = remote(seeded, "sighting", v, "--enclave", "default", "--at", "-2h", "--location", "fw-1")
    assert r.exit_code == 0 and f"sighting of {v} recorded in default" in r.stderr, r.output
    # the local view of the same database agrees
    looked = json.loads(local(seeded, "lookup", v, "--json").stdout)[0]
    assert looked["risk_detail"]["score"] == 0
    # a read-only key may not write
    with Client(seeded.url, seeded.key) as api:
        ro = api.create_key(scope="read", name="ro")["key"]
    r = remote(seeded, "pin", v, "low", "--enclave", "default", key=ro)
    assert r.exit_code == 1 and "403" in r.output


def test_client_edits_safelists_enrichment_and_audit(seeded: Server) -> None:
    v = "zq-client-edit.top"
    with Client(seeded.url, seeded.key) as api:
        api.create_indicator(v, "default", source="ir-team", tlp="green")
        got = api.update_indicator(v, "default", source="ir-team", tlp="amber",
                                   add_tags=["ddos"])  # fmt: skip
        ind = got["indicators"][0]
        obs = [o for o in ind["observations"] if o["source"] == "ir-team"]
        assert obs[0]["tlp"] == "amber" and "ddos" in ind["tags"]["default"], ind
        # safelists: add an entry, the value is vetoed; remove it, the veto ends
        api.create_safelist("corp", "our own names")
        entry = api.add_safelist_entry("corp", v, reason="ours after all")
        assert api.check_safelist(v, warninglists=False)["safelisted"] is True
        assert api.score(v)["score"]["score"] == 0
        assert [s["entries"] for s in api.safelists() if s["name"] == "corp"] == [1]
        assert api.safelist("corp")["entries"][0]["pattern"] == v
        api.remove_safelist_entry("corp", entry["id"])
        assert api.check_safelist(v, warninglists=False)["safelisted"] is False
        api.delete_safelist("corp")
        with pytest.raises(NotFound):
            api.safelist("corp")
        # an enrichment job with an offline provider, followed to its end
        job = api.wait_job(api.enrich(value=v, providers=["ipclass", "lexical"]), timeout=60)
        assert job["status"] == "done", job
        # delete: gone for good once no observation is left
        assert api.delete_indicator(v, "default")["deleted"] >= 1
        with pytest.raises(NotFound):
            api.indicator(v)
        actions = [a["action"] for a in api.audit(limit=50)]
        assert {"safelist.create", "safelist.entry.add", "safelist.entry.remove"} <= set(actions)
        me = api.me()
        assert api.user(me["name"])["name"] == me["name"]
        key_id = api.keys()[0]["id"]
        assert api.key(key_id)["id"] == key_id and "secret" not in str(api.key(key_id)).lower()
