"""Commands on timesheets: submit, approve, reject, reopen — and the locks they move.

A transition changes, in one append, the timesheet, every week its period touches
(so an entry booked into the period races it on the week) and every entry that
starts in the period (so an edit of that entry races it on the entry). Whichever
commits first wins; the other decides again on fresh state (rule 3).
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from ledger.actors import Actor
from ledger.base import CommandContext, LedgerAggregate
from ledger.commands_entries import EntryCommands
from ledger.core import Receipt
from ledger.errors import ForbiddenError, InvalidInputError, NotFoundError, WorkflowError
from ledger.ids import member_timer_id, member_week_id, timesheet_id
from ledger.organization import MANAGER_ROLES, Organization
from ledger.periods import Period, period_of_day
from ledger.schedule import MemberWeek, week_keys
from ledger.time_entry import TimeEntry
from ledger.timer import MemberTimer
from ledger.timesheets import Timesheet, clean_note

_INSTANT = timedelta(microseconds=1)


class TimesheetCommands(EntryCommands):
    """The timesheet workflow of ARCHITECTURE.md's rule 3."""

    def submit_timesheet(
        self,
        *,
        org_id: UUID,
        day: date,
        member_id: UUID | None = None,
        note: str | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Submit the member's timesheet of the period holding `day` (a local date)."""
        if not isinstance(day, date):
            raise InvalidInputError("Name a day of the period (YYYY-MM-DD).", field="day")
        text = clean_note(note, "note")
        args = {"org_id": org_id, "day": day.isoformat(), "member_id": member_id, "note": text}

        def decide(ctx: CommandContext) -> tuple[list[LedgerAggregate], Receipt]:
            org, member = self._acting_for(org_id, actor, member_id)
            period = period_of_day(day, org.settings)
            sheet = self._find_or_open(
                Timesheet,
                timesheet_id(org.id, member, period.key),
                lambda: Timesheet.open(ctx, org.id, member, period),
            )
            self._refuse_running(org, sheet)
            sheet.require_submittable()
            weeks, entries = self._lock_period(ctx, org, sheet, "submitted")
            sheet.submit(ctx, text, len(entries))
            return [sheet, *weeks, *entries], Receipt("submit_timesheet", sheet.id, sheet.version)

        return self._execute("submit_timesheet", actor, command_id, args, decide)

    def approve_timesheet(
        self,
        *,
        timesheet_id: UUID,
        note: str | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Approve a submitted timesheet: its entries lock for everyone until it is reopened."""
        text = clean_note(note, "note")

        def decide(ctx: CommandContext) -> tuple[list[LedgerAggregate], Receipt]:
            sheet, org = self._sheet_to_decide(timesheet_id, actor, "approve")
            self._refuse_running(org, sheet)
            sheet.require_approvable()
            weeks, entries = self._lock_period(ctx, org, sheet, "approved")
            sheet.approve(ctx, text, len(entries))
            return [sheet, *weeks, *entries], Receipt("approve_timesheet", sheet.id, sheet.version)

        return self._execute(
            "approve_timesheet", actor, command_id, {"timesheet_id": timesheet_id, "note": text}, decide
        )

    def reject_timesheet(
        self,
        *,
        timesheet_id: UUID,
        reason: str,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Send a submitted timesheet back to its member with a reason; its entries unlock."""
        text = clean_note(reason, "reason", required=True)

        def decide(ctx: CommandContext) -> tuple[list[LedgerAggregate], Receipt]:
            sheet, org = self._sheet_to_decide(timesheet_id, actor, "reject")
            sheet.reject(ctx, text)
            weeks, entries = self._unlock_period(ctx, org, sheet)
            return [sheet, *weeks, *entries], Receipt("reject_timesheet", sheet.id, sheet.version)

        return self._execute(
            "reject_timesheet", actor, command_id, {"timesheet_id": timesheet_id, "reason": text}, decide
        )

    def reopen_timesheet(
        self,
        *,
        timesheet_id: UUID,
        reason: str | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Open a submitted or approved timesheet again; its entries unlock."""
        text = clean_note(reason, "reason")

        def decide(ctx: CommandContext) -> tuple[list[LedgerAggregate], Receipt]:
            sheet, org = self._sheet_to_decide(timesheet_id, actor, "reopen")
            sheet.reopen(ctx, text)
            weeks, entries = self._unlock_period(ctx, org, sheet)
            return [sheet, *weeks, *entries], Receipt("reopen_timesheet", sheet.id, sheet.version)

        return self._execute(
            "reopen_timesheet", actor, command_id, {"timesheet_id": timesheet_id, "reason": text}, decide
        )

    # --- queries -------------------------------------------------------------

    def get_timesheet(self, timesheet_id: UUID, actor: Actor) -> Timesheet:
        """A timesheet as it stands; members see their own, managers everyone's."""
        sheet, _, _ = self._visible_sheet(timesheet_id, actor)
        return sheet

    def timesheet_period(
        self, org_id: UUID, day: date, actor: Actor, member_id: UUID | None = None
    ) -> tuple[UUID, Period, Timesheet | None]:
        """The id and period of the timesheet holding `day`, and the timesheet if it exists yet."""
        org, member = self._acting_for(org_id, actor, member_id)
        period = period_of_day(day, org.settings)
        sheet_id = timesheet_id(org.id, member, period.key)
        sheet = self._find(Timesheet, sheet_id)
        return sheet_id, (sheet.period if sheet else period), sheet

    # --- the locks -------------------------------------------------------------

    def _visible_sheet(self, sheet_id: UUID, actor: Actor) -> tuple[Timesheet, Organization, str]:
        """The timesheet, if the actor may see it (their own, or as a manager); else not found."""
        sheet = self._find(Timesheet, sheet_id) if isinstance(sheet_id, UUID) else None
        missing = NotFoundError(f"There is no timesheet with id {sheet_id}.")
        if sheet is None:
            raise missing
        org, role = self._org_role(sheet.org_id, actor, about=("timesheet", sheet_id))
        if sheet.member_id != actor.user_id and role not in MANAGER_ROLES:
            raise missing
        return sheet, org, role

    def _sheet_to_decide(self, sheet_id: UUID, actor: Actor, doing: str) -> tuple[Timesheet, Organization]:
        sheet, org, role = self._visible_sheet(sheet_id, actor)
        self._require_role(role, MANAGER_ROLES, f"{doing} timesheets")
        if role == "manager" and sheet.member_id == actor.user_id:
            raise ForbiddenError(f"A manager may not {doing} their own timesheet; ask an admin or the owner.")
        return sheet, org

    def _refuse_running(self, org: Organization, sheet: Timesheet) -> None:
        timer = self._find(MemberTimer, member_timer_id(org.id, sheet.member_id))
        if timer is None or timer.running_entry_id is None:
            return
        running = self._load(TimeEntry, timer.running_entry_id, "time entry")
        if sheet.period.holds(running.start):
            raise WorkflowError("A timer is running in this period; stop it before the timesheet moves on.")

    def _weeks(self, ctx: CommandContext, org: Organization, sheet: Timesheet) -> list[MemberWeek]:
        weeks = []
        for key in week_keys(sheet.start, sheet.end - _INSTANT):
            weeks.append(
                self._find_or_open(
                    MemberWeek,
                    member_week_id(org.id, sheet.member_id, key),
                    lambda key=key: MemberWeek.open(ctx, org.id, sheet.member_id, key),  # type: ignore[misc]
                )
            )
        return weeks

    def _period_entries(self, weeks: list[MemberWeek], sheet: Timesheet) -> list[TimeEntry]:
        ids: dict[UUID, None] = {}
        for week in weeks:
            ids.update(dict.fromkeys(week.entries_starting_in(sheet.start, sheet.end)))
        return [self._load(TimeEntry, entry_id, "time entry") for entry_id in ids]

    def _lock_period(
        self, ctx: CommandContext, org: Organization, sheet: Timesheet, state: str
    ) -> tuple[list[MemberWeek], list[TimeEntry]]:
        weeks = self._weeks(ctx, org, sheet)
        for week in weeks:
            other = week.other_lock_overlapping(sheet.id, sheet.start, sheet.end)
            if other is not None:
                raise WorkflowError(
                    f"This period overlaps timesheet {other}, which is submitted or approved "
                    "(the organization's period setting changed); reopen that one first."
                )
            week.lock(ctx, sheet.id, sheet.start, sheet.end, state)
        entries = self._period_entries(weeks, sheet)
        for entry in entries:
            entry.lock_for_timesheet(ctx, sheet.id, state)
        return weeks, entries

    def _unlock_period(
        self, ctx: CommandContext, org: Organization, sheet: Timesheet
    ) -> tuple[list[MemberWeek], list[TimeEntry]]:
        weeks = self._weeks(ctx, org, sheet)
        for week in weeks:
            week.unlock(ctx, sheet.id)
        entries = self._period_entries(weeks, sheet)
        for entry in entries:
            if entry.timesheet_lock is not None and entry.timesheet_lock[0] == sheet.id:
                entry.unlock_for_timesheet(ctx)
        return weeks, entries
