"""Remote mode: ``spoorhound --server URL --key KEY <command>`` runs against a server.

With ``--server`` (or ``SPOORHOUND_SERVER``) the commands that have a remote form
resolve to the versions below, which call the API through
:class:`spoorhound.client.Client` instead of opening the local database, and print
the same tables, JSON and CSV as the local commands. A command without a remote
form (``init``, ``db``, ``serve``, ``worker``, ``user`` …) stops with a message
saying so. The key (``--key`` or ``SPOORHOUND_KEY``) is sent in the
``Authorization`` header only: it is never printed, and the client keeps it out of
its error messages.

The remote forms:

==================  ===========================================================
``lookup``          ``GET /api/indicators/{value}`` (``/history`` with --history)
``search``          ``GET /api/v1/indicators?q=`` (the filters become a query)
``tag add|remove``  ``POST /api/v1/tags/{name}/add|remove``
``ingest``          ``POST /api/v1/indicators/bulk``, then polls ``/api/v1/jobs/{id}``
``stats``           ``GET /api/v1/stats``
``enclave list``    ``GET /api/v1/enclaves``
``jobs show``       ``GET /api/v1/jobs/{id}``
``export``          ``GET /api/v1/exports`` (streamed to the file or stdout)
``verdict``         ``POST /api/v1/indicators/{ref}/verdicts``
``pin``, ``unpin``  ``PUT`` / ``DELETE /api/v1/indicators/{ref}/pin``
``sighting``        ``POST /api/v1/indicators/{ref}/sightings``
==================  ===========================================================
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import DownloadColumn, TextColumn

from spoorhound.cli import score_cmd
from spoorhound.cli.enrich_cmd import print_history
from spoorhound.cli.export_cmd import export
from spoorhound.cli.filters import (
    SEARCH_COLUMNS,
    Filters,
    and_query,
    filter_options,
    query_option,
)
from spoorhound.cli.output import emit, emit_json, fmt_time
from spoorhound.cli.progress import progress_bar
from spoorhound.client import Client, NotFound, SpoorhoundError
from spoorhound.core.context import parse_confidence, parse_tlp

__all__ = ["RemoteAwareGroup", "api_client", "remote_options"]

err = Console(stderr=True)

#: The local ingest options that the bulk endpoint does not take: refused, not ignored.
_LOCAL_ONLY_INGEST = (
    ("--map", True), ("--delimiter", False), ("--encoding", False), ("--keep-flagged", None),
    ("--no-safelist", None), ("--enrich", None), ("--enrich-provider", True),
)  # fmt: skip


def remote_options(f: Any) -> Any:
    """``--server`` / ``--key`` for the top-level group."""
    f = click.option(
        "--key",
        envvar="SPOORHOUND_KEY",
        show_envvar=True,
        metavar="KEY",
        help="API key for --server (env SPOORHOUND_KEY); never printed.",
    )(f)
    f = click.option(
        "--server",
        envvar="SPOORHOUND_SERVER",
        metavar="URL",
        help="Run the command against this Spoorhound server (env SPOORHOUND_SERVER).",
    )(f)
    return f


#: Commands that never open the database: they run locally whatever --server says.
_NO_DATABASE = frozenset({"extract"})


class RemoteAwareGroup(click.Group):
    """The top-level group: with ``--server``, a command resolves to its remote form."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The local command, or with ``--server`` its remote form (or a refusal)."""
        local = super().get_command(ctx, cmd_name)
        if local is None or not ctx.params.get("server") or cmd_name in _NO_DATABASE:
            return local
        return REMOTE_COMMANDS.get(cmd_name) or _no_remote_form(cmd_name)


class _RemoteGroup(click.Group):
    """A group of which only some subcommands have a remote form; the rest are refused."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The remote subcommand, or a refusal naming it."""
        return super().get_command(ctx, cmd_name) or _no_remote_form(f"{self.name} {cmd_name}")


