"""The enrichment runner: DBOS workflows and steps (the only module that declares them).

Shape of a job (``enrich_job``, durable, id = the job's id):

1. *plan* (step): select the indicators (filters, scope, recency) and cut them into
   pk ranges; record per-provider totals and the number of parts on the job;
2. for every (provider, range) enqueue ``enrich_range`` on the provider's queue
   ``enrich-<name>``; each part records its end, and the last one marks the job done.

``enrich_range`` (one per provider and range) keeps only the indicators the
provider handles, may see (TLP ceiling; TLP:RED never leaves) and has not answered
within its cache lifetime, then processes them in batches, each one step that
calls the provider and stores the answers and the batch's counters in one
transaction. Offline providers take a whole range in one call of
``enrich_many``; HTTP providers take ``http_batch`` indicators per step with up to
``http_concurrency`` calls in flight, using bulk endpoints where the provider has
them.

Rate limits: a rate-limited provider's queue runs one workflow at a time globally,
and inside it calls go out on a few lanes, each starting its next call a fixed gap
after its previous one *ended* (:func:`_pacing`), the last end being kept in the
database so the spacing holds across workflows and workers. Quota headers of the
answers (``HttpProvider.quota``) hold calls back at "0 remaining" until the reset. Daily/monthly quotas are reserved in
the database before each batch; when they run out the workflow sleeps durably
until the next period and carries on. 429 honours ``Retry-After``; errors back off
exponentially up to ``max_attempts``; an authentication failure disables the
provider for the job with one message.

Exactly once: stored rows carry a unique attempt key and batches a unique progress
row, so a step re-executed after a crash adds nothing (and, when its batch was
recorded, does not even call the provider again).

DBOS workflows take only serialisable arguments, so the objects they work with
(the store, provider instances, settings) live in one module-level holder set by
:func:`spoorhound.enrich.runtime.start_runtime` — the one deliberate global.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from dbos import DBOS, SetWorkflowID

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich._httploop import HttpLoop
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpProvider,
    OfflineProvider,
    Provider,
    ProviderError,
    Status,
    tlp_allows,
)
from spoorhound.services import enrichment as results
from spoorhound.services import enrichment_progress as progress
from spoorhound.services import provider_usage, watchlists
from spoorhound.services.enrichment import Answer, Selection
from spoorhound.services.jobs import create_job, now
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = [
    "JOBS_QUEUE",
    "RunnerContext",
    "RunnerSettings",
    "enrich_job",
    "enrich_range",
    "queue_name",
    "set_context",
    "to_answer",
    "watch_tick",
]

JOBS_QUEUE = "enrich-jobs"


def queue_name(provider: str) -> str:
    """The DBOS queue of ``provider``."""
    return f"enrich-{provider}"


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    """Tunables of the runner (defaults suit production; tests shrink the waits)."""

    offline_chunk: int = 5000
    http_chunk: int = 1000
    http_batch: int = 250
    #: Calls in flight (lanes) per batch of an unlimited provider: enough to hide real
    #: providers' network latency (at 100 ms, 80 lookups/s); against a loopback
    #: emulator 8 already reach about 0.8 of a bare client (bench/http_ceiling.py).
    http_concurrency: int = 8
    max_attempts: int = 4
    backoff: float = 1.0
    max_backoff: float = 60.0
    #: How long to wait when a provider reports its quota spent without saying until when.
    quota_fallback_wait: float = 3600.0
    #: Fixed quota period lengths in seconds instead of calendar day/month (tests).
    quota_lengths: dict[str, int | None] = field(default_factory=dict)
    polling_interval: float = 0.1
    #: Cron (with seconds) of the continuous-tracking tick; None disables it.
    watch_schedule: str | None = "0 * * * * *"


@dataclass(slots=True)
class RunnerContext:
    """What workflows need besides their arguments."""

    store: Store
    providers: dict[str, Provider]
    settings: RunnerSettings = field(default_factory=RunnerSettings)
    _http: HttpLoop | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def http_loop(self) -> HttpLoop:
        """The shared HTTP event loop, started on first use."""
        with self._lock:
            if self._http is None:
                # Room for every worker thread's in-flight calls.
                self._http = HttpLoop(self.settings.http_concurrency * 4)
            return self._http

    def close(self) -> None:
        """Stop the HTTP loop (the runtime is stopping)."""
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None


_context: RunnerContext | None = None


def set_context(ctx: RunnerContext | None) -> None:
    """Install (or clear) the runtime context; called by ``start_runtime`` / ``stop_runtime``."""
    global _context
    if _context is not None and _context is not ctx:
        _context.close()
    _context = ctx


def _ctx() -> RunnerContext:
    if _context is None:
        raise RuntimeError("the enrichment runtime is not started (start_runtime)")
    return _context


def _provider(name: str) -> Provider:
    p = _ctx().providers.get(name)
    if p is None:
        raise RuntimeError(f"provider {name!r} is not enabled on this worker")
    return p


def to_answer(pk: int, r: EnrichmentResult) -> Answer:
    """A provider's result as the storable :class:`Answer`."""
    return Answer(
        indicator_pk=pk,
        status=r.status.value,
        fetched_at=r.fetched_at,
        verdict=r.verdict.value if r.ok else None,
        score=r.score if r.ok else None,
        tags=r.tags,
        attributes=r.attributes,
        related=[
            {"relation": x.relation, "type": x.type.value, "value": x.value} for x in r.related
        ]
        if r.related
        else (),
        payload=r.raw,
        error=r.error,
    )


