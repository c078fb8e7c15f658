"""Timesheets: submit, approve, reject, reopen, and the locks of rule 3 — also when they race."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.errors import ForbiddenError, InvalidInputError, LockedError, WorkflowError
from ledger.time_entry import TimeEntry
from ledger.timesheets import Timesheet
from tests.conftest import World
from tests.ledger.test_races import race

MONDAY = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)  # a Monday before the fixed clock's Friday


def record(world: World, who: Actor, start: datetime, hours: float = 1, **extra: object) -> UUID:
    return world.ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=start,
        end=start + timedelta(hours=hours),
        actor=who,
        **extra,  # type: ignore[arg-type]
    ).id


def submit(world: World, who: Actor | None = None, day: date | None = None) -> UUID:
    return world.ledger.submit_timesheet(
        org_id=world.org_id, day=day or MONDAY.date(), actor=who or world.member
    ).id


def test_submit_locks_the_period_for_the_member_but_not_for_a_manager(world: World) -> None:
    ledger = world.ledger
    entry = record(world, world.member, MONDAY)
    sheet_id = submit(world)
    sheet = ledger.get_timesheet(sheet_id, world.member)
    assert (sheet.state, sheet.first_day, sheet.last_day) == (
        "submitted",
        date(2026, 11, 9),
        date(2026, 11, 15),
    )

    with pytest.raises(LockedError, match="submitted"):
        ledger.edit_entry(entry_id=entry, description="late fix", actor=world.member)
    with pytest.raises(LockedError, match="submitted"):
        ledger.delete_entry(entry_id=entry, actor=world.member)
    with pytest.raises(LockedError, match="submitted"):
        record(world, world.member, MONDAY + timedelta(days=1))
    # Outside the period the member tracks as before.
    record(world, world.member, MONDAY + timedelta(days=7))

    ledger.edit_entry(entry_id=entry, description="manager's correction", actor=world.manager)
    added = record(world, world.manager, MONDAY + timedelta(days=2), member_id=ledger_member(world))
    assert ledger.aggregate(added).timesheet_lock == (sheet_id, "submitted")  # type: ignore[union-attr]


def ledger_member(world: World) -> UUID:
    assert world.member.user_id is not None
    return world.member.user_id


def test_approval_locks_for_everyone_until_reopened(world: World) -> None:
    ledger = world.ledger
    entry = record(world, world.member, MONDAY)
    sheet_id = submit(world)
    ledger.approve_timesheet(timesheet_id=sheet_id, actor=world.manager)
    for who in (world.member, world.manager, world.owner):
        with pytest.raises(LockedError, match="approved"):
            ledger.edit_entry(entry_id=entry, description="changed", actor=who)
        with pytest.raises(LockedError, match="approved"):
            record(world, who, MONDAY + timedelta(days=3), member_id=ledger_member(world))
    # Moving an entry of another week into the approved period is refused too.
    later = record(world, world.member, MONDAY + timedelta(days=7))
    with pytest.raises(LockedError, match="approved"):
        ledger.edit_entry(
            entry_id=later,
            start=MONDAY + timedelta(hours=3),
            end=MONDAY + timedelta(hours=4),
            actor=world.manager,
        )

    with pytest.raises(ForbiddenError):
        ledger.reopen_timesheet(timesheet_id=sheet_id, actor=world.member)
    ledger.reopen_timesheet(timesheet_id=sheet_id, reason="one more fix", actor=world.manager)
    assert ledger.get_timesheet(sheet_id, world.member).state == "open"
    ledger.edit_entry(entry_id=entry, description="fixed after reopening", actor=world.member)
    assert ledger.aggregate(entry).timesheet_lock is None  # type: ignore[union-attr]


def test_reject_needs_a_reason_and_lets_the_member_fix_and_resubmit(world: World) -> None:
    ledger = world.ledger
    entry = record(world, world.member, MONDAY)
    sheet_id = submit(world)
    with pytest.raises(InvalidInputError, match="reason"):
        ledger.reject_timesheet(timesheet_id=sheet_id, reason="  ", actor=world.manager)
    ledger.reject_timesheet(timesheet_id=sheet_id, reason="Monday is missing the task", actor=world.manager)
    sheet = ledger.get_timesheet(sheet_id, world.member)
    assert (sheet.state, sheet.reason) == ("rejected", "Monday is missing the task")
    ledger.edit_entry(entry_id=entry, task_id=world.task_id, actor=world.member)
    submit(world)
    assert ledger.get_timesheet(sheet_id, world.member).state == "submitted"
    with pytest.raises(WorkflowError, match="submitted"):
        submit(world)


def test_who_may_decide(world: World) -> None:
    ledger = world.ledger
    member_sheet = submit(world)
    with pytest.raises(ForbiddenError):
        ledger.approve_timesheet(timesheet_id=member_sheet, actor=world.member)
    manager_sheet = submit(world, world.manager)
    with pytest.raises(ForbiddenError, match="own"):
        ledger.approve_timesheet(timesheet_id=manager_sheet, actor=world.manager)
    ledger.approve_timesheet(timesheet_id=manager_sheet, actor=world.owner)
    owner_sheet = submit(world, world.owner)
    ledger.approve_timesheet(timesheet_id=owner_sheet, actor=world.owner)  # admins may approve their own
    with pytest.raises(WorkflowError, match="approved"):
        ledger.approve_timesheet(timesheet_id=owner_sheet, actor=world.owner)


def test_a_running_timer_in_the_period_blocks_submitting(world: World) -> None:
    ledger = world.ledger
    ledger.start_timer(org_id=world.org_id, project_id=world.project_id, at=MONDAY, actor=world.member)
    with pytest.raises(WorkflowError, match="running"):
        submit(world)
    ledger.stop_timer(org_id=world.org_id, at=MONDAY + timedelta(hours=2), actor=world.member)
    submit(world)


def test_month_periods_in_the_organizations_timezone(world: World) -> None:
    ledger = world.ledger
    ledger.change_settings(
        org_id=world.org_id,
        changes={"timesheet_period": "month", "timezone": "Europe/Berlin"},
        actor=world.owner,
    )
    # 23:30 UTC on 31 October is already 1 November in Berlin.
    november = record(world, world.member, datetime(2026, 10, 31, 23, 30, tzinfo=UTC), hours=0.25)
    october = record(world, world.member, datetime(2026, 10, 31, 22, 0, tzinfo=UTC), hours=0.25)
    sheet_id = submit(world, day=date(2026, 11, 5))
    sheet = ledger.get_timesheet(sheet_id, world.member)
    assert (sheet.first_day, sheet.last_day) == (date(2026, 11, 1), date(2026, 11, 30))
    assert sheet.start == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert ledger.aggregate(november).timesheet_lock == (sheet_id, "submitted")  # type: ignore[union-attr]
    assert ledger.aggregate(october).timesheet_lock is None  # type: ignore[union-attr]


def test_deleted_entries_leave_the_timesheet_and_restore_checks_the_period(world: World) -> None:
    ledger = world.ledger
    entry = record(world, world.member, MONDAY)
    ledger.delete_entry(entry_id=entry, actor=world.member)
    sheet_id = submit(world)
    ledger.approve_timesheet(timesheet_id=sheet_id, actor=world.manager)
    with pytest.raises(LockedError, match="approved"):
        ledger.restore_entry(entry_id=entry, actor=world.owner)
    ledger.reopen_timesheet(timesheet_id=sheet_id, actor=world.owner)
    ledger.restore_entry(entry_id=entry, actor=world.member)


def test_approval_racing_edits_never_leaves_an_edit_inside_the_approved_period(
    make_ledger: Callable[..., TimeLedger],
) -> None:
    """20 manager edits race one approval: each edit lands before it or is refused."""
    from ledger.clock import SystemClock

    ledger = make_ledger(SystemClock())
    created = ledger.create_organization(
        name="Race", owner_email="o@race.test", owner_name="O", owner_password="owner-password"
    )
    owner = Actor.user(created.related[0])
    manager = Actor.user(
        ledger.add_member(
            org_id=created.id,
            email="m@race.test",
            name="M",
            role="manager",
            password="manager-pw",
            actor=owner,
        ).id
    )
    member_id = ledger.add_member(
        org_id=created.id, email="x@race.test", name="X", role="member", password="member-pw", actor=owner
    ).id
    member = Actor.user(member_id)
    project = ledger.create_project(org_id=created.id, name="P", actor=owner).id
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
    entries = [
        ledger.record_entry(
            org_id=created.id,
            project_id=project,
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i, minutes=30),
            actor=member,
        ).id
        for i in range(10)
    ]
    sheet = ledger.submit_timesheet(org_id=created.id, day=start.date(), actor=member).id

    def work(i: int) -> object:
        if i == 0:
            return ledger.approve_timesheet(timesheet_id=sheet, actor=owner)
        if i % 2:
            return ledger.edit_entry(entry_id=entries[i % 10], description=f"edit {i}", actor=manager)
        # Half the edits add new time to the period.
        return ledger.record_entry(
            org_id=created.id,
            project_id=project,
            start=start + timedelta(days=2, hours=i),
            end=start + timedelta(days=2, hours=i, minutes=10),
            member_id=member_id,
            actor=manager,
        )

    results, errors = race(21, work)
    assert all(isinstance(e, LockedError) for e in errors), errors
    assert len(results) + len(errors) == 21
    approved = ledger.get_timesheet(sheet, owner)
    assert approved.state == "approved"

    approved_at = None
    for n in ledger.recorder.select_notifications(start=1, limit=1_000_000):
        topic = n.topic.rsplit(":", 1)[1]
        if n.originator_id == sheet and topic == "Timesheet.Approved":
            approved_at = n.id
        elif approved_at is not None and topic in ("TimeEntry.Edited", "TimeEntry.Recorded"):
            pytest.fail(f"{topic} at position {n.id} landed after the approval at {approved_at}")
    assert approved_at is not None
    # Every entry that started in the period is locked as approved.
    week = [
        UUID(str(n.originator_id))
        for n in ledger.recorder.select_notifications(start=1, limit=1_000_000)
        if n.topic.endswith("TimeEntry.Recorded")
    ]
    for entry_id in week:
        found = ledger.aggregate(entry_id)
        assert isinstance(found, TimeEntry)
        assert found.timesheet_lock == (sheet, "approved")
    assert isinstance(ledger.aggregate(sheet), Timesheet)
