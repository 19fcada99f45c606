"""Risk-scoring commands: ``verdict``, ``pin``, ``unpin``, ``sighting``, ``score …``, ``source …``.

The CLI works on its own database as the local administrator (actor ``cli``); every
change is audited and rescored at once. ``score sweep`` is the scheduled pass that
``spoorhound serve`` also runs (age decay, model, enrichment that arrived from
workers); run it from cron when no server runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from spoorhound.cli.output import emit, emit_json
from spoorhound.cli.state import state as _state
from spoorhound.core.scoring import LEVELS
from spoorhound.core.timespec import parse_since
from spoorhound.services import scoring, sources, verdicts
from spoorhound.services.jobs import now
from spoorhound.storage.engine import Store

if TYPE_CHECKING:
    from spoorhound.client import Client

__all__ = ["register", "risk_lines"]

err = Console(stderr=True)
ACTOR = "cli"


def scorer_for(ctx: click.Context, store: Store) -> scoring.Scorer:
    """The configured scorer of this data directory (scoring.toml, model, safelists)."""
    try:
        return scoring.Scorer.load(store, _state(ctx).settings.data_dir)
    except (OSError, ValueError) as e:
        raise click.ClickException(f"cannot load the scoring configuration: {e}") from None


def _when(spec: str | None, what: str, *, future: bool) -> int | None:
    """An absolute time from ``2026-11-01``/epoch, or relative: ``-2h`` (past) / ``30d`` (future)."""
    if spec is None:
        return None
    s = spec.strip()
    t = now()
    try:
        if future and not s.startswith("-") and s[-1:] in "smhdwy" and s[:-1].isdigit():
            return t + (t - parse_since(s, t))
        return parse_since(s, t)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint=what) from None


def _run(fn: Any, *args: Any, **kw: Any) -> Any:
    try:
        return fn(*args, **kw)
    except verdicts.IndicatorNotFound as e:
        err.print(f"[yellow]not found[/]: {e}")
        sys.exit(1)
    except (LookupError, ValueError) as e:
        raise click.ClickException(str(e)) from None


def risk_lines(risk: dict[str, Any] | None) -> list[str]:
    """The score block ``lookup`` prints: level, score, recommendation, factors."""
    if risk is None:
        return ["  risk unknown (not scored yet)"]
    head = f"  risk [bold]{risk['risk']}[/] (score {risk['score']})"
    if risk["high_priority"]:
        head += " [red bold]HIGH PRIORITY[/]"
    if risk.get("pinned"):
        p = risk["pinned"]
        head += f", pinned by {p['by']}; the formula recommends {risk['risk_recommended']} ({risk['score_recommended']})"
    head += f" — from enclave {risk['enclave']}"
    out = [head]
    for f in risk["risk_factors"][:12]:
        sign = "+" if f["points"] >= 0 else ""
        out.append(f"    {sign}{f['points']:g}  {f['text']}")
        for d in (f.get("detail") or [])[:3]:  # the API sends null
            out.append(f"           {d.get('text', d.get('feature'))}")
    return out


@click.command("verdict")
@click.argument("value")
@click.argument(
    "verdict", type=click.Choice(["malicious", "false-positive", "benign"], case_sensitive=False)
)
@click.option("--enclave", required=True, help="Enclave the verdict applies in.")
@click.option("--comment", help="Why (shown on the indicator and in the audit log).")
@click.option("--safelist", help="False positives: also add the value to this named safelist.")
@click.option("--type", "itype", help="Indicator type, when VALUE is ambiguous.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def verdict_cmd(
    ctx: click.Context,
    value: str,
    verdict: str,
    enclave: str,
    comment: str | None,
    safelist: str | None,
    itype: str | None,
    as_json: bool,
) -> None:
    """Record an analyst VERDICT on VALUE: malicious (confirmed), false-positive or benign."""
    kind: Any = verdict.lower().replace("-", "_")  # the API's spelling; it validates
    if _remote(
        ctx,
        lambda api: api.add_verdict(
            value,
            kind,
            enclave,
            comment=comment,
            safelist=safelist,
            type=itype,
        ),
        as_json,
        f"{verdict.lower()} recorded on {value} in {enclave}",
    ):
        return
    store = _state(ctx).store()
    res = _run(
        verdicts.record_verdict,
        store,
        value,
        verdict,
        enclave=enclave,
        actor=ACTOR,
        scorer=scorer_for(ctx, store),
        comment=comment,
        safelist=safelist,
        itype=itype,
    )
    _done(store, res, as_json, f"{res['verdict']} recorded on {res['indicator']} in {enclave}")


def _remote(ctx: click.Context, call: Callable[[Client], Any], as_json: bool, message: str) -> bool:
    """With ``--server``: run ``call`` through the API and print what ``_done`` prints."""
    if not ctx.find_root().params.get("server"):
        return False
    from spoorhound.cli.remote import api_client  # here: remote imports this module

    with api_client(ctx) as api:
        res = call(api)
    if as_json:
        emit_json(res)
    else:
        err.print(f"[green]{message}[/]")
        console = Console()
        for line in risk_lines(res["score"]):
            console.print(line)
    return True


def _done(store: Store, res: dict[str, Any], as_json: bool, message: str) -> None:
    from spoorhound.services import indicators as indicator_service

    found = indicator_service.lookup(store, res["indicator"], type=res["type"])
    risk = found[0]["risk_detail"] if found else None
    if as_json:
        emit_json({**res, "risk": risk})
        return
    err.print(f"[green]{message}[/]")
    console = Console()
    for line in risk_lines(risk):
        console.print(line)


@click.command("pin")
@click.argument("value")
@click.argument("level", type=click.Choice(LEVELS, case_sensitive=False))
@click.option("--enclave", required=True, help="Enclave the pin applies in.")
@click.option("--until", help="Expiry: 30d, 12h, 2w from now, or a date.")
@click.option("--comment", help="Why (shown on the indicator and in the audit log).")
@click.option("--type", "itype", help="Indicator type, when VALUE is ambiguous.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def pin_cmd(
    ctx: click.Context,
    value: str,
    level: str,
    enclave: str,
    until: str | None,
    comment: str | None,
    itype: str | None,
    as_json: bool,
) -> None:
    """Pin VALUE's risk LEVEL in an enclave; the formula's recommendation stays visible."""
    expires_at = _when(until, "--until", future=True)
    if _remote(
        ctx,
        lambda api: api.pin(
            value, level.lower(), enclave, comment=comment, expires_at=expires_at, type=itype
        ),
        as_json,
        f"{value} pinned to {level} in {enclave}",
    ):
        return
    store = _state(ctx).store()
    res = _run(
        verdicts.pin,
        store,
        value,
        level,
        enclave=enclave,
        actor=ACTOR,
        scorer=scorer_for(ctx, store),
        comment=comment,
        expires_at=expires_at,
        itype=itype,
    )
    _done(store, res, as_json, f"{res['indicator']} pinned to {level} in {enclave}")


@click.command("unpin")
@click.argument("value")
@click.option("--enclave", required=True, help="Enclave to remove the pin from.")
@click.option("--type", "itype", help="Indicator type, when VALUE is ambiguous.")
@click.pass_context
def unpin_cmd(ctx: click.Context, value: str, enclave: str, itype: str | None) -> None:
    """Remove the pinned level of VALUE in an enclave (the formula's score applies again)."""
    if ctx.find_root().params.get("server"):
        from spoorhound.cli.remote import api_client

        with api_client(ctx) as api:
            api.unpin(value, enclave, type=itype)  # no pin: "not found: no pin …", exit 1
        err.print(f"[green]unpinned[/] {value} in {enclave}")
        return
    store = _state(ctx).store()
    removed = _run(
        verdicts.unpin,
        store,
        value,
        enclave=enclave,
        actor=ACTOR,
        scorer=scorer_for(ctx, store),
        itype=itype,
    )
    if not removed:
        err.print(f"[yellow]no pin[/] on {value} in {enclave}")
        sys.exit(1)
    err.print(f"[green]unpinned[/] {value} in {enclave}")


@click.command("sighting")
@click.argument("value")
@click.option("--enclave", required=True, help="Enclave that saw it.")
@click.option("--at", "seen", help="When: -2h, -1d, a date or epoch seconds (default now).")
@click.option("--location", help="Where (host, sensor, log).")
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 1_000_000_000))
@click.option("--type", "itype", help="Indicator type, when VALUE is ambiguous.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def sighting_cmd(
    ctx: click.Context,
    value: str,
    enclave: str,
    seen: str | None,
    location: str | None,
    count: int,
    itype: str | None,
    as_json: bool,
) -> None:
    """Record that VALUE was seen in our network (restarts its score's age decay)."""
    seen_at = _when(seen, "--at", future=False)
    if _remote(
        ctx,
        lambda api: api.add_sighting(
            value, enclave, seen_at=seen_at, location=location, count=count, type=itype
        ),
        as_json,
        f"sighting of {value} recorded in {enclave}",
    ):
        return
    store = _state(ctx).store()
    res = _run(
        verdicts.record_sighting,
        store,
        value,
        enclave=enclave,
        actor=ACTOR,
        scorer=scorer_for(ctx, store),
        seen_at=seen_at,
        location=location,
        count=count,
        itype=itype,
    )
    _done(store, res, as_json, f"sighting of {res['indicator']} recorded in {enclave}")