def _no_remote_form(name: str) -> click.Command:
    @click.command(
        name,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
        help="Not available with --server.",
    )
    def refuse() -> None:
        raise click.UsageError(
            f"`spoorhound {name}` has no remote form: run it without --server "
            "(on the machine that holds the database)"
        )

    return refuse


# --- plumbing ------------------------------------------------------------------------


@contextmanager
def api_client(ctx: click.Context) -> Iterator[Client]:
    """A client for the root's ``--server`` / ``--key``; API errors become CLI errors."""
    params = ctx.find_root().params
    server: str = params["server"]
    key: str | None = params.get("key")
    if not key:
        raise click.UsageError("--server needs an API key: --key KEY or SPOORHOUND_KEY")
    try:
        with Client(server, key) as api:
            yield api
    except NotFound as e:
        raise click.ClickException(f"not found: {_detail(e.detail)}") from None
    except SpoorhoundError as e:
        raise click.ClickException(_message(e)) from None


def _detail(detail: Any) -> str:
    if isinstance(detail, dict) and {"message", "text"} <= detail.keys():
        pos = int(detail.get("position") or 0)
        return f"{detail['message']}\n  {detail['text']}\n  {' ' * pos}^"
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', ()))}: {d.get('msg')}"
            if isinstance(d, dict)
            else str(d)
            for d in detail
        )
    return str(detail)


def _message(e: SpoorhoundError) -> str:
    status = getattr(e, "status", None)
    if status is None:
        return str(e)
    if status == 401:
        return f"the server refused the key (HTTP 401): {_detail(e.detail)}"  # type: ignore[attr-defined]
    return f"HTTP {status}: {_detail(e.detail)}"  # type: ignore[attr-defined]


def _output_options(f: Any) -> Any:
    f = click.option("--csv", "fmt", flag_value="csv", help="Output CSV.")(f)
    f = click.option("--json", "fmt", flag_value="json", help="Output JSON.")(f)
    return f


# --- lookup, search, tags ------------------------------------------------------------


@click.command("lookup")
@click.argument("value")
@click.option("--enclave", "enclaves", multiple=True, help="Only these enclaves (repeatable).")
@click.option("--type", "itype", help="Only this indicator type.")
@click.option("--history", is_flag=True, help="Show the enrichment timeline per provider.")
@_output_options
@click.pass_context
def lookup(
    ctx: click.Context,
    value: str,
    enclaves: tuple[str, ...],
    itype: str | None,
    history: bool,
    fmt: str | None,
) -> None:
    """Everything the server lets this key see about VALUE."""
    with api_client(ctx) as api:
        try:
            if history:
                found = api.history(value, enclaves=list(enclaves) or None)["indicators"]
            else:
                found = api.lookup(value, enclaves=list(enclaves) or None, type=itype)
        except NotFound:
            found = []
    if history:
        if fmt == "json":
            emit_json(found)
        else:
            print_history(found)
    elif fmt == "json":
        emit_json(found)
    elif fmt == "csv":
        rows = [{**i, **o} for i in found for o in i["observations"]]
        cols = ["type", "value", "enclave", "source", "tlp", "confidence"]
        emit(rows, [*cols, "first_seen", "last_seen"], fmt="csv")
    elif found:
        print_indicators(found)
    else:
        err.print(f"[yellow]not found[/]: {escape(value)}")
    if not found:
        sys.exit(1)


