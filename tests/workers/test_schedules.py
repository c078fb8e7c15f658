"""Schedules: who is due when, and each firing claimed by exactly one scheduler."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from ledger.settings import OrgSettings
from tests.conftest import World
from tests.workers.conftest import (
    ALL_SCHEDULES_OFF,
    Inbox,
    Jobs,
    ReadSide,
    distinct_whole_seconds,
    plain,
    record,
)
from workers import claims
from workers.mail_jobs import reminder_day_due, summary_week_due
from workers.scheduler import DEFAULT_SCHEDULES, JobScheduler, grace_seconds, parse_cron, resolve_schedules

BERLIN = OrgSettings(timezone="Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --- who is due ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "instant", "week"),
    [
        (BERLIN, utc(2026, 11, 23, 6, 0), date(2026, 11, 16)),  # Monday 07:00 CET
        (BERLIN, utc(2026, 11, 23, 6, 59), date(2026, 11, 16)),
        (BERLIN, utc(2026, 11, 23, 5, 59), None),  # 06:59 in Berlin
        (BERLIN, utc(2026, 11, 23, 7, 0), None),  # 08:00 in Berlin
        (BERLIN, utc(2026, 3, 30, 5, 0), date(2026, 3, 23)),  # 07:00 CEST, the day after DST began
        (replace(BERLIN, week_start="sunday"), utc(2026, 11, 23, 6, 0), date(2026, 11, 15)),
        (OrgSettings(timezone="America/New_York"), utc(2026, 11, 23, 12, 0), date(2026, 11, 16)),
        (OrgSettings(timezone="Asia/Kolkata"), utc(2026, 11, 23, 2, 0), date(2026, 11, 16)),  # 07:30 IST
        (OrgSettings(timezone="Pacific/Auckland"), utc(2026, 11, 22, 18, 0), date(2026, 11, 16)),  # Mon 07:00
    ],
)
def test_the_weekly_summary_is_due_on_monday_at_seven_local_time(
    settings: OrgSettings, instant: datetime, week: date | None
) -> None:
    assert summary_week_due(settings, instant) == week


def test_reminders_are_due_at_five_pm_on_working_days() -> None:
    assert reminder_day_due(BERLIN, utc(2026, 11, 20, 16, 0)) == date(2026, 11, 20)  # Fri 17:00 CET
    assert reminder_day_due(BERLIN, utc(2026, 11, 20, 15, 0)) is None
    assert reminder_day_due(BERLIN, utc(2026, 11, 21, 16, 0)) is None  # Saturday
    weekend = OrgSettings(timezone="Europe/Berlin", working_days=("saturday",))
    assert reminder_day_due(weekend, utc(2026, 11, 21, 16, 30)) == date(2026, 11, 21)
    assert reminder_day_due(weekend, utc(2026, 11, 20, 16, 0)) is None


# --- schedules ---------------------------------------------------------------------------


def test_schedules_can_be_overridden_or_turned_off() -> None:
    assert [s.name for s in resolve_schedules()] == list(DEFAULT_SCHEDULES)
    found = resolve_schedules({"budget_check": "*/5 * * * *", "weekly_summary": "off"})
    assert [(s.name, s.expression) for s in found] == [
        ("daily_reminder", "0 * * * *"),
        ("budget_check", "*/5 * * * *"),
    ]
    with pytest.raises(ValueError, match="There is no schedule 'nightly'"):
        resolve_schedules({"nightly": "0 0 * * *"})
    with pytest.raises(ValueError, match="5 cron fields"):
        resolve_schedules({"budget_check": "every minute"})
    with pytest.raises(ValueError, match=r"Wrong number of fields|Error validating|invalid"):
        parse_cron("61 * * * *")


def test_the_grace_is_shorter_than_the_gap_between_firings() -> None:
    now = utc(2026, 11, 23, 10, 0)
    assert grace_seconds(parse_cron("* * * * * *"), now) == 1
    assert grace_seconds(parse_cron("*/4 * * * * *"), now) == 2
    assert grace_seconds(parse_cron("*/10 * * * *"), now) == 60
    assert grace_seconds(parse_cron("0 * * * *"), now) == 60


def test_a_late_run_belongs_to_the_firing_before_it(read_side: ReadSide) -> None:
    scheduler = JobScheduler(read_side.engine, {"budget_check": "*/10 * * * *"})
    for late in (0.001, 0.5, 59.0):
        now = utc(2026, 11, 23, 10, 20) + timedelta(seconds=late)
        assert scheduler.fire_time("budget_check", now) == utc(2026, 11, 23, 10, 20)


# --- firing ------------------------------------------------------------------------------


@pytest.fixture
def berlin(world: World, read_side: ReadSide) -> World:
    changes = {"timezone": "Europe/Berlin"}
    world.ledger.change_settings(org_id=world.org_id, changes=changes, actor=world.owner)
    record(world, world.member, utc(2026, 11, 10, 8), utc(2026, 11, 10, 11, 15))
    read_side.catch_up()
    return world


def test_of_two_schedulers_one_sends_each_firing_and_each_org_once_a_week(
    berlin: World, read_side: ReadSide, jobs: Jobs, inbox: Inbox
) -> None:
    one = JobScheduler(read_side.engine, {"weekly_summary": "*/30 * * * *"})
    other = JobScheduler(read_side.engine, {"weekly_summary": "*/30 * * * *"})
    claims.ensure_claims_table(read_side.engine)
    monday_seven = utc(2026, 11, 16, 6, 0, 0) + timedelta(milliseconds=3)  # 07:00 in Berlin
    assert sorted([one.fire("weekly_summary", monday_seven), other.fire("weekly_summary", monday_seven)]) == [
        False,
        True,
    ]
    jobs.drain()
    messages = inbox.wait_for(3)
    (member,) = inbox.to("member@acme.test")
    assert "Mon 9 Nov to Sun 15 Nov 2026: 3:15 h tracked" in " ".join(plain(member).split())

    # 07:30 is a new firing, but the organization's week was already sent.
    assert one.fire("weekly_summary", monday_seven + timedelta(minutes=30))
    jobs.drain()
    assert len(inbox.messages) == len(messages) == 3
    firings = claims.claims_of(read_side.engine, "weekly_summary")
    assert [(c["key"], c["runs"]) for c in firings] == [
        ("2026-11-16T06:00:00+00:00", 1),
        ("2026-11-16T06:30:00+00:00", 1),
    ]
    assert [c["key"] for c in claims.claims_of(read_side.engine, "weekly_summary.org")] == [
        f"{berlin.org_id}/2026-11-09"
    ]


def test_the_reminder_firing_reminds_at_five_pm_local(
    berlin: World, read_side: ReadSide, jobs: Jobs, inbox: Inbox
) -> None:
    scheduler = JobScheduler(read_side.engine)
    claims.ensure_claims_table(read_side.engine)
    assert scheduler.fire("daily_reminder", utc(2026, 11, 20, 15, 0, 1))  # 16:00 in Berlin: not due
    jobs.drain()
    assert inbox.messages == []
    assert scheduler.fire("daily_reminder", utc(2026, 11, 20, 16, 0, 1))  # 17:00 in Berlin
    jobs.drain()
    assert {str(m["Subject"]) for m in inbox.wait_for(3)} == {"No time logged today at Acme (Fri 20 Nov)"}


def test_schedules_firing_every_second_are_claimed_once_each(
    world: World, read_side: ReadSide, make_jobs: Callable[..., Jobs]
) -> None:
    every_second = {**ALL_SCHEDULES_OFF, "budget_check": "* * * * * *"}
    jobs = make_jobs(schedules=every_second)  # this "process" runs the jobs and a scheduler
    other = JobScheduler(read_side.engine, every_second)  # a second process's scheduler
    other.label = "other-process"
    other.start()
    time.sleep(3.5)
    other.stop()
    assert jobs.runtime.scheduler is not None
    jobs.runtime.scheduler.stop()
    jobs.drain()

    firings = claims.claims_of(read_side.engine, "budget_check")
    times = [datetime.fromisoformat(str(c["key"])) for c in firings]
    assert len(times) >= 3
    assert distinct_whole_seconds(times), times
    assert all(c["runs"] == 1 and c["finished_at"] is not None for c in firings), firings
