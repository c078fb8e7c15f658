"""`timeledger worker`, and the jobs `timeledger serve` runs: settings turned into a `JobRuntime`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import Engine

from ledger.application import TimeLedger
from timeledger.bootstrap import open_ledger, open_store
from timeledger.settings import Settings
from workers.context import MailSettings, WorkerContext

if TYPE_CHECKING:
    from workers.runtime import JobRuntime

NEEDS_REDIS = (
    "timeledger: `timeledger worker` needs REDIS_URL. On the embedded default (no REDIS_URL), "
    "`timeledger serve` runs the jobs and schedules itself, so no worker is needed."
)


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser("worker", help="run background jobs and schedules (needs REDIS_URL)")
    worker.add_argument("--threads", type=int, default=4, help="jobs run at once (default 4)")
    worker.add_argument(
        "--schedule",
        action="append",
        default=[],
        metavar="NAME=CRON",
        help="override a schedule: weekly_summary, daily_reminder or budget_check, with 5 cron fields "
        "(6 with seconds first) in UTC, or `off`; repeatable",
    )


def mail_settings(settings: Settings) -> MailSettings | None:
    if not settings.smtp_host:
        return None
    return MailSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        sender=settings.smtp_from,
        starttls=settings.smtp_starttls,
    )


def worker_context(settings: Settings, ledger: TimeLedger, engine: Engine) -> WorkerContext:
    return WorkerContext(ledger, engine, mail_settings(settings), files_dir=str(settings.home / "files"))


def serve_jobs(settings: Settings, ledger: TimeLedger, engine: Engine) -> JobRuntime:
    """The jobs of `serve`: run in-process on the embedded default; with REDIS_URL only sent.

    uvicorn re-raises SIGTERM once it has shut down; the default action would end the
    process before `serve` stops its jobs, so SIGTERM becomes a `SystemExit` that runs
    `serve`'s clean-up on its way out.
    """
    from workers.runtime import JobOptions, JobRuntime

    signal.signal(signal.SIGTERM, _exit_cleanly)
    options = JobOptions(
        redis_url=settings.redis_url,
        namespace=settings.redis_namespace,
        run_jobs=settings.redis_url is None,
    )
    runtime = JobRuntime(worker_context(settings, ledger, engine), options).start()
    print(runtime.describe(), flush=True)
    return runtime


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _schedules(given: list[str]) -> dict[str, str]:
    schedules = {}
    for item in given:
        name, equals, expression = item.partition("=")
        if not equals or not name.strip() or not expression.strip():
            raise ValueError(f"--schedule takes NAME=CRON, not {item!r}.")
        schedules[name.strip()] = expression.strip()
    return schedules


def _shown(url: str) -> str:
    """The Redis URL without its password."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def run(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.redis_url:
        print(NEEDS_REDIS, file=sys.stderr)
        return 2
    from projections.database import readmodel_engine
    from workers.runtime import JobOptions, JobRuntime
    from workers.scheduler import resolve_schedules

    try:
        if args.threads < 1:
            raise ValueError("--threads must be 1 or more.")
        schedules = _schedules(args.schedule)
        resolve_schedules(schedules)  # refuse a bad schedule before touching anything
    except ValueError as error:
        print(f"timeledger: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    options = JobOptions(
        redis_url=settings.redis_url,
        namespace=settings.redis_namespace,
        threads=args.threads,
        schedules=schedules,
    )
    store = open_store(settings)
    ledger = open_ledger(settings)
    engine = readmodel_engine(store)
    runtime = JobRuntime(worker_context(settings, ledger, engine), options)
    try:
        runtime.start()
        print(f"TimeLedger worker on {_shown(settings.redis_url)} (store: {store.description})", flush=True)
        print(runtime.describe(), flush=True)
        while not stop.wait(0.5):
            pass
        print("TimeLedger worker stopping: finishing running jobs.", flush=True)
    finally:
        runtime.stop()
        engine.dispose()
        ledger.close()
    print("TimeLedger worker stopped.", flush=True)
    return 0