def print_indicators(found: list[dict[str, Any]]) -> None:
    """The human-readable lookup sheet, as the local ``lookup`` prints it."""
    console = Console()
    for ind in found:
        console.print(f"[bold]{escape(ind['value'])}[/] ({ind['type']})  id {ind['id']}")
        console.print(
            f"  first seen {fmt_time(ind['first_seen'])}, last seen {fmt_time(ind['last_seen'])}"
        )
        for enclave, tags in ind["tags"].items():
            console.print(f"  tags in {escape(enclave)}: {escape(', '.join(tags))}")
        for o in ind["observations"]:
            tlp = f"TLP:{o['tlp'].upper()}" if o["tlp"] else "no TLP"
            conf = "no confidence" if o["confidence"] is None else f"confidence {o['confidence']}"
            console.print(
                f"  [cyan]{escape(o['enclave'])}[/] / {escape(o['source'])}: {tlp}, {conf}, "
                f"seen {fmt_time(o['first_seen'])} → {fmt_time(o['last_seen'])}, "
                f"reported ×{o['times_reported']}"
            )
            if o.get("notes"):
                console.print(f"      notes: {escape(o['notes'])}")
            if o.get("attributes"):
                console.print(f"      attributes: {escape(str(o['attributes']))}")
        for rep in ind.get("reports", []):
            console.print(f"  in report: {escape(rep['title'])} ({escape(rep['enclave'])})")
        for s in ind.get("sightings", []):
            console.print(
                f"  sighted {fmt_time(s['seen_at'])} in {escape(s['enclave'])}: "
                f"{escape(s['location'] or '')} ×{s['count']}"
            )


@click.command("search")
@query_option
@filter_options
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1_000_000))
@_output_options
@click.pass_context
def search(ctx: click.Context, query: str, filters: Filters, limit: int, fmt: str | None) -> None:
    """Find indicators on the server by query, or type, tag, enclave, source, value, recency."""
    q = and_query(query, filters.query())
    rows = []
    with api_client(ctx) as api:
        for row in api.iter_search(q, page_size=min(limit, 1000)):
            rows.append(row)
            if len(rows) >= limit:
                break
    emit(rows, SEARCH_COLUMNS, fmt=fmt or "table")


@click.group("tag", cls=_RemoteGroup)
def tag_group() -> None:
    """Add or remove a tag on every indicator matching filters (bulk, on the server)."""


def _tag_cmd(add: bool) -> click.Command:
    @filter_options
    @click.argument("name")
    @click.pass_context
    def cmd(ctx: click.Context, name: str, filters: Filters) -> None:
        enclave = filters.for_tagging()
        q = filters.query(with_enclave=False)
        with api_client(ctx) as api:
            n = (api.add_tag if add else api.remove_tag)(name, enclave, q)
        err.print(
            f"{'tagged' if add else 'untagged'} {n:,} indicators in enclave {enclave} with {name!r}"
        )

    return click.command(
        "add" if add else "remove",
        help=f"{'Attach' if add else 'Remove'} tag NAME on every indicator matching the filters.",
    )(cmd)


tag_group.add_command(_tag_cmd(True))
tag_group.add_command(_tag_cmd(False))


# --- ingest --------------------------------------------------------------------------


def _local_only(f: Any) -> Any:
    for name, multiple in _LOCAL_ONLY_INGEST:
        dest = "local_" + name.strip("-").replace("-", "_")
        if multiple is None:
            f = click.option(name, dest, is_flag=True, hidden=True)(f)
        else:
            f = click.option(name, dest, multiple=multiple, hidden=True)(f)
    return f


