"""Spoorhound: an IOC-centric threat-intelligence platform."""

__version__ = "0.1.0"
__all__ = ["__version__"]