@click.group("score")
def score_group() -> None:
    """Rescore indicators: the decay sweep, or a full recomputation."""


@score_group.command("sweep")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def score_sweep(ctx: click.Context, as_json: bool) -> None:
    """Fold new enrichment into scores, then re-run the model and the age decay on all."""
    store = _state(ctx).store()
    scorer = scorer_for(ctx, store)
    stale = scoring.rescore_stale(store, scorer=scorer)
    res = scoring.sweep(store, scorer=scorer)
    out = {
        "rescored": stale,
        "rows": res.rows,
        "changed": res.changed,
        "seconds": round(res.seconds, 2),
    }
    if as_json:
        emit_json(out)
    else:
        err.print(
            f"rescored {stale:,} with new evidence; swept {res.rows:,} scores, "
            f"{res.changed:,} changed, in {res.seconds:.1f} s"
        )


@score_group.command("rescore")
@click.argument("values", nargs=-1)
@click.option(
    "--all", "everything", is_flag=True, help="Every indicator (after a config or model change)."
)
@click.pass_context
def score_rescore(ctx: click.Context, values: tuple[str, ...], everything: bool) -> None:
    """Recompute the scores of VALUES (or --all) from everything stored."""
    from spoorhound.services.indicator_edits import resolve

    if not values and not everything:
        raise click.UsageError("give VALUES or --all")
    store = _state(ctx).store()
    scorer = scorer_for(ctx, store)
    if everything:
        n = scoring.rescore_all(store, scorer=scorer)
    else:
        pks = [r["pk"] for v in values for r in resolve(store, v)]
        if not pks:
            err.print("[yellow]not found[/]")
            sys.exit(1)
        n = scoring.rescore(store, pks, scorer=scorer)
    err.print(f"rescored {n:,} (indicator, enclave) scores")


