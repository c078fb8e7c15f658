"""Budget alerts: 80% and 100% once each, decided by the ledger, e-mailed to the managers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.catalog import Project
from ledger.errors import BudgetAlreadyAlertedError, ForbiddenError, InvalidInputError
from tests.conftest import World
from tests.workers.conftest import Inbox, Jobs, ReadSide, html_text, plain, record
from workers.budgets import Alert, check_budgets, check_budgets_now
from workers.context import WorkerContext

HOUR = 3600


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def alerts_in_ledger(ledger: TimeLedger, project_id: object) -> list[Project.BudgetAlerted]:
    return [e for e in ledger.events.get(project_id) if isinstance(e, Project.BudgetAlerted)]  # type: ignore[arg-type]


@pytest.fixture
def budgeted(world: World) -> World:
    """The Website project with a 10-hour budget."""
    world.ledger.update_project(project_id=world.project_id, budget_seconds=10 * HOUR, actor=world.owner)
    return world


def test_80_then_100_percent_are_each_sent_once(
    budgeted: World, read_side: ReadSide, jobs: Jobs, inbox: Inbox
) -> None:
    w = budgeted
    record(w, w.member, at(16, 8), at(16, 16))  # 8 h = 80%
    read_side.catch_up()
    assert [a.threshold_percent for a in check_budgets_now(jobs.ctx)] == [80]
    jobs.drain()
    messages = inbox.wait_for(2)
    assert sorted(str(m["To"]) for m in messages) == [
        "Max Manager <manager@acme.test>",
        "Olive Owner <owner@acme.test>",
    ]  # owners, admins and managers; not plain members
    assert messages[0]["Subject"] == "Budget alert: Website reached 80% of its budget"
    for part in (" ".join(plain(messages[0]).split()), html_text(messages[0])):
        assert "the project Website at Acme has reached 80% of its budget." in part
        assert "Hours: 8:00 h of 10:00 h." in part

    assert check_budgets_now(jobs.ctx) == []  # a second check finds nothing new
    record(w, w.member, at(17, 8), at(17, 10))  # 10 h = 100%
    read_side.catch_up()
    assert [a.threshold_percent for a in check_budgets_now(jobs.ctx)] == [100]
    assert check_budgets_now(jobs.ctx) == []
    jobs.drain()
    inbox.wait_for(4)
    subjects = [m["Subject"] for m in inbox.messages[2:]]
    assert subjects == ["Budget alert: Website reached 100% of its budget"] * 2

    events = alerts_in_ledger(w.ledger, w.project_id)
    assert [(e.threshold_percent, e.used_seconds, e.used_minor, e.actor_kind) for e in events] == [
        (80, 8 * HOUR, None, "system"),
        (100, 10 * HOUR, None, "system"),
    ]
    project = w.ledger.aggregate(w.project_id)
    assert isinstance(project, Project)
    assert project.budget_alerts_sent == {80, 100}

    check_budgets.send()  # the scheduled actor: nothing new either
    jobs.drain()
    assert len(inbox.messages) == 4


def test_money_budgets_count_billable_time_at_its_rates(
    world: World, read_side: ReadSide, jobs: Jobs, inbox: Inbox
) -> None:
    world.ledger.set_rate(
        org_id=world.org_id,
        level="organization",
        amount_minor=100_00,
        actor=world.owner,
        effective_from=at(1, 0).date(),
    )
    world.ledger.update_project(project_id=world.project_id, budget_minor=500_00, actor=world.owner)
    record(world, world.member, at(16, 8), at(16, 12))  # 4 h at 100.00 = 400.00 of 500.00
    read_side.catch_up()
    assert [a.threshold_percent for a in check_budgets_now(jobs.ctx)] == [80]
    (event,) = alerts_in_ledger(world.ledger, world.project_id)
    assert (event.used_seconds, event.used_minor) == (4 * HOUR, 400_00)
    jobs.drain()
    message = inbox.wait_for(2)[0]
    assert "Money: €400.00 of €500.00" in html_text(message)
    assert "Hours:" not in plain(message)


def test_jumping_past_both_thresholds_records_both_and_mails_the_highest(
    budgeted: World, read_side: ReadSide, jobs: Jobs, inbox: Inbox
) -> None:
    record(budgeted, budgeted.member, at(16, 6), at(16, 18))  # 12 h = 120%
    read_side.catch_up()
    assert [a.threshold_percent for a in check_budgets_now(jobs.ctx)] == [80, 100]
    jobs.drain()
    messages = inbox.wait_for(2)
    assert {m["Subject"] for m in messages} == {"Budget alert: Website reached 100% of its budget"}
    assert len(messages) == 2


def test_racing_checks_append_one_alert_and_send_one_mail(
    budgeted: World,
    read_side: ReadSide,
    jobs: Jobs,
    inbox: Inbox,
    make_ledger: Callable[..., TimeLedger],
) -> None:
    record(budgeted, budgeted.member, at(16, 8), at(16, 17))  # 9 h = 90%
    read_side.catch_up()
    # Each "process" its own ledger over the same store, all starting at once.
    contexts = [WorkerContext(make_ledger(), read_side.engine, inbox.settings) for _ in range(4)]
    start = threading.Barrier(len(contexts))
    results: list[list[Alert]] = []
    errors: list[BaseException] = []

    def check(ctx: WorkerContext) -> None:
        start.wait()
        try:
            results.append(check_budgets_now(ctx))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=check, args=(ctx,)) for ctx in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert len(alerts_in_ledger(budgeted.ledger, budgeted.project_id)) == 1
    jobs.drain()
    inbox.wait_for(2)
    assert len(inbox.messages) == 2


def test_the_ledger_refuses_a_second_alert_of_a_threshold(budgeted: World) -> None:
    ledger, system = budgeted.ledger, Actor.system()
    args = {"project_id": budgeted.project_id, "used_seconds": 8 * HOUR, "used_minor": None}
    ledger.record_budget_alert(threshold_percent=80, actor=system, **args)  # type: ignore[arg-type]
    with pytest.raises(BudgetAlreadyAlertedError):
        ledger.record_budget_alert(threshold_percent=80, actor=system, **args)  # type: ignore[arg-type]
    with pytest.raises(ForbiddenError):
        ledger.record_budget_alert(threshold_percent=100, actor=budgeted.owner, **args)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        ledger.record_budget_alert(threshold_percent=50, actor=system, **args)  # type: ignore[arg-type]
    # A new budget starts its alerts afresh; a change of name alone does not.
    ledger.update_project(project_id=budgeted.project_id, name="Web", actor=budgeted.owner)
    with pytest.raises(BudgetAlreadyAlertedError):
        ledger.record_budget_alert(threshold_percent=80, actor=system, **args)  # type: ignore[arg-type]
    ledger.update_project(project_id=budgeted.project_id, budget_seconds=20 * HOUR, actor=budgeted.owner)
    ledger.record_budget_alert(threshold_percent=80, actor=system, **args)  # type: ignore[arg-type]
    assert len(alerts_in_ledger(ledger, budgeted.project_id)) == 2


def test_a_project_without_a_budget_cannot_be_alerted(world: World) -> None:
    with pytest.raises(InvalidInputError):
        world.ledger.record_budget_alert(
            project_id=world.project_id,
            threshold_percent=80,
            used_seconds=0,
            used_minor=None,
            actor=Actor.system(),
        )
