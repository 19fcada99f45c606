"""``spoorhound extract FILE|-``: print the indicators found in a document.

A Click command object; the main CLI group registers it. Output: a rich table
(default), ``--json`` (one array) or ``--csv``; ``--defang`` shows values defanged so
they are safe to paste into chat or tickets.
"""

from __future__ import annotations

import csv
import json
import sys
from typing import BinaryIO

import click
from rich.console import Console
from rich.table import Table

from spoorhound.config import Settings
from spoorhound.core.extract import EXTRACTABLE, Candidate, unique
from spoorhound.core.fang import defang
from spoorhound.core.indicators import IndicatorType
from spoorhound.ingest.documents import DocumentError, extract_document
from spoorhound.reference.warninglists import SafelistIndex

__all__ = ["extract"]

_TYPE_NAMES = sorted(str(t) for t in EXTRACTABLE)


def _shown(c: Candidate, defanged: bool) -> str:
    return defang(c.type, c.value) if defanged else c.value


def _rows(cands: list[Candidate], defanged: bool) -> list[dict[str, object]]:
    return [
        {
            "type": str(c.type),
            "value": _shown(c, defanged),
            "confidence": c.confidence,
            "flags": sorted(c.flags),
            "safelist": c.safelist,
            "context": c.context,
        }
        for c in cands
    ]


@click.command("extract")
@click.argument("source", type=click.File("rb"))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row.")
@click.option("--defang", "defanged", is_flag=True, help="Show values defanged (safe to paste).")
@click.option(
    "--types",
    "types",
    multiple=True,
    type=click.Choice(_TYPE_NAMES),
    help="Only these types (repeat the option).",
)
@click.option("--no-safelisted", is_flag=True, help="Drop indicators on a MISP warninglist.")
@click.option("--all", "every", is_flag=True, help="Every occurrence, not one row per value.")
def extract(
    source: BinaryIO,
    as_json: bool,
    as_csv: bool,
    defanged: bool,
    types: tuple[str, ...],
    no_safelisted: bool,
    every: bool,
) -> None:
    """Extract indicators from FILE (text, Markdown, HTML, PDF, .eml, DOCX) or - for stdin."""
    if as_json and as_csv:
        raise click.UsageError("--json and --csv are exclusive")
    name = getattr(source, "name", "-")
    safelist = None
    if no_safelisted:
        # the main group puts a State with .settings in ctx.obj; standalone, use the env
        settings = getattr(click.get_current_context().obj, "settings", None)
        if not isinstance(settings, Settings):
            settings = Settings.build()
        safelist = SafelistIndex.load(cache_dir=settings.data_dir / "cache")
    try:
        cands = extract_document(
            source,
            str(name),
            types=[IndicatorType(t) for t in types] or None,
            safelist=safelist,
        )
    except DocumentError as exc:
        raise click.ClickException(str(exc)) from None
    if no_safelisted:
        cands = [c for c in cands if "safelisted" not in c.flags]
    if not every:
        cands = unique(cands)
    rows = _rows(cands, defanged)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["type", "value", "confidence", "flags", "context"])
        for r in rows:
            flags = r["flags"]
            assert isinstance(flags, list)
            writer.writerow([r["type"], r["value"], r["confidence"], " ".join(flags), r["context"]])
        return
    _table(rows, str(name))


def _table(rows: list[dict[str, object]], name: str) -> None:
    table = Table(title=f"{len(rows)} indicators in {name}")
    for col in ("type", "value", "conf", "flags", "context"):
        table.add_column(col, overflow="fold")
    for r in rows:
        flags = r["flags"]
        assert isinstance(flags, list)
        table.add_row(
            str(r["type"]),
            str(r["value"]),
            str(r["confidence"]),
            " ".join(flags),
            str(r["context"])[:80],
        )
    Console().print(table)
