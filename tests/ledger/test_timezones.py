"""Local days and weeks across DST: 23- and 25-hour days, entries split at local midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ledger.snapshots import EntrySnapshot
from ledger.timezones import (
    day_bounds,
    local_day,
    local_midnight,
    seconds_by_day,
    split_by_day,
    week_bounds,
    week_start,
)
from tests.conftest import World

BERLIN = ZoneInfo("Europe/Berlin")  # springs forward 2026-03-29, falls back 2026-10-25
NEW_YORK = ZoneInfo("America/New_York")  # springs forward 2026-03-08, falls back 2026-11-01
HOUR = 3600


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# --- days -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        (BERLIN, date(2026, 3, 29), 23),
        (BERLIN, date(2026, 10, 25), 25),
        (BERLIN, date(2026, 6, 15), 24),
        (NEW_YORK, date(2026, 3, 8), 23),
        (NEW_YORK, date(2026, 11, 1), 25),
        (NEW_YORK, date(2026, 11, 2), 24),
    ],
)
def test_day_bounds_give_23_24_and_25_hour_days(tz: ZoneInfo, day: date, hours: int) -> None:
    start, end = day_bounds(day, tz)
    assert start.tzinfo is UTC
    assert end.tzinfo is UTC
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(tz).replace(tzinfo=None) == datetime(day.year, day.month, day.day)
    assert local_day(start, tz) == day
    assert local_day(end - timedelta(microseconds=1), tz) == day
    assert local_day(end, tz) == day + timedelta(days=1)


def test_local_midnight_is_the_utc_instant_the_day_begins() -> None:
    assert local_midnight(date(2026, 3, 29), BERLIN) == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert local_midnight(date(2026, 3, 30), BERLIN) == datetime(2026, 3, 29, 22, tzinfo=UTC)
    assert local_midnight(date(2026, 11, 1), NEW_YORK) == datetime(2026, 11, 1, 4, tzinfo=UTC)


def test_a_day_that_starts_in_a_midnight_gap_begins_at_the_transition() -> None:
    santiago = ZoneInfo("America/Santiago")  # 2026-09-06 00:00 does not exist (jumps to 01:00)
    start, end = day_bounds(date(2026, 9, 6), santiago)
    assert start == datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert start.astimezone(santiago).hour == 1
    assert end - start == timedelta(hours=23)


def test_a_skipped_calendar_day_holds_no_time() -> None:
    apia = ZoneInfo("Pacific/Apia")  # 2011-12-30 was skipped when Samoa crossed the date line
    start, end = day_bounds(date(2011, 12, 30), apia)
    assert start == end
    start_utc, end_utc = datetime(2011, 12, 30, tzinfo=UTC), datetime(2011, 12, 31, tzinfo=UTC)
    parts = split_by_day(start_utc, end_utc, apia)
    assert parts == [(date(2011, 12, 29), 10 * HOUR), (date(2011, 12, 31), 14 * HOUR)]


def test_local_day_of_an_instant_depends_on_the_zone() -> None:
    instant = datetime(2026, 3, 8, 3, 30, tzinfo=UTC)
    assert local_day(instant, NEW_YORK) == date(2026, 3, 7)
    assert local_day(instant, BERLIN) == date(2026, 3, 8)


# --- splitting intervals ------------------------------------------------------


def test_spring_forward_night_0130_to_0330_counts_one_hour() -> None:
    start, end = utc(berlin(2026, 3, 29, 1, 30)), utc(berlin(2026, 3, 29, 3, 30))
    assert split_by_day(start, end, BERLIN) == [(date(2026, 3, 29), HOUR)]


def test_fall_back_night_0130_to_0330_counts_three_hours() -> None:
    start, end = utc(berlin(2026, 10, 25, 1, 30)), utc(berlin(2026, 10, 25, 3, 30))
    assert split_by_day(start, end, BERLIN) == [(date(2026, 10, 25), 3 * HOUR)]


def test_the_repeated_hour_counts_by_elapsed_time() -> None:
    start = utc(berlin(2026, 10, 25, 2, 30))  # first 02:30 (CEST)
    end = utc(berlin(2026, 10, 25, 2, 15, fold=1))  # second 02:15 (CET), 45 minutes later
    assert split_by_day(start, end, BERLIN) == [(date(2026, 10, 25), 45 * 60)]


def test_split_by_day_counts_elapsed_time_for_local_zone_datetimes() -> None:
    spring = split_by_day(berlin(2026, 3, 29, 1, 30), berlin(2026, 3, 29, 3, 30), BERLIN)
    fall = split_by_day(berlin(2026, 10, 25, 1, 30), berlin(2026, 10, 25, 3, 30), BERLIN)
    assert (spring, fall) == ([(date(2026, 3, 29), HOUR)], [(date(2026, 10, 25), 3 * HOUR)])


def test_an_entry_from_2300_to_0100_splits_across_two_local_days() -> None:
    start, end = utc(berlin(2026, 11, 10, 23)), utc(berlin(2026, 11, 11, 1))
    assert split_by_day(start, end, BERLIN) == [(date(2026, 11, 10), HOUR), (date(2026, 11, 11), HOUR)]
    # The same instants lie within one UTC day (22:00-00:00 UTC belongs to the 10th).
    assert split_by_day(start, end, ZoneInfo("UTC")) == [(date(2026, 11, 10), 2 * HOUR)]


def test_a_long_interval_over_a_short_day_fills_it_with_23_hours() -> None:
    parts = split_by_day(utc(berlin(2026, 3, 28, 12)), utc(berlin(2026, 3, 30, 12)), BERLIN)
    assert parts == [
        (date(2026, 3, 28), 12 * HOUR),
        (date(2026, 3, 29), 23 * HOUR),
        (date(2026, 3, 30), 12 * HOUR),
    ]
    assert sum(s for _, s in parts) == 47 * HOUR


def test_an_empty_or_reversed_interval_has_no_parts() -> None:
    instant = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert split_by_day(instant, instant, BERLIN) == []
    assert split_by_day(instant, instant - timedelta(hours=1), BERLIN) == []


def test_seconds_by_day_totals_several_intervals_per_local_day() -> None:
    intervals = [
        (utc(berlin(2026, 10, 24, 22)), utc(berlin(2026, 10, 24, 23, 30))),
        (utc(berlin(2026, 10, 25, 0, 15)), utc(berlin(2026, 10, 25, 3, 30))),
        (utc(berlin(2026, 10, 25, 9)), utc(berlin(2026, 10, 25, 10))),
    ]
    assert seconds_by_day(intervals, BERLIN) == {
        date(2026, 10, 24): 90 * 60,
        date(2026, 10, 25): (4 * 60 + 15) * 60 + HOUR,  # 00:15-03:30 holds the repeated hour
    }
    assert seconds_by_day([], BERLIN) == {}


# --- weeks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_weekday", "expected"),
    [("monday", date(2026, 3, 2)), ("sunday", date(2026, 3, 8)), ("saturday", date(2026, 3, 7))],
)
def test_week_start_follows_the_first_weekday(first_weekday: str, expected: date) -> None:
    assert week_start(date(2026, 3, 8), first_weekday) == expected  # a Sunday


def test_week_start_is_the_same_for_every_day_of_the_week() -> None:
    monday = date(2026, 3, 23)
    for offset in range(7):
        assert week_start(monday + timedelta(days=offset)) == monday
        sunday = monday - timedelta(days=1)
        assert week_start(sunday + timedelta(days=offset), "sunday") == sunday


def test_week_bounds_sunday_and_monday_weeks_across_spring_forward() -> None:
    instant = datetime(2026, 3, 8, 17, tzinfo=UTC)  # Sunday 13:00 in New York, after the change
    sunday_start, sunday_end = week_bounds(instant, NEW_YORK, "sunday")
    assert sunday_start == datetime(2026, 3, 8, 5, tzinfo=UTC)  # midnight EST
    assert sunday_end == datetime(2026, 3, 15, 4, tzinfo=UTC)  # midnight EDT
    assert sunday_end - sunday_start == timedelta(hours=7 * 24 - 1)
    monday_start, monday_end = week_bounds(instant, NEW_YORK)
    assert monday_start == datetime(2026, 3, 2, 5, tzinfo=UTC)
    assert monday_end == datetime(2026, 3, 9, 4, tzinfo=UTC)
    assert monday_start <= instant < monday_end
    assert sunday_start <= instant < sunday_end


def test_week_bounds_use_the_local_day_not_the_utc_day() -> None:
    # Sunday 2026-03-08 03:30 UTC is still Saturday evening in New York.
    start, end = week_bounds(datetime(2026, 3, 8, 3, 30, tzinfo=UTC), NEW_YORK, "sunday")
    assert local_day(start, NEW_YORK) == date(2026, 3, 1)
    assert local_day(end, NEW_YORK) == date(2026, 3, 8)


def test_a_week_holding_the_fall_back_night_lasts_169_hours() -> None:
    start, end = week_bounds(utc(berlin(2026, 10, 25, 12)), BERLIN)
    assert local_day(start, BERLIN) == date(2026, 10, 19)
    assert end - start == timedelta(hours=7 * 24 + 1)


# --- through the ledger ---------------------------------------------------------


def _berlin_org(world: World) -> ZoneInfo:
    world.ledger.change_settings(
        org_id=world.org_id, changes={"timezone": "Europe/Berlin"}, actor=world.owner
    )
    org = world.ledger.get_organization(world.org_id, world.owner)
    return ZoneInfo(org.settings.timezone)


def _record(world: World, start: datetime, end: datetime) -> EntrySnapshot:
    receipt = world.ledger.record_entry(
        org_id=world.org_id, project_id=world.project_id, start=start, end=end, actor=world.member
    )
    return world.ledger.get_entry(receipt.id, world.member)


def _worked(entry: EntrySnapshot) -> list[tuple[datetime, datetime]]:
    """The entry's span with its pauses cut out, from the public snapshot."""
    assert entry.end is not None
    intervals, cursor = [], entry.start
    for pause_start, pause_end in entry.pauses:
        intervals.append((cursor, pause_start))
        cursor = pause_end or entry.end
    return [*intervals, (cursor, entry.end)]


