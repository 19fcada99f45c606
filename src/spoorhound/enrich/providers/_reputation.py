"""Helpers shared by the reputation providers (VirusTotal, AbuseIPDB, GreyNoise, OTX, Shodan).

Each provider module maps its own payload; what they share lives here so the rules
are written once: turning a raw value from a payload into a canonical pivot (values
a provider sends are never trusted to be valid), namespaced tags, checking that a 200
answer has the documented shape (a "200 with an error body" is a failure, not an
empty answer), and keeping the API key out of every message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from spoorhound.core.indicators import IndicatorType, InvalidIndicator, normalize
from spoorhound.enrich.provider import HttpProvider, ProviderError, Related, Status

__all__ = [
    "body_error",
    "expect_mapping",
    "pivot",
    "pivots",
    "redact",
    "tag",
    "unique",
]

#: Longest provider-supplied text copied into a failure reason.
_MAX_REASON = 200


def redact(text: str, provider: HttpProvider) -> str:
    """``text`` with the provider's API key (if any) replaced by ``***``."""
    key = provider.http.api_key
    secret = key.get_secret_value() if key is not None else ""
    return text.replace(secret, "***") if secret else text


def body_error(provider: HttpProvider, detail: object) -> ProviderError:
    """A failure for a 200 answer that carries an error or an unexpected shape.

    The provider's text is truncated and scrubbed of the key: a misbehaving server
    must not be able to push a secret or a megabyte into a failure reason.
    """
    text = redact(str(detail), provider)
    if len(text) > _MAX_REASON:
        text = text[:_MAX_REASON] + "…"
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


def pivot(relation: str, type: IndicatorType, raw: object) -> Related | None:
    """A pivot to ``raw`` in canonical form, or None when it is not a valid ``type``."""
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return Related(relation, type, normalize(type, str(raw)))
    except (InvalidIndicator, ValueError):
        return None


def pivots(
    relation: str, type: IndicatorType, raws: Iterable[object], limit: int = 100
) -> list[Related]:
    """Valid, de-duplicated pivots for ``raws`` (at most ``limit``), in order."""
    out: list[Related] = []
    seen: set[str] = set()
    for raw in raws:
        r = pivot(relation, type, raw)
        if r is not None and r.value not in seen:
            seen.add(r.value)
            out.append(r)
            if len(out) >= limit:
                break
    return out


def tag(value: object, namespace: str | None = None) -> str | None:
    """A tag from provider text: trimmed, lower-cased, optionally ``namespace:value``."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = " ".join(str(value).split()).lower()[:100]
    if not text:
        return None
    return f"{namespace}:{text}" if namespace else text


def unique(values: Iterable[Any], limit: int = 50) -> tuple[Any, ...]:
    """Non-None values without repeats, in first-seen order, at most ``limit``."""
    out: dict[Any, None] = {}
    for v in values:
        if v is not None and v not in out:
            out[v] = None
            if len(out) >= limit:
                break
    return tuple(out)
