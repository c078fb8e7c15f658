"""A time entry: work by one member on one project, from a timer or recorded by hand.

Invariants: end is after start; pauses lie inside [start, end] and do not
overlap; worked time = span - pauses - break, never negative; a deleted entry
changes only by being restored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from ledger.base import CommandContext, LedgerAggregate
from ledger.errors import EntryStateError, InvalidInputError, LockedError, NoRunningTimerError
from ledger.text import check_line, check_multiline

MAX_DESCRIPTION = 2000
MAX_TAGS = 20


def clean_tags(tags: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    cleaned: list[str] = []
    for tag in tags:
        text = tag.strip() if isinstance(tag, str) else ""
        if not text or len(text) > 50:
            raise InvalidInputError("A tag is 1 to 50 characters of text.", field="tags")
        check_line(text, "tags", "tag")
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInputError(f"An entry has at most {MAX_TAGS} tags.", field="tags")
    return tuple(cleaned)


def clean_description(text: str | None) -> str:
    value = (text or "").strip()
    if len(value) > MAX_DESCRIPTION:
        raise InvalidInputError(
            f"The description is longer than {MAX_DESCRIPTION} characters.", field="description"
        )
    return check_multiline(value, "description", "description")


@dataclass(frozen=True)
class EntryDetails:
    """What an entry is about: the editable fields other than its times."""

    project_id: UUID
    task_id: UUID | None
    description: str
    tags: tuple[str, ...]
    billable: bool


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime | None


class TimeEntry(LedgerAggregate):
    """Work by one member on one project."""

    if TYPE_CHECKING:
        org_id: UUID
        member_id: UUID
        details: EntryDetails
        start: datetime
        end: datetime | None
        pauses: tuple[Pause, ...]
        break_seconds: int
        deleted: bool
        continued_from: UUID | None

    # The timesheet whose submitted or approved period holds this entry, and its state.
    timesheet_lock: tuple[UUID, str] | None = None
    # The issued (or paid) invoice this entry is billed on.
    invoice_id: UUID | None = None

    class Started(LedgerAggregate.Created):
        org_id: UUID
        member_id: UUID
        project_id: UUID
        task_id: UUID | None
        description: str
        tags: tuple[str, ...]
        billable: bool
        start: datetime
        continued_from: UUID | None

        def apply(self, entry: TimeEntry) -> None:
            entry.org_id = self.org_id
            entry.member_id = self.member_id
            entry.details = EntryDetails(
                self.project_id, self.task_id, self.description, tuple(self.tags), self.billable
            )
            entry.start = self.start
            entry.end = None
            entry.pauses = ()
            entry.break_seconds = 0
            entry.deleted = False
            entry.continued_from = self.continued_from

    class Recorded(LedgerAggregate.Created):
        org_id: UUID
        member_id: UUID
        project_id: UUID
        task_id: UUID | None
        description: str
        tags: tuple[str, ...]
        billable: bool
        start: datetime
        end: datetime
        break_seconds: int

        def apply(self, entry: TimeEntry) -> None:
            entry.org_id = self.org_id
            entry.member_id = self.member_id
            entry.details = EntryDetails(
                self.project_id, self.task_id, self.description, tuple(self.tags), self.billable
            )
            entry.start = self.start
            entry.end = self.end
            entry.pauses = ()
            entry.break_seconds = self.break_seconds
            entry.deleted = False
            entry.continued_from = None

    class Paused(LedgerAggregate.Event):
        at: datetime

        def apply(self, entry: TimeEntry) -> None:
            entry.pauses = (*entry.pauses, Pause(self.at, None))

    class Resumed(LedgerAggregate.Event):
        at: datetime

        def apply(self, entry: TimeEntry) -> None:
            last = entry.pauses[-1]
            entry.pauses = (*entry.pauses[:-1], Pause(last.start, self.at))

    class Stopped(LedgerAggregate.Event):
        at: datetime

        def apply(self, entry: TimeEntry) -> None:
            if entry.pauses and entry.pauses[-1].end is None:
                last = entry.pauses[-1]
                entry.pauses = (*entry.pauses[:-1], Pause(last.start, self.at))
            entry.end = self.at

    class Edited(LedgerAggregate.Event):
        project_id: UUID
        task_id: UUID | None
        description: str
        tags: tuple[str, ...]
        billable: bool
        start: datetime
        end: datetime | None
        break_seconds: int

        def apply(self, entry: TimeEntry) -> None:
            entry.details = EntryDetails(
                self.project_id, self.task_id, self.description, tuple(self.tags), self.billable
            )
            entry.start = self.start
            entry.end = self.end
            entry.break_seconds = self.break_seconds

    class Deleted(LedgerAggregate.Event):
        def apply(self, entry: TimeEntry) -> None:
            entry.deleted = True

    class TimesheetLocked(LedgerAggregate.Event):
        timesheet_id: UUID
        state: str

        def apply(self, entry: TimeEntry) -> None:
            entry.timesheet_lock = (self.timesheet_id, self.state)

    class TimesheetUnlocked(LedgerAggregate.Event):
        timesheet_id: UUID

        def apply(self, entry: TimeEntry) -> None:
            entry.timesheet_lock = None

    class Invoiced(LedgerAggregate.Event):
        invoice_id: UUID

        def apply(self, entry: TimeEntry) -> None:
            entry.invoice_id = self.invoice_id

    class Uninvoiced(LedgerAggregate.Event):
        invoice_id: UUID

        def apply(self, entry: TimeEntry) -> None:
            entry.invoice_id = None

    class Restored(LedgerAggregate.Event):
        def apply(self, entry: TimeEntry) -> None:
            entry.deleted = False

    # --- creation -------------------------------------------------------

    @classmethod
    def start_timer(
        cls,
        ctx: CommandContext,
        *,
        org_id: UUID,
        member_id: UUID,
        details: EntryDetails,
        at: datetime,
        continued_from: UUID | None = None,
    ) -> TimeEntry:
        return cls._start(
            cls.Started,
            ctx,
            id=uuid4(),
            org_id=org_id,
            member_id=member_id,
            project_id=details.project_id,
            task_id=details.task_id,
            description=details.description,
            tags=details.tags,
            billable=details.billable,
            start=at,
            continued_from=continued_from,
        )

    @classmethod
    def record(
        cls,
        ctx: CommandContext,
        *,
        org_id: UUID,
        member_id: UUID,
        details: EntryDetails,
        start: datetime,
        end: datetime,
        break_seconds: int,
    ) -> TimeEntry:
        check_span(start, end, break_seconds, ())
        return cls._start(
            cls.Recorded,
            ctx,
            id=uuid4(),
            org_id=org_id,
            member_id=member_id,
            project_id=details.project_id,
            task_id=details.task_id,
            description=details.description,
            tags=details.tags,
            billable=details.billable,
            start=start,
            end=end,
            break_seconds=break_seconds,
        )

    # --- state ----------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self.end is None and not self.deleted

    @property
    def is_paused(self) -> bool:
        return self.is_running and bool(self.pauses) and self.pauses[-1].end is None

    @property
    def status(self) -> str:
        if self.deleted:
            return "deleted"
        if self.end is None:
            return "paused" if self.is_paused else "running"
        return "stopped"

    def paused_seconds(self, until: datetime) -> int:
        total = 0.0
        for pause in self.pauses:
            total += ((pause.end or until) - pause.start).total_seconds()
        return int(total)

    def worked_seconds(self, now: datetime) -> int:
        """Span minus pauses minus break, in whole seconds (a running entry counts to `now`)."""
        end = self.end or now
        return max(0, int((end - self.start).total_seconds()) - self.paused_seconds(end) - self.break_seconds)

    def worked_intervals(self, now: datetime) -> list[tuple[datetime, datetime]]:
        """The span with pauses cut out (the break is not placed in time)."""
        end = self.end or now
        intervals: list[tuple[datetime, datetime]] = []
        cursor = self.start
        for pause in self.pauses:
            if pause.start > cursor:
                intervals.append((cursor, pause.start))
            cursor = max(cursor, pause.end or end)
        if end > cursor:
            intervals.append((cursor, end))
        return intervals

    # --- commands -------------------------------------------------------

    def _require_live(self) -> None:
        if self.deleted:
            raise EntryStateError("This entry was deleted; restore it first.")

    def pause(self, ctx: CommandContext, at: datetime) -> None:
        self._require_live()
        if not self.is_running:
            raise NoRunningTimerError("This entry is not running, so it cannot be paused.")
        if self.is_paused:
            raise EntryStateError("The timer is already paused.")
        latest = self.pauses[-1].end if self.pauses else self.start
        assert latest is not None  # noqa: S101 - not paused, so the last pause has ended
        if at < latest:
            raise InvalidInputError("A pause cannot begin before the timer last started.", field="at")
        self._record(self.Paused, ctx, at=at)

    def resume(self, ctx: CommandContext, at: datetime) -> None:
        self._require_live()
        if not self.is_paused:
            raise EntryStateError("The timer is not paused, so it cannot be resumed.")
        if at < self.pauses[-1].start:
            raise InvalidInputError("A timer cannot resume before it was paused.", field="at")
        self._record(self.Resumed, ctx, at=at)

    def stop(self, ctx: CommandContext, at: datetime, max_seconds: int) -> None:
        self._require_live()
        if not self.is_running:
            raise NoRunningTimerError("This entry is not running, so it cannot be stopped.")
        open_from = self.pauses[-1].start if self.is_paused else self.start
        if self.pauses and not self.is_paused:
            open_from = max(open_from, self.pauses[-1].end or open_from)
        if at <= self.start or at < open_from:
            raise InvalidInputError(
                f"A timer that started at {self.start.isoformat()} cannot stop at {at.isoformat()}; "
                "the end must come after the start and after its last pause began.",
                field="at",
            )
        check_length(self.start, at, max_seconds)
        self._record(self.Stopped, ctx, at=at)

    def edit(
        self,
        ctx: CommandContext,
        *,
        details: EntryDetails,
        start: datetime,
        end: datetime | None,
        break_seconds: int,
        max_seconds: int,
    ) -> bool:
        """Apply an edit; returns False (and records nothing) when nothing changed."""
        self._require_live()
        if end is None and self.end is not None:
            raise InvalidInputError("A stopped entry needs an end.", field="end")
        if end is not None and self.end is None:
            raise EntryStateError("Stop the running timer before giving it an end.")
        if end is not None:
            check_span(start, end, break_seconds, self.pauses)
            check_length(start, end, max_seconds)
        elif self.pauses and start > self.pauses[0].start:
            raise InvalidInputError("The start cannot move past the timer's first pause.", field="start")
        if (details, start, end, break_seconds) == (self.details, self.start, self.end, self.break_seconds):
            return False
        self._record(
            self.Edited,
            ctx,
            project_id=details.project_id,
            task_id=details.task_id,
            description=details.description,
            tags=details.tags,
            billable=details.billable,
            start=start,
            end=end,
            break_seconds=break_seconds,
        )
        return True

    def delete(self, ctx: CommandContext) -> None:
        if self.deleted:
            raise EntryStateError("This entry is already deleted.")
        self._record(self.Deleted, ctx)

    # --- locks ----------------------------------------------------------

    def require_changeable(self, *, may_change_submitted: bool) -> None:
        """Rule 3: what a submitted or approved timesheet, or an issued invoice, forbids."""
        if self.invoice_id is not None:
            raise LockedError(
                "This entry is billed on an issued invoice; void the invoice before changing it."
            )
        if self.timesheet_lock is None:
            return
        _, state = self.timesheet_lock
        if state == "approved":
            raise LockedError(
                "The timesheet of this entry's period is approved; a manager must reopen it first."
            )
        if not may_change_submitted:
            raise LockedError(
                "The timesheet of this entry's period is submitted; it must be rejected or reopened "
                "before its entries change."
            )

    def lock_for_timesheet(self, ctx: CommandContext, timesheet_id: UUID, state: str) -> None:
        if self.timesheet_lock != (timesheet_id, state):
            self._record(self.TimesheetLocked, ctx, timesheet_id=timesheet_id, state=state)

    def unlock_for_timesheet(self, ctx: CommandContext) -> None:
        if self.timesheet_lock is not None:
            self._record(self.TimesheetUnlocked, ctx, timesheet_id=self.timesheet_lock[0])

    def bill(self, ctx: CommandContext, invoice_id: UUID) -> None:
        if self.invoice_id is not None:
            raise LockedError(f"Entry {self.id} is already billed on another issued invoice.")
        self._record(self.Invoiced, ctx, invoice_id=invoice_id)

    def unbill(self, ctx: CommandContext, invoice_id: UUID) -> None:
        if self.invoice_id == invoice_id:
            self._record(self.Uninvoiced, ctx, invoice_id=invoice_id)

    def restore(self, ctx: CommandContext) -> None:
        if not self.deleted:
            raise EntryStateError("This entry is not deleted, so there is nothing to restore.")
        self._record(self.Restored, ctx)


def check_span(start: datetime, end: datetime, break_seconds: int, pauses: tuple[Pause, ...]) -> None:
    if end <= start:
        raise InvalidInputError(
            f"The end ({end.isoformat()}) must come after the start ({start.isoformat()}).",
            field="end",
        )
    if not isinstance(break_seconds, int) or isinstance(break_seconds, bool) or break_seconds < 0:
        raise InvalidInputError("The break must be a whole number of minutes, at least 0.", field="break")
    for pause in pauses:
        if pause.start < start or (pause.end or pause.start) > end:
            raise InvalidInputError("The entry's times must still contain its pauses.", field="start")
    paused = sum(((p.end or end) - p.start).total_seconds() for p in pauses)
    if break_seconds >= (end - start).total_seconds() - paused:
        raise InvalidInputError("The break is as long as the work itself.", field="break")


def check_length(start: datetime, end: datetime, max_seconds: int) -> None:
    if end - start > timedelta(seconds=max_seconds):
        hours = max_seconds / 3600
        raise InvalidInputError(
            f"An entry from {start.isoformat()} to {end.isoformat()} is longer than the "
            f"{hours:g} hours your organization allows; split it or stop it at an earlier time.",
            field="end",
        )