@click.command("ingest")
@click.argument("path", type=click.Path(allow_dash=True))
@_local_only
@click.option("--format", "fmt_name", help="Input format (default: detected by the server).")
@click.option("--enclave", default="default", show_default=True, help="Enclave to ingest into.")
@click.option("--tag", "tags", multiple=True, help="Tag every indicator (repeatable).")
@click.option("--source", default="manual", show_default=True, help="Source name.")
@click.option("--tlp", help="Default TLP for rows without one.")
@click.option("--confidence", help="Default confidence 0-100 (or low/medium/high).")
@click.option("--type", "itype", help="Treat every value as this indicator type.")
@click.option("--errors", "show_errors", default=20, show_default=True, help="Row errors to print.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--no-wait", is_flag=True, help="Print the job id and return at once.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds to wait for the job.")
@click.pass_context
def ingest(
    ctx: click.Context,
    /,
    path: str,
    fmt_name: str | None,
    enclave: str,
    tags: tuple[str, ...],
    source: str,
    tlp: str | None,
    confidence: str | None,
    itype: str | None,
    show_errors: int,
    as_json: bool,
    no_wait: bool,
    timeout: float,
    **local_only: Any,
) -> None:
    """Submit a file to the server as a bulk job, then follow its progress.

    The server ingests it in the background (one transaction, as locally); this
    command polls the job and prints the same summary as a local ingest.
    """
    used = [f"--{k[6:].replace('_', '-')}" for k, v in local_only.items() if v]
    if used:
        raise click.UsageError(
            f"{', '.join(used)}: not available with --server (local ingest only)"
        )
    params = {
        "source": source,
        "tags": list(tags) or None,
        "tlp": _checked(parse_tlp, tlp, "--tlp"),
        "confidence": _checked(parse_confidence, confidence, "--confidence"),
        "format": fmt_name,
        "type": itype,
        "name": os.path.basename(path) if path != "-" else "stdin",
    }
    size = os.path.getsize(path) if path != "-" and os.path.isfile(path) else None
    with api_client(ctx) as api, _open(path) as data:
        job_id = api.submit_bulk(data, enclave, **params)
        if no_wait:
            click.echo(job_id)
            return
        job = _follow(api, job_id, size, quiet=as_json, timeout=timeout)
    result = _ingest_result(job, enclave)
    if as_json:
        emit_json(result)
    else:
        _print_ingest(result, show_errors)
    if result["status"] != "done":
        sys.exit(1)


def _checked(fn: Callable[[str], Any], value: str | None, what: str) -> Any:
    if value is None:
        return None
    try:
        return fn(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint=what) from None


@contextmanager
def _open(path: str) -> Iterator[BinaryIO]:
    if path == "-":
        yield sys.stdin.buffer
        return
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below, after the upload
    except OSError as e:
        raise click.BadParameter(f"{path}: {e.strerror}", param_hint="PATH") from None
    with f:
        yield f


def _follow(
    api: Client, job_id: str, size: int | None, *, quiet: bool, timeout: float
) -> dict[str, Any]:
    """Poll the job until it ends, with a progress bar on a terminal."""
    deadline = time.monotonic() + timeout
    with progress_bar(
        err,
        "job {task.fields[job]}",
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        show=not quiet and err.is_terminal,
    ) as bar:
        task = bar.add_task("ingest", total=size, rows=0, job=job_id[:8])
        while True:
            job = api.job(job_id)
            progress = job.get("progress") or {}
            bar.update(
                task, completed=progress.get("bytes_read", 0), rows=progress.get("rows_read", 0)
            )
            if job.get("status") not in ("running", "queued", "pending"):
                return job
            if time.monotonic() >= deadline:
                raise click.ClickException(
                    f"job {job_id} still running after {timeout:g} s "
                    f"(follow it with `spoorhound --server … jobs show {job_id}`)"
                )
            time.sleep(0.2)


def _ingest_result(job: dict[str, Any], enclave: str) -> dict[str, Any]:
    """A finished submission in the shape of a local ingest's ``--json`` result."""
    res = job.get("result") or {}
    params = job.get("params") or {}
    started, finished = job.get("started_at"), job.get("finished_at")
    out = {
        "job_id": job["id"],
        "status": job["status"],
        "error": job.get("error"),
        "name": res.get("name", params.get("name")),
        "format": res.get("format"),
        "enclave": res.get("enclave", enclave),
    }
    for k in ("rows", "accepted", "new", "updated", "duplicate", "rejected", "skipped"):
        out[k] = int(res.get(k) or 0)
    seconds = res.get("seconds")
    if seconds is None and started is not None and finished is not None:
        seconds = finished - started
    out["seconds"] = float(seconds or 0)
    out["errors"] = job.get("errors") or []
    return out


