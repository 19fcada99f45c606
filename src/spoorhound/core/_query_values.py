"""Values of query terms: check and convert one value for a field kind (pure).

Private to :mod:`spoorhound.core.query`, which reports a :class:`BadValue` as a
positioned ``QuerySyntaxError``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from spoorhound.core.context import (
    TLP_LEVELS,
    normalize_tag,
    parse_confidence,
    parse_time,
    parse_tlp,
)
from spoorhound.core.indicators import UnknownType, normalize, resolve_type

__all__ = [
    "RISK_LEVELS",
    "UNITS",
    "VERDICTS",
    "AbsTime",
    "BadValue",
    "RelTime",
    "Scalar",
    "convert",
    "network",
]

#: Risk levels in order (Pulsedive's scale); ``unknown`` is unordered.
RISK_LEVELS: tuple[str, ...] = ("none", "low", "medium", "high", "critical")
_RISK_WORDS = (*RISK_LEVELS, "unknown")
#: Normalised provider verdicts (``spoorhound.enrich.provider.Verdict``).
VERDICTS: tuple[str, ...] = ("malicious", "suspicious", "benign", "unknown")
#: Units of relative times, largest first (the printer picks the largest exact one).
UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_RELATIVE = re.compile(r"-?(\d{1,9})([smhdwy])")
_MAX_REL = 200 * 365 * 86400
_MIN_EPOCH = -62135596800  # 0001-01-01T00:00:00Z: what datetime can print back
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z


class BadValue(ValueError):
    """A value that does not fit its field; the message is user-facing."""


@dataclass(frozen=True, slots=True)
class RelTime:
    """A time ``seconds`` before now (``-7d``); resolved when the query is compiled."""

    seconds: int


@dataclass(frozen=True, slots=True)
class AbsTime:
    """An absolute time in UTC epoch seconds (``2024-01-01``)."""

    epoch: int


Scalar = str | int | bool | RelTime | AbsTime


def network(text: str) -> str:
    try:
        # ipaddress masks host bits and validates; core gives the stored canonical form.
        return normalize("cidr", str(ipaddress.ip_network(text.strip(), strict=False)))
    except ValueError:
        raise BadValue(
            f"bad network {text!r}: expected an address or a CIDR like 10.0.0.0/8"
        ) from None


def _address(text: str, *, network_ok: bool) -> str:
    if network_ok and "/" in text:
        return network(text)
    try:
        addr = ipaddress.ip_address(text.strip())
        return normalize("ipv4" if addr.version == 4 else "ipv6", str(addr))
    except ValueError:
        want = "an IP address or a network" if network_ok else "an IP address"
        raise BadValue(f"bad address {text!r}: expected {want}") from None


def _time(text: str) -> RelTime | AbsTime:
    m = _RELATIVE.fullmatch(text.strip().lower())
    if m:
        seconds = int(m.group(1)) * UNITS[m.group(2)]
        if seconds > _MAX_REL:
            raise BadValue(f"relative time {text!r} is too far back")
        return RelTime(seconds)
    try:
        epoch = parse_time(text)
        if not _MIN_EPOCH <= epoch <= _MAX_EPOCH:
            raise ValueError("out of range")
        return AbsTime(epoch)
    except (ValueError, OverflowError):
        raise BadValue(
            f"bad time {text!r}: use a duration like -7d, -24h, -30m or a date like 2024-01-31"
        ) from None


def _bool(text: str) -> bool:
    t = text.strip().lower()
    if t in ("true", "yes", "1"):
        return True
    if t in ("false", "no", "0"):
        return False
    raise BadValue(f"expected true or false, not {text!r}")


def _number(text: str, lo: int, hi: int, what: str) -> int:
    t = text.strip()
    if not (t.isascii() and t.lstrip("-").isdigit()) or not lo <= int(t) <= hi:
        raise BadValue(f"bad {what} {text!r}: expected a whole number from {lo} to {hi}")
    return int(t)


def _word(text: str, words: tuple[str, ...], what: str) -> str:
    t = text.strip().lower()
    if t not in words:
        raise BadValue(f"unknown {what} {text!r}: expected one of {', '.join(words)}")
    return t


def convert(kind: str, op: str, text: str) -> Scalar:
    """Check and convert one value for a field of ``kind``."""
    if kind in ("time", "sighted"):
        if kind == "sighted" and op in ("=", "!="):
            return _bool(text)
        return _time(text)
    if kind == "bool":
        return _bool(text)
    if kind == "number":
        return _number(text, 0, 100, "score")
    if kind == "confidence":
        try:
            return parse_confidence(text)
        except ValueError:
            raise BadValue(f"bad confidence {text!r}: expected 0-100 or high/medium/low") from None
    if kind == "tlp":
        try:
            return parse_tlp(text)
        except ValueError:
            raise BadValue(
                f"unknown TLP {text!r}: expected one of {', '.join(TLP_LEVELS)}"
            ) from None
    if kind == "risk":
        word = _word(text, _RISK_WORDS, "risk")
        if word == "unknown" and op not in ("=", "!="):
            raise BadValue("risk 'unknown' has no order: use = or !=")
        return word
    if kind == "verdict":
        return _word(text, VERDICTS, "verdict")
    if kind == "ip":
        return _address(text, network_ok=False)
    if kind == "cidr":
        if op == "contains":
            return _address(text, network_ok=True)
        return network(text)
    if kind == "tag" and op != "~":
        try:
            return normalize_tag(text)
        except ValueError as e:
            raise BadValue(f"bad tag {text!r}: {e}") from None
    if kind == "type" and op != "~":
        try:
            return resolve_type(text.strip()).value
        except (UnknownType, ValueError):
            raise BadValue(f"unknown indicator type {text!r}") from None
    if not text.strip():
        raise BadValue("expected a non-empty value")
    return text
