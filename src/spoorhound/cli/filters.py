"""The simple search filters (``--type``, ``--tag``, ``--enclave``, …), shared by the
local and remote forms of ``search``, ``tag`` and ``export``, and their translation
into the query language for the commands that run a query (docs/query.md)."""

from __future__ import annotations

import time
from typing import Any

import click

from spoorhound.core.timespec import parse_since

__all__ = ["and_query", "filter_options", "filter_query"]


def filter_options(f: Any) -> Any:
    """Add the simple filters to a command (all of them must hold)."""
    for opt in reversed(
        [
            click.option("--type", "itype", help="Indicator type (ipv4, domain, url, sha256, …)."),
            click.option("--tag", help="Carrying this tag."),
            click.option("--enclave", help="Observed in this enclave."),
            click.option(
                "--value",
                help="Value substring, or wildcard pattern with * (e.g. '*.example.com').",
            ),
            click.option("--since", help="Last seen since: 7d, 24h, 2w or a date."),
            click.option("--source", help="Reported by this source."),
        ]
    ):
        f = opt(f)
    return f


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_query(
    *,
    itype: str | None = None,
    tag: str | None = None,
    enclave: str | None = None,
    value: str | None = None,
    since: str | None = None,
    source: str | None = None,
    at: int | None = None,
) -> str:
    """The query-language equivalent of the simple filters (all of them must hold)."""
    terms = []
    if itype:
        terms.append(f"type = {_quote(itype)}")
    if tag:
        terms.append(f"tag = {_quote(tag)}")
    if enclave:
        terms.append(f"enclave = {_quote(enclave)}")
    if source:
        terms.append(f"source = {_quote(source)}")
    if value:
        terms.append(f"value ~ {_quote(value if '*' in value else f'*{value}*')}")
    if since:
        try:
            epoch = parse_since(since, int(time.time()) if at is None else at)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--since") from None
        terms.append(f"last_seen >= {epoch}")
    return " and ".join(terms)


def and_query(*queries: str) -> str:
    """Queries that must all hold, each parenthesised (empty ones dropped)."""
    parts = [q.strip() for q in queries if q and q.strip()]
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({q})" for q in parts)
