"""The enrichment provider contract: what a provider declares and what it returns.

A provider (IntelOwl's "analyzer") is one class in one module. It declares its
``name``, the indicator ``types`` it handles, the highest TLP it may receive
(``max_tlp``: an indicator whose visible TLP is above it is never sent; TLP:RED
never leaves the box), its ``timeout`` (in its config), ``rate_limit``,
``cache_ttl``, whether it ``needs_key``, and a pydantic ``config_model`` whose
secrets are ``SecretStr``. It returns :class:`EnrichmentResult`: the raw payload,
a normalised verdict with a 0–100 score, tags, attributes and related indicators
(pivots).

Two kinds:

* :class:`OfflineProvider` — no network, on by default, synchronous and batched
  (``enrich_many``), built for hundreds of thousands of indicators per second.
* :class:`HttpProvider` — a real API over httpx, off until configured. Subclasses
  implement ``enrich`` (and ``enrich_batch`` where the API has a bulk endpoint) and
  use :meth:`HttpProvider.request`, which maps every failure (429 with
  ``Retry-After``, 401/403, 404, 5xx, HTML instead of JSON, a 200 with an error
  body, time-outs, TLS errors, oversized bodies) to a :class:`ProviderError`
  carrying a :class:`Status`, so the runner can retry, wait or give up uniformly.
  A provider whose API takes the key in the query string sets ``key_in_query``:
  creating one masks ``key=``/``apikey=``/``api_key=`` values in the request URLs
  that httpx logs (one filter for the process, on the ``httpx`` and ``httpcore``
  loggers).

Exceptions: :class:`ProviderError` (one failed call: status, reason, retry-after).
"""

from __future__ import annotations

import enum
import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich._transport import FastClient, TooLarge

__all__ = [
    "TLP_ORDER",
    "EnrichmentResult",
    "HttpConfig",
    "HttpProvider",
    "OfflineProvider",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "QuotaHint",
    "RateLimit",
    "Related",
    "Status",
    "Verdict",
    "quota_from_headers",
    "tlp_allows",
]

#: TLP levels from least to most restricted.
TLP_ORDER = ("clear", "green", "amber", "amber+strict", "red")


def tlp_allows(max_tlp: str, tlp: str | None) -> bool:
    """Whether an indicator at ``tlp`` (None = unmarked, treated as ``clear``) may go to a
    provider that accepts up to ``max_tlp``."""
    return TLP_ORDER.index(tlp or "clear") <= TLP_ORDER.index(max_tlp)


class Verdict(enum.StrEnum):
    """A provider's normalised opinion of an indicator."""

    MALICIOUS = "malicious"
    SUSPICIOUS = "suspicious"
    BENIGN = "benign"
    UNKNOWN = "unknown"


class Status(enum.StrEnum):
    """Outcome of one lookup. Only ``OK`` and ``NOT_FOUND`` are answers; the rest are failures."""

    OK = "ok"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"  # retry after ``retry_after`` seconds
    QUOTA_EXCEEDED = "quota_exceeded"  # daily/monthly quota: wait for the reset
    AUTH_FAILED = "auth_failed"  # missing or wrong key: one clear message, no retries
    ERROR = "error"  # transient (5xx, time-out, garbage): retried with backoff


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A provider's documented limits; None means no limit at that scale."""

    per_second: float | None = None
    per_minute: int | None = None
    per_day: int | None = None
    per_month: int | None = None


@dataclass(frozen=True, slots=True)
class Related:
    """A pivot: another indicator and how it relates (``resolves-to``, ``hosted-on``…)."""

    relation: str
    type: IndicatorType
    value: str


@dataclass(frozen=True, slots=True)
class EnrichmentResult:
    """One provider's answer about one indicator (stored append-only, with its time)."""

    provider: str
    indicator: Indicator
    status: Status
    verdict: Verdict = Verdict.UNKNOWN
    score: int | None = None
    tags: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    related: tuple[Related, ...] = ()
    raw: Any = None
    error: str | None = None
    retry_after: float | None = None
    fetched_at: int = field(default_factory=lambda: int(time.time()))

    @property
    def ok(self) -> bool:
        """An answer (found or not found), as opposed to a failed attempt."""
        return self.status in (Status.OK, Status.NOT_FOUND)


@dataclass(slots=True)
class QuotaHint:
    """What the provider's last answer said about its quota: calls ``remaining`` until
    ``reset_at`` (epoch seconds)."""

    remaining: int
    reset_at: float


def quota_from_headers(headers: Mapping[str, str], now: float) -> QuotaHint | None:
    """The quota state in the de-facto standard headers, or None when they are absent.

    Reads ``X-RateLimit-Remaining`` with ``X-RateLimit-Reset`` (AbuseIPDB and many
    others; the reset as epoch seconds, as seconds from now when small, or as an
    HTTP date) and the IETF draft's ``RateLimit-Remaining``/``RateLimit-Reset``
    (seconds from now). Without a reset time the state is unusable (when would the
    wait end?) and None is returned; a 429's ``Retry-After`` covers that case.
    """
    for prefix in ("x-ratelimit-", "ratelimit-"):
        raw = headers.get(prefix + "remaining")
        if raw is None:
            continue
        try:
            remaining = int(float(raw.split(",")[0]))
        except ValueError:
            return None
        reset = _reset_at(headers.get(prefix + "reset"), now)
        return None if reset is None else QuotaHint(max(0, remaining), reset)
    return None


