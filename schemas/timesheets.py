"""Timesheets: a member's time of one period, submitted, then approved or rejected."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field

from schemas.common import Strict

TimesheetState = Literal["open", "submitted", "approved", "rejected"]
MAX_NOTE = 2000


def _in_range(value: date) -> date:
    if not 1900 <= value.year <= 2999:
        raise ValueError("a day must fall in the years 1900 to 2999")
    return value


# A local day of the organization (YYYY-MM-DD), in the years every instant of the API lies in.
Day = Annotated[date, AfterValidator(_in_range)]


class Timesheet(BaseModel):
    """One member's timesheet of one period (the organization's week or month, in its timezone).

    `state` is open (being filled, or reopened), submitted (waiting for a manager; only
    managers may change its entries), approved (its entries are locked for everyone) or
    rejected (sent back with a `reason`; the member fixes and submits again).
    """

    id: UUID
    member_id: UUID
    kind: str = Field(description="week or month: the organization's timesheet period")
    first_day: date
    last_day: date
    start: datetime = Field(description="The period's first instant (local midnight of first_day)")
    end: datetime = Field(description="The instant after the period (exclusive)")
    state: TimesheetState
    note: str = Field(description="The member's note at the last submission")
    reason: str = Field(description="The last decision's note or reason (approve, reject, reopen)")
    entry_count: int = Field(description="Entries the last submission or approval covered")
    submitted_at: datetime | None
    decided_at: datetime | None
    decided_by: UUID | None
    version: int


class TimesheetSummary(Timesheet):
    """A timesheet in a list: with its member's name and the period's worked time."""

    member_name: str | None
    total_seconds: int = Field(description="Worked seconds on the period's days, as reports count them")


class TimesheetEvent(BaseModel):
    """One step of a timesheet: what happened, who did it, when, and the note or reason given."""

    version: int
    event_type: str = Field(description="Timesheet.Opened, .Submitted, .Approved, .Rejected or .Reopened")
    recorded_at: datetime
    actor_kind: str
    actor_user_id: UUID | None
    actor_name: str | None
    actor_token_id: UUID | None
    device_id: str | None
    comment: str = Field(description="The note (submit, approve) or reason (reject, reopen); may be empty")
    entry_count: int | None


class TimesheetDetail(TimesheetSummary):
    """A timesheet with every event that moved it, oldest first."""

    history: list[TimesheetEvent]


class TimesheetPeriod(BaseModel):
    """The timesheet whose period holds a day, whether or not it was ever submitted."""

    id: UUID = Field(description="The timesheet's id (fixed per member and period, even before it exists)")
    member_id: UUID
    kind: str
    first_day: date
    last_day: date
    start: datetime
    end: datetime
    state: TimesheetState = Field(description="open when the timesheet does not exist yet")
    exists: bool
    version: int | None
    total_seconds: int = Field(description="Worked seconds on the period's days, as reports count them")


class SubmitTimesheet(Strict):
    """Submit the timesheet of the period that holds `day`."""

    day: Day
    member_id: UUID | None = Field(default=None, description="Managers may submit for a member.")
    note: str | None = Field(default=None, max_length=MAX_NOTE)


class DecideTimesheet(Strict):
    note: str | None = Field(default=None, max_length=MAX_NOTE)


class RejectTimesheet(Strict):
    reason: str = Field(max_length=MAX_NOTE, description="Why: the member sees it; not empty")


class ReopenTimesheet(Strict):
    reason: str | None = Field(default=None, max_length=MAX_NOTE)
