"""Commands on time entries: the timer, manual entries, edits, deletes and restores."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from ledger.actors import Actor
from ledger.base import CommandContext, LedgerAggregate
from ledger.catalog import Client, Project, Task
from ledger.clock import ensure_utc
from ledger.core import Decision, LedgerCore, Receipt, StaleReadError
from ledger.errors import (
    ConflictError,
    InvalidInputError,
    LedgerError,
    LockedError,
    NoRunningTimerError,
    NotFoundError,
    OverlapError,
    StaleVersionError,
)
from ledger.ids import member_timer_id, member_week_id
from ledger.organization import MANAGER_ROLES, Organization
from ledger.schedule import MemberWeek, week_keys
from ledger.time_entry import EntryDetails, TimeEntry, check_length, clean_description, clean_tags
from ledger.timer import MemberTimer

_KEEP: Any = object()
_LONGEST = timedelta(days=7)
BULK_ACTIONS = ("set_billable", "add_tag", "remove_tag", "delete")
MAX_BULK = 500


class EntryCommands(LedgerCore):
    """Timer and entry commands. Every one checks rules 1, 2, 4 and 5 of ARCHITECTURE.md."""

    # --- shared checks ------------------------------------------------------

    def _acting_for(self, org_id: UUID, actor: Actor, member_id: UUID | None) -> tuple[Organization, UUID]:
        org, role = self._org_role(org_id, actor)
        member = member_id or actor.user_id
        if member is None:
            raise InvalidInputError("Name the member (member_id) this entry belongs to.", field="member_id")
        if member != actor.user_id:
            self._require_role(role, MANAGER_ROLES, "track time for other members")
            org.require_member(member)
        return org, member

    def _entry_for(
        self, entry_id: UUID, actor: Actor, *, changing: bool = True
    ) -> tuple[TimeEntry, Organization]:
        entry = self._load(TimeEntry, entry_id, "time entry")
        org, role = self._org_role(entry.org_id, actor, about=("time entry", entry_id))
        if entry.member_id != actor.user_id:
            self._require_role(role, MANAGER_ROLES, "change other members' entries")
        if changing:
            entry.require_changeable(may_change_submitted=_may_change_submitted(org, actor, entry.member_id))
        return entry, org

    def _details(
        self,
        org: Organization,
        project_id: UUID,
        task_id: UUID | None,
        description: str | None,
        tags: list[str] | tuple[str, ...] | None,
        billable: bool | None,
    ) -> EntryDetails:
        project = self._find(Project, project_id) if isinstance(project_id, UUID) else None
        if project is None or project.org_id != org.id:
            raise NotFoundError(f"There is no project with id {project_id}.")
        project.require_active()
        if project.client_id is not None:
            client = self._load(Client, project.client_id, "client")
            client.require_active()
        if task_id is not None:
            task = self._find(Task, task_id) if isinstance(task_id, UUID) else None
            if task is None or task.project_id != project.id:
                raise NotFoundError(f"There is no task with id {task_id} in {project.name!r}.")
            task.require_active()
        if billable is not None and not isinstance(billable, bool):
            raise InvalidInputError("billable must be true or false.", field="billable")
        return EntryDetails(
            project_id=project.id,
            task_id=task_id,
            description=clean_description(description),
            tags=clean_tags(tags or ()),
            billable=project.billable if billable is None else billable,
        )

    def _not_future(self, org: Organization, ctx: CommandContext, *instants: datetime | None) -> None:
        limit = ctx.recorded_at + timedelta(seconds=org.settings.future_allowance_seconds)
        for instant in instants:
            if instant is not None and instant > limit:
                raise InvalidInputError(
                    f"{instant.isoformat()} is in the future; your organization allows at most "
                    f"{org.settings.future_allowance_seconds // 60} minutes ahead.",
                    field="end",
                )

    def _timer(self, ctx: CommandContext, org_id: UUID, member_id: UUID) -> MemberTimer:
        timer_id = member_timer_id(org_id, member_id)
        return self._find_or_open(MemberTimer, timer_id, lambda: MemberTimer.open(ctx, org_id, member_id))

    def _book(
        self,
        ctx: CommandContext,
        org: Organization,
        entry: TimeEntry,
        previous_start: datetime | None = None,
    ) -> list[LedgerAggregate]:
        """Move the entry's booking in its member's weeks to its current span, checking overlaps.

        A running entry books [start, start + the longest entry allowed], the most it can
        become, so a racing manual entry in that time appends to the same week and conflicts.
        """
        max_seconds = org.settings.max_entry_seconds
        if entry.deleted:
            span = None
        elif entry.end is None:
            span = (entry.start, entry.start + timedelta(seconds=max_seconds))
        else:
            span = (entry.start, entry.end)
        new_keys = week_keys(*span) if span else []
        # Where it may be booked now: a booking starts at the entry's start and lasts a week at most.
        # An entry created by this very command has no booking yet, so nothing needs reading.
        stored = entry.version - len(entry.pending_events) > 0
        old_starts = [entry.start] if stored else []
        if stored and previous_start is not None:
            old_starts.append(previous_start)
        old_keys = [key for start in old_starts for key in week_keys(start, start + _LONGEST)]
        touched: list[LedgerAggregate] = []
        for key in dict.fromkeys(old_keys):
            if key in new_keys:
                continue
            week = self._find(MemberWeek, member_week_id(org.id, entry.member_id, key))
            if week is not None and entry.id in week.spans:
                week.release(ctx, entry.id)
                touched.append(week)
        for key in new_keys:
            assert span is not None  # noqa: S101 - new_keys is empty without a span
            week = self._find_or_open(
                MemberWeek,
                member_week_id(org.id, entry.member_id, key),
                lambda key=key: MemberWeek.open(ctx, org.id, entry.member_id, key),  # type: ignore[misc]
            )
            if not org.settings.overlap_allowed:
                other = week.overlapping(*span, ignore=entry.id)
                if other is not None:
                    raise OverlapError(
                        f"This entry overlaps entry {other}, and your organization does not "
                        "allow overlapping entries (a running timer counts as reaching as far "
                        "as the longest entry allowed)."
                    )
            week.book(ctx, entry.id, *span)
            touched.append(week)
        if span is not None:
            self._follow_period_lock(ctx, org, entry, new_keys[0])
        return touched

    def _follow_period_lock(self, ctx: CommandContext, org: Organization, entry: TimeEntry, key: str) -> None:
        """Refuse a span in a locked period the actor may not change; else carry that lock.

        The week holding the entry's start knows the timesheet locks of its days; the
        entry carries the same lock, so an edit of it alone (no new span) is checked too.
        """
        week = self._loaded()[member_week_id(org.id, entry.member_id, key)]
        assert isinstance(week, MemberWeek)  # noqa: S101 - _book loaded it just now
        lock = week.lock_at(entry.start)
        if lock is None:
            entry.unlock_for_timesheet(ctx)
            return
        timesheet_id, state = lock
        if state == "approved":
            raise LockedError(
                f"{entry.start.isoformat()} lies in an approved timesheet period; a manager must "
                "reopen it before entries there change."
            )
        if not _may_change_submitted(org, ctx.actor, entry.member_id):
            raise LockedError(
                f"{entry.start.isoformat()} lies in a submitted timesheet period; it must be "
                "rejected or reopened before entries there change."
            )
        entry.lock_for_timesheet(ctx, timesheet_id, state)

    def _running_start(self, timer: MemberTimer) -> datetime | None:
        if timer.running_entry_id is None:
            return None
        entry = self._load(TimeEntry, timer.running_entry_id, "time entry")
        latest = entry.start
        for pause in entry.pauses:
            latest = max(latest, pause.end or pause.start)
        return latest

    def _now_after(self, ctx: CommandContext, instant: datetime | None) -> datetime:
        """The command's "now", which must come after what it read.

        The clock is read before the aggregates, so a racing writer can have started
        a timer after that reading: then the reading is stale and the command retries.
        """
        if instant is not None and ctx.recorded_at <= instant < self.clock.now():
            raise StaleReadError
        return ctx.recorded_at

    def _stop_running(
        self, ctx: CommandContext, org: Organization, timer: MemberTimer, at: datetime
    ) -> tuple[list[LedgerAggregate], UUID | None]:
        if timer.running_entry_id is None:
            return [], None
        running = self._load(TimeEntry, timer.running_entry_id, "time entry")
        if not running.is_running:
            raise StaleReadError
        running.stop(ctx, at, org.settings.max_entry_seconds)
        weeks = self._book(ctx, org, running)
        timer.release(ctx, running.id)
        return [running, *weeks], running.id

    # --- the timer ----------------------------------------------------------

    def start_timer(
        self,
        *,
        org_id: UUID,
        project_id: UUID,
        task_id: UUID | None = None,
        description: str | None = None,
        tags: list[str] | tuple[str, ...] | None = None,
        billable: bool | None = None,
        at: datetime | None = None,
        member_id: UUID | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Start a timer; a timer already running for the member stops at the same instant."""
        start = ensure_utc(at) if at is not None else None
        args = {
            "org_id": org_id,
            "project_id": project_id,
            "task_id": task_id,
            "description": description,
            "tags": list(tags or ()),
            "billable": billable,
            "at": start,
            "member_id": member_id,
        }

        def decide(ctx: CommandContext) -> Decision:
            org, member = self._acting_for(org_id, actor, member_id)
            details = self._details(org, project_id, task_id, description, tags, billable)
            return self._start(ctx, org, member, details, start, None, "start_timer")

        return self._execute("start_timer", actor, command_id, args, decide)

    def _start(
        self,
        ctx: CommandContext,
        org: Organization,
        member: UUID,
        details: EntryDetails,
        start: datetime | None,
        continued_from: UUID | None,
        command: str,
    ) -> Decision:
        timer = self._timer(ctx, org.id, member)
        at = start or self._now_after(ctx, self._running_start(timer))
        self._not_future(org, ctx, at)
        stopped, stopped_id = self._stop_running(ctx, org, timer, at)
        entry = TimeEntry.start_timer(
            ctx, org_id=org.id, member_id=member, details=details, at=at, continued_from=continued_from
        )
        weeks = self._book(ctx, org, entry)
        timer.claim(ctx, entry.id)
        related = (stopped_id,) if stopped_id else ()
        return [timer, entry, *stopped, *weeks], Receipt(command, entry.id, entry.version, related)

    def continue_entry(
        self,
        *,
        entry_id: UUID,
        at: datetime | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Start a new timer with the project, task, description, tags and billable of an entry."""
        start = ensure_utc(at) if at is not None else None

        def decide(ctx: CommandContext) -> Decision:
            source, org = self._entry_for(entry_id, actor, changing=False)
            d = source.details
            details = self._details(org, d.project_id, d.task_id, d.description, d.tags, d.billable)
            return self._start(ctx, org, source.member_id, details, start, source.id, "continue_entry")

        return self._execute("continue_entry", actor, command_id, {"entry_id": entry_id, "at": start}, decide)

    def _running(self, org_id: UUID, member: UUID) -> tuple[MemberTimer, TimeEntry]:
        timer = self._find(MemberTimer, member_timer_id(org_id, member))
        if timer is None or timer.running_entry_id is None:
            raise NoRunningTimerError("No timer is running.")
        entry = self._load(TimeEntry, timer.running_entry_id, "time entry")
        if not entry.is_running:
            raise StaleReadError
        return timer, entry

    def stop_timer(
        self,
        *,
        org_id: UUID,
        at: datetime | None = None,
        member_id: UUID | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Stop the member's running timer, now or at a given earlier time."""
        end = ensure_utc(at) if at is not None else None

        def decide(ctx: CommandContext) -> Decision:
            org, member = self._acting_for(org_id, actor, member_id)
            timer, _ = self._running(org_id, member)
            stop_at = end or self._now_after(ctx, self._running_start(timer))
            self._not_future(org, ctx, stop_at)
            saved, stopped_id = self._stop_running(ctx, org, timer, stop_at)
            assert stopped_id is not None  # noqa: S101 - _running found one
            entry = saved[0]
            return [timer, *saved], Receipt("stop_timer", stopped_id, entry.version)

        return self._execute(
            "stop_timer", actor, command_id, {"org_id": org_id, "at": end, "member_id": member_id}, decide
        )

    def pause_timer(
        self,
        *,
        org_id: UUID,
        at: datetime | None = None,
        member_id: UUID | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Pause the running timer; the pause is kept as its own span and is not worked time."""
        return self._pause_or_resume("pause_timer", org_id, at, member_id, actor, command_id)

    def resume_timer(
        self,
        *,
        org_id: UUID,
        at: datetime | None = None,
        member_id: UUID | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        return self._pause_or_resume("resume_timer", org_id, at, member_id, actor, command_id)

    def _pause_or_resume(
        self,
        command: str,
        org_id: UUID,
        at: datetime | None,
        member_id: UUID | None,
        actor: Actor,
        command_id: str | None,
    ) -> Receipt:
        instant = ensure_utc(at) if at is not None else None

        def decide(ctx: CommandContext) -> Decision:
            org, member = self._acting_for(org_id, actor, member_id)
            timer, entry = self._running(org_id, member)
            when = instant or self._now_after(ctx, self._running_start(timer))
            self._not_future(org, ctx, when)
            if command == "pause_timer":
                entry.pause(ctx, when)
            else:
                entry.resume(ctx, when)
            # The timer is saved unchanged so a racing stop or start conflicts with this.
            return [entry, timer], Receipt(command, entry.id, entry.version)

        return self._execute(
            command, actor, command_id, {"org_id": org_id, "at": instant, "member_id": member_id}, decide
        )

    # --- manual entries and corrections ---------------------------------------

    def record_entry(
        self,
        *,
        org_id: UUID,
        project_id: UUID,
        start: datetime,
        end: datetime | None = None,
        duration_seconds: int | None = None,
        break_minutes: int = 0,
        task_id: UUID | None = None,
        description: str | None = None,
        tags: list[str] | tuple[str, ...] | None = None,
        billable: bool | None = None,
        member_id: UUID | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Record finished work by hand: a start and either an end or a duration."""
        begin = ensure_utc(start)
        finish = _end_from(begin, end, duration_seconds)
        breaks = _break_seconds(break_minutes)
        args = {
            "org_id": org_id,
            "project_id": project_id,
            "start": begin,
            "end": finish,
            "break_seconds": breaks,
            "task_id": task_id,
            "description": description,
            "tags": list(tags or ()),
            "billable": billable,
            "member_id": member_id,
        }

        def decide(ctx: CommandContext) -> Decision:
            org, member = self._acting_for(org_id, actor, member_id)
            details = self._details(org, project_id, task_id, description, tags, billable)
            self._not_future(org, ctx, begin, finish)
            check_length(begin, finish, org.settings.max_entry_seconds)
            entry = TimeEntry.record(
                ctx,
                org_id=org.id,
                member_id=member,
                details=details,
                start=begin,
                end=finish,
                break_seconds=breaks,
            )
            weeks = self._book(ctx, org, entry)
            return [entry, *weeks], Receipt("record_entry", entry.id, entry.version)

        return self._execute("record_entry", actor, command_id, args, decide)

    def edit_entry(
        self,
        *,
        entry_id: UUID,
        expected_version: int | None = None,
        project_id: UUID = _KEEP,
        task_id: UUID | None = _KEEP,
        description: str = _KEEP,
        tags: list[str] | tuple[str, ...] = _KEEP,
        billable: bool = _KEEP,
        start: datetime = _KEEP,
        end: datetime | None = _KEEP,
        break_minutes: int = _KEEP,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Change an entry; fields left out keep their value. `expected_version` guards edits."""
        given: dict[str, Any] = {
            k: v
            for k, v in {
                "project_id": project_id,
                "task_id": task_id,
                "description": description,
                "tags": tags,
                "billable": billable,
                "start": start,
                "end": end,
                "break_minutes": break_minutes,
            }.items()
            if v is not _KEEP
        }
        if "start" in given and given["start"] is None:
            raise InvalidInputError("An entry needs a start.", field="start")
        new_start = ensure_utc(given["start"]) if "start" in given else None
        new_end = ensure_utc(given["end"]) if given.get("end") is not None else None
        breaks = _break_seconds(break_minutes) if "break_minutes" in given else None
        if expected_version is not None and (
            not isinstance(expected_version, int) or isinstance(expected_version, bool)
        ):
            raise InvalidInputError("expected_version must be a whole number.", field="version")
        args = {
            "entry_id": entry_id,
            "expected_version": expected_version,
            **given,
            "start": new_start,
            "end": new_end,
        }

        def decide(ctx: CommandContext) -> Decision:
            entry, org = self._entry_for(entry_id, actor)
            check_version(entry, expected_version)
            d = entry.details
            if "project_id" in given or "task_id" in given:
                project = given.get("project_id", d.project_id)
                task = given.get("task_id", d.task_id if project == d.project_id else None)
                details = self._details(org, project, task, d.description, d.tags, d.billable)
            else:
                details = d
            details = EntryDetails(
                project_id=details.project_id,
                task_id=details.task_id,
                description=clean_description(given.get("description", d.description)),
                tags=clean_tags(given.get("tags", d.tags)),
                billable=_bool(given.get("billable", d.billable)),
            )
            begin = new_start or entry.start
            finish = new_end if "end" in given else entry.end
            self._not_future(org, ctx, new_start, new_end)
            previous_start = entry.start
            changed = entry.edit(
                ctx,
                details=details,
                start=begin,
                end=finish,
                break_seconds=entry.break_seconds if breaks is None else breaks,
                max_seconds=org.settings.max_entry_seconds,
            )
            weeks = self._book(ctx, org, entry, previous_start) if changed else []
            return [entry, *weeks], Receipt("edit_entry", entry.id, entry.version)

        return self._execute("edit_entry", actor, command_id, args, decide)

    def delete_entry(
        self,
        *,
        entry_id: UUID,
        expected_version: int | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Delete an entry (a tombstone event; `restore_entry` brings it back)."""

        def decide(ctx: CommandContext) -> Decision:
            entry, org = self._entry_for(entry_id, actor)
            check_version(entry, expected_version)
            return self._delete(ctx, org, entry), Receipt("delete_entry", entry.id, entry.version)

        return self._execute(
            "delete_entry",
            actor,
            command_id,
            {"entry_id": entry_id, "expected_version": expected_version},
            decide,
        )

    def _delete(self, ctx: CommandContext, org: Organization, entry: TimeEntry) -> list[LedgerAggregate]:
        """Tombstone an entry: a running one frees its member's timer; its weeks release it."""
        was_running = entry.is_running
        entry.delete(ctx)
        # A deleted entry belongs to no timesheet; restoring it checks its period again.
        entry.unlock_for_timesheet(ctx)
        saved: list[LedgerAggregate] = [entry]
        if was_running:
            timer = self._timer(ctx, org.id, entry.member_id)
            timer.release(ctx, entry.id)
            saved.append(timer)
        return saved + self._book(ctx, org, entry)

    def restore_entry(
        self,
        *,
        entry_id: UUID,
        expected_version: int | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Undo a delete. A timer that was running when deleted runs again if the slot is free."""

        def decide(ctx: CommandContext) -> Decision:
            entry, org = self._entry_for(entry_id, actor)
            check_version(entry, expected_version)
            entry.restore(ctx)
            saved: list[LedgerAggregate] = [entry]
            if entry.end is None:
                timer = self._timer(ctx, org.id, entry.member_id)
                if timer.running_entry_id is not None:
                    raise ConflictError(
                        "This entry was a running timer and another timer is running now; "
                        "stop that one first."
                    )
                timer.claim(ctx, entry.id)
                saved.append(timer)
            saved += self._book(ctx, org, entry)
            return saved, Receipt("restore_entry", entry.id, entry.version)

        return self._execute(
            "restore_entry",
            actor,
            command_id,
            {"entry_id": entry_id, "expected_version": expected_version},
            decide,
        )

    def bulk_update_entries(
        self,
        *,
        org_id: UUID,
        entry_ids: list[UUID] | tuple[UUID, ...],
        action: str,
        value: Any = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Apply one change to many entries in one append: all of them, or none.

        Actions: `set_billable` (value true/false), `add_tag` and `remove_tag` (value a tag),
        `delete`. Each entry is checked by the same rules as a single edit or delete; the
        first refusal names its entry and nothing is saved.
        """
        if action not in BULK_ACTIONS:
            raise InvalidInputError(f"action must be one of {', '.join(BULK_ACTIONS)}.", field="action")
        if not isinstance(entry_ids, list | tuple) or not entry_ids:
            raise InvalidInputError("Name at least one entry.", field="entry_ids")
        ids = list(dict.fromkeys(entry_ids))
        if len(ids) > MAX_BULK:
            raise InvalidInputError(f"At most {MAX_BULK} entries at once.", field="entry_ids")
        if action == "set_billable" and not isinstance(value, bool):
            raise InvalidInputError("set_billable needs value true or false.", field="value")
        if action in ("add_tag", "remove_tag"):
            if not isinstance(value, str) or not clean_tags([value]):
                raise InvalidInputError(f"{action} needs a tag as value.", field="value")
            value = clean_tags([value])[0]
        args = {"org_id": org_id, "entry_ids": [str(i) for i in ids], "action": action, "value": value}

        def decide(ctx: CommandContext) -> Decision:
            org, _ = self._org_role(org_id, actor)
            saved: dict[UUID, LedgerAggregate] = {}
            for entry_id in ids:
                try:
                    entry, entry_org = self._entry_for(entry_id, actor)
                    if entry_org.id != org.id:
                        raise NotFoundError(f"There is no time entry with id {entry_id}.")
                    changed = self._bulk_one(ctx, org, entry, action, value)
                except LedgerError as error:
                    error.args = (f"Entry {entry_id}: {error}",)
                    raise
                for aggregate in changed:
                    saved[aggregate.id] = aggregate
            return list(saved.values()), Receipt(
                "bulk_update_entries", org.id, org.version, related=tuple(ids)
            )

        return self._execute("bulk_update_entries", actor, command_id, args, decide)

    def _bulk_one(
        self, ctx: CommandContext, org: Organization, entry: TimeEntry, action: str, value: Any
    ) -> list[LedgerAggregate]:
        if action == "delete":
            return self._delete(ctx, org, entry)
        d = entry.details
        if action == "set_billable":
            details = EntryDetails(d.project_id, d.task_id, d.description, d.tags, value)
        elif action == "add_tag":
            details = EntryDetails(
                d.project_id, d.task_id, d.description, clean_tags([*d.tags, value]), d.billable
            )
        else:
            kept = tuple(t for t in d.tags if t != value)
            details = EntryDetails(d.project_id, d.task_id, d.description, kept, d.billable)
        entry.edit(
            ctx,
            details=details,
            start=entry.start,
            end=entry.end,
            break_seconds=entry.break_seconds,
            max_seconds=org.settings.max_entry_seconds,
        )
        return [entry]


def _may_change_submitted(org: Organization, actor: Actor, member_id: UUID) -> bool:
    """Managers may correct others' entries in a submitted period; members never their own."""
    if actor.kind == "system":
        return True
    return actor.user_id != member_id and org.role_of(actor.user_id) in MANAGER_ROLES


def check_version(aggregate: LedgerAggregate, expected: int | None, what: str = "entry") -> None:
    """Rule 5: a command that names the version it read is refused when it is stale."""
    if expected is not None and expected != aggregate.version:
        raise StaleVersionError(
            f"This {what} changed since you read it (you had version {expected}, it is now at "
            f"version {aggregate.version}); reload it and apply your change again.",
            expected=expected,
            actual=aggregate.version,
        )


def _end_from(start: datetime, end: datetime | None, duration_seconds: int | None) -> datetime:
    if (end is None) == (duration_seconds is None):
        raise InvalidInputError("Give either an end or a duration, not both or neither.", field="end")
    if end is not None:
        return ensure_utc(end)
    if not isinstance(duration_seconds, int) or isinstance(duration_seconds, bool) or duration_seconds <= 0:
        raise InvalidInputError(
            "The duration must be a positive whole number of seconds.", field="duration_seconds"
        )
    if duration_seconds > _LONGEST.total_seconds():
        raise InvalidInputError(
            f"An entry lasts at most {_LONGEST.days} days; split longer work into several entries.",
            field="duration_seconds",
        )
    return start + timedelta(seconds=duration_seconds)


def _break_seconds(break_minutes: int) -> int:
    if not isinstance(break_minutes, int) or isinstance(break_minutes, bool) or break_minutes < 0:
        raise InvalidInputError("The break must be a whole number of minutes, at least 0.", field="break")
    return break_minutes * 60


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError("billable must be true or false.", field="billable")
    return value
