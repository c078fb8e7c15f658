"""A member's booked time, bucketed by UTC ISO week, so overlaps and locks hold under races.

Every entry books its span in each week it touches. Two writers booking into the
same week both append to that week's aggregate, so one retries and sees the other.
A submitted or approved timesheet also locks its period in every week it touches:
an entry created in (or moved into) a locked period books into a locked week, so
it races the timesheet's transition on the same aggregate and one of them retries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.base import CommandContext, LedgerAggregate
from ledger.ids import member_week_id


def week_keys(start: datetime, end: datetime) -> list[str]:
    """ISO week keys (e.g. `2026-W13`) of every UTC week that [start, end] touches."""
    keys: list[str] = []
    day = start.astimezone(UTC).date()
    last = end.astimezone(UTC).date()
    while day <= last:
        year, week, _ = day.isocalendar()
        key = f"{year}-W{week:02d}"
        if key not in keys:
            keys.append(key)
        day += timedelta(days=1)
    return keys


class MemberWeek(LedgerAggregate):
    """The spans one member has booked in one UTC ISO week."""

    if TYPE_CHECKING:
        org_id: UUID
        member_id: UUID
        week: str
        spans: dict[UUID, tuple[datetime, datetime]]
        # timesheet id -> [start, end) of its period and its state (submitted, approved)
        locks: dict[UUID, tuple[datetime, datetime, str]]

    class Opened(LedgerAggregate.Created):
        org_id: UUID
        member_id: UUID
        week: str

        def apply(self, schedule: MemberWeek) -> None:
            schedule.org_id = self.org_id
            schedule.member_id = self.member_id
            schedule.week = self.week
            schedule.spans = {}
            schedule.locks = {}

    class SpanBooked(LedgerAggregate.Event):
        entry_id: UUID
        start: datetime
        end: datetime

        def apply(self, schedule: MemberWeek) -> None:
            schedule.spans[self.entry_id] = (self.start, self.end)

    class SpanReleased(LedgerAggregate.Event):
        entry_id: UUID

        def apply(self, schedule: MemberWeek) -> None:
            schedule.spans.pop(self.entry_id, None)

    class PeriodLocked(LedgerAggregate.Event):
        timesheet_id: UUID
        start: datetime
        end: datetime
        state: str

        def apply(self, schedule: MemberWeek) -> None:
            schedule.locks[self.timesheet_id] = (self.start, self.end, self.state)

    class PeriodUnlocked(LedgerAggregate.Event):
        timesheet_id: UUID

        def apply(self, schedule: MemberWeek) -> None:
            schedule.locks.pop(self.timesheet_id, None)

    @classmethod
    def open(cls, ctx: CommandContext, org_id: UUID, member_id: UUID, week: str) -> MemberWeek:
        return cls._start(
            cls.Opened,
            ctx,
            id=member_week_id(org_id, member_id, week),
            org_id=org_id,
            member_id=member_id,
            week=week,
        )

    def overlapping(self, start: datetime, end: datetime, ignore: UUID) -> UUID | None:
        for entry_id, (s, e) in self.spans.items():
            if entry_id != ignore and s < end and start < e:
                return entry_id
        return None

    def book(self, ctx: CommandContext, entry_id: UUID, start: datetime, end: datetime) -> None:
        if self.spans.get(entry_id) != (start, end):
            self._record(self.SpanBooked, ctx, entry_id=entry_id, start=start, end=end)

    def release(self, ctx: CommandContext, entry_id: UUID) -> None:
        if entry_id in self.spans:
            self._record(self.SpanReleased, ctx, entry_id=entry_id)

    def lock_at(self, instant: datetime) -> tuple[UUID, str] | None:
        """The timesheet (and its state) whose locked period holds `instant`, if any."""
        for timesheet_id, (start, end, state) in self.locks.items():
            if start <= instant < end:
                return timesheet_id, state
        return None

    def other_lock_overlapping(self, timesheet_id: UUID, start: datetime, end: datetime) -> UUID | None:
        for other, (s, e, _) in self.locks.items():
            if other != timesheet_id and s < end and start < e:
                return other
        return None

    def entries_starting_in(self, start: datetime, end: datetime) -> list[UUID]:
        return [entry_id for entry_id, (s, _) in self.spans.items() if start <= s < end]

    def lock(
        self, ctx: CommandContext, timesheet_id: UUID, start: datetime, end: datetime, state: str
    ) -> None:
        if self.locks.get(timesheet_id) != (start, end, state):
            self._record(self.PeriodLocked, ctx, timesheet_id=timesheet_id, start=start, end=end, state=state)

    def unlock(self, ctx: CommandContext, timesheet_id: UUID) -> None:
        if timesheet_id in self.locks:
            self._record(self.PeriodUnlocked, ctx, timesheet_id=timesheet_id)
