"""Registration of built-in providers (entry point `builtin-offline`)."""

from __future__ import annotations

from spoorhound.enrich.plugins import hookimpl
from spoorhound.enrich.provider import Provider


@hookimpl
def spoorhound_providers() -> list[type[Provider]]:
    """The providers of this group."""
    return []
