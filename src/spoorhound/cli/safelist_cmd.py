"""Safelist commands: ``safelist create|list|show|add|remove|delete|check``.

The CLI works on its own database as the local administrator; changes are audited
with actor ``cli``. After an entry is added or removed (or a list deleted) the
indicators whose veto changes are rescored, with this data directory's scorer.
"""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console

from spoorhound.cli import score_cmd
from spoorhound.cli.output import emit, emit_json, fmt_time
from spoorhound.cli.state import state as _state
from spoorhound.core.indicators import UnknownType
from spoorhound.services import safelists
from spoorhound.services import scoring as scoring_service
from spoorhound.storage.engine import Store

__all__ = ["safelist_group"]

err = Console(stderr=True)
ACTOR = "cli"
_ENTRY_COLUMNS = ["id", "kind", "pattern", "reason", "expires_at", "expired", "actor", "created_at"]


def _store(ctx: click.Context) -> Store:
    return _state(ctx).store()


def _json_flag(f: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Output JSON.")(f)


def _rescore(ctx: click.Context, store: Store) -> int | None:
    """Rescore the indicators a safelist change vetoes or releases; returns rows written.

    The change is already committed: when the scorer cannot load, say so and go on.
    """
    try:
        scorer = score_cmd.scorer_for(ctx, store)
    except click.ClickException as e:
        err.print(f"[yellow]not rescored[/]: {e.message}; run `spoorhound score rescore` later")
        return None
    return scoring_service.rescore_matching_safelist_change(store, scorer=scorer)


@click.group("safelist")
def safelist_group() -> None:
    """Named safelists: values, *.domains, CIDRs and regexes that veto a score."""


@safelist_group.command("create")
@click.argument("name")
@click.option("--description", help="What the list is for.")
@_json_flag
@click.pass_context
def create_cmd(ctx: click.Context, name: str, description: str | None, as_json: bool) -> None:
    """Create an empty safelist NAME."""
    try:
        row = safelists.create_safelist(_store(ctx), name, description, actor=ACTOR)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        emit_json(row)
    else:
        err.print(f"created safelist {name!r}")


@safelist_group.command("list")
@click.option("--csv", "fmt", flag_value="csv", help="Output CSV.")
@click.option("--json", "fmt", flag_value="json", help="Output JSON.")
@click.pass_context
def list_cmd(ctx: click.Context, fmt: str | None) -> None:
    """Every safelist with its number of live and expired entries."""
    rows = safelists.list_safelists(_store(ctx))
    emit(rows, ["name", "entries", "expired", "description", "created_at"], fmt=fmt or "table")


@safelist_group.command("show")
@click.argument("name")
@click.option("--csv", "fmt", flag_value="csv", help="Output CSV (entries only).")
@click.option("--json", "fmt", flag_value="json", help="Output JSON.")
@click.pass_context
def show_cmd(ctx: click.Context, name: str, fmt: str | None) -> None:
    """The entries of safelist NAME (expired ones included and flagged)."""
    try:
        sl = safelists.get_safelist(_store(ctx), name)
    except LookupError as e:
        raise click.ClickException(str(e)) from None
    if fmt == "json":
        emit_json(sl)
        return
    rows = [{**e, "expires_at": fmt_time(e["expires_at"])} for e in sl["entries"]]
    title = f"{sl['name']}: {sl['description']}" if sl["description"] else sl["name"]
    emit(rows, _ENTRY_COLUMNS, fmt=fmt or "table", title=title)


@safelist_group.command("add")
@click.argument("name")
@click.argument("pattern")
@click.option(
    "--kind",
    type=click.Choice(safelists.KINDS),
    help="value, domain (*.example.com), cidr or regex (re:… or /…/); default: detected.",
)
@click.option("--type", "itype", help="Normalise a value as this indicator type.")
@click.option("--reason", help="Why these values are safe (shown with every veto).")
@click.option("--expires", help="Expiry: a duration (30d, 12h, 2w) or a date (2026-12-31).")
@click.option("--no-rescore", is_flag=True, help="Do not rescore affected indicators now.")
@_json_flag
@click.pass_context
def add_cmd(
    ctx: click.Context,
    name: str,
    pattern: str,
    kind: str | None,
    itype: str | None,
    reason: str | None,
    expires: str | None,
    no_rescore: bool,
    as_json: bool,
) -> None:
    """Add PATTERN to safelist NAME."""
    store = _store(ctx)
    try:
        entry = safelists.add_entry(
            store, name, pattern, kind=kind, itype=itype, reason=reason, expires=expires,
            actor=ACTOR,
        )  # fmt: skip
    except (ValueError, LookupError) as e:
        raise click.ClickException(str(e)) from None
    rescored = None if no_rescore else _rescore(ctx, store)
    if as_json:
        emit_json({**entry, "rescored": rescored})
        return
    until = f", expires {fmt_time(entry['expires_at'])}" if entry["expires_at"] else ""
    err.print(f"added {entry['kind']} {entry['pattern']} to {name!r} (id {entry['id']}{until})")
    if rescored:
        err.print(f"rescored {rescored} indicator score(s)")


@safelist_group.command("remove")
@click.argument("name")
@click.argument("pattern")
@click.option("--kind", type=click.Choice(safelists.KINDS), help="The entry's kind if ambiguous.")
@click.option("--type", "itype", help="The indicator type the value was added as.")
@click.option("--no-rescore", is_flag=True, help="Do not rescore affected indicators now.")
@_json_flag
@click.pass_context
def remove_cmd(
    ctx: click.Context,
    name: str,
    pattern: str,
    kind: str | None,
    itype: str | None,
    no_rescore: bool,
    as_json: bool,
) -> None:
    """Remove PATTERN (as written when added, or the entry id) from safelist NAME."""
    store = _store(ctx)
    try:
        if pattern.isdigit() and kind is None and itype is None:
            entry = safelists.remove_entry_id(store, name, int(pattern), actor=ACTOR)
        else:
            entry = safelists.remove_entry(
                store, name, pattern, kind=kind, itype=itype, actor=ACTOR
            )
    except (ValueError, LookupError) as e:
        raise click.ClickException(str(e)) from None
    rescored = None if no_rescore else _rescore(ctx, store)
    if as_json:
        emit_json({**entry, "rescored": rescored})
    else:
        err.print(f"removed {entry['kind']} {entry['pattern']} from {name!r}")


@safelist_group.command("delete")
@click.argument("name")
@click.option("--no-rescore", is_flag=True, help="Do not rescore affected indicators now.")
@click.pass_context
def delete_cmd(ctx: click.Context, name: str, no_rescore: bool) -> None:
    """Delete safelist NAME and all its entries."""
    store = _store(ctx)
    try:
        n = safelists.delete_safelist(store, name, actor=ACTOR)
    except LookupError as e:
        raise click.ClickException(str(e)) from None
    if not no_rescore:
        _rescore(ctx, store)
    err.print(f"deleted safelist {name!r} ({n} entries)")


@safelist_group.command("check")
@click.argument("value")
@click.option("--type", "itype", help="Indicator type of VALUE (default: detected).")
@click.option("--no-warninglists", is_flag=True, help="Only the named safelists.")
@click.option(
    "--popularity", is_flag=True, help="Also name the popularity list a domain is on (slow once)."
)
@_json_flag
@click.pass_context
def check_cmd(
    ctx: click.Context,
    value: str,
    itype: str | None,
    no_warninglists: bool,
    popularity: bool,
    as_json: bool,
) -> None:
    """Which safelist entry or warninglist would veto VALUE (exit 0 either way)."""
    store = _store(ctx)
    cache = _state(ctx).settings.data_dir / "cache"
    matcher = safelists.load_matcher(store, warninglists=not no_warninglists, cache_dir=cache)
    try:
        res = safelists.check(matcher, value, itype=itype, popularity=popularity)
    except (ValueError, UnknownType) as e:
        raise click.BadParameter(str(e), param_hint="VALUE") from None
    if as_json:
        emit_json(res)
        return
    shown = f"{res['type']} {res['value']}"
    if not res["safelisted"]:
        click.echo(f"{shown}: not safelisted")
    elif res["source"] == "safelist":
        why = f" ({res['reason']})" if res["reason"] else ""
        click.echo(
            f"{shown}: vetoed by safelist {res['list']!r}, entry {res['entry_id']} "
            f"{res['pattern']}{why}"
        )
    else:
        click.echo(f"{shown}: vetoed by warninglist {res['list']!r}: {res['reason'] or ''}")
    if res["popularity"]:
        click.echo(f"on popularity list {res['popularity']!r} (a benign factor, not a veto)")