@click.group("source")
def source_group() -> None:
    """Sources (feeds, vendors, teams) and their reliability weights."""


@source_group.command("list")
@click.option("--csv", "fmt", flag_value="csv", help="Output CSV.")
@click.option("--json", "fmt", flag_value="json", help="Output JSON.")
@click.pass_context
def source_list(ctx: click.Context, fmt: str | None) -> None:
    """Every source with its reliability (1–5) and indicator count."""
    emit(
        sources.list_sources(_state(ctx).store()),
        ["name", "reliability", "indicators"],
        fmt=fmt or "table",
    )


@source_group.command("reliability")
@click.argument("name")
@click.argument("reliability", type=click.IntRange(1, 5))
@click.pass_context
def source_reliability(ctx: click.Context, name: str, reliability: int) -> None:
    """Set source NAME's RELIABILITY (1 unreliable … 5 fully trusted) and rescore its indicators."""
    store = _state(ctx).store()
    n = _run(
        sources.set_reliability,
        store,
        name,
        reliability,
        actor=ACTOR,
        scorer=scorer_for(ctx, store),
    )
    err.print(f"[green]{name}[/] reliability {reliability}; rescored {n:,} scores")


def register(cli: click.Group) -> None:
    for cmd in (verdict_cmd, pin_cmd, unpin_cmd, sighting_cmd, score_group, source_group):
        cli.add_command(cmd)
