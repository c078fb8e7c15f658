"""Timesheet periods: the organization's week or calendar month, cut in its timezone."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ledger.settings import OrgSettings
from ledger.timezones import local_day, local_midnight, week_start


@dataclass(frozen=True)
class Period:
    """[start, end) of a period as UTC instants, and the local days it spans."""

    kind: str
    first_day: date
    last_day: date
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.first_day.isoformat()}"

    def holds(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def period_of_day(day: date, settings: OrgSettings) -> Period:
    """The organization's timesheet period that holds a local day."""
    tz = ZoneInfo(settings.timezone)
    if settings.timesheet_period == "month":
        first = day.replace(day=1)
        last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    else:
        first = week_start(day, settings.week_start)
        last = first + timedelta(days=6)
    return Period(
        kind=settings.timesheet_period,
        first_day=first,
        last_day=last,
        start=local_midnight(first, tz),
        end=local_midnight(last + timedelta(days=1), tz),
    )


def period_of_instant(instant: datetime, settings: OrgSettings) -> Period:
    return period_of_day(local_day(instant, ZoneInfo(settings.timezone)), settings)
