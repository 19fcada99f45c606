"""``spoorhound user|key|enclave grant|revoke``, on a copy of the main group."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from spoorhound.cli.access_cmd import register
from spoorhound.cli.main import cli
from spoorhound.services import access
from spoorhound.storage.engine import Store

Run = Callable[..., Result]


def _group() -> click.Group:
    # A copy, so registering here never changes the real group other tests use.
    commands = dict(cli.commands)
    if isinstance(enclave := commands.get("enclave"), click.Group):
        commands["enclave"] = click.Group("enclave", commands=dict(enclave.commands))
    group = click.Group("spoorhound", params=cli.params, callback=cli.callback, commands=commands)
    register(group)
    return group


@pytest.fixture
def run(tmp_path: Path) -> Run:
    group, runner = _group(), CliRunner()

    def invoke(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(group, ["--data-dir", str(tmp_path / "data"), *args])
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    invoke("init")
    return invoke


def test_users_keys_and_grants_from_the_command_line(run: Run, tmp_path: Path) -> None:
    key = run("user", "add", "alice", "--role", "analyst", "--key").stdout.strip()
    assert key.startswith("sk_") and "\n" not in key
    run("enclave", "grant", "default", "alice", "--permission", "write")
    users = json.loads(run("user", "list", "--json").stdout)
    assert users[0]["name"] == "alice" and users[0]["enclaves"] == ["default:write"]

    narrow = run(
        "key", "create", "alice", "--scope", "write", "--enclave", "default", "--name", "ci"
    ).stdout.strip()
    keys = json.loads(run("key", "list", "--user", "alice", "--json").stdout)
    assert [k["scope"] for k in keys] == ["write", "read"]
    assert keys[0]["enclaves"] == ["default"] and keys[0]["name"] == "ci"
    listing = run("key", "list", "--json").stdout
    assert narrow.split("_", 2)[2] not in listing and key.split("_", 2)[2] not in listing

    store = Store(f"sqlite:///{tmp_path / 'data' / 'spoorhound.db'}")
    try:
        caller = access.authenticate(store, narrow)
        assert caller.name == "alice" and dict(caller.permissions) == {"default": "write"}
        run("key", "revoke", str(keys[1]["id"]))
        assert "already revoked" in run("key", "revoke", str(keys[1]["id"])).stderr
        with pytest.raises(access.InvalidKey, match="revoked"):
            access.authenticate(store, key)
        run("enclave", "revoke", "default", "alice")
        assert dict(access.authenticate(store, narrow).permissions) == {}
        run("user", "disable", "alice")
        with pytest.raises(access.InvalidKey, match="disabled"):
            access.authenticate(store, narrow)
        run("user", "enable", "alice")
        access.authenticate(store, narrow)
    finally:
        store.dispose()


def test_errors_are_clear(run: Run) -> None:
    r = run("user", "add", "bob", "--role", "read-only")
    r = run("key", "create", "bob", "--scope", "write", ok=False)
    assert r.exit_code == 1 and "read-only" in r.output
    r = run("enclave", "grant", "nowhere", "bob", ok=False)
    assert r.exit_code == 1 and "no enclave 'nowhere'" in r.output
    r = run("key", "revoke", "999", ok=False)
    assert r.exit_code == 1 and "no key 999" in r.output
