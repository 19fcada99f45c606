"""Enrichment commands: ``enrich``, ``worker``, ``providers``, ``history``, ``watch``, ``jobs``.

Registered on the main group by :func:`register`. Commands get the per-invocation
state (settings, store) from the Click context object the main group creates.

``enrich`` hands the job to a running ``spoorhound worker`` when one holds the
data directory's worker lock; otherwise it starts the runtime in this process,
shows a progress bar and stops when the job is done (work left unfinished by an
interrupted run is resumed by the next runtime on the same data directory).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import TextColumn, TimeElapsedColumn

from spoorhound.cli.output import emit, emit_json, fmt_time
from spoorhound.cli.progress import progress_bar
from spoorhound.cli.state import State
from spoorhound.cli.state import state as _state
from spoorhound.core.indicators import UnknownType
from spoorhound.core.timespec import parse_since
from spoorhound.enrich import runtime
from spoorhound.enrich.config import (
    ProviderConfigError,
    config_problems,
    load_configs,
    public_view,
)
from spoorhound.enrich.plugins import available_providers
from spoorhound.enrich.provider import Provider, RateLimit
from spoorhound.services import enrichment as enrichment_service
from spoorhound.services import enrichment_progress
from spoorhound.services import watchlists as watch_service
from spoorhound.services.enrichment import Selection
from spoorhound.services.indicators import SearchFilter
from spoorhound.services.jobs import get_job, now
from spoorhound.storage.engine import Store

__all__ = ["enrich_ingested", "enrich_option", "print_history", "register"]

err = Console(stderr=True)


def _filters(f: Any) -> Any:
    for opt in reversed(
        [
            click.option("--type", "itype", help="Indicator type (ipv4, domain, url, sha256, …)."),
            click.option("--tag", help="Carrying this tag."),
            click.option("--enclave", help="Observed in this enclave."),
            click.option("--value", help="Value substring, or wildcard pattern with *."),
            click.option("--since", help="Last seen since: 7d, 24h, 2w or a date."),
            click.option("--source", help="Reported by this source."),
        ]
    ):
        f = opt(f)
    return f


def _selection(**kw: Any) -> Selection:
    since = kw.get("since")
    if since is not None:
        try:
            since = parse_since(since, now())
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--since") from None
    return Selection(
        SearchFilter(
            type=kw.get("itype"),
            tag=kw.get("tag"),
            enclave=kw.get("enclave"),
            value=kw.get("value"),
            since=since,
            source=kw.get("source"),
        )
    )


def _interval(spec: str) -> int:
    try:
        t = now()
        return t - parse_since(spec, t)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--every") from None


def _limits(rl: RateLimit) -> str:
    parts = [
        f"{v:g}/{unit}"
        for v, unit in (
            (rl.per_second, "s"),
            (rl.per_minute, "min"),
            (rl.per_day, "day"),
            (rl.per_month, "month"),
        )
        if v
    ]
    return ", ".join(parts) or "none"


def _follow_job(store: Store, job_id: str, quiet: bool) -> dict[str, Any]:
    with progress_bar(
        err,
        "{task.description}",
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        show=not quiet and err.is_terminal,
    ) as bar:
        task = bar.add_task("enriching", total=None)

        def update(job: dict[str, Any]) -> None:
            per = job["providers"].values()
            total = sum(p.get("total", 0) for p in per)
            done = sum(p["done"] + p["cached"] + p["withheld"] + p["skipped"] for p in per)
            bar.update(task, total=total or None, completed=done)

        return runtime.wait_for(store, job_id, progress=update)


def _print_job(job: dict[str, Any]) -> None:
    err.print(
        f"job {job['id']} ({job['kind']}): [bold]{job['status']}[/], "
        f"started {fmt_time(job['started_at'])}, finished {fmt_time(job['finished_at'])}"
    )
    rows = [{"provider": name, **c} for name, c in job.get("providers", {}).items()]
    if rows:
        cols = ["provider", "total", "done", "stored", "unchanged", "failed"]
        emit(rows, [*cols, "cached", "withheld", "skipped"], console=err)
    elif job.get("result"):
        emit_json(job["result"])
    missing = (job.get("result") or {}).get("missing_providers")
    if missing:
        err.print(f"[yellow]not enabled, skipped: {', '.join(missing)}[/]")
    for m in job.get("messages", []):
        err.print(f"[yellow]{escape(m)}[/]")
    if job.get("error") and not job.get("messages"):
        err.print(f"[red]{escape(job['error'])}[/]")


def _run(
    state: State,
    sel: Selection,
    providers: list[str] | None,
    *,
    force: bool = False,
    no_wait: bool = False,
    quiet: bool = False,
) -> dict[str, Any] | None:
    """Run an enrichment job: on a running worker, else in this process; None if not waited for."""
    store = state.store()
    if no_wait or runtime.worker_running(state.settings):
        job_id = runtime.create_enrich_job(store, sel, providers=providers, force=force)
        runtime.enqueue_job(state.settings, job_id)
        if no_wait:
            err.print(f"queued job {job_id} (see `spoorhound jobs show {job_id}`)")
            return None
        return _follow_job(store, job_id, quiet)
    problems: list[str] = []
    enabled = runtime.default_providers(state.settings, problems)
    for message in problems:  # once per provider, not once per indicator
        err.print(f"[yellow]{escape(message)}[/]")
    runtime.start_runtime(state.settings, store=store, providers=enabled)
    try:
        job_id = runtime.submit(store, sel, providers=providers, force=force)
        return _follow_job(store, job_id, quiet)
    finally:
        runtime.stop_runtime()


def enrich_option(f: Any) -> Any:
    """``--enrich`` for ``spoorhound ingest`` (default from ``SPOORHOUND_ENRICH_ON_INGEST``)."""
    f = click.option(
        "--enrich-provider",
        "enrich_providers",
        multiple=True,
        help="With --enrich: only these providers (default: every enabled one).",
    )(f)
    return click.option(
        "--enrich/--no-enrich",
        default=False,
        envvar="SPOORHOUND_ENRICH_ON_INGEST",
        show_default=True,
        help="Enrich the ingested indicators right after the ingest (env SPOORHOUND_ENRICH_ON_INGEST).",
    )(f)


def enrich_ingested(
    ctx: click.Context,
    ingest_job_id: str,
    *,
    enclave: str,
    source: str | None,
    providers: Sequence[str] = (),
    quiet: bool = False,
) -> dict[str, Any] | None:
    """Enrich the indicators an ingest job touched (observed in ``enclave`` from ``source``
    since the ingest started); called by ``spoorhound ingest --enrich``."""
    state = _state(ctx)
    job = get_job(state.store(), ingest_job_id)
    if job is None:
        raise click.ClickException(f"no job {ingest_job_id}")
    sel = Selection(
        SearchFilter(enclave=enclave, source=source), observed_since=int(job["started_at"])
    )
    done = _run(state, sel, list(providers) or None, quiet=quiet)
    if done is not None and not quiet:
        _print_job(done)
    return done


@click.command("enrich")
@_filters
@click.option("--provider", "providers", multiple=True, help="Only these providers (repeatable).")
@click.option("--force", is_flag=True, help="Ask again even when a cached answer is fresh.")
@click.option("--no-wait", is_flag=True, help="Queue the job for a worker and return at once.")
@click.option("--json", "as_json", is_flag=True, help="Print the finished job as JSON.")
@click.pass_context
def enrich_cmd(
    ctx: click.Context,
    /,
    providers: tuple[str, ...],
    force: bool,
    no_wait: bool,
    as_json: bool,
    **filters: Any,
) -> None:
    """Enrich the indicators matching the filters with the enabled providers."""
    state = _state(ctx)
    state.store()  # fails early on a missing or outdated database
    try:
        sel = _selection(**filters)
    except UnknownType as e:
        raise click.BadParameter(str(e), param_hint="--type") from None
    unknown = sorted(set(providers) - set(available_providers()))
    if unknown:
        raise click.BadParameter(
            f"unknown provider(s): {', '.join(unknown)}", param_hint="--provider"
        )
    job = _run(state, sel, list(providers) or None, force=force, no_wait=no_wait, quiet=as_json)
    if job is None:
        return
    if as_json:
        emit_json(job)
    else:
        _print_job(job)
    if job["status"] != "done":
        sys.exit(1)


@click.command("worker")
@click.option("--executor-id", help="DBOS executor id (default: local; unique per machine).")
@click.pass_context
def worker_cmd(ctx: click.Context, executor_id: str | None) -> None:
    """Process enrichment queues and watchlist schedules until Ctrl-C (or SIGTERM).

    One worker per data directory; with a PostgreSQL store, start workers on more
    machines, each with its own --executor-id (a restarted worker resumes the
    unfinished work of its executor id).
    """
    state = _state(ctx)
    store = state.store()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(runtime.worker_lock(state.settings))
        except RuntimeError as e:
            raise click.ClickException(str(e)) from None
        problems: list[str] = []
        enabled = runtime.default_providers(state.settings, problems)
        for message in problems:
            err.print(f"[yellow]{escape(message)}[/]")
        runtime.start_runtime(
            state.settings, store=store, providers=enabled, executor_id=executor_id
        )
        stack.callback(runtime.stop_runtime)
        err.print(
            f"worker on {runtime.system_database_url(state.settings)}: "
            f"{', '.join(sorted(enabled)) or 'no providers'} (Ctrl-C to stop)"
        )
        with contextlib.suppress(KeyboardInterrupt):
            while not stop.wait(1.0):
                pass
    err.print("worker stopped")


@click.command("providers")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def providers_cmd(ctx: click.Context, as_json: bool) -> None:
    """List enrichment providers: kind, types, TLP ceiling, limits, enabled, key (never shown)."""
    data_dir = _state(ctx).settings.data_dir
    problems: list[str] = []
    rows = []
    for name, cls in available_providers().items():
        # One provider at a time: an invalid table is reported, the list still shown.
        try:
            cfg = load_configs(data_dir, {name: cls}).get(name)
        except ProviderConfigError as e:
            problems.append(str(e))
            enabled: bool | str = "invalid settings"
            key = "?"
        else:
            if cfg is None:
                enabled, key = "not configured", "unset" if cls.needs_key else "not needed"
                rows.append(_provider_row(name, cls, enabled, key))
                continue
            problems.extend(config_problems({name: cfg}, {name: cls}))
            enabled = cfg.enabled
            key = public_view(cfg).get("api_key", "unset") if cls.needs_key else "not needed"
        rows.append(_provider_row(name, cls, enabled, key))
    cols = ["name", "kind", "types", "max_tlp", "limits", "cache", "enabled", "key"]
    emit(rows, cols, fmt="json" if as_json else "table")
    if not as_json:
        for message in problems:
            err.print(f"[yellow]{escape(message)}[/]")


def _provider_row(name: str, cls: type[Provider], enabled: bool | str, key: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "http" if cls.network else "offline",
        "types": sorted(t.value for t in cls.types),
        "max_tlp": cls.max_tlp,
        "limits": _limits(cls.rate_limit),
        "cache": f"{cls.cache_ttl}s",
        "enabled": enabled,
        "key": key,
    }


def print_history(found: list[dict[str, Any]]) -> None:
    """Print timelines from ``services.enrichment.history`` (also for ``lookup --history``)."""
    console = Console(soft_wrap=True)  # one line per result, also when piped
    for ind in found:
        console.print(f"[bold]{ind['value']}[/] ({ind['type']})")
        if not ind["providers"]:
            console.print("  no enrichment yet")
        for name, rows in ind["providers"].items():
            console.print(f"  [cyan]{name}[/]")
            for r in rows:
                when = f"{fmt_time(r['fetched_at'])}"
                if r["checked_at"] and r["checked_at"] != r["fetched_at"]:
                    when += f" (confirmed {fmt_time(r['checked_at'])})"
                if r["status"] not in enrichment_service.GOOD:
                    console.print(f"    {when}  [red]{r['status']}[/]: {escape(r['error'] or '')}")
                    continue
                head = f"{r['status']}, {r['verdict'] or 'unknown'}"
                if r["score"] is not None:
                    head += f", score {r['score']}"
                if r["summary"]:
                    changes = "; ".join(r["summary"])
                else:  # the first answer: show what it said, briefly
                    attrs = [f"{k}={v}" for k, v in (r["attributes"] or {}).items()][:6]
                    changes = "first result" + (f": {', '.join(attrs)}" if attrs else "")
                console.print(f"    {when}  {head}  — {escape(changes)}")


@click.command("history")
@click.argument("value")
@click.option("--provider", help="Only this provider.")
@click.option("--enclave", "enclaves", multiple=True, help="Only these enclaves (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Output JSON (with raw payloads).")
@click.pass_context
def history_cmd(
    ctx: click.Context, value: str, provider: str | None, enclaves: tuple[str, ...], as_json: bool
) -> None:
    """The enrichment timeline of VALUE per provider, with what changed each time."""
    found = enrichment_service.history(
        _state(ctx).store(), value, provider=provider, scope=enclaves or None, payload=as_json
    )
    if as_json:
        emit_json(found)
    if not found:
        if not as_json:
            err.print(f"[yellow]not found[/]: {value}")
        sys.exit(1)
    if as_json:
        return
    print_history(found)


@click.group("watch")
def watch_group() -> None:
    """Continuous tracking: watchlists re-enriched on a schedule."""


@watch_group.command("add")
@click.argument("name")
@_filters
@click.option("--provider", "providers", multiple=True, help="Only these providers (repeatable).")
@click.option("--every", default="1d", show_default=True, help="Interval: 30m, 6h, 1d, 1w.")
@click.pass_context
def watch_add(
    ctx: click.Context, /, name: str, providers: tuple[str, ...], every: str, **filters: Any
) -> None:
    """Track the indicators matching the filters as watchlist NAME."""
    try:
        watch_service.add_watchlist(
            _state(ctx).store(),
            name,
            _selection(**filters),
            providers=providers or None,
            interval_seconds=_interval(every),
        )
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    err.print(f"watching {name!r} every {every} (runs while a worker or server is up)")


@watch_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def watch_list(ctx: click.Context, as_json: bool) -> None:
    """List watchlists."""
    rows = watch_service.list_watchlists(_state(ctx).store())
    for r in rows:
        r["filter"] = (r["filter"] or {}).get("filter", {})
        r["every"] = f"{r['interval_seconds']}s"
    cols = ["name", "filter", "providers", "every", "last_run", "created_at"]
    emit(rows, cols, fmt="json" if as_json else "table")


@watch_group.command("remove")
@click.argument("name")
@click.pass_context
def watch_remove(ctx: click.Context, name: str) -> None:
    """Stop tracking watchlist NAME."""
    if not watch_service.remove_watchlist(_state(ctx).store(), name):
        raise click.ClickException(f"no watchlist {name!r}")
    err.print(f"removed watchlist {name!r}")


@click.group("jobs")
def jobs_group() -> None:
    """Inspect background jobs (ingests, enrichments)."""


@jobs_group.command("show")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def jobs_show(ctx: click.Context, job_id: str, as_json: bool) -> None:
    """Status, progress and messages of job JOB_ID."""
    job = enrichment_progress.job_progress(_state(ctx).store(), job_id)
    if job is None:
        raise click.ClickException(f"no job {job_id}")
    if as_json:
        emit_json(job)
    else:
        _print_job(job)


def register(cli_group: click.Group) -> None:
    """Add the enrichment commands to the ``spoorhound`` group."""
    for cmd in (enrich_cmd, worker_cmd, providers_cmd, history_cmd, watch_group, jobs_group):
        cli_group.add_command(cmd)
