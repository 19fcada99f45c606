"""Access-control commands: ``user add|list|disable|enable``, ``key create|list|revoke``,
``enclave grant|revoke``.

Registered on the main group by :func:`register`. The CLI works on its own database
as the local administrator, so these commands need no key; changes are audited with
actor ``cli``. A new key is printed alone on stdout (everything else goes to stderr),
so ``KEY=$(spoorhound key create alice)`` captures it; it is never shown again.
"""

from __future__ import annotations

from typing import Any, cast

import click
from rich.console import Console

from spoorhound.cli.output import emit
from spoorhound.cli.state import state as _state
from spoorhound.services import access
from spoorhound.services.access import KEY_SCOPES, PERMISSIONS, ROLES, NewKey
from spoorhound.services.jobs import now
from spoorhound.storage.engine import Store

__all__ = ["register"]

err = Console(stderr=True)
ACTOR = "cli"


def _store(ctx: click.Context) -> Store:
    return _state(ctx).store()


def _fmt_options(f: Any) -> Any:
    f = click.option("--csv", "fmt", flag_value="csv", help="Output CSV.")(f)
    return click.option("--json", "fmt", flag_value="json", help="Output JSON.")(f)


def _fail(e: Exception) -> click.ClickException:
    return click.ClickException(str(e))


def _print_key(new: NewKey) -> None:
    where = ", ".join(new.enclaves) if new.enclaves else "all of the user's enclaves"
    err.print(
        f"[green]created[/] {new.scope} key [bold]{new.prefix}[/] (id {new.id}) for "
        f"{new.user}, {where}. Store it now: it cannot be shown again."
    )
    click.echo(new.key)


@click.group("user")
def user_group() -> None:
    """Manage users (roles: admin, analyst, read-only)."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="analyst", show_default=True)
@click.option("--key", "with_key", is_flag=True, help="Also create an API key and print it.")
@click.option("--key-scope", type=click.Choice(KEY_SCOPES), default="read", show_default=True)
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str, with_key: bool, key_scope: str) -> None:
    """Create user NAME."""
    store = _store(ctx)
    try:
        access.create_user(store, name, cast(access.Role, role), actor=ACTOR)
        err.print(f"created user {name!r} ({role})")
        if with_key:
            _print_key(
                access.create_key(store, name, scope=cast(access.KeyScope, key_scope), actor=ACTOR)
            )
    except (access.AccessError, ValueError) as e:
        raise _fail(e) from None


@user_group.command("list")
@_fmt_options
@click.pass_context
def user_list(ctx: click.Context, fmt: str | None) -> None:
    """List users with their enclave permissions."""
    rows = [
        {**u, "enclaves": [f"{e}:{p}" for e, p in sorted(u["enclaves"].items())]}
        for u in access.list_users(_store(ctx))
    ]
    emit(rows, ["name", "role", "disabled", "enclaves", "created_at"], fmt=fmt or "table")


def _set_disabled(ctx: click.Context, name: str, disabled: bool) -> None:
    try:
        changed = access.update_user(_store(ctx), name, disabled=disabled, actor=ACTOR)["changed"]
    except (access.AccessError, ValueError) as e:
        raise _fail(e) from None
    state = "disabled" if disabled else "enabled"
    err.print(f"user {name!r} {state}" if changed else f"user {name!r} was already {state}")


@user_group.command("disable")
@click.argument("name")
@click.pass_context
def user_disable(ctx: click.Context, name: str) -> None:
    """Disable user NAME: every key of theirs stops working at once."""
    _set_disabled(ctx, name, True)


@user_group.command("enable")
@click.argument("name")
@click.pass_context
def user_enable(ctx: click.Context, name: str) -> None:
    """Re-enable user NAME (their unrevoked keys work again)."""
    _set_disabled(ctx, name, False)


@click.group("key")
def key_group() -> None:
    """Manage API keys (shown once at creation, stored hashed)."""


@key_group.command("create")
@click.argument("user")
@click.option("--scope", type=click.Choice(KEY_SCOPES), default="read", show_default=True)
@click.option(
    "--enclave",
    "enclaves",
    multiple=True,
    help="Restrict the key to this enclave (repeatable; default: all of the user's).",
)
@click.option("--name", help="A label, e.g. where the key is used.")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), help="Expire after N days.")
@click.pass_context
def key_create(
    ctx: click.Context,
    user: str,
    scope: str,
    enclaves: tuple[str, ...],
    name: str | None,
    expires_in_days: int | None,
) -> None:
    """Create an API key for USER and print it (once)."""
    try:
        new = access.create_key(
            _store(ctx),
            user,
            scope=cast(access.KeyScope, scope),
            enclaves=list(enclaves) or None,
            name=name,
            expires_at=now() + expires_in_days * 86400 if expires_in_days else None,
            actor=ACTOR,
        )
    except (access.AccessError, ValueError) as e:
        raise _fail(e) from None
    _print_key(new)


@key_group.command("list")
@click.option("--user", help="Only this user's keys.")
@_fmt_options
@click.pass_context
def key_list(ctx: click.Context, user: str | None, fmt: str | None) -> None:
    """List keys (prefix, scope, enclaves, last use); secrets are never stored."""
    rows = access.list_keys(_store(ctx), user)
    columns = ["id", "user", "prefix", "name", "scope", "enclaves", "created_at"]
    columns += ["last_used_at", "expires_at", "revoked_at"]
    emit(rows, columns, fmt=fmt or "table")


@key_group.command("revoke")
@click.argument("key_id", type=int)
@click.pass_context
def key_revoke(ctx: click.Context, key_id: int) -> None:
    """Revoke key KEY_ID (see `key list`); it stops working at once."""
    try:
        revoked = access.revoke_key(_store(ctx), key_id, actor=ACTOR)
    except access.AccessError as e:
        raise _fail(e) from None
    err.print(f"key {key_id} revoked" if revoked else f"key {key_id} was already revoked")


@click.command("grant")
@click.argument("enclave")
@click.argument("user")
@click.option("--permission", type=click.Choice(PERMISSIONS), default="read", show_default=True)
@click.pass_context
def enclave_grant(ctx: click.Context, enclave: str, user: str, permission: str) -> None:
    """Give USER PERMISSION in ENCLAVE (adds or changes the membership)."""
    try:
        access.set_member(
            _store(ctx), enclave, user, cast(access.Permission, permission), actor=ACTOR
        )
    except (access.AccessError, ValueError) as e:
        raise _fail(e) from None
    err.print(f"{user!r} has {permission} in enclave {enclave!r}")


@click.command("revoke")
@click.argument("enclave")
@click.argument("user")
@click.pass_context
def enclave_revoke(ctx: click.Context, enclave: str, user: str) -> None:
    """Remove USER from ENCLAVE."""
    try:
        removed = access.remove_member(_store(ctx), enclave, user, actor=ACTOR)
    except access.AccessError as e:
        raise _fail(e) from None
    err.print(
        f"{user!r} removed from enclave {enclave!r}"
        if removed
        else f"{user!r} was not a member of {enclave!r}"
    )


def register(cli_group: click.Group) -> None:
    """Add ``user`` and ``key`` to the ``spoorhound`` group, and ``grant`` / ``revoke`` to
    its ``enclave`` group (created if the group has none)."""
    cli_group.add_command(user_group)
    cli_group.add_command(key_group)
    enclave = cli_group.commands.get("enclave")
    if not isinstance(enclave, click.Group):
        enclave = click.Group("enclave", help="Manage enclaves (tenant spaces).")
        cli_group.add_command(enclave)
    enclave.add_command(enclave_grant)
    enclave.add_command(enclave_revoke)
