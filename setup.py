"""Build of the optional C accelerator of the extractor (everything else is in pyproject.toml).

``spoorhound.core._extract_c`` is optional: without a compiler the build of it fails
quietly and the pure-Python extractor is used. The SHA-256 of the C source is compiled
in as ``SOURCE_HASH``, so that ``spoorhound.core._extract_accel`` can refuse a build
that is older than the source next to it (an editable install after a C edit).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from setuptools import Extension, setup

SOURCE = "src/spoorhound/core/_extract_c.c"
DIGEST = hashlib.sha256((Path(__file__).resolve().parent / SOURCE).read_bytes()).hexdigest()

setup(
    ext_modules=[
        Extension(
            "spoorhound.core._extract_c",
            [SOURCE],
            define_macros=[("SOURCE_HASH", f'"{DIGEST}"')],
            extra_compile_args=["-O2", "-Wall"],
            optional=True,
        )
    ]
)
