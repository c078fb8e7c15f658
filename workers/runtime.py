"""Jobs in a process: the broker, a dramatiq `Worker` and the schedules, started and stopped together.

- `timeledger worker` (with `REDIS_URL`): a Redis broker, a worker and the schedules.
- `timeledger serve` on the embedded default: the same on an in-process stub broker.
- `timeledger serve` with `REDIS_URL`: only the Redis broker, so requests can send jobs;
  the jobs run in the worker processes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import dramatiq
from dramatiq import Worker

from workers.actors import import_actor_modules
from workers.broker import close, install
from workers.context import WorkerContext, install_context
from workers.scheduler import JobScheduler
from workers.webhooks import SETTINGS_KEY, WebhookDispatcher, WebhookSettings

log = logging.getLogger("timeledger.jobs")
# How often idle worker threads look up (ms): also how long a stop waits for them at most.
WORKER_TIMEOUT_MS = 500
STOP_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class JobOptions:
    """How a process takes part in jobs."""

    redis_url: str | None
    namespace: str = "timeledger"
    run_jobs: bool = True
    threads: int = 4
    # Schedule name -> cron expression (or "off"), over the defaults of `workers.scheduler`.
    schedules: Mapping[str, str] | None = None


class JobRuntime:
    """The jobs of one process; `start` once, `stop` once (stopping twice is harmless)."""

    def __init__(self, ctx: WorkerContext, options: JobOptions) -> None:
        self.ctx = ctx
        self.options = options
        self.modules: list[str] = []
        self.broker: dramatiq.Broker | None = None
        self.worker: Worker | None = None
        self.scheduler: JobScheduler | None = None
        self.dispatcher: WebhookDispatcher | None = None

    @property
    def kind(self) -> str:
        return "redis" if self.options.redis_url else "in-process"

    def start(self) -> JobRuntime:
        options = self.options
        # Actor modules first, so `install` binds every actor to the chosen broker.
        self.modules = import_actor_modules()
        self.broker = install(options.redis_url, namespace=options.namespace)
        install_context(self.ctx)
        if not options.run_jobs:
            return self
        scheduler = JobScheduler(self.ctx.engine, options.schedules)  # checks the schedules first
        self.worker = Worker(self.broker, worker_threads=options.threads, worker_timeout=WORKER_TIMEOUT_MS)
        self.worker.start()
        self.scheduler = scheduler
        scheduler.start()
        # Every process that runs jobs also turns new events into webhook deliveries; several
        # dispatchers take turns on one position and never create a delivery twice.
        settings = self.ctx.extras.get(SETTINGS_KEY)
        self.dispatcher = WebhookDispatcher(
            self.ctx.ledger,
            self.ctx.engine,
            settings if isinstance(settings, WebhookSettings) else WebhookSettings(),
        )
        self.dispatcher.start()
        log.info("jobs: %s worker with %s threads, actors of %s", self.kind, options.threads, self.modules)
        return self

    def describe(self) -> str:
        """One line for the console: where jobs run."""
        if not self.options.run_jobs:
            namespace = self.options.namespace
            return f"Jobs: sent to Redis (namespace {namespace!r}); `timeledger worker` runs them."
        assert self.scheduler is not None  # noqa: S101 - started with run_jobs
        schedules = ", ".join(self.scheduler.schedules) or "none"
        where = "in-process" if self.kind == "in-process" else f"Redis namespace {self.options.namespace!r}"
        return f"Jobs: {where}, {self.options.threads} threads; schedules: {schedules}."

    def stop(self) -> None:
        """Stop the schedules and dispatch first (no new jobs), then the worker (finishing running jobs)."""
        if self.dispatcher is not None:
            self.dispatcher.stop()
            self.dispatcher = None
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        if self.worker is not None:
            self.worker.stop(timeout=STOP_TIMEOUT_MS)
            self.worker = None
        if self.broker is not None:
            close(self.broker)
            self.broker = None
        install_context(None)
