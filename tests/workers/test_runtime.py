"""`timeledger worker` and the jobs of `timeledger serve`, run as real processes on a real Redis."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dramatiq
import pytest

from ledger.catalog import Project
from tests.conftest import StoreHandle, World
from tests.test_cli import ROOT, cli_env, free_port, wait_for_health
from tests.workers.conftest import (
    REDIS_URL,
    Inbox,
    ReadSide,
    distinct_whole_seconds,
    html_text,
    plain,
    record,
    wait_until,
)
from workers import claims
from workers.actors import ACTOR_MODULES, import_actor_modules
from workers.broker import close, install
from workers.mail_jobs import send_reminders

WAIT_SECONDS = 30.0


def worker_env(home: Path, store: StoreHandle, namespace: str, inbox: Inbox) -> dict[str, str]:
    env = cli_env(home, store.url)
    env.update(
        REDIS_URL=REDIS_URL,
        TIMELEDGER_REDIS_NAMESPACE=namespace,
        TIMELEDGER_SMTP_HOST="127.0.0.1",
        TIMELEDGER_SMTP_PORT=str(inbox.port),
        TIMELEDGER_SMTP_FROM="timeledger@acme.test",
        TIMELEDGER_SMTP_PASSWORD="do-not-print-me",
    )
    return env


@contextmanager
def worker(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A `timeledger worker` process; yields once it says it runs; stopped (SIGTERM) at the end."""
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "timeledger.cli", "worker", "--threads", "2", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: "TimeLedger worker on" in log.read_text() or process.poll() is not None,
                WAIT_SECONDS,
                "the worker to start",
            )
            assert process.poll() is None, log.read_text()
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@contextmanager
def redis_broker(namespace: str) -> Iterator[dramatiq.Broker]:
    """This test process as an API would be: the Redis broker installed, to send jobs."""
    import_actor_modules()
    broker = install(REDIS_URL, namespace=namespace)
    try:
        yield broker
    finally:
        close(broker)
        install(None)


def test_worker_without_redis_says_serve_runs_the_jobs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "timeledger.cli", "worker"],
        cwd=ROOT,
        env=cli_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "needs REDIS_URL" in done.stderr
    assert "`timeledger serve` runs the jobs and schedules itself" in done.stderr


