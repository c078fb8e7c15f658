"""The weekly summary and the daily reminder, received by a real SMTP server."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from tests.conftest import World
from tests.workers.conftest import Inbox, Jobs, ReadSide, html_text, plain, raw_html, record
from workers import claims
from workers.mail_jobs import send_reminders, send_weekly_summaries


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def week(world: World, read_side: ReadSide) -> World:
    """Time in the week of Monday 16 November 2026 (UTC), on two projects."""
    rnd = world.ledger.create_project(org_id=world.org_id, name="R&D", billable=False, actor=world.owner).id
    record(world, world.member, at(16, 9), at(16, 12, 30))  # Mon 3:30 Website
    record(world, world.member, at(17, 10), at(17, 12))  # Tue 2:00 Website
    record(world, world.member, at(17, 13), at(17, 14), rnd)  # Tue 1:00 R&D
    record(world, world.manager, at(18, 8), at(18, 9, 15))  # Wed 1:15 Website
    record(world, world.member, at(9, 9), at(9, 17))  # the week before: not in this summary
    read_side.catch_up()
    return world


def test_each_member_gets_their_week_and_managers_the_team(week: World, jobs: Jobs, inbox: Inbox) -> None:
    send_weekly_summaries.send(str(week.org_id), "2026-11-16")
    jobs.drain()
    messages = inbox.wait_for(3)
    assert sorted(str(m["To"]) for m in messages) == [
        "Max Manager <manager@acme.test>",
        "Mia Member <member@acme.test>",
        "Olive Owner <owner@acme.test>",
    ]

    (member,) = inbox.to("member@acme.test")
    assert member["Subject"] == "Your week at Acme: 6:30 h (Mon 16 Nov to Sun 22 Nov 2026)"
    assert member["From"] == "timeledger@acme.test"
    text, shown = plain(member), html_text(member)
    summary = "Acme, Mon 16 Nov to Sun 22 Nov 2026: 6:30 h tracked (5:30 h billable)"
    for part in (text, shown):
        assert summary in " ".join(part.split())
        assert "team" not in part.lower()
    lines = ("Website 5:30 h", "R&D 1:00 h", "Mon 16 Nov 3:30 h", "Tue 17 Nov 3:00 h", "Wed 18 Nov 0:00 h")
    for line in lines:
        assert line in " ".join(text.split())
        assert line in shown
    assert "R&amp;D" in raw_html(member)  # names are escaped in HTML

    (manager,) = inbox.to("manager@acme.test")
    assert manager["Subject"].startswith("Your week at Acme: 1:15 h")
    for part in (" ".join(plain(manager).split()), html_text(manager)):
        assert "Website 1:15 h" in part
        assert "Your team's week" in part
        assert "Mia Member 6:30 h" in part
        assert "Max Manager 1:15 h" in part
        assert "Olive Owner 0:00 h" in part
        assert "Team total 7:45 h" in part
    (owner,) = inbox.to("owner@acme.test")
    assert "Team total 7:45 h" in html_text(owner)
    assert "No time tracked" in html_text(owner)


def test_a_repeated_summary_job_sends_nothing_twice(week: World, jobs: Jobs, inbox: Inbox) -> None:
    send_weekly_summaries.send(str(week.org_id), "2026-11-16")
    send_weekly_summaries.send(str(week.org_id), "2026-11-16")
    jobs.drain()
    inbox.wait_for(3)
    assert len(inbox.messages) == 3
    assert len(claims.claims_of(jobs.ctx.engine, "weekly_summary.mail")) == 3


def test_a_failed_send_is_retried_for_the_missing_recipients_only(
    week: World, jobs: Jobs, inbox: Inbox
) -> None:
    # The manager's claim is taken as if an earlier, interrupted run had sent it.
    key = f"{week.org_id}/2026-11-16/{week.manager.user_id}"
    assert claims.claim(jobs.ctx.engine, "weekly_summary.mail", key)
    send_weekly_summaries.send(str(week.org_id), "2026-11-16")
    jobs.drain()
    inbox.wait_for(2)
    assert sorted(str(m["To"]).split("<")[1] for m in inbox.messages) == [
        "member@acme.test>",
        "owner@acme.test>",
    ]


def test_reminders_go_to_members_without_time_that_day(
    world: World, read_side: ReadSide, jobs: Jobs, inbox: Inbox
) -> None:
    record(world, world.member, at(20, 9), at(20, 10))  # logged today
    record(world, world.owner, at(19, 9), at(19, 10, 45))  # only yesterday
    record(world, world.owner, at(16, 9), at(16, 10))
    world.ledger.start_timer(org_id=world.org_id, project_id=world.project_id, actor=world.manager)
    read_side.catch_up()

    send_reminders.send(str(world.org_id), "2026-11-20")
    jobs.drain()
    (reminder,) = inbox.wait_for(1)
    assert str(reminder["To"]) == "Olive Owner <owner@acme.test>"
    assert reminder["Subject"] == "No time logged today at Acme (Fri 20 Nov)"
    for part in (" ".join(plain(reminder).split()), html_text(reminder)):
        assert "you have not logged any time at Acme today, Friday 20 November." in part
        assert "This week so far: 2:45 h." in part

    send_reminders.send(str(world.org_id), "2026-11-20")  # a second run reminds no one again
    jobs.drain()
    assert len(inbox.messages) == 1


def test_without_smtp_the_jobs_log_that_they_skipped(
    week: World, make_jobs: object, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = make_jobs(mail=False)  # type: ignore[operator]
    with caplog.at_level(logging.INFO, logger="timeledger.jobs.mail"):
        send_weekly_summaries.send(str(week.org_id), "2026-11-16")
        send_reminders.send(str(week.org_id), "2026-11-20")
        jobs.drain()
    assert inbox.messages == []
    skipped = [r.getMessage() for r in caplog.records if "TIMELEDGER_SMTP_HOST is unset" in r.getMessage()]
    assert len(skipped) == 2
    assert claims.claims_of(jobs.ctx.engine, "weekly_summary.mail") == []


def test_an_unknown_organization_is_skipped(world: World, jobs: Jobs, inbox: Inbox) -> None:
    send_reminders.send("00000000-0000-4000-8000-000000000000", "2026-11-20")
    jobs.drain()
    assert inbox.messages == []
