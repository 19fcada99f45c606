"""Settings: where the data lives and which database holds it.

Nothing here is read at import time; :func:`Settings.from_env` is called by the
CLI and the app factory, so tests can build settings explicitly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_DATA_DIR", "Settings"]

DEFAULT_DATA_DIR = Path("~/.local/share/spoorhound")


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved configuration for one process."""

    data_dir: Path
    database_url: str

    @classmethod
    def build(
        cls, data_dir: str | os.PathLike[str] | None = None, database_url: str | None = None
    ) -> Settings:
        """Resolve settings from arguments, then ``SPOORHOUND_*`` variables, then defaults.

        The embedded default is a SQLite file ``spoorhound.db`` in the data directory.
        """
        raw_dir = data_dir or os.environ.get("SPOORHOUND_DATA_DIR") or DEFAULT_DATA_DIR
        resolved = Path(raw_dir).expanduser().resolve()
        url = database_url or os.environ.get("SPOORHOUND_DATABASE_URL")
        if not url:
            url = f"sqlite:///{resolved / 'spoorhound.db'}"
        return cls(data_dir=resolved, database_url=url)

    @property
    def is_sqlite(self) -> bool:
        """True when the indicator store is the embedded SQLite database."""
        return self.database_url.startswith("sqlite")
