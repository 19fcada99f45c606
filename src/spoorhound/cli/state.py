"""The per-invocation state every command reaches through its Click context: the
settings, and the store (opened, and checked to be at this code's schema, on first use)."""

from __future__ import annotations

import click

from spoorhound.config import Settings
from spoorhound.storage.engine import Store

__all__ = ["State", "state"]


class State:
    """Per-invocation state: settings now, the store when a command needs it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None

    def store(self, *, initialise: bool = False) -> Store:
        """The store, checked to be at the schema this code expects."""
        if self._store is None:
            store = Store(self.settings.database_url)
            if initialise:
                self.settings.data_dir.mkdir(parents=True, exist_ok=True)
                store.upgrade()
            else:
                current, head = store.current_revision(), store.head_revision()
                if current is None:
                    raise click.ClickException(
                        f"no Spoorhound database at {self.settings.database_url}: run `spoorhound init` first"
                    )
                if current != head:
                    raise click.ClickException(
                        f"the database schema is at {current}, this version needs {head}: "
                        "run `spoorhound db upgrade`"
                    )
            self._store = store
        return self._store


def state(ctx: click.Context) -> State:
    """The invocation's :class:`State` (set by the top-level group)."""
    obj = ctx.find_object(State)
    assert obj is not None
    return obj