def test_worker_refuses_a_bad_schedule(tmp_path: Path) -> None:
    env = {**cli_env(tmp_path / "home"), "REDIS_URL": REDIS_URL}
    done = subprocess.run(
        [sys.executable, "-m", "timeledger.cli", "worker", "--schedule", "nightly=0 0 * * *"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "There is no schedule 'nightly'" in done.stderr


def test_a_worker_process_runs_a_job_sent_from_another_process(
    world: World,
    store: StoreHandle,
    read_side: ReadSide,
    inbox: Inbox,
    redis_namespace: str,
    tmp_path: Path,
) -> None:
    read_side.catch_up()
    log = tmp_path / "worker.log"
    env = worker_env(tmp_path / "home", store, redis_namespace, inbox)
    with worker(env, log) as process, redis_broker(redis_namespace):
        send_reminders.send(str(world.org_id), "2026-11-20")
        messages = inbox.wait_for(3)
        assert process.poll() is None
        assert stop(process, signal.SIGINT) == 0
    assert sorted(str(m["To"]).split("<")[1] for m in messages) == [
        "manager@acme.test>",
        "member@acme.test>",
        "owner@acme.test>",
    ]
    assert "you have not logged any time at Acme today, Friday 20 November." in html_text(messages[0])
    output = log.read_text()
    assert f"TimeLedger worker on {REDIS_URL} (store: " in output
    assert "schedules: weekly_summary, daily_reminder, budget_check." in output
    assert output.rstrip().endswith("TimeLedger worker stopped.")
    assert "do-not-print-me" not in output


def test_two_workers_send_each_firing_once(
    budgeted_world: World,
    store: StoreHandle,
    read_side: ReadSide,
    inbox: Inbox,
    redis_namespace: str,
    tmp_path: Path,
) -> None:
    w = budgeted_world
    read_side.catch_up()
    env = worker_env(tmp_path / "home", store, redis_namespace, inbox)
    env["TIMELEDGER_LOG_LEVEL"] = "debug"  # so the loser of each claim says so
    fast = ["--schedule", "budget_check=* * * * * *", "--schedule", "weekly_summary=off"]
    fast += ["--schedule", "daily_reminder=off"]
    with worker(env, tmp_path / "one.log", *fast) as one, worker(env, tmp_path / "two.log", *fast) as two:
        both_up = datetime.now(tz=UTC)
        time.sleep(4.0)
        stopping = datetime.now(tz=UTC)
        assert stop(one) == 0
        time.sleep(1.0)
        assert stop(two) == 0

    firings = claims.claims_of(read_side.engine, "budget_check")
    times = [datetime.fromisoformat(str(c["key"])) for c in firings]
    during = [t for t in times if both_up <= t <= stopping]
    assert len(during) >= 3, times
    # Each firing (a whole second) was claimed once. A machine too busy to fire within the
    # misfire grace may skip a second: that is a firing missed, never one run twice.
    assert distinct_whole_seconds(times), times
    assert all(c["runs"] <= 1 for c in firings), firings
    ran = [c for c in firings if datetime.fromisoformat(str(c["key"])) < stopping - timedelta(seconds=1)]
    assert ran, firings
    assert all(c["runs"] == 1 for c in ran), firings
    assert {str(c["claimed_by"]).split(":")[1] for c in firings} <= {str(one.pid), str(two.pid)}
    # While both ran, both fired, and the one that lost a claim said so and did nothing.
    lost = "".join((tmp_path / name).read_text() for name in ("one.log", "two.log"))
    both = [c["key"] for c in firings if both_up <= datetime.fromisoformat(str(c["key"])) < stopping]
    raced = [key for key in both if f"budget_check at {key} was claimed by another process" in lost]
    assert len(raced) >= 2, lost[-3000:]

    # Many checks, one alert: one event in the ledger and one e-mail per manager.
    inbox.wait_for(2)
    time.sleep(0.5)
    recipients = sorted(str(m["To"]).split("<")[1] for m in inbox.messages)
    assert recipients == ["manager@acme.test>", "owner@acme.test>"]
    assert plain(inbox.messages[0]).count("reached 80% of its budget") == 1
    events = [e for e in w.ledger.events.get(w.project_id) if isinstance(e, Project.BudgetAlerted)]
    assert [e.threshold_percent for e in events] == [80]


@pytest.fixture
def budgeted_world(world: World) -> World:
    world.ledger.update_project(project_id=world.project_id, budget_seconds=10 * 3600, actor=world.owner)
    record(world, world.member, datetime(2026, 11, 19, 8, tzinfo=UTC), datetime(2026, 11, 19, 17, tzinfo=UTC))
    return world


def serve(env: dict[str, str], log: Path) -> int:
    """Run `timeledger serve` until it answers, then SIGTERM it; its exit code."""
    port = free_port()
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "timeledger.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_health(f"http://127.0.0.1:{port}", log)
            wait_until(lambda: "Jobs: " in log.read_text(), WAIT_SECONDS, "the jobs line")
        finally:
            code = stop(process)
    return code


def test_serve_runs_jobs_in_process_on_the_embedded_default(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    assert serve(cli_env(tmp_path / "home"), log) == 0  # SIGTERM stops the jobs too, cleanly
    output = log.read_text()
    assert "Jobs: in-process, 4 threads; schedules: weekly_summary, daily_reminder, budget_check." in output
    assert "Traceback" not in output


def test_serve_with_redis_only_sends_jobs(tmp_path: Path, redis_namespace: str) -> None:
    env = cli_env(tmp_path / "home")
    env.update(REDIS_URL=REDIS_URL, TIMELEDGER_REDIS_NAMESPACE=redis_namespace)
    log = tmp_path / "serve.log"
    assert serve(env, log) == 0
    output = log.read_text()
    assert f"Jobs: sent to Redis (namespace '{redis_namespace}'); `timeledger worker` runs them." in output
    assert "Traceback" not in output


def test_actor_modules_not_written_yet_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ACTOR_MODULES[:2] == ("workers.mail_jobs", "workers.budgets")
    assert import_actor_modules(("workers.mail_jobs", "workers.no_such_jobs")) == ["workers.mail_jobs"]
    (tmp_path / "tl_broken_jobs.py").write_text("import tl_no_such_dependency\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="tl_no_such_dependency"):
        import_actor_modules(("tl_broken_jobs",))
