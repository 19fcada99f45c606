"""The CLI's progress bars: one shape for every long command (ingest, scoring, enrichment, remote jobs)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn

__all__ = ["progress_bar"]


def progress_bar(
    console: Console, label: str, *columns: ProgressColumn, show: bool = True
) -> Progress:
    """A transient bar on ``console``: a spinner, ``label`` in bold (a rich template such
    as ``{task.description}``), the bar, then ``columns``. Hidden unless ``show``."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]" + label),
        BarColumn(),
        *columns,
        console=console,
        disable=not show,
        transient=True,
    )
