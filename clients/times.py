"""Times as `tl` reads and writes them: in the device's local timezone, always with an offset."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from clients.config import CliError

CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def now() -> datetime:
    """The device's clock, aware, in its local timezone."""
    return datetime.now().astimezone()


def local(day: date, clock: time) -> datetime:
    """A wall-clock time of a day in the device's timezone (its offset that day, DST included)."""
    return datetime.combine(day, clock).astimezone()  # a naive local time, made aware


def parse_time(text: str, day: date | None = None) -> datetime:
    """`HH:MM` on `day` (default today), or an ISO datetime (local time if it names no offset)."""
    text = text.strip()
    found = CLOCK.match(text)
    if found:
        hour, minute = int(found.group(1)), int(found.group(2))
        if hour > 23 or minute > 59:
            raise CliError(f"{text!r} is not a time of day; use HH:MM such as 09:30.", 2)
        return local(day or now().date(), time(hour, minute))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"{text!r} is neither HH:MM nor an ISO datetime such as 2026-11-20T09:30.", 2
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.astimezone()


def clock(moment: datetime) -> str:
    """`10:02` today, `Fri 20 Nov 10:02` on another day (device time)."""
    here = moment.astimezone()
    return here.strftime("%H:%M") if here.date() == now().date() else here.strftime("%a %d %b %H:%M")


def duration(seconds: float) -> str:
    total = max(0, int(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def day_start(day: date) -> datetime:
    return local(day, time(0, 0))


def week_start(today: date, first_day: str) -> date:
    first = WEEKDAYS.index(first_day) if first_day in WEEKDAYS else 0
    return today - timedelta(days=(today.weekday() - first) % 7)