def test_ledger_entry_on_the_spring_forward_night_counts_one_hour(world: World) -> None:
    tz = _berlin_org(world)
    entry = _record(world, berlin(2026, 3, 29, 1, 30), berlin(2026, 3, 29, 3, 30))
    assert entry.start == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert entry.end == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert entry.duration_seconds == HOUR
    assert split_by_day(entry.start, entry.end, tz) == [(date(2026, 3, 29), HOUR)]


def test_ledger_entry_on_the_fall_back_night_counts_three_hours(world: World) -> None:
    tz = _berlin_org(world)
    entry = _record(world, berlin(2026, 10, 25, 1, 30), berlin(2026, 10, 25, 3, 30))
    assert entry.end is not None
    assert entry.duration_seconds == 3 * HOUR
    assert split_by_day(entry.start, entry.end, tz) == [(date(2026, 10, 25), 3 * HOUR)]


def test_ledger_entry_from_2300_to_0100_splits_across_the_orgs_days(world: World) -> None:
    tz = _berlin_org(world)
    entry = _record(world, berlin(2026, 11, 10, 23), berlin(2026, 11, 11, 1))
    assert entry.end is not None
    assert entry.duration_seconds == 2 * HOUR
    assert split_by_day(entry.start, entry.end, tz) == [
        (date(2026, 11, 10), HOUR),
        (date(2026, 11, 11), HOUR),
    ]


def test_timer_crossing_midnight_with_a_pause_counts_worked_time_per_day(world: World) -> None:
    tz = _berlin_org(world)
    kwargs = {"org_id": world.org_id, "actor": world.member}
    started = world.ledger.start_timer(project_id=world.project_id, at=berlin(2026, 11, 10, 22), **kwargs)
    world.ledger.pause_timer(at=berlin(2026, 11, 10, 23, 30), **kwargs)
    world.ledger.resume_timer(at=berlin(2026, 11, 11, 0, 15), **kwargs)
    world.ledger.stop_timer(at=berlin(2026, 11, 11, 2), **kwargs)
    entry = world.ledger.get_entry(started.id, world.member)
    assert entry.status == "stopped"
    assert entry.pauses == ((utc(berlin(2026, 11, 10, 23, 30)), utc(berlin(2026, 11, 11, 0, 15))),)
    per_day = seconds_by_day(_worked(entry), tz)
    assert per_day == {date(2026, 11, 10): 90 * 60, date(2026, 11, 11): 105 * 60}
    assert sum(per_day.values()) == entry.duration_seconds == 4 * HOUR - 45 * 60