def _reset_at(value: str | None, now: float) -> float | None:
    if not value:
        return None
    try:
        n = float(value.split(",")[0])
    except ValueError:
        try:
            return parsedate_to_datetime(value).timestamp()  # an HTTP date
        except (TypeError, ValueError):
            return None
    # Epoch seconds are ~1.7e9; anything below ten years' worth is a delay.
    return n if n > 315_360_000 else now + max(0.0, n)


class ProviderError(Exception):
    """One failed call: a :class:`Status`, a reason for humans, and maybe when to retry."""

    def __init__(self, status: Status, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


class ProviderConfig(BaseModel):
    """Settings every provider has. Unknown keys are an error (typos never pass silently)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True


class HttpConfig(ProviderConfig):
    """Settings of an HTTP provider; ``api_key`` is never shown or logged."""

    enabled: bool = False
    base_url: str
    api_key: SecretStr | None = None
    timeout: float = Field(default=15.0, gt=0, le=300)
    max_response_bytes: int = Field(default=8 << 20, gt=0)
    verify_tls: bool = True


class Provider(ABC):
    """Base of every provider; subclasses set the class attributes."""

    name: ClassVar[str]
    title: ClassVar[str]
    types: ClassVar[frozenset[IndicatorType]]
    max_tlp: ClassVar[str] = "amber"
    network: ClassVar[bool] = False
    needs_key: ClassVar[bool] = False
    rate_limit: ClassVar[RateLimit] = RateLimit()
    cache_ttl: ClassVar[int] = 86_400
    config_model: ClassVar[type[ProviderConfig]] = ProviderConfig

    def __init__(self, config: ProviderConfig | None = None) -> None:
        self.config = config if config is not None else self.config_model()

    def accepts(self, indicator: Indicator, tlp: str | None = None) -> bool:
        """Whether this provider handles the indicator's type and may see its TLP."""
        return indicator.type in self.types and tlp_allows(self.max_tlp, tlp)

    def result(
        self, indicator: Indicator, status: Status = Status.OK, **kw: Any
    ) -> EnrichmentResult:
        """Shorthand for building this provider's result."""
        return EnrichmentResult(provider=self.name, indicator=indicator, status=status, **kw)


class OfflineProvider(Provider):
    """A provider that needs no network: synchronous, batched, fast."""

    max_tlp: ClassVar[str] = "red"  # nothing leaves the machine

    @abstractmethod
    def enrich_many(self, indicators: Sequence[Indicator]) -> list[EnrichmentResult]:
        """One result per accepted indicator, in order."""


class HttpProvider(Provider):
    """A provider behind an HTTP API (httpx)."""

    network: ClassVar[bool] = True
    config_model: ClassVar[type[ProviderConfig]] = HttpConfig
    #: How many indicators ``enrich_batch`` takes at once (1 = no bulk endpoint).
    batch_size: ClassVar[int] = 1
    #: The API takes the key as a query parameter, so it is in every URL httpx logs.
    key_in_query: ClassVar[bool] = False

    def __init__(self, config: ProviderConfig | None = None) -> None:
        super().__init__(config)
        if self.key_in_query:
            _mask_keys_in_http_logs()
        #: The provider's quota as its last answer told it (None: unknown).
        self.quota: QuotaHint | None = None

    def read_quota(self, headers: Mapping[str, str], now: float) -> QuotaHint | None:
        """The quota state an answer's headers report (override for provider-specific
        headers); called on every answer, refusals included."""
        return quota_from_headers(headers, now)

    def _learn_quota(self, hint: QuotaHint) -> None:
        q = self.quota
        if q is not None and abs(q.reset_at - hint.reset_at) < 1.0:
            # Same window: an answer to an earlier call does not know about the calls
            # started since, which this side has already counted down.
            q.remaining = min(q.remaining, hint.remaining)
        else:
            self.quota = hint

    def quota_known(self, now: float) -> bool:
        """Whether an answer has told the current quota window's state."""
        return self.quota is not None and now < self.quota.reset_at

    def quota_wait(self, now: float) -> float:
        """Seconds to wait before the next call may go out (0: go, and count it).

        Once the provider has said its quota is spent until a reset, calls wait for
        the reset instead of being refused; each call started counts down the
        remaining calls, so calls in flight cannot overrun it either.
        """
        q = self.quota
        if q is None:
            return 0.0
        if now >= q.reset_at:
            self.quota = None
            return 0.0
        if q.remaining <= 0:
            return q.reset_at - now
        q.remaining -= 1
        return 0.0

    @property
    def http(self) -> HttpConfig:
        """The typed configuration."""
        assert isinstance(self.config, HttpConfig)
        return self.config

    def auth_headers(self) -> dict[str, str]:
        """Headers carrying the API key (override per provider)."""
        return {}

    @abstractmethod
    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        """Look one indicator up; raise :class:`ProviderError` on failure."""

    async def enrich_batch(
        self, client: httpx.AsyncClient, indicators: Sequence[Indicator]
    ) -> list[EnrichmentResult]:
        """Look several up; providers with a bulk endpoint override this."""
        return [await self.enrich(client, i) for i in indicators]

    async def request(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        not_found: tuple[int, ...] = (404,),
    ) -> Any:
        """Call the API and return the decoded JSON body, or None when the status is in
        ``not_found``. Every failure becomes a :class:`ProviderError`."""
        if self.needs_key and self.http.api_key is None:
            raise ProviderError(Status.AUTH_FAILED, f"{self.name}: no API key configured")
        url = self.http.base_url.rstrip("/") + "/" + path.lstrip("/")
        hdrs = {"Accept": "application/json", **self.auth_headers(), **(headers or {})}
        try:
            if isinstance(client, FastClient):
                code, got, body = await self._fetch(client, method, url, params, data, json, hdrs)
            else:
                async with client.stream(
                    method,
                    url,
                    params=params,
                    data=data,
                    json=json,
                    headers=hdrs,
                    timeout=self.http.timeout,
                ) as resp:
                    body = await self._read_capped(resp)
                code, got = resp.status_code, resp.headers
        except httpx.TimeoutException:
            raise ProviderError(
                Status.ERROR, f"{self.name}: timed out after {self.http.timeout:g}s"
            ) from None
        except httpx.ConnectError as e:
            reason = (
                "TLS error"
                if "SSL" in str(e) or "certificate" in str(e).lower()
                else "cannot connect"
            )
            raise ProviderError(Status.ERROR, f"{self.name}: {reason}: {e}") from None
        except httpx.HTTPError as e:
            raise ProviderError(Status.ERROR, f"{self.name}: {type(e).__name__}: {e}") from None
        hint = self.read_quota(got, time.time())
        if hint is not None:
            self._learn_quota(hint)
        if code in not_found:
            return None
        if code == 429:
            raise ProviderError(
                Status.RATE_LIMITED,
                f"{self.name}: rate limited (429)",
                _retry_after(got.get("retry-after")),
            )
        if code in (401, 403):
            raise ProviderError(
                Status.AUTH_FAILED,
                f"{self.name}: authentication failed ({code}); check the API key",
            )
        if code >= 400:
            raise ProviderError(Status.ERROR, f"{self.name}: HTTP {code}")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            kind = got.get("content-type", "unknown content type").split(";")[0]
            raise ProviderError(Status.ERROR, f"{self.name}: expected JSON, got {kind}") from None

    async def _fetch(
        self,
        client: FastClient,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        json: Any,
        headers: dict[str, str],
    ) -> tuple[int, Mapping[str, str], bytes]:
        # The runner's hot path: the same exchange without httpx's Request/Response
        # objects (see spoorhound.enrich._transport).
        content = b""
        if json is not None:
            content = orjson.dumps(json)
            headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            content = urlencode(data, doseq=True).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        try:
            got = await client.wire.fetch(
                method,
                url,
                params=params,
                headers=headers,
                content=content,
                timeout=self.http.timeout,
                max_bytes=self.http.max_response_bytes,
            )
        except TooLarge as e:
            raise ProviderError(Status.ERROR, f"{self.name}: {e}") from None
        if _HTTPX_LOG.isEnabledFor(logging.INFO):
            # The line httpx logs for each request (API keys in URLs masked the same way).
            shown = f"{url}?{urlencode(params)}" if params else url
            _HTTPX_LOG.info('HTTP Request: %s %s "HTTP/1.1 %d"', method, shown, got.status)
        return got.status, got.headers, got.body

    async def _read_capped(self, resp: httpx.Response) -> bytes:
        limit = self.http.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise ProviderError(
                    Status.ERROR, f"{self.name}: response larger than {limit} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)


_HTTPX_LOG = logging.getLogger("httpx")
_KEY_IN_QUERY = re.compile(r"([?&](?:key|apikey|api_key)=)[^&#\s\"']*", re.IGNORECASE)


def _mask_key(value: object) -> object:
    """``value`` with API keys in query strings masked, when it is a string or URL."""
    if not isinstance(value, str | httpx.URL):
        return value
    text = str(value)
    masked = _KEY_IN_QUERY.sub(r"\1***", text)
    return value if masked == text else masked


class _MaskKeyInQuery(logging.Filter):
    """Masks API keys in query strings of a log record's message and arguments (httpx
    logs every request URL at INFO). Scrubs in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _mask_key(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_mask_key(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _mask_key(v) for k, v in record.args.items()}
        return True


_KEY_MASK = _MaskKeyInQuery()


def _mask_keys_in_http_logs() -> None:
    # A logger's own filters see its records before any handler; addFilter is idempotent.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).addFilter(_KEY_MASK)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
