"""Job fixtures: a real SMTP server (aiosmtpd), a real Redis, read models, and in-process jobs."""

from __future__ import annotations

import email
import email.policy
import html
import itertools
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.store import store_config
from projections.database import readmodel_engine
from projections.models import ALL
from projections.runner import Runner
from tests.conftest import IN_CI, SESSION_TAG, StoreHandle, World
from workers.context import MailSettings, WorkerContext
from workers.runtime import JobOptions, JobRuntime

REDIS_URL = os.environ.get("TIMELEDGER_TEST_REDIS", "redis://127.0.0.1:6379/0")
ALL_SCHEDULES_OFF = {"weekly_summary": "off", "daily_reminder": "off", "budget_check": "off"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- SMTP -------------------------------------------------------------------------------


@dataclass
class Inbox:
    """What the test's SMTP server received, parsed."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def settings(self) -> MailSettings:
        return MailSettings(host="127.0.0.1", port=self.port, sender="timeledger@acme.test")

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.changed:
            self.messages.append(message)  # type: ignore[arg-type]
            self.changed.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.messages) >= count, timeout)
            assert len(self.messages) >= count, f"{len(self.messages)} of {count} e-mails arrived"
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def plain(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html_text(message: EmailMessage) -> str:
    """The HTML part's text, tags removed and whitespace collapsed (entities decoded)."""
    part = message.get_body(("html",))
    assert part is not None
    content = str(part.get_content())  # type: ignore[attr-defined]
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())
    return re.sub(r" ([,.:;)])", r"\1", words)


def raw_html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    found = Inbox(free_port())
    controller = Controller(found, hostname="127.0.0.1", port=found.port)
    controller.start()
    try:
        yield found
    finally:
        controller.stop()


# --- Redis ------------------------------------------------------------------------------


def _redis_problem() -> str | None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
        return None
    except redis.RedisError as error:
        return f"{REDIS_URL} unreachable: {error}"
    finally:
        client.close()
        client.connection_pool.disconnect()


_REDIS_PROBLEM = _redis_problem()


def require_redis() -> None:
    """Skip loudly without Redis; with CI=true, fail instead."""
    if _REDIS_PROBLEM is None:
        return
    message = f"Redis is required for this test and is not reachable: {_REDIS_PROBLEM}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service fails the run)", pytrace=False)
    pytest.skip("LOUD SKIP: " + message)


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A namespace of this test session (and test) on the real Redis, deleted afterwards."""
    require_redis()
    namespace = f"tltest_{SESSION_TAG}_{uuid.uuid4().hex[:8]}"
    yield namespace
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{namespace}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
        client.connection_pool.disconnect()


# --- read models and in-process jobs ----------------------------------------------------


@dataclass
class ReadSide:
    engine: Engine
    runners: dict[str, Runner]

    def catch_up(self) -> None:
        for runner in self.runners.values():
            runner.catch_up()


@pytest.fixture
def read_side(store: StoreHandle, ledger: TimeLedger, tmp_path: Path) -> Iterator[ReadSide]:
    engine = readmodel_engine(store_config(store.url, tmp_path))
    yield ReadSide(engine, {model.name: Runner(ledger, engine, model) for model in ALL})
    engine.dispose()


@dataclass
class Jobs:
    """Jobs running in this process (stub broker, real dramatiq worker threads)."""

    runtime: JobRuntime
    ctx: WorkerContext

    def drain(self) -> None:
        """Wait until every job sent so far, and every job those sent, has run."""
        broker = self.runtime.broker
        worker = self.runtime.worker
        assert isinstance(broker, StubBroker)
        assert worker is not None
        for _ in range(10):
            for queue in sorted(broker.get_declared_queues()):
                broker.join(queue, timeout=30_000)
            worker.join()
            if all(q.unfinished_tasks == 0 for q in broker.queues.values()):
                return
        raise AssertionError("jobs kept sending jobs")


@pytest.fixture
def make_jobs(ledger: TimeLedger, read_side: ReadSide, inbox: Inbox) -> Iterator[Callable[..., Jobs]]:
    """Start in-process jobs (schedules off unless given); stopped after the test."""
    started: list[JobRuntime] = []

    def make(mail: bool = True, schedules: dict[str, str] | None = None) -> Jobs:
        ctx = WorkerContext(ledger, read_side.engine, inbox.settings if mail else None)
        options = JobOptions(redis_url=None, threads=4, schedules=schedules or ALL_SCHEDULES_OFF)
        runtime = JobRuntime(ctx, options).start()
        started.append(runtime)
        return Jobs(runtime, ctx)

    yield make
    for runtime in started:
        runtime.stop()


@pytest.fixture
def jobs(make_jobs: Callable[..., Jobs]) -> Jobs:
    return make_jobs()


def record(
    world: World, who: Actor, start: datetime, end: datetime, project_id: uuid.UUID | None = None
) -> None:
    world.ledger.record_entry(
        org_id=world.org_id, project_id=project_id or world.project_id, start=start, end=end, actor=who
    )


def distinct_whole_seconds(times: list[datetime]) -> bool:
    """Each firing claimed once: whole seconds, none twice. A starved machine may skip one."""
    return (
        all(t.microsecond == 0 for t in times)
        and all(a < b for a, b in itertools.pairwise(sorted(times)))
        and len(set(times)) == len(times)
    )


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
