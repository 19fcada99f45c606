"""The ``spoorhound`` command: a thin layer over the services.

Commands never touch SQL; they parse options, call a service and render the
result as a table (default), ``--json`` or ``--csv``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from rich.console import Console
from rich.progress import DownloadColumn, TextColumn, TimeElapsedColumn

from spoorhound import __version__
from spoorhound.cli import enrich_cmd, score_cmd
from spoorhound.cli.access_cmd import register as register_access
from spoorhound.cli.export_cmd import export
from spoorhound.cli.extract_cmd import extract
from spoorhound.cli.filters import (
    SEARCH_COLUMNS,
    Filters,
    and_query,
    filter_options,
    query_option,
)
from spoorhound.cli.model_cmd import model_group
from spoorhound.cli.output import emit, emit_json, fmt_time
from spoorhound.cli.progress import progress_bar
from spoorhound.cli.remote import RemoteAwareGroup, remote_options
from spoorhound.cli.safelist_cmd import safelist_group
from spoorhound.cli.state import State
from spoorhound.cli.state import state as _state
from spoorhound.config import Settings
from spoorhound.core.context import parse_confidence, parse_tlp
from spoorhound.core.indicators import UnknownType
from spoorhound.core.query import QuerySyntaxError
from spoorhound.enrich import runtime
from spoorhound.ingest.formats import READERS
from spoorhound.services import enclaves as enclave_service
from spoorhound.services import enrichment as enrichment_service
from spoorhound.services import explore as explore_service
from spoorhound.services import indicators as indicator_service
from spoorhound.services import scoring as scoring_service
from spoorhound.services.access import ensure_admin
from spoorhound.services.ingest import IngestOptions, ingest
from spoorhound.services.jobs import now
from spoorhound.services.reports import DOCUMENT_KINDS
from spoorhound.storage.engine import Store

__all__ = ["cli", "main"]

err = Console(stderr=True)


def output_options(f: Any) -> Any:
    """``--json`` / ``--csv`` flags shared by every listing command."""
    f = click.option("--csv", "fmt", flag_value="csv", help="Output CSV.")(f)
    f = click.option("--json", "fmt", flag_value="json", help="Output JSON.")(f)
    return f


def _valid(fn: Any, value: Any, what: str) -> Any:
    if value is None:
        return None
    try:
        return fn(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint=what) from None


@click.group(cls=RemoteAwareGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spoorhound")
@click.option(
    "--data-dir",
    envvar="SPOORHOUND_DATA_DIR",
    type=click.Path(file_okay=False),
    help="Data directory (default ~/.local/share/spoorhound; env SPOORHOUND_DATA_DIR).",
)
@click.option(
    "--database-url",
    envvar="SPOORHOUND_DATABASE_URL",
    help="Database URL; default: SQLite in the data directory. postgresql://… for PostgreSQL.",
)
@remote_options
@click.pass_context
def cli(
    ctx: click.Context,
    data_dir: str | None,
    database_url: str | None,
    server: str | None,
    key: str | None,
) -> None:
    """Spoorhound: ingest, search and share indicators of compromise.

    With --server URL (and --key), commands run against that server instead of the
    local database (see spoorhound.cli.remote).
    """
    ctx.obj = State(Settings.build(data_dir, database_url))


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the data directory and database (idempotent) with a `default` enclave."""
    state = _state(ctx)
    store = state.store(initialise=True)
    existing = {e["name"] for e in enclave_service.list_enclaves(store)}
    if "default" not in existing:
        enclave_service.create_enclave(store, "default", "Created by spoorhound init")
    err.print(f"[green]ready[/]: {state.settings.database_url} (schema {store.current_revision()})")


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply pending schema migrations."""
    store = _state(ctx).store(initialise=True)
    err.print(f"schema at {store.current_revision()}")


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Show the schema revision of the database and of this code."""
    store = Store(_state(ctx).settings.database_url)
    click.echo(
        f"database: {store.current_revision() or 'uninitialised'}; code: {store.head_revision()}"
    )


