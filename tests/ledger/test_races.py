"""Rules 1, 4 and 5 and the overlap rule hold when writers really race (threads and processes)."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.clock import SystemClock
from ledger.errors import OverlapError, StaleVersionError
from ledger.passwords import Passwords
from ledger.time_entry import TimeEntry
from tests.conftest import StoreHandle

THREADS = 20


def topics(ledger: TimeLedger) -> Counter[str]:
    counts: Counter[str] = Counter()
    for n in ledger.recorder.select_notifications(start=1, limit=1_000_000):
        counts[n.topic.rsplit(":", 1)[1]] += 1
    return counts


def race(count: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run `work(i)` in `count` threads released at the same moment."""
    barrier = threading.Barrier(count)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcome = work(i)
        except BaseException as error:
            with lock:
                errors.append(error)
        else:
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racing thread hung"
    return results, errors


def live_world(make_ledger: Callable[..., TimeLedger]) -> tuple[TimeLedger, UUID, Actor, UUID]:
    ledger = make_ledger(SystemClock())
    created = ledger.create_organization(
        name="Race", owner_email="race@x.test", owner_name="Rae", owner_password="race-password"
    )
    owner = Actor.user(created.related[0])
    project = ledger.create_project(org_id=created.id, name="P", actor=owner)
    return ledger, created.id, owner, project.id


def running_entries(ledger: TimeLedger, ids: list[UUID]) -> list[UUID]:
    return [i for i in ids if ledger.repository.get(i).end is None]


def test_twenty_threads_starting_timers_leave_exactly_one_running(
    make_ledger: Callable[..., TimeLedger],
) -> None:
    ledger, org_id, owner, project_id = live_world(make_ledger)
    before = topics(ledger)
    receipts, errors = race(
        THREADS,
        lambda i: ledger.start_timer(
            org_id=org_id, project_id=project_id, description=f"thread {i}", actor=owner
        ),
    )
    assert errors == []
    assert len(receipts) == THREADS
    started = [r.id for r in receipts]
    assert len(set(started)) == THREADS
    assert len(running_entries(ledger, started)) == 1
    assert ledger.running_entry(org_id, owner).id in started  # type: ignore[union-attr]
    after = topics(ledger) - before
    assert after["TimeEntry.Started"] == len(receipts)
    assert after["TimeEntry.Stopped"] == len(receipts) - 1
    assert after["MemberTimer.Claimed"] == len(receipts)
    # Each stopped entry was stopped by exactly one later start, at that start's instant.
    stopped_by = [r.related[0] for r in receipts if r.related]
    assert sorted(map(str, stopped_by)) == sorted(
        map(str, set(started) - set(running_entries(ledger, started)))
    )
    for r in receipts:
        if r.related:
            stopped: TimeEntry = ledger.repository.get(r.related[0])
            assert stopped.end == ledger.repository.get(r.id).start


def test_racing_repeats_of_one_command_id_start_one_timer(make_ledger: Callable[..., TimeLedger]) -> None:
    ledger, org_id, owner, project_id = live_world(make_ledger)
    before = topics(ledger)
    receipts, errors = race(
        8,
        lambda i: ledger.start_timer(
            org_id=org_id, project_id=project_id, actor=owner, command_id="same-key"
        ),
    )
    assert errors == []
    assert len({(r.id, r.version) for r in receipts}) == 1
    after = topics(ledger) - before
    assert after["TimeEntry.Started"] == 1
    assert after["CommandRecord.Recorded"] == 1


def test_racing_edits_of_one_version_let_exactly_one_win(make_ledger: Callable[..., TimeLedger]) -> None:
    ledger, org_id, owner, project_id = live_world(make_ledger)
    now = ledger.clock.now()
    entry = ledger.record_entry(
        org_id=org_id,
        project_id=project_id,
        start=now - timedelta(hours=2),
        end=now - timedelta(hours=1),
        actor=owner,
    )
    receipts, errors = race(
        8,
        lambda i: ledger.edit_entry(
            entry_id=entry.id, expected_version=entry.version, description=f"edit {i}", actor=owner
        ),
    )
    assert len(receipts) == 1
    assert len(errors) == 7
    assert all(isinstance(e, StaleVersionError) for e in errors)
    final = ledger.get_entry(entry.id, owner)
    assert final.version == entry.version + 1
    assert final.description == f"edit {int(final.description.split()[1])}"


def test_racing_overlapping_entries_are_refused_when_overlap_is_forbidden(
    make_ledger: Callable[..., TimeLedger],
) -> None:
    ledger, org_id, owner, project_id = live_world(make_ledger)
    ledger.change_settings(org_id=org_id, changes={"overlap_allowed": False}, actor=owner)
    now = ledger.clock.now()
    receipts, errors = race(
        8,
        lambda i: ledger.record_entry(
            org_id=org_id,
            project_id=project_id,
            start=now - timedelta(hours=3, minutes=i),
            duration_seconds=3600,
            actor=owner,
        ),
    )
    assert len(receipts) == 1
    assert len(errors) == 7
    assert all(isinstance(e, OverlapError) for e in errors)


def test_a_manual_entry_racing_a_timer_start_cannot_overlap_it(
    make_ledger: Callable[..., TimeLedger],
) -> None:
    ledger, org_id, owner, project_id = live_world(make_ledger)
    ledger.change_settings(org_id=org_id, changes={"overlap_allowed": False}, actor=owner)
    now = ledger.clock.now()

    def work(i: int) -> Any:
        if i % 2 == 0:
            return ledger.start_timer(
                org_id=org_id, project_id=project_id, at=now - timedelta(minutes=30), actor=owner
            )
        return ledger.record_entry(
            org_id=org_id,
            project_id=project_id,
            start=now - timedelta(minutes=40),
            duration_seconds=1200,
            actor=owner,
        )

    receipts, errors = race(2, work)
    assert len(receipts) == 1
    assert [type(e) for e in errors] == [OverlapError]


# --- processes against PostgreSQL --------------------------------------------------------


def _start_many(
    env: dict[str, str], org_id: str, user_id: str, project_id: str, count: int, go: Any, out: Any
) -> None:
    ledger = TimeLedger(env, clock=SystemClock(), passwords=Passwords.fast_for_tests())
    actor = Actor.user(UUID(user_id))
    go.wait()
    ids = []
    failures = []
    for _ in range(count):
        try:
            ids.append(
                str(ledger.start_timer(org_id=UUID(org_id), project_id=UUID(project_id), actor=actor).id)
            )
        except Exception as error:
            failures.append(repr(error))
    out.put((ids, failures))
    ledger.close()


def test_four_processes_starting_timers_leave_exactly_one_running(
    store: StoreHandle,
    make_ledger: Callable[..., TimeLedger],
) -> None:
    ledger, org_id, owner, project_id = live_world(make_ledger)
    before = topics(ledger)
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    out = context.Queue()
    per_process = 10
    workers = [
        context.Process(
            target=_start_many,
            args=(store.env, str(org_id), str(owner.user_id), str(project_id), per_process, go, out),
        )
        for _ in range(4)
    ]
    for w in workers:
        w.start()
    go.set()
    results = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    started = [UUID(i) for ids, _ in results for i in ids]
    failures = [f for _, fs in results for f in fs]
    assert failures == []
    assert len(started) == 4 * per_process
    assert len(running_entries(ledger, started)) == 1
    after = topics(ledger) - before
    assert after["TimeEntry.Started"] == len(started)
    assert after["TimeEntry.Stopped"] == len(started) - 1
