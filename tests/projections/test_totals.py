"""The totals read model: worked time and amounts per local day, and project budgets.

Acceptance: totals are right across DST nights and for entries that cross
midnight, and follow the organization's timezone when it changes (a replay
gives the same answer).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ledger.rates import Rate
from projections.registry import create_generation
from projections.runner import Runner
from projections.totals import TotalsProjection, billable_amount, contributions_of, seconds_per_day
from projections.totals_queries import ProjectBudget, daily_totals, project_budget, totals_by
from tests.conftest import World
from tests.projections.conftest import ReadSide

BERLIN = ZoneInfo("Europe/Berlin")
YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def rows(rs: ReadSide, world: World, **filters: Any) -> list[tuple[date, int, int, int]]:
    found = daily_totals(rs.engine, world.org_id, *YEAR, **filters)
    return [(t.day, t.seconds, t.billable_seconds, t.billable_amount_minor) for t in found]


def record(world: World, start: datetime, end: datetime, **more: Any) -> UUID:
    more.setdefault("actor", world.member)
    more.setdefault("project_id", world.project_id)
    return world.ledger.record_entry(org_id=world.org_id, start=start, end=end, **more).id


def set_rate(world: World, level: str, amount: int | None, since: date, **target: Any) -> None:
    world.ledger.set_rate(
        org_id=world.org_id,
        level=level,
        amount_minor=amount,
        effective_from=since,
        actor=world.owner,
        **target,
    )


def used(rs: ReadSide, project_id: UUID) -> tuple[int, int, int]:
    budget = project_budget(rs.engine, project_id)
    assert budget is not None
    return (budget.used_seconds, budget.used_billable_seconds, budget.used_minor)


def to_berlin(world: World) -> None:
    world.ledger.change_settings(
        org_id=world.org_id, changes={"timezone": "Europe/Berlin"}, actor=world.owner
    )


def assert_rebuild_agrees(world: World, rs: ReadSide) -> None:
    """Generations rebuilt from position 0 hold exactly the live generation's rows.

    Generation 2 is built in one go (rows cached across batches); generation 3 one
    event at a time by a fresh runner each, so every row goes through the database.
    """
    rs.catch_up()
    for generation in (2, 3):
        create_generation(rs.engine, TotalsProjection, generation)
    Runner(world.ledger, rs.engine, TotalsProjection, generation=2).catch_up()
    while Runner(world.ledger, rs.engine, TotalsProjection, generation=3, batch_size=1).run_batch():
        pass
    for name in ("daily", "budgets", "entries"):
        with rs.engine.connect() as conn:
            live, *rebuilt = (
                sorted(tuple(r) for r in conn.execute(select(TotalsProjection.tables(g)[name])).all())
                for g in (1, 2, 3)
            )
        assert rebuilt == [live, live], name


# --- the arithmetic, without a database ---------------------------------------------


def test_days_are_local_and_dst_correct() -> None:
    spring = seconds_per_day(utc(3, 29, 0, 30), utc(3, 29, 1, 30), [], 0, BERLIN)  # 01:30 CET-03:30 CEST
    assert spring == [(date(2026, 3, 29), 3600)]
    autumn = seconds_per_day(utc(10, 25, 0), utc(10, 25, 2), [], 0, BERLIN)  # 02:00 CEST-02:00 CET
    assert autumn == [(date(2026, 10, 25), 7200)]
    night = seconds_per_day(utc(11, 10, 22), utc(11, 11, 0), [], 0, BERLIN)  # 23:00-01:00
    assert night == [(date(2026, 11, 10), 3600), (date(2026, 11, 11), 3600)]


def test_pauses_are_cut_out_and_the_break_comes_off_the_first_days() -> None:
    pause = [[utc(11, 10, 23, 30).isoformat(), utc(11, 11, 0, 45).isoformat()]]
    start, end = utc(11, 10, 22), utc(11, 11, 2)
    assert seconds_per_day(start, end, pause, 0, ZoneInfo("UTC")) == [
        (date(2026, 11, 10), 5400),
        (date(2026, 11, 11), 4500),
    ]
    # The break uses up the first day (which then has no row) and 600 s of the second.
    assert seconds_per_day(start, end, pause, 6000, ZoneInfo("UTC")) == [(date(2026, 11, 11), 3900)]


def test_amounts_round_half_up_and_follow_the_rate_of_each_day() -> None:
    assert (billable_amount(10000, 1000), billable_amount(1, 1800), billable_amount(1, 1799)) == (2778, 1, 0)
    member, project = UUID(int=1), UUID(int=2)
    rates = [Rate("organization", 3600, "EUR", date(2026, 11, 11))]
    entry = {
        "member_id": member,
        "project_id": project,
        "start": utc(11, 10, 23),
        "end": utc(11, 11, 1),
        "pauses": [],
        "break_seconds": 0,
        "billable": True,
        "deleted": False,
    }
    tz = ZoneInfo("UTC")
    assert contributions_of(entry, tz, rates, None) == {
        "2026-11-10": [3600, 3600, 0],
        "2026-11-11": [3600, 3600, 3600],
    }
    assert contributions_of({**entry, "billable": False}, tz, rates, None)["2026-11-11"] == [3600, 0, 0]
    assert contributions_of({**entry, "end": None}, tz, rates, None) == {}
    assert contributions_of({**entry, "deleted": True}, tz, rates, None) == {}


# --- the read model, on both stores ---------------------------------------------------


def test_dst_nights_and_midnight_in_the_organizations_timezone(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    to_berlin(world)
    record(world, utc(3, 29, 0, 30), utc(3, 29, 1, 30))  # spring forward: 01:30-03:30 local
    record(world, utc(10, 25, 0), utc(10, 25, 2))  # fall back: 02:00 CEST-02:00 CET
    record(world, utc(11, 10, 22), utc(11, 11, 0))  # 23:00-01:00 local
    rs.catch_up()
    assert rows(rs, world) == [
        (date(2026, 3, 29), 3600, 3600, 0),
        (date(2026, 10, 25), 7200, 7200, 0),
        (date(2026, 11, 10), 3600, 3600, 0),
        (date(2026, 11, 11), 3600, 3600, 0),
    ]
    assert_rebuild_agrees(world, rs)


def test_a_timer_counts_once_stopped_with_its_pause_across_midnight(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    ledger, org = world.ledger, world.org_id
    ledger.start_timer(org_id=org, project_id=world.project_id, at=utc(11, 10, 22), actor=world.member)
    ledger.pause_timer(org_id=org, at=utc(11, 10, 23, 30), actor=world.member)
    ledger.resume_timer(org_id=org, at=utc(11, 11, 0, 45), actor=world.member)
    rs.catch_up()
    assert rows(rs, world) == []
    ledger.stop_timer(org_id=org, at=utc(11, 11, 2), actor=world.member)
    ledger.start_timer(org_id=org, project_id=world.project_id, at=utc(11, 20, 9), actor=world.member)
    rs.catch_up()
    assert rows(rs, world) == [(date(2026, 11, 10), 5400, 5400, 0), (date(2026, 11, 11), 4500, 4500, 0)]
    assert_rebuild_agrees(world, rs)


def test_breaks_edits_deletes_and_restores_move_the_rows(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    ledger = world.ledger
    entry = record(world, utc(11, 10, 23), utc(11, 11, 1), break_minutes=30)
    rs.catch_up()
    assert rows(rs, world) == [(date(2026, 11, 10), 1800, 1800, 0), (date(2026, 11, 11), 3600, 3600, 0)]
    ledger.edit_entry(entry_id=entry, start=utc(11, 5, 9), end=utc(11, 5, 11), actor=world.member)
    rs.catch_up()
    assert rows(rs, world) == [(date(2026, 11, 5), 5400, 5400, 0)]
    ledger.edit_entry(entry_id=entry, task_id=world.task_id, billable=False, actor=world.member)
    rs.catch_up()
    [moved] = daily_totals(rs.engine, world.org_id, *YEAR)
    assert (moved.task_id, moved.seconds, moved.billable_seconds) == (world.task_id, 5400, 0)
    ledger.delete_entry(entry_id=entry, actor=world.member)
    rs.catch_up()
    assert rows(rs, world) == []
    assert used(rs, world.project_id) == (0, 0, 0)
    ledger.restore_entry(entry_id=entry, actor=world.member)
    rs.catch_up()
    assert rows(rs, world) == [(date(2026, 11, 5), 5400, 0, 0)]
    assert_rebuild_agrees(world, rs)


def test_a_timezone_change_moves_the_day_rows_and_a_replay_agrees(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    record(world, utc(11, 10, 23, 30), utc(11, 11, 0, 30))
    record(world, utc(11, 12, 22, 30), utc(11, 12, 23, 30))
    set_rate(world, "organization", 3600, date(2026, 11, 11))
    rs.catch_up()
    assert rows(rs, world) == [
        (date(2026, 11, 10), 1800, 1800, 0),
        (date(2026, 11, 11), 1800, 1800, 1800),
        (date(2026, 11, 12), 3600, 3600, 3600),
    ]
    to_berlin(world)
    rs.catch_up()
    assert rows(rs, world) == [
        (date(2026, 11, 11), 3600, 3600, 3600),
        (date(2026, 11, 12), 1800, 1800, 1800),
        (date(2026, 11, 13), 1800, 1800, 1800),
    ]
    by_day = totals_by(rs.engine, world.org_id, date(2026, 11, 12), date(2026, 11, 13), "day")
    assert by_day == [(date(2026, 11, 12), 1800, 1800, 1800), (date(2026, 11, 13), 1800, 1800, 1800)]
    assert_rebuild_agrees(world, rs)


def test_the_most_specific_rate_wins(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    member, manager = world.member.user_id, world.manager.user_id
    internal = world.ledger.create_project(org_id=world.org_id, name="Internal", actor=world.owner).id
    record(world, utc(11, 10, 9), utc(11, 10, 10))
    record(world, utc(11, 10, 9), utc(11, 10, 10), actor=world.manager)
    record(world, utc(11, 10, 11), utc(11, 10, 12), project_id=internal)
    since = date(2026, 11, 1)
    steps: list[tuple[str, int, dict[str, Any], tuple[int, int, int]]] = [
        ("organization", 10000, {}, (10000, 10000, 10000)),
        ("member", 11000, {"member_id": member}, (11000, 10000, 11000)),
        ("client", 12000, {"client_id": world.client_id}, (12000, 12000, 11000)),
        ("project", 13000, {"project_id": world.project_id}, (13000, 13000, 11000)),
        (
            "project_member",
            14000,
            {"project_id": world.project_id, "member_id": member},
            (14000, 13000, 11000),
        ),
    ]
    for level, amount, target, expected in steps:
        set_rate(world, level, amount, since, **target)
        rs.catch_up()
        amounts = tuple(
            rows(rs, world, member_id=who, project_id=project)[0][3]
            for who, project in ((member, world.project_id), (manager, world.project_id), (member, internal))
        )
        assert amounts == expected, level
    by_project = totals_by(rs.engine, world.org_id, *YEAR, "project")
    assert sorted(t.amount_minor for t in by_project) == [11000, 27000]
    by_member = {t.key: t.amount_minor for t in totals_by(rs.engine, world.org_id, *YEAR, "member")}
    assert by_member == {member: 25000, manager: 13000}
    assert_rebuild_agrees(world, rs)


def test_effective_dates_reach_back_to_entries_already_recorded(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    record(world, utc(10, 20, 9), utc(10, 20, 10))
    record(world, utc(11, 10, 9), utc(11, 10, 9) + timedelta(seconds=1000))
    record(world, utc(11, 10, 13), utc(11, 10, 14), billable=False)
    set_rate(world, "organization", 10000, date(2026, 11, 1))
    rs.catch_up()
    assert [r[3] for r in rows(rs, world)] == [0, 2778]
    set_rate(world, "organization", 8000, date(2026, 10, 1))  # set later, effective earlier
    rs.catch_up()
    assert rows(rs, world) == [(date(2026, 10, 20), 3600, 3600, 8000), (date(2026, 11, 10), 4600, 1000, 2778)]
    set_rate(world, "organization", 9000, date(2026, 11, 5))
    rs.catch_up()
    assert [r[3] for r in rows(rs, world)] == [8000, 2500]
    set_rate(world, "organization", None, date(2026, 11, 8))  # cleared: no rate from then on
    rs.catch_up()
    assert [r[3] for r in rows(rs, world)] == [8000, 0]
    assert_rebuild_agrees(world, rs)


def test_project_budgets_follow_use(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    ledger = world.ledger
    project = ledger.create_project(
        org_id=world.org_id, name="Fixed", budget_seconds=36000, budget_minor=100000, actor=world.owner
    ).id
    rs.catch_up()
    assert project_budget(rs.engine, project) == ProjectBudget(project, world.org_id, 36000, 100000, 0, 0, 0)
    assert project_budget(rs.engine, UUID(int=7)) is None
    set_rate(world, "organization", 6000, date(2026, 1, 1))
    set_rate(world, "client", 9000, date(2026, 1, 1), client_id=world.client_id)
    record(world, utc(11, 10, 9), utc(11, 10, 11), project_id=project)
    moving = record(world, utc(11, 10, 12), utc(11, 10, 13), project_id=project, billable=False)
    ledger.update_project(project_id=project, budget_seconds=7200, actor=world.owner)
    rs.catch_up()
    budget = project_budget(rs.engine, project)
    assert budget is not None
    assert (budget.budget_seconds, budget.budget_minor) == (7200, 100000)
    assert used(rs, project) == (10800, 7200, 12000)
    ledger.update_project(project_id=project, client_id=world.client_id, actor=world.owner)
    ledger.edit_entry(entry_id=moving, project_id=world.project_id, actor=world.member)
    rs.catch_up()
    assert used(rs, project) == (7200, 7200, 18000)
    assert used(rs, world.project_id) == (3600, 0, 0)
    assert_rebuild_agrees(world, rs)
