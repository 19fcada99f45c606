"""``spoorhound export``: mass export of the indicators a query (or the simple filters)
matches — by tag, enclave, type, source or recency — as CSV, JSON Lines, STIX 2.1,
MISP or plain values.

The same rules as ``GET /api/v1/exports`` (:mod:`spoorhound.services.exports`), locally
and with ``--server``: TLP:RED and TLP:AMBER+STRICT observations never leave their
enclave, the export carries the most restrictive TLP of what it includes, and
safelisted indicators are left out unless ``--include-safelisted``. A file given with
``-o`` is written to a temporary file beside it and renamed when the export is
complete, so a failed export never leaves a truncated file behind.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from rich.console import Console

from spoorhound.cli.filters import Filters, and_query, filter_options, query_option
from spoorhound.cli.state import state as _state
from spoorhound.core.query import QuerySyntaxError
from spoorhound.services import exports as export_service

__all__ = ["export"]

err = Console(stderr=True, soft_wrap=True)  # file paths stay whole


@contextmanager
def _target(output: str) -> Iterator[IO[bytes]]:
    """stdout, or ``output`` written atomically (temporary file, then rename)."""
    if output == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(output)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(output: str, chunks: Iterable[bytes]) -> int:
    size = 0
    with _target(output) as f:
        for chunk in chunks:
            f.write(chunk)
            size += len(chunk)
    return size


@click.command("export")
@query_option
@filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(export_service.FORMATS),
    default="csv",
    show_default=True,
    help="csv, jsonl, stix (2.1 bundle), misp (event JSON) or plain (one value per line).",
)
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="File to write (atomically), or - for standard output.",
)
@click.option("--include-safelisted", is_flag=True, help="Also export safelisted indicators.")
@click.pass_context
def export(
    ctx: click.Context,
    query: str,
    filters: Filters,
    fmt: str,
    output: str,
    include_safelisted: bool,
) -> None:
    """Export every indicator matching the query and filters (e.g. ``--tag APT28``).

    ``--enclave`` exports what that enclave holds: only its observations count for
    the TLP, dates, sources and tags of each row.
    """
    # --enclave narrows the scope (as the API's ``enclave`` parameter) instead of
    # adding a term, so other enclaves' observations do not ride along.
    q = and_query(query, filters.query(with_enclave=False))
    enclave = filters.enclave
    if ctx.find_root().params.get("server"):
        _remote(ctx, q, fmt, enclave, output, include_safelisted)
        return
    store = _state(ctx).store()
    try:
        out = export_service.export(
            store, q, fmt, scope=[enclave] if enclave else None,
            include_safelisted=include_safelisted,
        )  # fmt: skip
    except QuerySyntaxError as e:
        raise click.UsageError(f"bad query: {e}") from None
    size = _write(output, out.chunks)
    tlp = (out.tlp or "unmarked").upper()
    where = "" if output == "-" else f" to {output}"
    err.print(f"exported {out.rows:,} indicator(s){where} ({size:,} bytes), TLP:{tlp}")
    if out.unexpressible:
        kinds = ", ".join(f"{t} {n:,}" for t, n in sorted(out.unexpressible.items()))
        err.print(f"[yellow]left out[/]: STIX has no pattern for {kinds}")


def _remote(
    ctx: click.Context, q: str, fmt: str, enclave: str | None, output: str, include: bool
) -> None:
    from spoorhound.cli.remote import api_client  # here: remote imports this module

    tlp = "UNMARKED"  # an empty body has no chunk: nothing was exported

    def chunks(pairs: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
        nonlocal tlp
        for marking, chunk in pairs:
            tlp = marking
            yield chunk

    with api_client(ctx) as api:
        pairs: Any = api.export(
            q, format=fmt, enclaves=[enclave] if enclave else None,  # type: ignore[arg-type]
            include_safelisted=include,
        )  # fmt: skip
        size = _write(output, chunks(pairs))
    where = "" if output == "-" else f" to {output}"
    err.print(f"exported {size:,} bytes{where}, TLP:{tlp}")
