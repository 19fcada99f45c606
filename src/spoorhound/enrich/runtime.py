"""Starting and stopping the DBOS runtime that runs enrichment, and submitting jobs.

Nothing here runs at import time: :func:`start_runtime` builds the DBOS instance,
installs the runner's context, launches DBOS and declares one queue per provider
(plus ``enrich-jobs`` for whole jobs) and the continuous-tracking schedule;
:func:`stop_runtime` tears it down.

The DBOS system database (queues, checkpoints) is never the indicator store:

* embedded default: a SQLite file ``dbos.sqlite`` in the data directory, so queue
  bookkeeping never waits behind a bulk ingest holding the store's write lock;
* PostgreSQL store: a database of its own on the same server, named after the
  store's database with ``_dbos`` appended (DBOS creates it on first launch), so
  DBOS's schema and migrations stay out of ours and it can be moved elsewhere;
* ``SPOORHOUND_DBOS_URL`` overrides both.

Queues: offline providers get a queue without limits (4 workflows per worker);
HTTP providers without a rate limit run 4 workflows per worker; a rate-limited
provider's queue runs one workflow at a time across all workers
(``global_concurrency=1``) — the runner spaces its calls inside — with a DBOS
limiter of ``per_second`` workflows per second as a coarse second guard.
"""

from __future__ import annotations

import fcntl
import gc
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dbos import DBOS, DBOSClient, DBOSConfig, EnqueueOptions, ScheduleInput, SetWorkflowID
from sqlalchemy.engine import make_url

from spoorhound.config import Settings
from spoorhound.enrich import runner
from spoorhound.enrich.config import ProviderConfigError, enabled_providers
from spoorhound.enrich.plugins import available_providers
from spoorhound.enrich.provider import Provider
from spoorhound.enrich.runner import JOBS_QUEUE, RunnerContext, RunnerSettings, queue_name
from spoorhound.services.enrichment import Selection
from spoorhound.services.enrichment_progress import job_progress
from spoorhound.services.jobs import create_job
from spoorhound.storage.engine import Store

__all__ = [
    "APP_NAME",
    "default_providers",
    "embedded_runtime",
    "enqueue_job",
    "start_runtime",
    "stop_runtime",
    "submit",
    "system_database_url",
    "wait_for",
    "worker_lock",
    "worker_running",
]

APP_NAME = "spoorhound"
WATCH_SCHEDULE = "spoorhound-watchlists"


def system_database_url(settings: Settings) -> str:
    """Where DBOS keeps its queues and checkpoints for these settings (see module doc)."""
    override = os.environ.get("SPOORHOUND_DBOS_URL")
    if override:
        return override
    if settings.is_sqlite:
        return f"sqlite:///{settings.data_dir / 'dbos.sqlite'}"
    url = make_url(settings.database_url)
    return url.set(drivername="postgresql", database=f"{url.database}_dbos").render_as_string(
        hide_password=False
    )


def default_providers(settings: Settings, problems: list[str] | None = None) -> dict[str, Provider]:
    """Every enabled provider that can run, configured from ``providers.toml`` and the
    environment (offline ones on by default, HTTP ones once configured).

    Providers that are enabled but cannot run (no API key, invalid settings) are
    left out; their messages go to ``problems``.
    """
    out: dict[str, Provider] = {}
    # One provider at a time, so one invalid table does not stop the others.
    for name, cls in available_providers().items():
        try:
            found = enabled_providers(settings.data_dir, {name: cls}, problems=problems)
        except ProviderConfigError as e:
            if problems is not None:
                problems.append(str(e))
            continue
        out.update((p.name, p) for p in found)
    return out


def _register_queues(providers: dict[str, Provider], s: RunnerSettings) -> None:
    DBOS.register_queue(JOBS_QUEUE, worker_concurrency=4, polling_interval_sec=s.polling_interval)
    for name, p in providers.items():
        rl = p.rate_limit
        if not p.network or not (rl.per_second or rl.per_minute):
            DBOS.register_queue(
                queue_name(name), worker_concurrency=4, polling_interval_sec=s.polling_interval
            )
            continue
        per_second = rl.per_second or (rl.per_minute or 60) / 60
        DBOS.register_queue(
            queue_name(name),
            global_concurrency=1,
            limiter={"limit": max(1, math.floor(per_second)), "period": 1.0},
            polling_interval_sec=s.polling_interval,
        )


