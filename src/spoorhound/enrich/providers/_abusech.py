"""What URLhaus, ThreatFox and MalwareBazaar share: the Auth-Key and ``query_status``.

abuse.ch answers most outcomes with HTTP 200 and a ``query_status`` field. Since 2025
every API requires an ``Auth-Key`` header (free at https://auth.abuse.ch/); a missing or
wrong key is answered with HTTP 401, and some endpoints say ``unknown_auth_key`` in a
200 body instead. Mapping, for all three services:

* ``ok`` → the body is returned to the provider;
* ``no_results`` / ``no_result`` / ``hash_not_found`` / other ``*_not_found`` →
  ``None`` (the provider reports ``NOT_FOUND``);
* ``unknown_auth_key`` or any status mentioning ``auth`` → ``AUTH_FAILED`` with one
  message saying what to do;
* anything else (``illegal_*``, ``invalid_*``, ``http_post_expected``, a body without
  ``query_status``, a non-object body) → ``ERROR`` quoting the status.

Rate limits: abuse.ch publishes none (fair use); the providers declare none and rely
on 429/``Retry-After`` mapping. TLP: these are third-party community services that
log queries; a lookup discloses the indicator to abuse.ch, so ``max_tlp`` is
``green`` (sharing with the community is allowed, AMBER's need-to-know is not met).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from spoorhound.enrich.provider import HttpProvider, ProviderError, Status
from spoorhound.enrich.providers._common import short

__all__ = ["AbuseChProvider", "check_query_status"]

_NOT_FOUND = frozenset({"no_results", "no_result", "hash_not_found", "not_found"})


def check_query_status(provider: str, body: Any) -> dict[str, Any] | None:
    """Return ``body`` when ``query_status`` is ``ok``, None when it means not found,
    and raise :class:`ProviderError` otherwise (see the module docstring)."""
    if not isinstance(body, dict):
        raise ProviderError(
            Status.ERROR, f"{provider}: expected a JSON object, got {type(body).__name__}"
        )
    status = body.get("query_status")
    if status == "ok":
        return body
    if not isinstance(status, str):
        raise ProviderError(Status.ERROR, f"{provider}: response has no query_status")
    if status in _NOT_FOUND or status.endswith("_not_found"):
        return None
    if "auth" in status:
        raise ProviderError(
            Status.AUTH_FAILED,
            f"{provider}: abuse.ch rejected the Auth-Key ({short(status)}); "
            "check the key from https://auth.abuse.ch/",
        )
    raise ProviderError(Status.ERROR, f"{provider}: query_status {short(status)!r}")


class AbuseChProvider(HttpProvider):
    """Base of the three abuse.ch providers: key header, TLP ceiling, status handling."""

    max_tlp: ClassVar[str] = "green"
    needs_key: ClassVar[bool] = True
    cache_ttl: ClassVar[int] = 6 * 3600  # URL status and new samples change within hours

    def auth_headers(self) -> dict[str, str]:
        """The ``Auth-Key`` header abuse.ch requires."""
        key = self.http.api_key
        return {"Auth-Key": key.get_secret_value()} if key is not None else {}

    async def query(
        self,
        client: httpx.AsyncClient,
        path: str,
        *,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> dict[str, Any] | None:
        """POST to ``path`` and check ``query_status``: the body, or None for not found."""
        body = await self.request(client, "POST", path, data=data, json=json)
        return check_query_status(self.name, body)
