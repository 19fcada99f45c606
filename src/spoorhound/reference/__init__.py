"""Offline reference data: MISP warninglists (safelisting) and other bundled datasets.

Nothing is read at import time; each dataset is loaded by an explicit ``load`` call.
"""

from spoorhound.reference.warninglists import SafelistIndex, WarninglistInfo

__all__ = ["SafelistIndex", "WarninglistInfo"]