@cli.command("ingest")
@click.argument("path", type=click.Path(allow_dash=True))
@click.option(
    "--format",
    "fmt_name",
    type=click.Choice(sorted({*READERS, *DOCUMENT_KINDS, "text"})),
    help="Input format (default: detected from the content).",
)
@click.option(
    "--enclave",
    default="default",
    show_default=True,
    help="Enclave to ingest into (created if new).",
)
@click.option(
    "--tag", "tags", multiple=True, help="Tag every indicator (repeatable), e.g. actor:APT28."
)
@click.option(
    "--source",
    default="manual",
    show_default=True,
    help="Source name recorded on each observation.",
)
@click.option(
    "--tlp", help="Default TLP for rows without one (clear, green, amber, amber+strict, red)."
)
@click.option("--confidence", help="Default confidence 0-100 (or low/medium/high).")
@click.option("--type", "itype", help="Treat every value as this indicator type (no detection).")
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Explicit CSV/JSON column mapping.",
)
@click.option("--delimiter", help="CSV delimiter (default: detected).")
@click.option("--encoding", help="Text encoding when not UTF-8 (e.g. latin-1).")
@click.option(
    "--keep-flagged",
    is_flag=True,
    help="Documents: keep indicators flagged safelisted/example instead of skipping them.",
)
@click.option("--no-safelist", is_flag=True, help="Documents: do not check the MISP warninglists.")
@click.option(
    "--no-score",
    is_flag=True,
    help="Do not score the ingested indicators now (`score sweep` will).",
)
@enrich_cmd.enrich_option
@click.option(
    "--errors",
    "show_errors",
    default=20,
    show_default=True,
    help="Row errors to print (table output).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the full result with every row error as JSON."
)
@click.pass_context
def ingest_cmd(
    ctx: click.Context,
    path: str,
    fmt_name: str | None,
    enclave: str,
    tags: tuple[str, ...],
    source: str,
    tlp: str | None,
    confidence: str | None,
    itype: str | None,
    mapping: tuple[str, ...],
    delimiter: str | None,
    encoding: str | None,
    keep_flagged: bool,
    no_safelist: bool,
    no_score: bool,
    enrich: bool,
    enrich_providers: tuple[str, ...],
    show_errors: int,
    as_json: bool,
) -> None:
    """Ingest indicators from a data file or a document.

    Data files: plain list, CSV/TSV, JSON/JSONL, STIX 2.x, MISP (gzip/zip too).
    Documents: PDF, DOCX, e-mail, HTML, Markdown, prose — indicators are extracted
    and a report linked to them is recorded. Re-ingesting is idempotent: last seen
    is refreshed and tags merged, no row is duplicated. Every rejected or skipped
    row is reported with its line and reason.
    """
    column_map: dict[str, str] = {}
    for m in mapping:
        field, sep, column = m.partition("=")
        if not sep or not field or not column:
            raise click.BadParameter(f"{m!r}: use FIELD=COLUMN", param_hint="--map")
        column_map[field.strip()] = column.strip()
    options = IngestOptions(
        enclave=enclave,
        source=source,
        tags=tags,
        tlp=_valid(parse_tlp, tlp, "--tlp"),
        confidence=_valid(parse_confidence, confidence, "--confidence"),
        format=fmt_name,
        type=itype,
        column_map=column_map or None,
        delimiter=delimiter,
        encoding=encoding,
        keep_flagged=keep_flagged,
        safelist=not no_safelist,
        cache_dir=_state(ctx).settings.data_dir / "cache",
    )
    store = _state(ctx).store()
    size = os.path.getsize(path) if path != "-" and os.path.isfile(path) else None
    show_progress = not as_json and err.is_terminal
    with progress_bar(
        err,
        "{task.description}",
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        show=show_progress,
    ) as bar:
        task = bar.add_task(os.path.basename(path) if path != "-" else "stdin", total=size, rows=0)

        def progress(done: int, rows: int) -> None:
            bar.update(task, completed=done, rows=rows)

        since = now()
        result = ingest(store, path, options, progress=progress)
    if result.status == "done" and not no_score:
        scorer = score_cmd.scorer_for(ctx, store)
        with progress_bar(
            err,
            "scoring",
            TextColumn("{task.fields[done]:,}/{task.fields[of]:,} indicators"),
            TimeElapsedColumn(),
            show=show_progress,
        ) as bar:
            task = bar.add_task("scoring", total=None, done=0, of=0)

            def scored(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, done=done, of=total)

            result.scored = scoring_service.rescore_since(
                store, enclave=enclave, since=since, scorer=scorer, progress=scored
            )
    if as_json:
        emit_json(result.to_dict())
    else:
        _print_ingest(result, show_errors)
    result.errors.close()
    if result.status != "done":
        sys.exit(1)
    if enrich:
        # Rows may name their own sources: the ingest's time window selects what it touched.
        enrich_cmd.enrich_ingested(
            ctx,
            result.job_id,
            enclave=enclave,
            source=None,
            providers=enrich_providers,
            quiet=as_json,
        )


