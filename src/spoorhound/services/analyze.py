"""Analyze one value now: passive enrichment and an optional, guarded active probe.

Pulsedive's ``analyze`` in Spoorhound's terms. :meth:`AnalysisQueue.submit` validates
the value, queues the work on a small thread pool and returns a queue id (``qid``);
:meth:`AnalysisQueue.poll` answers ``{"status": "processing"}`` until the work is
done, then ``{"status": "done", "data": …}``.

* **Passive** (always): every enabled provider that handles the type and may see the
  indicator's TLP runs now for this one value — offline providers directly, HTTP
  providers over httpx on a private event loop. Providers withheld by TLP are listed
  with the reason.
* **Active** (``probe=True``): :func:`probe` — DNS records of the host, ``HEAD`` then
  ``GET`` of the URL (a domain or address becomes ``http://host/``) with status,
  headers, ``<title>`` and the redirect chain (at most 5 hops), and the TLS
  certificate's subject, issuer, validity and whether it verifies. Every connection
  goes through :mod:`spoorhound.services.netguard` (no loopback, private, link-local
  or metadata addresses; pinned addresses; every hop re-checked; size and time
  limits). A stored indicator whose visible TLP is ``red`` is never probed.

When the value is a stored indicator the caller can see and the caller may change
data, the answers are stored as enrichments (the probe as provider ``probe``), so
they show up in history and ``current``; otherwise they are only returned.

A qid belongs to whoever submitted it: polling someone else's qid is "not found",
as is a qid older than ``keep`` seconds. Each caller may have ``max_pending``
analyses in flight (:class:`QueueFull` beyond). Nothing starts at import time: the
pool starts with the first submission.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import re
import secrets
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
import httpx
from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from spoorhound.core.indicators import Indicator, IndicatorType, parse
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpProvider,
    OfflineProvider,
    Provider,
    ProviderError,
    Status,
    Verdict,
    tlp_allows,
)
from spoorhound.enrich.runner import to_answer
from spoorhound.services.enrichment import Answer, max_tlps, store_results
from spoorhound.services.indicators import _indicator_rows
from spoorhound.services.jobs import now
from spoorhound.services.netguard import Fetched, NetGuard, Refused, fetch
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = [
    "PROBE_PROVIDER",
    "AnalysisQueue",
    "QueueFull",
    "analyze_value",
    "probe",
    "run_providers",
]

Scope = Collection[str] | None

#: The provider name probe results are stored under.
PROBE_PROVIDER = "probe"
_PROBED = (IndicatorType.DOMAIN, IndicatorType.URL, IndicatorType.IPV4, IndicatorType.IPV6)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_DNS_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "TXT")


class QueueFull(Exception):
    """The caller already has the maximum number of analyses in flight."""


# -- the active probe ------------------------------------------------------------------


def _dns_records(guard: NetGuard, host: str) -> dict[str, Any]:
    r = guard.resolver()
    out: dict[str, Any] = {}
    for rdtype in _DNS_TYPES:
        try:
            answer = r.resolve(host, rdtype, search=False)
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            continue
        except dns.exception.DNSException as e:
            out.setdefault("errors", []).append(f"{rdtype}: {type(e).__name__}")
            continue
        out[rdtype] = sorted(rd.to_text() for rd in answer)
    return out


def _cert(der: bytes) -> dict[str, Any]:
    cert = x509.load_der_x509_certificate(der)
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        names = [str(n.value) for n in ext.value][:100]  # type: ignore[attr-defined]
    except x509.ExtensionNotFound:
        names = []
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": int(cert.not_valid_before_utc.timestamp()),
        "not_after": int(cert.not_valid_after_utc.timestamp()),
        "serial": format(cert.serial_number, "x"),
        "sha256": hashlib.sha256(der).hexdigest(),
        "names": names,
    }


def _handshake(ip: str, port: int, host: str, ctx: ssl.SSLContext, timeout: float) -> bytes:
    with (
        socket.create_connection((ip, port), timeout=timeout) as sock,
        ctx.wrap_socket(sock, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("no certificate")
    return der


def tls_certificate(ip: str, port: int, host: str, timeout: float = 5.0) -> dict[str, Any]:
    """The certificate served at ``ip``:``port`` for ``host`` (SNI), and whether it verifies.

    ``ip`` must already be checked by the guard: this connects to it directly.
    """
    try:
        der = _handshake(ip, port, host, ssl.create_default_context(), timeout)
        return {"valid": True, **_cert(der)}
    except ssl.SSLCertVerificationError as e:
        reason = e.verify_message or str(e)
    except (OSError, ssl.SSLError, ValueError) as e:
        return {"error": f"{type(e).__name__}: {e}"}
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        der = _handshake(ip, port, host, ctx, timeout)
        return {"valid": False, "verify_error": reason, **_cert(der)}
    except (OSError, ssl.SSLError, ValueError) as e:
        return {"valid": False, "verify_error": reason, "error": f"{type(e).__name__}: {e}"}


def _title(body: bytes) -> str | None:
    m = _TITLE.search(body)
    if m is None:
        return None
    text = html.unescape(m.group(1).decode("utf-8", "replace"))
    return " ".join(text.split())[:300] or None


def _start_url(ind: Indicator) -> str:
    if ind.type == IndicatorType.URL:
        return ind.value
    if ind.type == IndicatorType.IPV6:
        return f"http://[{ind.value}]/"
    return f"http://{ind.value}/"


def probe(
    ind: Indicator,
    guard: NetGuard,
    *,
    timeout: float = 10.0,
    max_bytes: int = 1 << 20,
    max_redirects: int = 5,
) -> dict[str, Any]:
    """Probe a domain, URL or IP address safely; returns what was seen.

    Keys: ``url`` (where the probe started), ``dns`` (records of the host name),
    ``addresses`` (checked addresses), ``head`` and ``http`` (status, headers; the GET
    also ``url`` reached, ``title``, ``bytes``, ``truncated``), ``redirects`` (each hop
    before the last: url, ip, status, location), ``tls`` (certificate), and ``refused``
    or ``error`` when the guard or the network stopped it. Raises ValueError for
    other indicator types.
    """
    if ind.type not in _PROBED:
        raise ValueError(f"the probe applies to domains, URLs and IP addresses, not {ind.type}")
    url = _start_url(ind)
    host = urlsplit(url).hostname or ""
    out: dict[str, Any] = {"url": url}
    if ind.type in (IndicatorType.DOMAIN, IndicatorType.URL) and not _is_ip(host):
        out["dns"] = _dns_records(guard, host)
    try:
        target = guard.target(url)
    except Refused as e:
        out["refused"] = str(e)
        return out
    out["addresses"] = [str(a) for a in target.addresses]
    head = fetch(guard, "HEAD", url, max_redirects=0, timeout=timeout, max_bytes=0)
    if head.final is not None:
        out["head"] = {"status": head.final.status, "headers": head.final.headers}
    elif head.error:
        out["head"] = {"error": head.error}
    got = fetch(
        guard, "GET", url, max_redirects=max_redirects, timeout=timeout, max_bytes=max_bytes
    )
    _describe_get(out, got)
    tls_url = got.final.url if got.final is not None else url
    parts = urlsplit(tls_url)
    if parts.scheme != "https" and ind.type == IndicatorType.DOMAIN:
        parts = urlsplit(f"https://{host}/")
    if parts.scheme == "https" and parts.hostname:
        try:
            t = guard.target(parts.geturl())
        except Refused as e:
            out["tls"] = {"error": str(e)}
        else:
            out["tls"] = tls_certificate(str(t.ip), t.port, t.host, timeout=min(timeout, 5.0))
    return out


def _is_ip(host: str) -> bool:
    return bool(host) and (":" in host or host.replace(".", "").isdigit())


def _describe_get(out: dict[str, Any], got: Fetched) -> None:
    final = got.final
    out["redirects"] = [
        {"url": h.url, "ip": h.ip, "status": h.status, "location": h.location}
        for h in got.hops[:-1]
    ]
    if final is not None:
        out["http"] = {
            "url": final.url,
            "ip": final.ip,
            "status": final.status,
            "headers": final.headers,
            "title": _title(got.body),
            "bytes": len(got.body),
            "truncated": got.truncated,
        }
        if final.location is not None and got.error:
            out["redirects"].append(
                {
                    "url": final.url,
                    "ip": final.ip,
                    "status": final.status,
                    "location": final.location,
                }
            )
    if got.error:
        if got.error.startswith(("refused", "redirect refused")):
            out["refused"] = got.error
        out["error"] = got.error


def _probe_answer(pk: int, result: Mapping[str, Any], at: int) -> Answer:
    http = result.get("http") or {}
    tls = result.get("tls") or {}
    attrs = {
        "http_status": http.get("status"),
        "title": http.get("title"),
        "final_url": http.get("url"),
        "server": (http.get("headers") or {}).get("server"),
        "addresses": result.get("addresses"),
        "redirects": len(result.get("redirects") or []),
        "tls_subject": tls.get("subject"),
        "tls_issuer": tls.get("issuer"),
        "tls_not_after": tls.get("not_after"),
        "tls_valid": tls.get("valid"),
        "refused": result.get("refused"),
        "error": result.get("error"),
    }
    related = [
        {"relation": "resolves-to", "type": "ipv6" if ":" in a else "ipv4", "value": a}
        for a in result.get("addresses") or []
    ]
    if http.get("url") and http["url"] != result.get("url"):
        related.append({"relation": "redirects-to", "type": "url", "value": http["url"]})
    return Answer(
        indicator_pk=pk,
        status=Status.OK.value,
        fetched_at=at,
        verdict=Verdict.UNKNOWN.value,
        attributes={k: v for k, v in attrs.items() if v is not None},
        related=related,
        payload=dict(result),
    )


# -- passive enrichment ------------------------------------------------------------------


async def _http_all(providers: list[HttpProvider], ind: Indicator) -> list[EnrichmentResult]:
    async def one(p: HttpProvider) -> EnrichmentResult:
        async with httpx.AsyncClient(verify=p.http.verify_tls, trust_env=False) as client:
            try:
                return await p.enrich(client, ind)
            except ProviderError as e:
                return p.result(ind, e.status, error=e.reason, retry_after=e.retry_after)
            except Exception as e:  # a provider bug is one failed answer, not a failed analysis
                return p.result(ind, Status.ERROR, error=f"{p.name}: {type(e).__name__}: {e}")

    return list(await asyncio.gather(*(one(p) for p in providers)))


def run_providers(
    providers: Mapping[str, Provider], ind: Indicator, tlp: str | None = None
) -> tuple[list[EnrichmentResult], dict[str, str]]:
    """Run every provider that handles ``ind`` and may see ``tlp``; returns (results, withheld).

    ``withheld`` maps each provider that handles the type but may not see the TLP to
    the reason. Offline providers run in this thread; HTTP providers concurrently on
    a private event loop (call from a thread without a running loop).
    """
    results: list[EnrichmentResult] = []
    withheld: dict[str, str] = {}
    http: list[HttpProvider] = []
    for name, p in sorted(providers.items()):
        if ind.type not in p.types:
            continue
        if not tlp_allows(p.max_tlp, tlp):
            withheld[name] = (
                f"TLP:{(tlp or 'clear').upper()} is above its limit TLP:{p.max_tlp.upper()}"
            )
            continue
        if isinstance(p, OfflineProvider):
            try:
                results.extend(r for r in p.enrich_many([ind]) if r.indicator == ind)
            except Exception as e:  # same rule as the runner: one provider's bug is its own
                results.append(
                    p.result(ind, Status.ERROR, error=f"{name}: {type(e).__name__}: {e}")
                )
        elif isinstance(p, HttpProvider):
            http.append(p)
    if http:
        results.extend(asyncio.run(_http_all(http, ind)))
    return results, withheld


def _shown(r: EnrichmentResult) -> dict[str, Any]:
    a = to_answer(0, r)
    return {**a.normalised(), "error": r.error, "fetched_at": r.fetched_at}


# -- one analysis -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    qid: int
    indicator: Indicator
    probe: bool
    scope: frozenset[str] | None
    can_store: bool


def analyze_value(
    store: Store,
    ind: Indicator,
    *,
    providers: Mapping[str, Provider],
    guard: NetGuard,
    probe_it: bool = False,
    scope: Scope = None,
    can_store: bool = False,
    job_key: str = "analyze",
    probe_timeout: float = 10.0,
    max_bytes: int = 1 << 20,
) -> dict[str, Any]:
    """Analyze ``ind`` now (see the module docstring); returns the result document.

    Keys: ``indicator`` (id, type, value), ``stored`` (whether answers were stored),
    ``tlp`` (the visible TLP of the stored indicator, None when not stored),
    ``providers`` (name → normalised answer), ``withheld`` (name → reason) and
    ``probe`` (the :func:`probe` result, or ``{"refused": …}``; None without probing).
    """
    with store.read() as conn:
        rows = _indicator_rows(
            conn,
            (schema.indicator.c.type == ind.type.value) & (schema.indicator.c.value == ind.value),
            scope,
        )
        pk: int | None = rows[0]["pk"] if rows else None
        tlp = max_tlps(conn, [pk], scope).get(pk) if pk is not None else None
    results, withheld = run_providers(providers, ind, tlp)
    probed: dict[str, Any] | None = None
    if probe_it:
        if tlp == "red":
            probed = {"refused": "TLP:RED indicators are never probed"}
        else:
            try:
                probed = probe(ind, guard, timeout=probe_timeout, max_bytes=max_bytes)
            except ValueError as e:
                probed = {"refused": str(e)}
    stored = pk is not None and can_store
    if stored:
        assert pk is not None
        at = now()
        with store.write() as conn:
            for r in results:
                store_results(conn, job_key, r.provider, [to_answer(pk, r)], at=at)
            if probed is not None and "url" in probed:
                store_results(conn, job_key, PROBE_PROVIDER, [_probe_answer(pk, probed, at)], at=at)
    return {
        "indicator": {"id": ind.id, "type": ind.type.value, "value": ind.value},
        "stored": stored,
        "tlp": tlp,
        "providers": {r.provider: _shown(r) for r in results},
        "withheld": withheld,
        "probe": probed,
    }


# -- the queue -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    owner: int
    created: float
    status: str = "processing"
    data: dict[str, Any] | None = None


@dataclass
class AnalysisQueue:
    """Queued analyses of one application (see the module docstring).

    ``providers`` is called once, on the first analysis, for the enabled providers.
    """

    store: Store
    guard: NetGuard = field(default_factory=NetGuard)
    providers: Callable[[], Mapping[str, Provider]] = dict
    workers: int = 2
    keep: float = 3600.0
    max_pending: int = 20
    max_entries: int = 10_000
    probe_timeout: float = 10.0
    max_bytes: int = 1 << 20
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[int, _Entry] = field(default_factory=OrderedDict, init=False)
    _pool: ThreadPoolExecutor | None = field(default=None, init=False)
    _loaded: Mapping[str, Provider] | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def submit(
        self,
        value: str,
        *,
        owner: int,
        probe: bool = False,
        scope: Scope = None,
        can_store: bool = False,
    ) -> int:
        """Queue an analysis of ``value`` for user ``owner``; returns its qid.

        Raises :class:`~spoorhound.core.indicators.InvalidIndicator` for a value that is
        no indicator and :class:`QueueFull` when ``owner`` has too many in flight.
        """
        ind = parse(value)
        with self._lock:
            self._expire()
            pending = sum(
                1 for e in self._entries.values() if e.owner == owner and e.status == "processing"
            )
            if pending >= self.max_pending:
                raise QueueFull(f"{pending} analyses already in progress; poll them first")
            qid = secrets.randbelow(2**31 - 1) + 1
            while qid in self._entries:
                qid = secrets.randbelow(2**31 - 1) + 1
            self._entries[qid] = _Entry(owner, self.clock())
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.workers, thread_name_prefix="spoorhound-analyze"
                )
            pool = self._pool
        job = _Job(qid, ind, probe, frozenset(scope) if scope is not None else None, can_store)
        pool.submit(self._run, job)
        return qid

    def _provider_map(self) -> Mapping[str, Provider]:
        with self._lock:
            if self._loaded is None:
                self._loaded = dict(self.providers())
            return self._loaded

    def _run(self, job: _Job) -> None:
        try:
            data = analyze_value(
                self.store,
                job.indicator,
                providers=self._provider_map(),
                guard=self.guard,
                probe_it=job.probe,
                scope=job.scope,
                can_store=job.can_store,
                job_key=f"analyze:{job.qid}",
                probe_timeout=self.probe_timeout,
                max_bytes=self.max_bytes,
            )
            status = "done"
        except Exception as e:  # reported to the poller; the pool thread survives
            data = {"error": f"analysis failed: {type(e).__name__}: {e}"}
            status = "error"
        with self._lock:
            entry = self._entries.get(job.qid)
            if entry is not None:
                entry.status, entry.data = status, data

    def _expire(self) -> None:
        cutoff = self.clock() - self.keep
        while self._entries:
            qid, entry = next(iter(self._entries.items()))
            if entry.created >= cutoff and len(self._entries) < self.max_entries:
                break
            del self._entries[qid]

    def poll(self, qid: int, *, owner: int) -> dict[str, Any] | None:
        """``{"status": "processing"}``, ``{"status": "done", "data": …}`` (or ``"error"``),
        or None when ``qid`` is unknown, expired or not ``owner``'s."""
        with self._lock:
            self._expire()
            entry = self._entries.get(qid)
            if entry is None or entry.owner != owner:
                return None
            if entry.status == "processing":
                return {"status": "processing"}
            return {"status": entry.status, "data": entry.data}

    def wait(
        self, qid: int, *, owner: int, timeout: float = 30.0, every: float = 0.05
    ) -> dict[str, Any]:
        """Poll until ``qid`` is no longer processing (for tests and the CLI); raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.poll(qid, owner=owner)
            if got is None:
                raise KeyError(qid)
            if got["status"] != "processing":
                return got
            if time.monotonic() > deadline:
                raise TimeoutError(f"analysis {qid} still processing after {timeout:g} s")
            time.sleep(every)

    def close(self) -> None:
        """Stop the pool (running analyses finish)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