def start_runtime(
    settings: Settings,
    *,
    store: Store | None = None,
    providers: dict[str, Provider] | None = None,
    runner_settings: RunnerSettings | None = None,
    executor_id: str | None = None,
) -> RunnerContext:
    """Launch DBOS for ``settings`` and start processing the enrichment queues.

    ``providers`` defaults to :func:`default_providers`. The returned context holds
    the store and providers the workflows use.
    """
    s = runner_settings or RunnerSettings()
    if store is None:
        store = Store(settings.database_url)
    if providers is None:
        providers = default_providers(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": system_database_url(settings),
        "log_level": os.environ.get("SPOORHOUND_DBOS_LOG_LEVEL", "WARNING"),
    }
    if executor_id:
        config["executor_id"] = executor_id
    ctx = RunnerContext(store=store, providers=dict(providers), settings=s)
    runner.set_context(ctx)
    DBOS(config=config)
    DBOS.launch()
    _register_queues(ctx.providers, s)
    if s.watch_schedule:
        schedule: ScheduleInput = {
            "schedule_name": WATCH_SCHEDULE,
            "workflow_fn": runner.watch_tick,
            "schedule": s.watch_schedule,
        }
        DBOS.apply_schedules([schedule])
    # Everything alive now (modules, DBOS, SQLAlchemy, providers) lives as long as the
    # runtime: out of the cyclic collector's way, so the full collections that
    # enriching by the million triggers walk only the batches in flight.
    gc.collect()
    gc.freeze()
    return ctx


def stop_runtime(timeout: int = 0) -> None:
    """Shut DBOS down (waiting up to ``timeout`` s for running workflows) and clear the context."""
    DBOS.destroy(destroy_registry=False, workflow_completion_timeout_sec=timeout)
    runner.set_context(None)


def submit(
    store: Store,
    selection: Selection,
    *,
    providers: Sequence[str] | None = None,
    force: bool = False,
    extra: dict[str, Any] | None = None,
) -> str:
    """Create an enrichment job and enqueue it on this process's runtime; returns the job id."""
    job_id = create_enrich_job(store, selection, providers=providers, force=force, extra=extra)
    queue = DBOS.retrieve_queue(JOBS_QUEUE)
    assert queue is not None, "start_runtime first"
    with SetWorkflowID(job_id):
        queue.enqueue(runner.enrich_job, job_id)
    return job_id


def create_enrich_job(
    store: Store,
    selection: Selection,
    *,
    providers: Sequence[str] | None = None,
    force: bool = False,
    extra: dict[str, Any] | None = None,
) -> str:
    """The job record of an enrichment (not yet enqueued)."""
    params: dict[str, Any] = {
        "selection": selection.to_dict(),
        "providers": list(providers) if providers else None,
        "force": force,
        **(extra or {}),
    }
    return create_job(store, "enrich", params)


def enqueue_job(settings: Settings, job_id: str) -> None:
    """Enqueue an existing job for whichever worker runs (no runtime in this process)."""
    url = system_database_url(settings)
    # No worker may have created DBOS's tables yet; migrating is idempotent.
    DBOS.migrate(url)
    client = DBOSClient(system_database_url=url)
    try:
        options: EnqueueOptions = {
            "queue_name": JOBS_QUEUE,
            # The registered name DBOS gave the workflow when the runner was imported.
            "workflow_name": str(getattr(runner.enrich_job, "dbos_function_name", "enrich_job")),
            "workflow_id": job_id,
        }
        client.enqueue(options, job_id)
    finally:
        client.destroy()


def wait_for(
    store: Store,
    job_id: str,
    *,
    progress: Callable[[dict[str, Any]], None] | None = None,
    poll: float = 0.5,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Poll the job until it is no longer running; returns its final record."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        job = job_progress(store, job_id)
        if job is None:
            raise KeyError(job_id)
        if progress is not None:
            progress(job)
        if job["status"] != "running":
            return job
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still running after {timeout}s")
        time.sleep(poll)


def _lock_path(settings: Settings) -> str:
    return str(settings.data_dir / "worker.lock")


def worker_running(settings: Settings) -> bool:
    """Whether a ``spoorhound worker`` holds this data directory's worker lock."""
    try:
        fd = os.open(_lock_path(settings), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@contextmanager
def worker_lock(settings: Settings) -> Iterator[None]:
    """Hold this data directory's worker lock while a worker runs.

    Advisory (``flock``), released by the kernel when the process dies, even by
    SIGKILL. Raises RuntimeError when another process holds it: two runtimes on one
    embedded data directory would both recover the same unfinished workflows.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(_lock_path(settings), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"another worker (or server) is running on {settings.data_dir}"
            ) from None
        yield
    finally:
        os.close(fd)


@contextmanager
def embedded_runtime(settings: Settings, store: Store) -> Iterator[RunnerContext | None]:
    """The runtime inside ``spoorhound serve``: started unless a worker already runs on
    this data directory (then jobs go to that worker through the queue).

    While it runs it holds the worker lock, so ``spoorhound enrich`` hands its jobs
    over instead of starting a second runtime.
    """
    if worker_running(settings):
        yield None
        return
    with worker_lock(settings):
        ctx = start_runtime(settings, store=store)
        try:
            yield ctx
        finally:
            stop_runtime()