def _print_ingest(result: Any, show_errors: int) -> None:
    counts = result.counts()
    if result.status != "done":
        err.print(f"[red]ingest failed[/]: {result.error}")
        err.print("nothing was written (an ingest lands whole or not at all)")
    else:
        err.print(
            f"[green]ingested[/] {counts['name']} ({counts['format']}) into enclave "
            f"[bold]{counts['enclave']}[/] in {counts['seconds']:.2f}s"
        )
        if result.scored is not None:
            err.print(f"scored {result.scored:,} (indicator, enclave) pairs")
    emit(
        [counts],
        ["rows", "accepted", "new", "updated", "duplicate", "rejected", "skipped"],
        console=err,
    )
    for shown, e in enumerate(result.errors):
        if shown >= show_errors:
            err.print(
                f"… {len(result.errors) - shown} more (use --json for all, or see job {result.job_id})"
            )
            break
        err.print(
            f"  line {e.line}: [yellow]{e.kind}[/] {e.reason}" + (f" — {e.raw!r}" if e.raw else "")
        )
    err.print(f"job {result.job_id}")


@cli.command()
@click.argument("value")
@click.option("--enclave", "enclaves", multiple=True, help="Only these enclaves (repeatable).")
@click.option("--type", "itype", help="Only this indicator type.")
@click.option(
    "--history", is_flag=True, help="Show the enrichment timeline per provider, with diffs."
)
@output_options
@click.pass_context
def lookup(
    ctx: click.Context,
    value: str,
    enclaves: tuple[str, ...],
    itype: str | None,
    history: bool,
    fmt: str | None,
) -> None:
    """Everything stored about VALUE (refanged and canonicalised first)."""
    store = _state(ctx).store()
    if history:
        timeline = enrichment_service.history(store, value, scope=enclaves or None)
        if fmt == "json":
            emit_json(timeline)
        else:
            enrich_cmd.print_history(timeline)
        if not timeline:
            sys.exit(1)
        return
    try:
        found = indicator_service.lookup(store, value, scope=enclaves or None, type=itype)
    except UnknownType as e:
        raise click.BadParameter(str(e), param_hint="--type") from None
    if fmt in ("json", "csv"):
        if fmt == "json":
            emit_json(found)
        else:
            rows = [{**i, **o} for i in found for o in i["observations"]]
            emit(
                rows,
                [
                    "type",
                    "value",
                    "enclave",
                    "source",
                    "tlp",
                    "confidence",
                    "first_seen",
                    "last_seen",
                ],
                fmt="csv",
            )
        if not found:
            sys.exit(1)
        return
    if not found:
        err.print(f"[yellow]not found[/]: {value}")
        sys.exit(1)
    console = Console()
    for ind in found:
        console.print(f"[bold]{ind['value']}[/] ({ind['type']})  id {ind['id']}")
        console.print(
            f"  first seen {fmt_time(ind['first_seen'])}, last seen {fmt_time(ind['last_seen'])}"
        )
        for line in score_cmd.risk_lines(ind.get("risk_detail")):
            console.print(line)
        for enclave, tags in ind["tags"].items():
            console.print(f"  tags in {enclave}: {', '.join(tags)}")
        for o in ind["observations"]:
            tlp = f"TLP:{o['tlp'].upper()}" if o["tlp"] else "no TLP"
            conf = (
                f"confidence {o['confidence']}" if o["confidence"] is not None else "no confidence"
            )
            console.print(
                f"  [cyan]{o['enclave']}[/] / {o['source']}: {tlp}, {conf}, "
                f"seen {fmt_time(o['first_seen'])} → {fmt_time(o['last_seen'])}, reported ×{o['times_reported']}"
            )
            if o["notes"]:
                console.print(f"      notes: {o['notes']}")
            if o["attributes"]:
                console.print(f"      attributes: {o['attributes']}")
        for rep in ind["reports"]:
            console.print(f"  in report: {rep['title']} ({rep['enclave']})")
        for s in ind["sightings"]:
            console.print(
                f"  sighted {fmt_time(s['seen_at'])} in {s['enclave']}: {s['location'] or ''} ×{s['count']}"
            )


def _filter(f: Filters) -> indicator_service.SearchFilter:
    return indicator_service.SearchFilter(
        type=f.type, tag=f.tag, enclave=f.enclave, value=f.value,
        since=f.since_epoch(now()), source=f.source,
    )  # fmt: skip


@cli.command()
@query_option
@filter_options
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1_000_000))
@output_options
@click.pass_context
def search(ctx: click.Context, query: str, filters: Filters, limit: int, fmt: str | None) -> None:
    """Find indicators by query, or by type, tag, enclave, source, value pattern and recency."""
    store = _state(ctx).store()
    if query.strip():
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        try:
            while len(rows) < limit:
                page = explore_service.explore(
                    store, and_query(query, filters.query()), limit=limit - len(rows),
                    cursor=cursor,
                )  # fmt: skip
                rows += page.rows
                cursor = page.cursor
                if cursor is None:
                    break
        except QuerySyntaxError as e:
            raise click.UsageError(f"bad query: {e}") from None
    else:
        try:
            rows = indicator_service.search(store, _filter(filters), limit=limit)
        except UnknownType as e:
            raise click.BadParameter(str(e), param_hint="--type") from None
    emit(rows, SEARCH_COLUMNS, fmt=fmt or "table")


