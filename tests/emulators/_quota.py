"""A request quota shared by the reputation-provider emulators.

Each emulator counts authenticated requests against a :class:`Quota`; once it is
spent, the emulator answers with its provider's own rate-limit response (429 with
``Retry-After`` and, where the provider documents them, quota headers). Tests reach
it as ``app.state.quota`` to spend or refill it.
"""

from __future__ import annotations

import time


class Quota:
    """``limit`` requests (None = unlimited), refilled only by :meth:`reset`."""

    def __init__(self, limit: int | None = None, window_seconds: int = 60) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.used = 0

    def spend(self) -> bool:
        """Count one request; False once the quota is exhausted."""
        self.used += 1
        return self.limit is None or self.used <= self.limit

    @property
    def remaining(self) -> int:
        """Requests left (a large number when unlimited)."""
        return 1_000_000 if self.limit is None else max(0, self.limit - self.used)

    @property
    def reset_epoch(self) -> int:
        """When the window resets, as a Unix timestamp."""
        return int(time.time()) + self.window_seconds

    def reset(self, limit: int | None = None) -> None:
        """Start over with ``limit``."""
        self.limit = limit
        self.used = 0
