"""The timer: start, pause, resume, stop, continue; one running timer per member (rule 1)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.errors import EntryStateError, InvalidInputError, NoRunningTimerError
from tests.conftest import NOW, World


def test_start_timer_creates_a_running_entry(world: World) -> None:
    started = world.ledger.start_timer(
        org_id=world.org_id,
        project_id=world.project_id,
        description="Sketches",
        tags=["ux"],
        actor=world.member,
    )
    entry = world.ledger.get_entry(started.id, world.member)
    assert entry.status == "running"
    assert entry.start == NOW
    assert entry.end is None
    assert entry.tags == ("ux",)
    assert entry.billable is True  # the project's default
    assert world.ledger.running_entry(world.org_id, world.member).id == started.id  # type: ignore[union-attr]


def test_second_start_stops_the_running_timer_at_the_same_instant(world: World) -> None:
    first = world.ledger.start_timer(org_id=world.org_id, project_id=world.project_id, actor=world.member)
    world.clock.advance(600)
    second = world.ledger.start_timer(org_id=world.org_id, project_id=world.project_id, actor=world.member)
    assert second.related == (first.id,)
    stopped = world.ledger.get_entry(first.id, world.member)
    running = world.ledger.get_entry(second.id, world.member)
    assert stopped.end == running.start == NOW + timedelta(seconds=600)
    assert stopped.duration_seconds == 600
    assert running.status == "running"


def test_pauses_are_not_worked_time(world: World) -> None:
    started = world.ledger.start_timer(org_id=world.org_id, project_id=world.project_id, actor=world.member)
    world.clock.advance(1800)
    world.ledger.pause_timer(org_id=world.org_id, actor=world.member)
    world.clock.advance(900)
    assert world.ledger.get_entry(started.id, world.member).status == "paused"
    world.ledger.resume_timer(org_id=world.org_id, actor=world.member)
    world.clock.advance(1200)
    world.ledger.pause_timer(org_id=world.org_id, actor=world.member)
    world.clock.advance(300)
    world.ledger.stop_timer(org_id=world.org_id, actor=world.member)  # stopping closes the open pause
    entry = world.ledger.get_entry(started.id, world.member)
    assert entry.duration_seconds == 1800 + 1200
    assert len(entry.pauses) == 2
    assert entry.pauses[1][1] == entry.end


def test_stop_at_a_given_past_time(world: World) -> None:
    started = world.ledger.start_timer(org_id=world.org_id, project_id=world.project_id, actor=world.member)
    world.clock.advance(7200)
    world.ledger.stop_timer(org_id=world.org_id, at=NOW + timedelta(minutes=45), actor=world.member)
    assert world.ledger.get_entry(started.id, world.member).duration_seconds == 45 * 60


def test_stop_before_start_is_refused_and_appends_nothing(world: World) -> None:
    world.ledger.start_timer(org_id=world.org_id, project_id=world.project_id, actor=world.member)
    head = world.ledger.head_position()
    with pytest.raises(InvalidInputError, match="must come after the start"):
        world.ledger.stop_timer(org_id=world.org_id, at=NOW - timedelta(minutes=5), actor=world.member)
    assert world.ledger.head_position() == head


def test_timer_commands_without_a_running_timer_are_refused(world: World) -> None:
    for command in (world.ledger.stop_timer, world.ledger.pause_timer, world.ledger.resume_timer):
        with pytest.raises(NoRunningTimerError):
            command(org_id=world.org_id, actor=world.member)


def test_resume_needs_a_pause_and_pause_needs_no_pause(world: World) -> None:
    world.ledger.start_timer(org_id=world.org_id, project_id=world.project_id, actor=world.member)
    with pytest.raises(EntryStateError, match="not paused"):
        world.ledger.resume_timer(org_id=world.org_id, actor=world.member)
    world.ledger.pause_timer(org_id=world.org_id, actor=world.member)
    with pytest.raises(EntryStateError, match="already paused"):
        world.ledger.pause_timer(org_id=world.org_id, actor=world.member)


def test_continue_entry_copies_what_the_work_was(world: World) -> None:
    first = world.ledger.start_timer(
        org_id=world.org_id,
        project_id=world.project_id,
        task_id=world.task_id,
        description="Logo",
        tags=["brand", "ux"],
        billable=False,
        actor=world.member,
    )
    world.clock.advance(600)
    world.ledger.stop_timer(org_id=world.org_id, actor=world.member)
    world.clock.advance(600)
    again = world.ledger.continue_entry(entry_id=first.id, actor=world.member)
    copy = world.ledger.get_entry(again.id, world.member)
    assert (copy.project_id, copy.task_id, copy.description, copy.tags, copy.billable) == (
        world.project_id,
        world.task_id,
        "Logo",
        ("brand", "ux"),
        False,
    )
    assert copy.status == "running"
    assert copy.start == NOW + timedelta(seconds=1200)


def test_a_timer_may_not_run_past_the_longest_entry_allowed(world: World) -> None:
    world.ledger.start_timer(org_id=world.org_id, project_id=world.project_id, actor=world.member)
    world.clock.advance(25 * 3600)
    with pytest.raises(InvalidInputError, match="longer than the 24 hours"):
        world.ledger.stop_timer(org_id=world.org_id, actor=world.member)
    world.ledger.stop_timer(org_id=world.org_id, at=NOW + timedelta(hours=8), actor=world.member)
    assert world.ledger.running_entry(world.org_id, world.member) is None
