"""The simple search filters (``--type``, ``--tag``, ``--enclave``, …), shared by the
local and remote forms of ``search``, ``tag`` and ``export``, and their translation
into the query language for the commands that run a query (docs/query.md)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from spoorhound.core.timespec import parse_since

__all__ = ["SEARCH_COLUMNS", "Filters", "and_query", "filter_options", "query_option"]

#: The columns `search` prints, locally and with --server.
SEARCH_COLUMNS = ["type", "value", "risk", "score", "first_seen", "last_seen", "tags"]

_OPTIONS = ("itype", "tag", "enclave", "value", "since", "source")


@dataclass(frozen=True, slots=True)
class Filters:
    """What the simple filter options asked for (all of them must hold)."""

    type: str | None = None
    tag: str | None = None
    enclave: str | None = None
    value: str | None = None
    since: str | None = None
    source: str | None = None

    def since_epoch(self, at: int | None = None) -> int | None:
        """``--since`` as epoch seconds (a usage error when it does not parse)."""
        if not self.since:
            return None
        try:
            return parse_since(self.since, int(time.time()) if at is None else at)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--since") from None

    def query(self, *, with_enclave: bool = True, at: int | None = None) -> str:
        """The query-language equivalent; ``with_enclave=False`` leaves ``--enclave`` out
        (for commands where it names the enclave to act in, not a condition)."""
        terms = []
        if self.type:
            terms.append(f"type = {_quote(self.type)}")
        if self.tag:
            terms.append(f"tag = {_quote(self.tag)}")
        if self.enclave and with_enclave:
            terms.append(f"enclave = {_quote(self.enclave)}")
        if self.source:
            terms.append(f"source = {_quote(self.source)}")
        if self.value:
            v = self.value
            terms.append(f"value ~ {_quote(v if '*' in v else f'*{v}*')}")
        epoch = self.since_epoch(at)
        if epoch is not None:
            terms.append(f"last_seen >= {epoch}")
        return " and ".join(terms)

    def for_tagging(self) -> str:
        """The enclave a bulk tag change applies in; refuses to tag without a filter."""
        if not self.enclave:
            raise click.UsageError("--enclave is required: tags are attached per enclave")
        if not any((self.type, self.tag, self.value, self.since, self.source)):
            raise click.UsageError(
                "give at least one filter (--type, --tag, --value, --since, --source)"
            )
        return self.enclave


def filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add the simple filters to a command; it receives them as ``filters: Filters``."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        picked = {name: kwargs.pop(name) for name in _OPTIONS}
        picked["type"] = picked.pop("itype")
        return f(*args, filters=Filters(**picked), **kwargs)

    cmd: Any = wrapper
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
        cmd = opt(cmd)
    return cmd  # type: ignore[no-any-return]


def query_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``-q/--query``: a query-language expression, and-ed with the simple filters."""
    return click.option(
        "-q", "--query", default="", metavar="QUERY",
        help="Query language, e.g. 'risk >= high and last_seen > -7d' (docs/query.md); "
        "and-ed with the filters.",
    )(f)  # fmt: skip


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def and_query(*queries: str) -> str:
    """Queries that must all hold, each parenthesised (empty ones dropped)."""
    parts = [q.strip() for q in queries if q and q.strip()]
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({q})" for q in parts)