# -- the job -----------------------------------------------------------------------------


@DBOS.step()
def _plan(job_id: str) -> list[tuple[str, int, int]]:
    ctx = _ctx()
    store = ctx.store
    with store.read() as conn:
        params = conn.execute(_job_row(job_id)).mappings().one()["params"] or {}
    sel = Selection.from_dict(params.get("selection") or {})
    wanted = params.get("providers") or sorted(ctx.providers)
    names = [n for n in wanted if n in ctx.providers]
    missing = sorted(set(wanted) - set(names))
    any_http = any(ctx.providers[n].network for n in names)
    chunk = ctx.settings.http_chunk if any_http else ctx.settings.offline_chunk
    handled = {t.value for n in names for t in ctx.providers[n].types}
    ranges, by_type = results.plan_ranges(store, sel, chunk, handled)
    # Offline providers take bigger pieces than an HTTP-sized plan: merge neighbours.
    ratio = max(1, ctx.settings.offline_chunk // max(1, ctx.settings.http_chunk))
    total = {n: sum(c for t, c in by_type.items() if t in ctx.providers[n].types) for n in names}
    parts: list[tuple[str, int, int]] = []
    for name in names:
        if not total[name]:
            continue  # nothing of its types selected: no empty parts on its queue
        step = ratio if any_http and not ctx.providers[name].network else 1
        for i in range(0, len(ranges), step):
            part = ranges[i : i + step]
            parts.append((name, part[0][0], part[-1][1]))
    result = {"total": total, "parts": len(parts), "missing_providers": missing}
    with store.write() as conn:
        conn.execute(schema.job.update().where(schema.job.c.id == job_id).values(result=result))
    return parts


@DBOS.step()
def _part_done(job_id: str, name: str, lo: int, hi: int) -> bool:
    store = _ctx().store
    with store.write() as conn:
        progress.record_batch(conn, job_id, name, f"end:{lo}-{hi}", now())
    return progress.finish_if_complete(store, job_id)


@DBOS.workflow()
def enrich_job(job_id: str) -> None:
    """Plan enrichment job ``job_id`` (created by ``runtime.create_enrich_job``) and
    enqueue its parts; the part that completes last marks the job done.

    The job does not wait on its parts: a waiting workflow would hold a worker
    thread for the whole job, and keep a stopping process from exiting.
    """
    parts = _plan(job_id)
    for name, lo, hi in parts:
        queue = DBOS.retrieve_queue(queue_name(name))
        assert queue is not None, f"queue of {name} not registered"
        queue.enqueue(enrich_range, job_id, name, int(lo), int(hi))
    if not parts:
        _part_done(job_id, "", 0, 0)


# -- one provider over one range ---------------------------------------------------------


def _candidates(
    conn: Any, job_id: str, p: Provider, lo: int, hi: int
) -> tuple[list[tuple[int, str, str]], int, int]:
    """The indicators of a range that ``p`` handles, may see and has not answered
    within its cache lifetime, as ``(pk, type, value)``; and how many were withheld
    (TLP) and cached."""
    params = conn.execute(_job_row(job_id)).mappings().one()["params"] or {}
    sel = Selection.from_dict(params.get("selection") or {})
    rows = results.load_range(conn, sel, lo, hi, {t.value for t in p.types})
    tlps = results.max_tlps(conn, [pk for pk, _, _ in rows], sel.scope)
    allowed = [r for r in rows if tlp_allows(p.max_tlp, tlps.get(r[0]))]
    fresh = (
        set()
        if params.get("force")
        else results.fresh_pks(conn, p.name, [pk for pk, _, _ in allowed], now() - p.cache_ttl)
    )
    todo = [r for r in allowed if r[0] not in fresh] if fresh else allowed
    return todo, len(rows) - len(allowed), len(fresh)


@DBOS.step()
def _select(job_id: str, name: str, lo: int, hi: int) -> list[int]:
    ctx = _ctx()
    p = _provider(name)
    store = ctx.store
    with store.read() as conn:
        todo, withheld, cached = _candidates(conn, job_id, p, lo, hi)
    with store.write() as conn:
        progress.record_batch(
            conn, job_id, name, f"sel:{lo}-{hi}", now(), withheld=withheld, cached=cached
        )
    return [pk for pk, _, _ in todo]


def _job_row(job_id: str) -> Any:
    return schema.job.select().where(schema.job.c.id == job_id)


@DBOS.workflow()
def enrich_range(job_id: str, name: str, lo: int, hi: int) -> dict[str, int]:
    """Enrich the selected indicators with lo ≤ pk ≤ hi with provider ``name``."""
    p = _provider(name)
    if not isinstance(p, HttpProvider):
        return _offline_part(job_id, name, lo, hi)
    todo = _select(job_id, name, lo, hi)
    ctx = _ctx()
    totals: dict[str, int] = {}
    quotas = {
        k: v for k, v in (("day", p.rate_limit.per_day), ("month", p.rate_limit.per_month)) if v
    }
    per_call = max(1, p.batch_size)
    i = 0
    while i < len(todo):
        batch = todo[i : i + ctx.settings.http_batch]
        if quotas:
            calls = math.ceil(len(batch) / per_call)
            granted, wait = _reserve(name, quotas, calls)
            if granted == 0:
                # Quota spent: wait (durably) for the period to reset, never fail the work.
                DBOS.sleep(max(1.0, wait))
                continue
            batch = batch[: granted * per_call]
        out = _http_batch(job_id, name, batch)
        deferred: list[int] = out.pop("deferred", [])
        retry_in: float = out.pop("wait", 0.0)
        _add(totals, out)
        i += len(batch)
        if deferred:
            # The provider says its quota is spent: our counters agree from now on,
            # and the deferred indicators go first once the period has reset.
            reset = _exhaust(name, quotas) if quotas else 0.0
            DBOS.sleep(max(1.0, retry_in or reset or ctx.settings.quota_fallback_wait))
            todo = todo[:i] + deferred + todo[i:]
            continue
        if out.get("disabled"):
            rest = todo[i:]
            if rest:
                _skip(job_id, name, rest)
            break
    _part_done(job_id, name, lo, hi)
    return totals


def _add(totals: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        totals[k] = totals.get(k, 0) + v


@DBOS.step()
def _reserve(name: str, quotas: dict[str, int], calls: int) -> tuple[int, float]:
    ctx = _ctx()
    return provider_usage.reserve(
        ctx.store, name, quotas, calls, now=time.time(), lengths=ctx.settings.quota_lengths
    )


@DBOS.step()
def _skip(job_id: str, name: str, pks: list[int]) -> None:
    with _ctx().store.write() as conn:
        progress.record_batch(conn, job_id, name, _batch_key(pks), now(), skipped=len(pks))


def _batch_key(pks: Sequence[int]) -> str:
    return f"{pks[0]}-{pks[-1]}" if pks else "empty"


def _load(store: Store, pks: Sequence[int]) -> list[tuple[int, Indicator]]:
    q = schema.indicator.select().with_only_columns(
        schema.indicator.c.pk, schema.indicator.c.type, schema.indicator.c.value
    )
    out: list[tuple[int, Indicator]] = []
    with store.read() as conn:
        for i in range(0, len(pks), 5000):
            part = list(pks[i : i + 5000])
            rows = conn.execute(
                q.where(schema.indicator.c.pk.in_(part)).order_by(schema.indicator.c.pk)
            )
            out.extend((int(pk), Indicator(IndicatorType(t), v)) for pk, t, v in rows)
    return out


def _store(
    job_id: str, name: str, pks: Sequence[int], answers: list[Answer], **extra: int
) -> dict[str, int]:
    store = _ctx().store
    with store.write() as conn:
        if progress.batch_recorded(conn, job_id, name, _batch_key(pks)):
            return {}
        c = results.store_results(conn, job_id, name, answers, at=now())
        counts = {
            "done": len(answers),
            "stored": c.stored,
            "unchanged": c.unchanged,
            "failed": c.failed,
            **extra,
        }
        progress.record_batch(conn, job_id, name, _batch_key(pks), now(), **counts)
    return {**counts, "changes": c.changes}


@DBOS.step()
def _offline_part(job_id: str, name: str, lo: int, hi: int) -> dict[str, int]:
    """An offline provider over a whole range in one step: select (TLP, cache), read
    the indicators once, enrich, and store the answers with the range's counters and
    its end in one transaction; then mark the job done if this was its last part.

    Re-executed after a crash, it finds its row and only does the last part.
    """
    ctx = _ctx()
    p = _provider(name)
    assert isinstance(p, OfflineProvider)
    store = ctx.store
    key = f"range:{lo}-{hi}"
    out: dict[str, int] = {}
    with store.read() as conn:
        todo = (
            None
            if progress.batch_recorded(conn, job_id, name, key)
            else _candidates(conn, job_id, p, lo, hi)
        )
    if todo is not None:
        rows, withheld, cached = todo
        items = [(pk, Indicator(IndicatorType(t), v)) for pk, t, v in rows]
        size = ctx.settings.offline_chunk
        answers: list[Answer] = []
        for i in range(0, len(items), size):
            answers += _enrich_offline(p, items[i : i + size])
        with store.write() as conn:
            if not progress.batch_recorded(conn, job_id, name, key):
                at = now()
                c = results.store_results(conn, job_id, name, answers, at=at)
                counts = {
                    "done": len(answers),
                    "stored": c.stored,
                    "unchanged": c.unchanged,
                    "failed": c.failed,
                    "withheld": withheld,
                    "cached": cached,
                }
                progress.record_batch(conn, job_id, name, key, at, **counts)
                progress.record_batch(conn, job_id, name, f"end:{lo}-{hi}", at)
                out = {**counts, "changes": c.changes}
    progress.finish_if_complete(store, job_id)
    return out


def _enrich_offline(p: OfflineProvider, items: list[tuple[int, Indicator]]) -> list[Answer]:
    try:
        return _match(items, p.enrich_many([ind for _, ind in items]))
    except Exception as e:  # a provider bug must not take the worker down
        t = now()
        reason = f"{p.name}: {type(e).__name__}: {e}"
        return [Answer(pk, Status.ERROR.value, t, error=reason) for pk, _ in items]


def _match(items: Sequence[tuple[int, Indicator]], got: Sequence[EnrichmentResult]) -> list[Answer]:
    # Results say which indicator they are about; fall back to order when they agree in length.
    if len(got) == len(items) and all(
        r.indicator is ind for (_, ind), r in zip(items, got, strict=True)
    ):
        return [to_answer(pk, r) for (pk, _), r in zip(items, got, strict=True)]  # the usual case
    by_ind = {ind: pk for pk, ind in items}
    out = [to_answer(by_ind[r.indicator], r) for r in got if r.indicator in by_ind]
    if len(out) != len(got) and len(got) == len(items):
        out = [to_answer(pk, r) for (pk, _), r in zip(items, got, strict=True)]
    return out


# -- HTTP calls --------------------------------------------------------------------------


class _Lane:
    """One call at a time, each starting ``gap`` seconds after the previous one *ended*.

    Spacing from the end, not the start, is what makes the limit hold on the
    provider's clock whatever the network does: a call arrives before it ends, and
    the next one leaves after that, so arrivals on one lane are at least ``gap``
    apart even when a stall makes earlier calls arrive late.
    """

    __slots__ = ("done", "gap", "ready")

    def __init__(self, gap: float, last: float) -> None:
        self.gap = gap
        self.ready = last + gap if gap else 0.0
        self.done = 0.0

    async def __aenter__(self) -> None:
        if self.gap:
            wait = self.ready - time.time()
            if wait > 0:
                await asyncio.sleep(wait)

    async def __aexit__(self, *exc: object) -> None:
        if self.gap:
            self.done = time.time()
            self.ready = self.done + self.gap


def _pacing(p: Provider, concurrency: int) -> tuple[float, int]:
    """The per-lane spacing and the number of lanes (calls in flight) for ``p``.

    Unlimited providers get ``concurrency`` lanes without spacing. A limit of N
    calls per window W gets few lanes (0.1 s worth of calls, so a stall at the far
    end releases little at once) each spaced ``W / floor(N / lanes)`` plus 3 %:
    a window then holds at most ``floor(N / lanes)`` arrivals per lane, N in all.
    """
    rl = p.rate_limit
    limits = [(w, n) for w, n in ((1.0, rl.per_second), (60.0, rl.per_minute)) if n]
    if not limits:
        return 0.0, concurrency
    rate = min(n / w for w, n in limits)
    lanes = max(1, min(concurrency, int(0.1 * rate), *(int(n) for _, n in limits)))
    gap = max(w / max(1, math.floor(n / lanes)) for w, n in limits)
    return gap * 1.03 + 0.001, lanes


_RETRY = (Status.RATE_LIMITED, Status.ERROR, Status.QUOTA_EXCEEDED)
_QUOTA = Status.QUOTA_EXCEEDED.value


async def _call(
    p: HttpProvider,
    client: httpx.AsyncClient,
    group: list[tuple[int, Indicator]],
    lane: _Lane,
    stop: asyncio.Event,
    s: RunnerSettings,
) -> list[Answer] | None:
    """One call (single or bulk) with retries; None when skipped after an auth failure."""
    attempt = 0
    inds = [ind for _, ind in group]
    while True:
        if stop.is_set():
            return None
        try:
            async with lane:
                if stop.is_set():
                    return None
                ahead = p.quota_wait(time.time())
                if ahead > 0:
                    # The provider said its quota is spent until a reset: defer the
                    # work (the workflow sleeps durably) instead of a refused call.
                    hint = {"retry_after": ahead}
                    return [Answer(pk, _QUOTA, now(), payload=hint) for pk, _ in group]
                if p.batch_size > 1:
                    got = await p.enrich_batch(client, inds)
                else:
                    got = [await p.enrich(client, inds[0])]
            bad = [r for r in got if r.status in _RETRY or r.status is Status.AUTH_FAILED]
            if len(group) == 1 and bad:
                raise ProviderError(bad[0].status, bad[0].error or "failed", bad[0].retry_after)
            return _match(group, got)
        except ProviderError as e:
            err = e
        except Exception as e:  # garbage a provider did not anticipate: retried like a 5xx
            err = ProviderError(Status.ERROR, f"{p.name}: {type(e).__name__}: {e}")
        attempt += 1
        if err.status is Status.QUOTA_EXCEEDED:
            # The provider's own quota ran out: the work waits for the reset (the
            # runner sleeps durably), it is not a failure and not retried now.
            wait = {"retry_after": err.retry_after}
            return [Answer(pk, err.status.value, now(), payload=wait) for pk, _ in group]
        if err.status is Status.AUTH_FAILED:
            stop.set()
            return [Answer(pk, err.status.value, now(), error=err.reason) for pk, _ in group[:1]]
        if attempt >= s.max_attempts:
            return [Answer(pk, err.status.value, now(), error=err.reason) for pk, _ in group]
        if err.status is Status.RATE_LIMITED and err.retry_after is not None:
            delay = err.retry_after
        else:
            delay = s.backoff * 2 ** (attempt - 1) * (1 + random.random() / 4)
        await asyncio.sleep(min(delay, s.max_backoff))


async def _call_all(
    p: HttpProvider,
    client: httpx.AsyncClient,
    items: list[tuple[int, Indicator]],
    last: float,
    s: RunnerSettings,
) -> tuple[list[Answer], int, float]:
    """Every call of a batch over the provider's lanes; returns the answers, the
    number skipped and when the last paced call ended (0 when unpaced)."""
    gap, width = _pacing(p, s.http_concurrency)
    stop = asyncio.Event()
    size = max(1, p.batch_size)
    groups = [items[i : i + size] for i in range(0, len(items), size)]
    got: list[list[Answer] | None] = [None] * len(groups)
    lanes = [_Lane(gap, last) for _ in range(min(width, len(groups)))]
    first = 0
    if groups and not p.quota_known(time.time()):
        # Quota unknown: one call first, so its answer's quota headers (if any) are
        # known before the lanes fan out and could overrun a nearly spent quota.
        got[0] = await _call(p, client, groups[0], lanes[0], stop, s)
        first = 1
    todo = iter(range(first, len(groups)))

    async def run(lane: _Lane) -> None:
        for i in todo:  # shared: each lane takes the next call when it is free
            got[i] = await _call(p, client, groups[i], lane, stop, s)

    await asyncio.gather(*(run(lane) for lane in lanes))
    answers = [a for group in got if group is not None for a in group]
    auth = [a for a in answers if a.status == Status.AUTH_FAILED.value]
    if auth:
        # Calls in flight when the key was refused may fail the same way: keep one failure.
        answers = [a for a in answers if a.status != Status.AUTH_FAILED.value] + auth[:1]
    skipped = len(items) - len(answers)
    return answers, skipped, max((lane.done for lane in lanes), default=0.0)


@DBOS.step()
def _http_batch(job_id: str, name: str, pks: list[int]) -> dict[str, Any]:
    ctx = _ctx()
    p = _provider(name)
    assert isinstance(p, HttpProvider)
    with ctx.store.read() as conn:
        if progress.batch_recorded(conn, job_id, name, _batch_key(pks)):
            return {}
        reason = progress.disabled_reason(conn, job_id, name)
        last = provider_usage.last_call(conn, name)
    if reason is not None:
        with ctx.store.write() as conn:
            progress.record_batch(conn, job_id, name, _batch_key(pks), now(), skipped=len(pks))
        return {"skipped": len(pks), "disabled": 1}
    items = _load(ctx.store, pks)
    loop = ctx.http_loop()
    answers, skipped, last_call = loop.run(_call_all(p, loop.client(p), items, last, ctx.settings))
    auth = [a for a in answers if a.status == Status.AUTH_FAILED.value]
    if auth:
        with ctx.store.write() as conn:
            first = progress.disable_provider(
                conn, job_id, name, auth[0].error or "auth failed", now()
            )
        if not first:
            # Another batch already stored the one failed attempt of this job.
            answers = [a for a in answers if a.status != Status.AUTH_FAILED.value]
            skipped += len(auth)
    if last_call:
        with ctx.store.write() as conn:
            provider_usage.set_last_call(conn, name, last_call)
    quota = [a for a in answers if a.status == _QUOTA]
    if quota:
        answers = [a for a in answers if a.status != _QUOTA]
        skipped -= len(quota)
        waits = [a.payload["retry_after"] for a in quota if a.payload["retry_after"]]
        done = [a.indicator_pk for a in answers]
        out: dict[str, Any] = _store(job_id, name, done, answers, skipped=skipped) if done else {}
        out["deferred"] = [a.indicator_pk for a in quota]
        out["wait"] = max(waits, default=0.0)
        return out
    out = _store(job_id, name, pks, answers, skipped=skipped)
    if auth:
        out["disabled"] = 1
    return out


@DBOS.step()
def _exhaust(name: str, quotas: dict[str, int]) -> float:
    ctx = _ctx()
    return provider_usage.exhaust(
        ctx.store, name, quotas, now=time.time(), lengths=ctx.settings.quota_lengths
    )


# -- continuous tracking -----------------------------------------------------------------


@DBOS.step()
def _due_watchlists() -> list[dict[str, Any]]:
    ctx = _ctx()
    at = now()
    out = []
    for w in watchlists.due(ctx.store, at):
        providers = [n for n in (w["providers"] or sorted(ctx.providers)) if n in ctx.providers]
        params = {
            "selection": w["filter"],
            "providers": providers,
            "force": True,
            "watchlist": w["name"],
        }
        job_id = create_job(ctx.store, "enrich", params)
        watchlists.mark_run(ctx.store, w["id"], at)
        out.append({"job_id": job_id, "name": w["name"]})
    return out


@DBOS.workflow()
def watch_tick(scheduled_at: datetime, context: Any) -> None:
    """Scheduled every minute: start a forced re-enrichment of every due watchlist."""
    queue = DBOS.retrieve_queue(JOBS_QUEUE)
    assert queue is not None
    for w in _due_watchlists():
        with SetWorkflowID(w["job_id"]):
            queue.enqueue(enrich_job, w["job_id"])
