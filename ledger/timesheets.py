"""A timesheet: one member's time in one period, submitted, then approved or rejected.

States: open → submitted → approved; submitted → rejected (the member fixes and
submits again); submitted or approved → open again when a manager reopens it.
The entries and weeks the period locks are changed by the commands in
`commands_timesheets`, in the same append as the transition.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.base import CommandContext, LedgerAggregate
from ledger.errors import InvalidInputError, WorkflowError
from ledger.ids import timesheet_id
from ledger.periods import Period
from ledger.text import check_multiline

STATES = ("open", "submitted", "approved", "rejected")
MAX_NOTE = 2000


def clean_note(text: str | None, field: str, *, required: bool = False) -> str:
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidInputError(f"The {field} must be text.", field=field)
    text = text.strip()
    if required and not text:
        raise InvalidInputError(f"Give a {field}.", field=field)
    if len(text) > MAX_NOTE:
        raise InvalidInputError(f"The {field} is at most {MAX_NOTE} characters.", field=field)
    return check_multiline(text, field, field)


class Timesheet(LedgerAggregate):
    """One member's timesheet for one period."""

    if TYPE_CHECKING:
        org_id: UUID
        member_id: UUID
        kind: str
        first_day: date
        last_day: date
        start: datetime
        end: datetime
        state: str
        note: str
        reason: str
        decided_by: UUID | None

    class Opened(LedgerAggregate.Created):
        org_id: UUID
        member_id: UUID
        kind: str
        first_day: str
        last_day: str
        start: datetime
        end: datetime

        def apply(self, sheet: Timesheet) -> None:
            sheet.org_id = self.org_id
            sheet.member_id = self.member_id
            sheet.kind = self.kind
            sheet.first_day = date.fromisoformat(self.first_day)
            sheet.last_day = date.fromisoformat(self.last_day)
            sheet.start = self.start
            sheet.end = self.end
            sheet.state = "open"
            sheet.note = ""
            sheet.reason = ""
            sheet.decided_by = None

    class Submitted(LedgerAggregate.Event):
        note: str
        entry_count: int

        def apply(self, sheet: Timesheet) -> None:
            sheet.state = "submitted"
            sheet.note = self.note
            sheet.reason = ""
            sheet.decided_by = None

    class Approved(LedgerAggregate.Event):
        note: str
        entry_count: int

        def apply(self, sheet: Timesheet) -> None:
            sheet.state = "approved"
            sheet.reason = self.note
            sheet.decided_by = self.actor_user_id

    class Rejected(LedgerAggregate.Event):
        reason: str

        def apply(self, sheet: Timesheet) -> None:
            sheet.state = "rejected"
            sheet.reason = self.reason
            sheet.decided_by = self.actor_user_id

    class Reopened(LedgerAggregate.Event):
        reason: str

        def apply(self, sheet: Timesheet) -> None:
            sheet.state = "open"
            sheet.reason = self.reason
            sheet.decided_by = self.actor_user_id

    @classmethod
    def open(cls, ctx: CommandContext, org_id: UUID, member_id: UUID, period: Period) -> Timesheet:
        return cls._start(
            cls.Opened,
            ctx,
            id=timesheet_id(org_id, member_id, period.key),
            org_id=org_id,
            member_id=member_id,
            kind=period.kind,
            first_day=period.first_day.isoformat(),
            last_day=period.last_day.isoformat(),
            start=period.start,
            end=period.end,
        )

    @property
    def period(self) -> Period:
        return Period(self.kind, self.first_day, self.last_day, self.start, self.end)

    def _require_state(self, allowed: tuple[str, ...], doing: str) -> None:
        if self.state not in allowed:
            raise WorkflowError(
                f"This timesheet ({self.first_day} to {self.last_day}) is {self.state}, "
                f"so it cannot be {doing}."
            )

    def require_submittable(self) -> None:
        self._require_state(("open", "rejected"), "submitted")

    def require_approvable(self) -> None:
        self._require_state(("submitted",), "approved")

    def submit(self, ctx: CommandContext, note: str, entry_count: int) -> None:
        self.require_submittable()
        self._record(self.Submitted, ctx, note=note, entry_count=entry_count)

    def approve(self, ctx: CommandContext, note: str, entry_count: int) -> None:
        self.require_approvable()
        self._record(self.Approved, ctx, note=note, entry_count=entry_count)

    def reject(self, ctx: CommandContext, reason: str) -> None:
        self._require_state(("submitted",), "rejected")
        self._record(self.Rejected, ctx, reason=reason)

    def reopen(self, ctx: CommandContext, reason: str) -> None:
        self._require_state(("submitted", "approved"), "reopened")
        self._record(self.Reopened, ctx, reason=reason)