def _print_ingest(result: dict[str, Any], show_errors: int) -> None:
    if result["status"] != "done":
        err.print(f"[red]ingest failed[/]: {escape(str(result['error']))}")
        err.print("nothing was written (an ingest lands whole or not at all)")
    else:
        err.print(
            f"[green]ingested[/] {escape(str(result['name']))} ({result['format']}) into enclave "
            f"[bold]{escape(result['enclave'])}[/] in {result['seconds']:.2f}s"
        )
    emit(
        [result],
        ["rows", "accepted", "new", "updated", "duplicate", "rejected", "skipped"],
        console=err,
    )
    errors = result["errors"]
    for e in errors[:show_errors]:
        raw = f" — {e['raw']!r}" if e.get("raw") else ""
        err.print(
            f"  line {e.get('line')}: [yellow]{e.get('kind')}[/] {escape(str(e.get('reason')))}{raw}"
        )
    if result["rejected"] + result["skipped"] > min(show_errors, len(errors)):
        err.print(f"… more (see `spoorhound --server … jobs show {result['job_id']}`)")
    err.print(f"job {result['job_id']}")


# --- stats, enclaves, jobs -----------------------------------------------------------


@click.command("stats")
@_output_options
@click.pass_context
def stats(ctx: click.Context, fmt: str | None) -> None:
    """Indicator counts by type, enclave, tag and source (what this key can see)."""
    with api_client(ctx) as api:
        data = api.stats()
    if fmt == "json":
        emit_json(data)
        return
    rows = [
        {"by": by, "name": n, "indicators": c}
        for by, counts in data.items()
        for n, c in counts.items()
    ]
    emit(rows, ["by", "name", "indicators"], fmt=fmt or "table")


@click.group("enclave", cls=_RemoteGroup)
def enclave_group() -> None:
    """Enclaves on the server (listing only in remote mode)."""


@enclave_group.command("list")
@_output_options
@click.pass_context
def enclave_list(ctx: click.Context, fmt: str | None) -> None:
    """List the enclaves this key can see, with indicator counts and its permission."""
    with api_client(ctx) as api:
        rows = api.enclaves()
    emit(rows, ["name", "indicators", "description", "created_at"], fmt=fmt or "table")


@click.group("jobs", cls=_RemoteGroup)
def jobs_group() -> None:
    """Background jobs on the server."""


@jobs_group.command("show")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def jobs_show(ctx: click.Context, job_id: str, as_json: bool) -> None:
    """Status, progress and messages of job JOB_ID."""
    with api_client(ctx) as api:
        job = api.job(job_id)
    if as_json:
        emit_json(job)
        return
    err.print(
        f"job {job['id']} ({job['kind']}): [bold]{job['status']}[/], "
        f"started {fmt_time(job.get('started_at'))}, finished {fmt_time(job.get('finished_at'))}"
    )
    rows = [{"provider": name, **c} for name, c in (job.get("providers") or {}).items()]
    if rows:
        cols = ["provider", "total", "done", "stored", "unchanged", "failed"]
        emit(rows, [*cols, "cached", "withheld", "skipped"], console=err)
    elif job.get("result"):
        emit_json(job["result"])
    for m in job.get("messages") or []:
        err.print(f"[yellow]{escape(m)}[/]")
    if job.get("error") and not job.get("messages"):
        err.print(f"[red]{escape(job['error'])}[/]")


#: Command name → its remote form; every other local command is refused with --server.
REMOTE_COMMANDS: dict[str, click.Command] = {
    "lookup": lookup,
    "search": search,
    "tag": tag_group,
    "ingest": ingest,
    "stats": stats,
    "enclave": enclave_group,
    "jobs": jobs_group,
    "export": export,
    "verdict": score_cmd.verdict_cmd,
    "pin": score_cmd.pin_cmd,
    "unpin": score_cmd.unpin_cmd,
    "sighting": score_cmd.sighting_cmd,
}