@cli.group()
def tag() -> None:
    """Add or remove a tag on every indicator matching filters (bulk)."""


def _tag_cmd(add: bool) -> Any:
    @filter_options
    @click.argument("name")
    @click.pass_context
    def cmd(ctx: click.Context, name: str, filters: Filters) -> None:
        enclave = filters.for_tagging()
        store = _state(ctx).store()
        f = _filter(filters)
        fn = indicator_service.add_tag if add else indicator_service.remove_tag
        try:
            n = fn(store, name, f)
        except ValueError as e:
            raise click.ClickException(str(e)) from None
        err.print(
            f"{'tagged' if add else 'untagged'} {n:,} indicators in enclave {enclave} with {name!r}"
        )

    return cmd


tag.command("add", help="Attach tag NAME to every indicator matching the filters.")(_tag_cmd(True))
tag.command("remove", help="Remove tag NAME from every indicator matching the filters.")(
    _tag_cmd(False)
)


@cli.group()
def enclave() -> None:
    """Manage enclaves (tenant spaces)."""


@enclave.command("create")
@click.argument("name")
@click.option("--description")
@click.pass_context
def enclave_create(ctx: click.Context, name: str, description: str | None) -> None:
    """Create enclave NAME."""
    try:
        enclave_service.create_enclave(_state(ctx).store(), name, description)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    err.print(f"created enclave {name!r}")


@enclave.command("list")
@output_options
@click.pass_context
def enclave_list(ctx: click.Context, fmt: str | None) -> None:
    """List enclaves with their indicator counts."""
    rows = enclave_service.list_enclaves(_state(ctx).store())
    emit(rows, ["name", "indicators", "description", "created_at"], fmt=fmt or "table")


@cli.command()
@output_options
@click.pass_context
def stats(ctx: click.Context, fmt: str | None) -> None:
    """Indicator counts by type, enclave, tag and source."""
    data = indicator_service.stats(_state(ctx).store())
    if fmt == "json":
        emit_json({k: dict(v) for k, v in data.items()})
        return
    rows = [
        {"by": by, "name": name, "indicators": n} for by, pairs in data.items() for name, n in pairs
    ]
    emit(rows, ["by", "name", "indicators"], fmt=fmt or "table")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="API processes (SQLite serves readers in parallel across processes).",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log one line per request.",
)
@click.option(
    "--sweep-every",
    default=900,
    show_default=True,
    type=click.IntRange(0, 86_400),
    help="Seconds between score sweeps (age decay, model, new enrichment); 0 disables.",
)
@click.pass_context
def serve(
    ctx: click.Context, host: str, port: int, workers: int, access_log: bool, sweep_every: int
) -> None:
    """Run the web API (FastAPI) on HOST:PORT.

    This process also runs the enrichment runtime (unless a `spoorhound worker` runs on
    the same data directory). With --workers N it supervises N API processes, which do
    not run the runtime; see docs/api.md for what is per process.
    """
    import uvicorn  # heavy; only this command needs it

    from spoorhound.api.app import create_app

    settings = _state(ctx).settings
    store = _state(ctx).store()
    key = ensure_admin(store)
    if key:
        err.print(
            "[bold]first start[/]: created user 'admin'. Its API key (shown once, store it now):"
        )
        click.echo(key)
    else:
        err.print(
            "every /api route needs a key; make one with `spoorhound key create admin --scope write`"
        )
    err.print(f"serving {settings.database_url} on http://{host}:{port} (Ctrl-C to stop)")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": access_log,
    }
    sweeper = None
    if sweep_every:
        sweeper = scoring_service.Sweeper(store, settings.data_dir, sweep_every)
        sweeper.start()
    try:
        with runtime.embedded_runtime(settings, store):
            if workers == 1:
                uvicorn.run(create_app(store, data_dir=settings.data_dir), **options)
                return
            # The worker processes build their app from these (api.app.create_app_from_env).
            os.environ["SPOORHOUND_DATA_DIR"] = str(settings.data_dir)
            os.environ["SPOORHOUND_DATABASE_URL"] = settings.database_url
            uvicorn.run(
                "spoorhound.api.app:create_app_from_env",
                factory=True,
                workers=workers,
                # Importing the app takes seconds on a busy machine; uvicorn's default of
                # 5 s restarted workers that were still starting.
                timeout_worker_healthcheck=60,
                **options,
            )
    finally:
        if sweeper is not None:  # ends a running pass's child process too
            sweeper.stop()


cli.add_command(extract)
cli.add_command(export)
register_access(cli)
enrich_cmd.register(cli)
cli.add_command(model_group)
score_cmd.register(cli)
cli.add_command(safelist_group)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="spoorhound")
