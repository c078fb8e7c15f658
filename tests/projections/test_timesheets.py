"""The timesheets read model, and the entries' locks: live rows equal a rebuild from zero."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from projections.entries import EntriesProjection
from projections.entry_queries import get_entry
from projections.operations import verify
from projections.registry import create_generation
from projections.runner import Runner
from projections.timesheet_queries import (
    TimesheetFilter,
    approval_queue,
    get_timesheet,
    list_timesheets,
    timesheet_history,
    tracked_seconds,
)
from projections.timesheets import TimesheetsProjection
from tests.conftest import World
from tests.projections.conftest import ReadSide

MONDAY = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
WEEK = (date(2026, 11, 9), date(2026, 11, 15))
FILLED = ("timesheets", "events", "entries")  # the tables the workflow below writes


def record(world: World, start: datetime, minutes: int = 60) -> UUID:
    return world.ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=start,
        end=start + timedelta(minutes=minutes),
        actor=world.member,
    ).id


def assert_rebuild_agrees(world: World, rs: ReadSide) -> None:
    """Generations rebuilt from position 0 hold exactly the live generation's rows.

    Generation 2 is built in one go (rows cached across batches); generation 3 one
    event at a time by a fresh runner each, so every row goes through the database.
    """
    rs.catch_up()
    for model in (TimesheetsProjection, EntriesProjection):
        for generation in (2, 3):
            create_generation(rs.engine, model, generation)
        Runner(world.ledger, rs.engine, model, generation=2).catch_up()
        while Runner(world.ledger, rs.engine, model, generation=3, batch_size=1).run_batch():
            pass
        for name in model.tables(1):
            with rs.engine.connect() as conn:
                live, *rebuilt = (
                    sorted(tuple(r) for r in conn.execute(select(model.tables(g)[name])).all())
                    for g in (1, 2, 3)
                )
            assert rebuilt == [live, live], f"{model.name}.{name}"
            assert live or name not in FILLED, f"{model.name}.{name} is empty: the test proves nothing"
        assert verify(world.ledger, rs.engine, model).ok


def set_rate(world: World) -> None:
    world.ledger.set_rate(
        org_id=world.org_id,
        level="organization",
        amount_minor=9000,
        effective_from=date(2026, 1, 1),
        actor=world.owner,
    )


def workflow(world: World) -> tuple[UUID, UUID, UUID]:
    """An entry through submit, approve, invoice, reopen, void; a rejected and a waiting timesheet."""
    ledger = world.ledger
    set_rate(world)
    entry = record(world, MONDAY, 90)
    record(world, MONDAY + timedelta(days=1), 30)
    sheet = ledger.submit_timesheet(org_id=world.org_id, day=WEEK[0], note="week 46", actor=world.member).id
    world.clock.advance(60)
    ledger.approve_timesheet(timesheet_id=sheet, note="fine", actor=world.manager)
    invoice = ledger.draft_invoice(
        org_id=world.org_id,
        client_id=world.client_id,
        period_from=WEEK[0],
        period_to=WEEK[1],
        actor=world.owner,
    ).id
    ledger.issue_invoice(invoice_id=invoice, issued_on=date(2026, 11, 16), actor=world.owner)
    ledger.reopen_timesheet(timesheet_id=sheet, reason="typo", actor=world.owner)
    ledger.void_invoice(invoice_id=invoice, reason="wrong client", actor=world.owner)
    rejected = ledger.submit_timesheet(org_id=world.org_id, day=date(2026, 11, 2), actor=world.member).id
    ledger.reject_timesheet(timesheet_id=rejected, reason="empty", actor=world.manager)
    world.clock.advance(60)
    waiting = ledger.submit_timesheet(org_id=world.org_id, day=date(2026, 10, 26), actor=world.manager).id
    return entry, sheet, waiting


def test_locks_follow_the_workflow_and_invoiced_wins(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    ledger = world.ledger

    def lock(entry_id: UUID) -> str | None:
        rs.catch_up()
        row = get_entry(rs.engine, world.org_id, entry_id)
        assert row is not None
        assert row.version == ledger.get_entry(entry_id, world.owner).version
        assert row.lock == ledger.get_entry(entry_id, world.owner).lock
        return row.lock

    set_rate(world)
    entry = record(world, MONDAY, 90)
    assert lock(entry) is None
    sheet = ledger.submit_timesheet(org_id=world.org_id, day=WEEK[0], actor=world.member).id
    assert lock(entry) == "submitted"
    ledger.approve_timesheet(timesheet_id=sheet, actor=world.manager)
    assert lock(entry) == "approved"
    invoice = ledger.draft_invoice(
        org_id=world.org_id,
        client_id=world.client_id,
        period_from=WEEK[0],
        period_to=WEEK[1],
        actor=world.owner,
    ).id
    ledger.issue_invoice(invoice_id=invoice, issued_on=date(2026, 11, 16), actor=world.owner)
    assert lock(entry) == "invoiced"
    ledger.reopen_timesheet(timesheet_id=sheet, actor=world.owner)
    assert lock(entry) == "invoiced"
    ledger.void_invoice(invoice_id=invoice, reason="wrong client", actor=world.owner)
    assert lock(entry) is None


def test_the_read_model_follows_the_workflow_and_a_rebuild_agrees(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    _, sheet, waiting = workflow(world)
    rs.catch_up()
    row = get_timesheet(rs.engine, world.org_id, sheet)
    assert row is not None
    assert (row.state, row.note, row.reason, row.entry_count, row.version) == (
        "open",
        "week 46",
        "typo",
        2,
        4,
    )
    assert (row.first_day, row.last_day, row.member_name, row.total_seconds) == (*WEEK, "Mia Member", 7200)
    assert row.decided_by == world.owner.user_id
    # As it stood when approved (version 3): what a repeated approval answers.
    then = get_timesheet(rs.engine, world.org_id, sheet, version=3)
    assert then is not None
    assert (then.state, then.reason, then.decided_by, then.version) == (
        "approved",
        "fine",
        world.manager.user_id,
        3,
    )
    assert then.submitted_at == row.submitted_at
    assert get_timesheet(rs.engine, world.org_id, sheet, version=9) is None
    assert get_timesheet(rs.engine, world.org_id, sheet).version == 4  # type: ignore[union-attr]
    assert [
        (s.event_type, s.comment, s.actor_name) for s in timesheet_history(rs.engine, world.org_id, sheet)
    ] == [
        ("Timesheet.Opened", "", "Mia Member"),
        ("Timesheet.Submitted", "week 46", "Mia Member"),
        ("Timesheet.Approved", "fine", "Max Manager"),
        ("Timesheet.Reopened", "typo", "Olive Owner"),
    ]
    queue = approval_queue(rs.engine, world.org_id)
    assert [s.id for s in queue.items] == [waiting]
    assert approval_queue(rs.engine, world.org_id, exclude_member=world.manager.user_id).items == ()
    states = list_timesheets(rs.engine, world.org_id, TimesheetFilter(member_id=world.member.user_id))
    assert [(s.first_day, s.state) for s in states.items] == [
        (WEEK[0], "open"),
        (date(2026, 11, 2), "rejected"),
    ]
    assert tracked_seconds(rs.engine, world.org_id, world.member.user_id, *WEEK) == 7200
    assert_rebuild_agrees(world, rs)


def test_other_organizations_see_none_of_it(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    _, sheet, _ = workflow(world)
    rs.catch_up()
    other = world.ledger.create_organization(
        name="Other", owner_email="o@other.test", owner_name="O", owner_password="other-password"
    ).id
    assert get_timesheet(rs.engine, other, sheet) is None
    assert timesheet_history(rs.engine, other, sheet) == []
    assert list_timesheets(rs.engine, other).items == ()
    assert approval_queue(rs.engine, other).items == ()
