"""Options every reader takes (a module of its own so readers need not import the registry)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ReadOptions"]


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the user told us about an input, passed to every reader.

    ``column_map`` maps our field names to the source's column or key names
    (``{"value": "dst_ip", "tags": "malware"}``); ``delimiter`` overrides CSV
    delimiter detection; ``default_type`` is the type hint for rows that carry
    none; ``name`` labels the input in whole-file error messages.
    """

    encoding: str | None = None
    column_map: Mapping[str, str] | None = None
    delimiter: str | None = None
    default_type: str | None = None
    name: str | None = None

    def label(self) -> str:
        """The input's name for messages."""
        return self.name or "<input>"
