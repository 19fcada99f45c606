"""The optional C accelerator of the extractor, or None: which one :func:`extract` runs.

``spoorhound.core._extract_c`` (``_extract_c.c``, built by ``setup.py`` when a compiler
is present) does the per-occurrence loops of the dotted pass and of the final emit step
in C. The pure-Python code in ``_extract_run`` / ``_extract_emit`` is the reference: the
C path gives exactly the same candidates (tests/extract/test_accel.py checks it).

:data:`C` is None, and the pure-Python code runs, when

* the extension is not built (no compiler at install time),
* ``SPOORHOUND_PURE_EXTRACT=1`` is set (read once, at import), or
* the build is stale: the C source next to this module is not the one it was built
  from (its SHA-256 is compiled in). An editable install does not rebuild on a C
  edit; ``make install`` / ``pip install -e .`` does. A warning says so.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from types import ModuleType

__all__ = ["PURE_ENV", "SOURCE", "C", "source_hash"]

PURE_ENV = "SPOORHOUND_PURE_EXTRACT"
SOURCE = Path(__file__).with_name("_extract_c.c")


def source_hash() -> str | None:
    """SHA-256 of ``_extract_c.c`` if the source is present (a checkout), else None."""
    try:
        return hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    except OSError:
        return None


def _load() -> ModuleType | None:
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return None
    try:
        from spoorhound.core import _extract_c
    except ImportError:
        return None
    expected = source_hash()
    if expected is not None and expected != _extract_c.SOURCE_HASH:
        warnings.warn(
            f"spoorhound.core._extract_c was built from another version of {SOURCE.name}"
            " (rebuild it: make install, or pip install -e .); using the pure-Python extractor",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return _extract_c


C: ModuleType | None = _load()
