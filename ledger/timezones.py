"""Cutting instants into local days and weeks, correct across DST changes.

Instants are stored in UTC; a "day" exists only in a timezone, and may last
23, 24 or 25 hours.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ledger.settings import WEEKDAYS


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `tz`."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day as UTC instants."""
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def week_start(day: date, first_weekday: str = "monday") -> date:
    """The first day of the week that holds `day`, for a week starting on `first_weekday`."""
    offset = (day.weekday() - WEEKDAYS.index(first_weekday)) % 7
    return day - timedelta(days=offset)


def week_bounds(instant: datetime, tz: ZoneInfo, first_weekday: str = "monday") -> tuple[datetime, datetime]:
    """[start, end) of the local week holding `instant`, as UTC instants."""
    first = week_start(local_day(instant, tz), first_weekday)
    return local_midnight(first, tz), local_midnight(first + timedelta(days=7), tz)


def split_by_day(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[date, int]]:
    """Seconds of [start, end) that fall on each local day, in order."""
    parts: list[tuple[date, int]] = []
    # Aware datetimes of one zone subtract by wall clock; in UTC they subtract by elapsed time.
    cursor, end = start.astimezone(UTC), end.astimezone(UTC)
    while cursor < end:
        day = local_day(cursor, tz)
        _, day_end = day_bounds(day, tz)
        piece_end = min(end, day_end)
        parts.append((day, int((piece_end - cursor).total_seconds())))
        cursor = piece_end
    return parts


def seconds_by_day(intervals: list[tuple[datetime, datetime]], tz: ZoneInfo) -> dict[date, int]:
    """Total seconds per local day of several intervals (e.g. an entry's worked spans)."""
    totals: dict[date, int] = defaultdict(int)
    for start, end in intervals:
        for day, seconds in split_by_day(start, end, tz):
            totals[day] += seconds
    return dict(totals)
