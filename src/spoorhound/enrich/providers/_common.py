"""Helpers shared by the HTTP providers (reputation, feeds, DNS, RDAP, MISP).

Private: the provider modules import these so that the same rules are written once.
Values a provider sends are never trusted: a pivot is always a canonical, valid
indicator (anything else is dropped) and the number of pivots, tags and listed values
taken from one answer is capped. A 200 answer without the documented shape (or with
an error body) is a failure, not an empty answer, and provider text quoted in a
failure is shortened, made printable and scrubbed of the API key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from spoorhound.core.indicators import IndicatorType, InvalidIndicator, normalize
from spoorhound.enrich.provider import HttpProvider, ProviderError, Related, Status

__all__ = [
    "MAX_RELATED",
    "MAX_TAGS",
    "body_error",
    "expect_mapping",
    "host_type",
    "pick",
    "pivot",
    "pivots",
    "redact",
    "short",
    "tag",
    "texts",
    "unique",
]

_V = TypeVar("_V")

#: At most this many pivots per result: a host with 40,000 URLs must not produce
#: 40,000 relationship rows from one lookup.
MAX_RELATED = 100
#: At most this many tags per result.
MAX_TAGS = 50
#: Longest provider-supplied text copied into a failure reason.
_MAX_REASON = 200


def unique(values: Iterable[_V | None], limit: int | None = None) -> tuple[_V, ...]:
    """Non-None values without repeats, in first-seen order, at most ``limit``."""
    out: dict[_V, None] = {}
    for v in values:
        if v is not None and v not in out:
            out[v] = None
            if limit is not None and len(out) >= limit:
                break
    return tuple(out)


def texts(values: Iterable[object], limit: int | None = None) -> tuple[str, ...]:
    """The strings among ``values``, trimmed, without blanks or repeats, in order."""
    return unique((v.strip() or None for v in values if isinstance(v, str)), limit)


def pivot(relation: str, type: IndicatorType, raw: object) -> Related | None:
    """A :class:`Related` with the canonical form of ``raw``, or None when the provider
    sent something that is not a valid ``type`` (a string, or an int such as an AS
    number; never a bool, None or an empty string)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int) or raw == "":
        return None
    try:
        return Related(relation, type, normalize(type, str(raw)))
    except (InvalidIndicator, ValueError):
        return None


def pivots(
    relation: str, type: IndicatorType, raws: Iterable[object], limit: int = MAX_RELATED
) -> tuple[Related, ...]:
    """Valid, de-duplicated pivots for ``raws`` (at most ``limit``), in order."""
    return unique((pivot(relation, type, raw) for raw in raws), limit)


def host_type(host: str) -> IndicatorType:
    """The indicator type of a host name or address: ipv4, ipv6 or domain."""
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return IndicatorType.DOMAIN
    return IndicatorType.IPV4 if addr.version == 4 else IndicatorType.IPV6


def tag(value: object, namespace: str | None = None) -> str | None:
    """A tag from provider text: trimmed, lower-cased, optionally ``namespace:value``."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = " ".join(str(value).split()).lower()[:100]
    if not text:
        return None
    return f"{namespace}:{text}" if namespace else text


def pick(body: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The entries of ``body`` named in ``keys`` whose value is not None."""
    return {k: body[k] for k in keys if body.get(k) is not None}


def short(value: object, limit: int = 80) -> str:
    """A provider-supplied value made safe to quote in an error message."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redact(text: str, provider: HttpProvider) -> str:
    """``text`` with the provider's API key (if any) replaced by ``***``."""
    key = provider.http.api_key
    secret = key.get_secret_value() if key is not None else ""
    return text.replace(secret, "***") if secret else text


def body_error(provider: HttpProvider, detail: object) -> ProviderError:
    """A failure for a 200 answer that carries an error or an unexpected shape.

    The provider's text is shortened and scrubbed of the key: a misbehaving server
    must not be able to push a secret or a megabyte into a failure reason.
    """
    text = short(redact(str(detail), provider), _MAX_REASON + 1)
    return ProviderError(Status.ERROR, f"{provider.name}: error in response body: {text}")


def expect_mapping(provider: HttpProvider, body: Any, *required: str) -> Mapping[str, Any]:
    """``body`` as a JSON object holding every key in ``required``, else a ProviderError."""
    if not isinstance(body, Mapping):
        raise body_error(provider, f"expected a JSON object, got {type(body).__name__}")
    missing = [k for k in required if k not in body]
    if missing:
        raise body_error(provider, f"missing {', '.join(missing)}: {_preview(body)}")
    return body


def _preview(body: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={body[k]!r}" for k in list(body)[:3]) or "empty object"
