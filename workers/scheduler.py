"""The schedules: APScheduler cron triggers whose firings are claimed once, then sent as jobs.

Every process that runs jobs also runs a `JobScheduler` (so there is no single scheduler
process to keep alive). Each firing first claims (schedule, fire time) in `job_claims`;
the one process whose insert succeeds sends the schedule's actor, the others do nothing.
Clocks of the processes need only agree to within the misfire grace (see `grace_seconds`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from sqlalchemy import Engine

from workers import claims
from workers.budgets import check_budgets
from workers.mail_jobs import plan_reminders, plan_weekly_summaries

log = logging.getLogger("timeledger.schedules")

# Cron expressions in UTC: five fields (minute hour day month day-of-week), or six with
# seconds first. The summary and reminder check hourly, as organizations live in every
# timezone; each sends only where it is Monday 07:xx or a working day's 17:xx.
DEFAULT_SCHEDULES: dict[str, str] = {
    "weekly_summary": "0 * * * *",
    "daily_reminder": "0 * * * *",
    "budget_check": "*/10 * * * *",
}
ACTORS: dict[str, dramatiq.Actor[Any, Any]] = {
    "weekly_summary": plan_weekly_summaries,
    "daily_reminder": plan_reminders,
    "budget_check": check_budgets,
}
OFF = "off"
MAX_GRACE_SECONDS = 60


def parse_cron(expression: str) -> CronTrigger:
    """A UTC trigger from five cron fields, or six with seconds first; ValueError otherwise."""
    fields = expression.split()
    if len(fields) == 5:
        return CronTrigger.from_crontab(expression, timezone=UTC)
    if len(fields) == 6:
        second, minute, hour, day, month, day_of_week = fields
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=day_of_week,
            timezone=UTC,
        )
    raise ValueError(f"A schedule is 5 cron fields (or 6, seconds first), not {expression!r}.")


def grace_seconds(trigger: CronTrigger, now: datetime) -> int:
    """How late a firing may still run: half the shortest gap between firings, 1 s to 60 s.

    Shorter than the gap, so the firing a late run belongs to is never in doubt.
    """
    times = [trigger.get_next_fire_time(None, now)]
    for _ in range(8):
        times.append(trigger.get_next_fire_time(times[-1], times[-1]))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times) if a and b]
    shortest = min(gaps, default=2 * MAX_GRACE_SECONDS)
    return max(1, min(MAX_GRACE_SECONDS, int(shortest // 2)))


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str
    trigger: CronTrigger
    grace: int


def resolve_schedules(overrides: Mapping[str, str] | None = None) -> list[Schedule]:
    """The default schedules with `overrides` (name -> cron expression, or "off") applied."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(DEFAULT_SCHEDULES))
    if unknown:
        known = ", ".join(DEFAULT_SCHEDULES)
        raise ValueError(f"There is no schedule {unknown[0]!r}; the schedules are {known}.")
    now = datetime.now(tz=UTC)
    found = []
    for name, default in DEFAULT_SCHEDULES.items():
        expression = overrides.get(name, default).strip()
        if expression == OFF:
            continue
        trigger = parse_cron(expression)
        found.append(Schedule(name, expression, trigger, grace_seconds(trigger, now)))
    return found


class JobScheduler:
    """Fires the schedules in a background thread; each firing is sent by one process only."""

    def __init__(self, engine: Engine, schedules: Mapping[str, str] | None = None) -> None:
        self.engine = engine
        self.schedules = {s.name: s for s in resolve_schedules(schedules)}
        self.label = claims.process_label()
        self._scheduler = BackgroundScheduler(timezone=UTC)

    def start(self) -> None:
        claims.ensure_claims_table(self.engine)
        for schedule in self.schedules.values():
            self._scheduler.add_job(
                self.fire,
                schedule.trigger,
                args=(schedule.name,),
                id=schedule.name,
                name=f"schedule {schedule.name}",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=schedule.grace,
            )
        self._scheduler.start()
        shown = ", ".join(f"{s.name} ({s.expression})" for s in self.schedules.values())
        log.info("schedules started: %s", shown or "none")

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def fire_time(self, name: str, now: datetime) -> datetime:
        """The firing a run at `now` belongs to: the first fire time within the grace before `now`."""
        schedule = self.schedules[name]
        found: datetime | None = schedule.trigger.get_next_fire_time(
            None, now - timedelta(seconds=schedule.grace)
        )
        if found is None:
            raise ValueError(f"The schedule {name!r} has no fire time near {now.isoformat()}.")
        return found.astimezone(UTC)

    def fire(self, name: str, now: datetime | None = None) -> bool:
        """Claim this firing of `name`; the winner sends the schedule's job (True), the others don't."""
        at = self.fire_time(name, now or datetime.now(tz=UTC))
        key = at.isoformat()
        if not claims.claim(self.engine, name, key, by=self.label):
            log.debug("schedule %s at %s was claimed by another process", name, key)
            return False
        ACTORS[name].send(key)
        log.info("schedule %s fired at %s", name, key)
        claims.prune(self.engine, at)
        return True
