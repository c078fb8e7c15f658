"""E-mail jobs: the weekly summary, the daily reminder, and the planners that pick who is due.

The planners run once per scheduled firing (see `workers.scheduler`) and send one job per
organization that is due at the firing's instant in its own timezone; a claim per
(organization, week) or (organization, day) makes that once even when checks repeat.
The senders claim each recipient before sending, so a retried job sends only what failed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from ledger.actors import Actor
from ledger.errors import NotFoundError
from ledger.organization import MANAGER_ROLES, Organization
from ledger.settings import WEEKDAYS, OrgSettings
from ledger.timezones import week_start
from projections.catalog import CatalogProjection
from projections.catalog_queries import get_project
from projections.registry import live_tables
from projections.totals_queries import DailyTotal, daily_totals
from workers import claims, mail
from workers.broker import actor
from workers.context import MailSettings, WorkerContext, context

log = logging.getLogger("timeledger.jobs.mail")
SUMMARY_WEEKDAY = 0  # Monday
SUMMARY_HOUR = 7
REMINDER_HOUR = 17
MAIL_RETRIES = {"max_retries": 5, "min_backoff": 1_000, "max_backoff": 300_000}


@dataclass(frozen=True)
class Person:
    user_id: UUID
    name: str
    email: str
    role: str


# --- who is due when ----------------------------------------------------------------


def summary_week_due(settings: OrgSettings, at: datetime) -> date | None:
    """The first day of the week to summarise when `at` is Monday 07:xx locally, else None."""
    local = at.astimezone(ZoneInfo(settings.timezone))
    if local.weekday() != SUMMARY_WEEKDAY or local.hour != SUMMARY_HOUR:
        return None
    # The last whole week of the organization's own week, which ended by this Monday.
    return week_start(local.date() - timedelta(days=7), settings.week_start)


def reminder_day_due(settings: OrgSettings, at: datetime) -> date | None:
    """The local day to remind about when `at` is 17:xx on one of the working days, else None."""
    local = at.astimezone(ZoneInfo(settings.timezone))
    if local.hour != REMINDER_HOUR or WEEKDAYS[local.weekday()] not in settings.working_days:
        return None
    return local.date()


def organizations(engine: Engine) -> list[tuple[UUID, OrgSettings]]:
    """Every organization with its settings, from the catalog read model."""
    with engine.connect() as conn:
        o = live_tables(conn, CatalogProjection)["organizations"]
        rows = conn.execute(select(o.c.id, o.c.settings).order_by(o.c.id)).all()
    return [(row.id, OrgSettings.from_dict(dict(row.settings))) for row in rows]


def _plan(
    name: str, fire_time_iso: str, due: Callable[[OrgSettings, datetime], date | None]
) -> list[tuple[UUID, date]]:
    """Organizations due at the firing, each claimed once per (org, day): the ones this call won."""
    ctx = context()
    at = datetime.fromisoformat(fire_time_iso)
    won = []
    for org_id, settings in organizations(ctx.engine):
        day = due(settings, at)
        if day is not None and claims.claim(ctx.engine, f"{name}.org", f"{org_id}/{day.isoformat()}"):
            won.append((org_id, day))
    return won


@actor(max_retries=3)
def plan_weekly_summaries(fire_time_iso: str) -> None:
    """Send the weekly summaries of every organization where it is Monday 07:xx now."""
    for org_id, week in _plan("weekly_summary", fire_time_iso, summary_week_due):
        send_weekly_summaries.send(str(org_id), week.isoformat())
    claims.finish(context().engine, "weekly_summary", fire_time_iso)


@actor(max_retries=3)
def plan_reminders(fire_time_iso: str) -> None:
    """Send the reminders of every organization where it is 17:xx on a working day now."""
    for org_id, day in _plan("daily_reminder", fire_time_iso, reminder_day_due):
        send_reminders.send(str(org_id), day.isoformat())
    claims.finish(context().engine, "daily_reminder", fire_time_iso)


# --- the senders ------------------------------------------------------------------------


def _people(ctx: WorkerContext, org: Organization) -> list[Person]:
    people = []
    for user_id, role in org.members.items():
        user = ctx.ledger.get_user(user_id)
        if user is not None:
            people.append(Person(user_id, user.display_name, user.email, role))
    return sorted(people, key=lambda p: (p.name.lower(), str(p.user_id)))


def _organization(ctx: WorkerContext, org_id: str, job: str) -> tuple[Organization, MailSettings] | None:
    """The organization and the mail settings, or None (logged) when there is nothing to send."""
    if ctx.mail is None:
        log.info("e-mail is off (TIMELEDGER_SMTP_HOST is unset): skipped the %s of %s", job, org_id)
        return None
    try:
        return ctx.ledger.get_organization(UUID(org_id), Actor.system()), ctx.mail
    except NotFoundError:
        log.warning("skipped the %s of %s: there is no such organization", job, org_id)
        return None


def _day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


@dataclass(frozen=True)
class Week:
    total: int
    billable: int
    projects: list[tuple[str, int]]
    days: list[tuple[str, int]]


def _week_of(rows: list[DailyTotal], first: date, project_name: Callable[[UUID], str]) -> Week:
    per_project: dict[UUID, int] = defaultdict(int)
    per_day: dict[date, int] = defaultdict(int)
    for row in rows:
        per_project[row.project_id] += row.seconds
        per_day[row.day] += row.seconds
    projects = sorted(((project_name(p), s) for p, s in per_project.items()), key=lambda x: (-x[1], x[0]))
    days = [(_day_label(first + timedelta(days=i)), per_day[first + timedelta(days=i)]) for i in range(7)]
    return Week(sum(r.seconds for r in rows), sum(r.billable_seconds for r in rows), projects, days)


@actor(**MAIL_RETRIES)
def send_weekly_summaries(org_id: str, week_start_iso: str) -> None:
    """Each member's own week; owners, admins and managers also get the team's totals."""
    ctx = context()
    found = _organization(ctx, org_id, "weekly summaries")
    if found is None:
        return
    org, settings = found
    first = date.fromisoformat(week_start_iso)
    last = first + timedelta(days=6)
    rows = daily_totals(ctx.engine, org.id, first, last)
    names: dict[UUID, str] = {}

    def project_name(project_id: UUID) -> str:
        if project_id not in names:
            found = get_project(ctx.engine, org.id, project_id)
            names[project_id] = found.name if found is not None else "(unknown project)"
        return names[project_id]

    people = _people(ctx, org)
    by_member: dict[UUID, list[DailyTotal]] = defaultdict(list)
    for row in rows:
        by_member[row.member_id].append(row)
    weeks = {p.user_id: _week_of(by_member[p.user_id], first, project_name) for p in people}
    team = [(p.name, weeks[p.user_id].total, weeks[p.user_id].billable) for p in people]
    period = f"{_day_label(first)} to {_day_label(last)} {last.year}"
    for person in people:
        week = weeks[person.user_id]
        text, html = mail.render(
            "mail_weekly_summary",
            org=org.name,
            person=person.name,
            period=period,
            week=week,
            team=team if person.role in MANAGER_ROLES else None,
            team_total=sum(t[1] for t in team),
            hours=mail.hours,
        )
        subject = f"Your week at {org.name}: {mail.hours(week.total)} h ({period})"
        key = f"{org.id}/{first.isoformat()}/{person.user_id}"
        message = mail.Mail(person.email, subject, text, html, person.name)
        mail.send_once(ctx.engine, settings, "weekly_summary.mail", key, message)


@actor(**MAIL_RETRIES)
def send_reminders(org_id: str, day_iso: str) -> None:
    """Remind each member who logged no time on the organization's local day `day_iso`."""
    ctx = context()
    found = _organization(ctx, org_id, "reminders")
    if found is None:
        return
    org, settings = found
    day = date.fromisoformat(day_iso)
    first = week_start(day, org.settings.week_start)
    rows = daily_totals(ctx.engine, org.id, first, day)
    week_total: dict[UUID, int] = defaultdict(int)
    logged_today: set[UUID] = set()
    for row in rows:
        week_total[row.member_id] += row.seconds
        if row.day == day and row.seconds > 0:
            logged_today.add(row.member_id)
    for person in _people(ctx, org):
        if person.user_id in logged_today:
            continue
        if ctx.ledger.running_entry(org.id, Actor.system(), member_id=person.user_id) is not None:
            continue  # a running timer is time being logged
        text, html = mail.render(
            "mail_reminder",
            org=org.name,
            person=person.name,
            day=f"{day:%A} {day.day} {day:%B}",
            week_total=week_total[person.user_id],
            hours=mail.hours,
        )
        subject = f"No time logged today at {org.name} ({_day_label(day)})"
        key = f"{org.id}/{day.isoformat()}/{person.user_id}"
        message = mail.Mail(person.email, subject, text, html, person.name)
        mail.send_once(ctx.engine, settings, "daily_reminder.mail", key, message)
