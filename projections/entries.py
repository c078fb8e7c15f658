"""The entries read model: every time entry's current state, and who is running a timer now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    update,
)

from ledger.catalog import Project
from ledger.time_entry import TimeEntry
from projections.base import ReadModel
from projections.batch import Batch
from projections.columns import Instant

Pauses = list[list[str | None]]


def worked_seconds(start: datetime, end: datetime, pauses: Pauses, break_seconds: int) -> int:
    """Span minus pauses minus break, as the ledger counts it."""
    paused = 0.0
    for pause_start, pause_end in pauses:
        began = datetime.fromisoformat(pause_start or "")
        ended = datetime.fromisoformat(pause_end) if pause_end else end
        paused += (ended - began).total_seconds()
    return max(0, int((end - start).total_seconds()) - int(paused) - break_seconds)


def close_pause(pauses: Pauses, at: datetime) -> Pauses:
    if pauses and pauses[-1][1] is None:
        return [*pauses[:-1], [pauses[-1][0], at.isoformat()]]
    return pauses


def lock_of(row: dict[str, Any]) -> str | None:
    """An issued invoice holds an entry harder than its timesheet, so "invoiced" wins."""
    return "invoiced" if row["invoice_id"] is not None else row["timesheet_lock"]


def status_of(row: dict[str, Any]) -> str:
    if row["deleted"]:
        return "deleted"
    if row["end"] is not None:
        return "stopped"
    pauses = row["pauses"]
    return "paused" if pauses and pauses[-1][1] is None else "running"


class EntriesProjection(ReadModel):
    """`rm_entries` (+ tags) for lists and filters, `rm_running_timers` for "who is working now"."""

    name = "entries"

    @classmethod
    def define_tables(cls, metadata: MetaData, suffix: str) -> dict[str, Table]:
        return {
            "entries": Table(
                f"rm_entries{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Column("member_id", Uuid, nullable=False),
                Column("project_id", Uuid, nullable=False),
                Column("client_id", Uuid, nullable=True),
                Column("task_id", Uuid, nullable=True),
                Column("description", Text, nullable=False),
                Column("tags", JSON, nullable=False),
                Column("billable", Boolean, nullable=False),
                Column("start", Instant, nullable=False),
                Column("end", Instant, nullable=True),
                Column("pauses", JSON, nullable=False),
                Column("break_seconds", Integer, nullable=False),
                Column("duration_seconds", BigInteger, nullable=True),
                Column("status", String(10), nullable=False),
                Column("deleted", Boolean, nullable=False),
                # What holds the entry still: null, "submitted", "approved" or "invoiced" (see lock_of).
                Column("lock", String(10), nullable=True),
                Column("timesheet_lock", String(10), nullable=True),
                Column("invoice_id", Uuid, nullable=True),
                Column("version", Integer, nullable=False),
                Column("last_editor", Uuid, nullable=True),
                Column("updated_at", Instant, nullable=False),
                Index(f"ix_rm_entries{suffix}_org_start", "org_id", "start"),
                Index(f"ix_rm_entries{suffix}_member", "org_id", "member_id", "start"),
                Index(f"ix_rm_entries{suffix}_project", "org_id", "project_id", "start"),
                Index(f"ix_rm_entries{suffix}_client", "org_id", "client_id", "start"),
            ),
            "tags": Table(
                f"rm_entry_tags{suffix}",
                metadata,
                Column("entry_id", Uuid, primary_key=True),
                Column("tag", String(50), primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Index(f"ix_rm_entry_tags{suffix}_tag", "org_id", "tag"),
            ),
            "running": Table(
                f"rm_running_timers{suffix}",
                metadata,
                Column("org_id", Uuid, primary_key=True),
                Column("member_id", Uuid, primary_key=True),
                Column("entry_id", Uuid, nullable=False),
                Column("project_id", Uuid, nullable=False),
                Column("task_id", Uuid, nullable=True),
                Column("description", Text, nullable=False),
                Column("tags", JSON, nullable=False),
                Column("billable", Boolean, nullable=False),
                Column("start", Instant, nullable=False),
                Column("paused_at", Instant, nullable=True),
            ),
            # Private: which client a project belongs to, to fill entries' client_id.
            "projects": Table(
                f"rm_entries_projects{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("client_id", Uuid, nullable=True),
            ),
        }

    # --- helpers --------------------------------------------------------------

    def _client_of(self, batch: Batch, project_id: Any) -> Any:
        row = batch.get(self.t["projects"], (project_id,))
        return row["client_id"] if row else None

    def _save(self, batch: Batch, row: dict[str, Any], e: Any) -> None:
        row["version"] = e.originator_version
        row["last_editor"] = e.actor_user_id
        row["updated_at"] = e.timestamp
        row["status"] = status_of(row)
        if row["end"] is not None:
            row["duration_seconds"] = worked_seconds(
                row["start"], row["end"], row["pauses"], row["break_seconds"]
            )
        else:
            row["duration_seconds"] = None
        batch.put(self.t["entries"], (row["id"],), row)
        self._sync_running(batch, row)

    def _sync_running(self, batch: Batch, row: dict[str, Any]) -> None:
        key = (row["org_id"], row["member_id"])
        current = batch.get(self.t["running"], key)
        if row["status"] in ("running", "paused"):
            pauses = row["pauses"]
            paused_at = datetime.fromisoformat(pauses[-1][0]) if row["status"] == "paused" else None
            batch.put(
                self.t["running"],
                key,
                {
                    "org_id": row["org_id"],
                    "member_id": row["member_id"],
                    "entry_id": row["id"],
                    "project_id": row["project_id"],
                    "task_id": row["task_id"],
                    "description": row["description"],
                    "tags": row["tags"],
                    "billable": row["billable"],
                    "start": row["start"],
                    "paused_at": paused_at,
                },
            )
        elif current is not None and current["entry_id"] == row["id"]:
            batch.delete(self.t["running"], key)

    def _set_tags(self, batch: Batch, row: dict[str, Any], old: list[str]) -> None:
        for tag in old:
            if tag not in row["tags"]:
                batch.delete(self.t["tags"], (row["id"], tag))
        for tag in row["tags"]:
            if tag not in old:
                batch.put(
                    self.t["tags"],
                    (row["id"], tag),
                    {"entry_id": row["id"], "tag": tag, "org_id": row["org_id"]},
                )

    def _entry(self, batch: Batch, entry_id: Any) -> dict[str, Any] | None:
        return batch.get(self.t["entries"], (entry_id,))

    def _relock(self, batch: Batch, e: Any, **values: Any) -> None:
        """A lock moved: the entry's version changes, its content and last editor do not."""
        row = self._entry(batch, e.originator_id)
        if row is not None:
            row.update(values, version=e.originator_version, updated_at=e.timestamp)
            row["lock"] = lock_of(row)
            batch.put(self.t["entries"], (row["id"],), row)

    # --- handlers -------------------------------------------------------------

    @singledispatchmethod
    def apply(self, event: object, batch: Batch) -> None:
        """Other events do not change entries."""

    @apply.register(Project.Created)
    def _project(self, e: Project.Created, batch: Batch) -> None:
        batch.put(self.t["projects"], (e.originator_id,), {"id": e.originator_id, "client_id": e.client_id})

    @apply.register(Project.Updated)
    def _project_updated(self, e: Project.Updated, batch: Batch) -> None:
        if self._client_of(batch, e.originator_id) == e.client_id:
            return
        batch.put(self.t["projects"], (e.originator_id,), {"id": e.originator_id, "client_id": e.client_id})
        entries = self.t["entries"]
        batch.forget(entries)
        batch.conn.execute(
            update(entries).where(entries.c.project_id == e.originator_id).values(client_id=e.client_id)
        )

    @apply.register(TimeEntry.Started)
    @apply.register(TimeEntry.Recorded)
    def _created(self, e: TimeEntry.Started | TimeEntry.Recorded, batch: Batch) -> None:
        row = {
            "id": e.originator_id,
            "org_id": e.org_id,
            "member_id": e.member_id,
            "project_id": e.project_id,
            "client_id": self._client_of(batch, e.project_id),
            "task_id": e.task_id,
            "description": e.description,
            "tags": list(e.tags),
            "billable": e.billable,
            "start": e.start,
            "end": getattr(e, "end", None),
            "pauses": [],
            "break_seconds": getattr(e, "break_seconds", 0),
            "deleted": False,
            "lock": None,
            "timesheet_lock": None,
            "invoice_id": None,
        }
        self._set_tags(batch, row, [])
        self._save(batch, row, e)

    @apply.register(TimeEntry.Paused)
    def _paused(self, e: TimeEntry.Paused, batch: Batch) -> None:
        row = self._entry(batch, e.originator_id)
        if row is not None:
            row["pauses"] = [*row["pauses"], [e.at.isoformat(), None]]
            self._save(batch, row, e)

    @apply.register(TimeEntry.Resumed)
    def _resumed(self, e: TimeEntry.Resumed, batch: Batch) -> None:
        row = self._entry(batch, e.originator_id)
        if row is not None:
            row["pauses"] = close_pause(row["pauses"], e.at)
            self._save(batch, row, e)

    @apply.register(TimeEntry.Stopped)
    def _stopped(self, e: TimeEntry.Stopped, batch: Batch) -> None:
        row = self._entry(batch, e.originator_id)
        if row is not None:
            row["pauses"] = close_pause(row["pauses"], e.at)
            row["end"] = e.at
            self._save(batch, row, e)

    @apply.register(TimeEntry.Edited)
    def _edited(self, e: TimeEntry.Edited, batch: Batch) -> None:
        row = self._entry(batch, e.originator_id)
        if row is None:
            return
        old_tags = list(row["tags"])
        if row["project_id"] != e.project_id:
            row["client_id"] = self._client_of(batch, e.project_id)
        row.update(
            project_id=e.project_id,
            task_id=e.task_id,
            description=e.description,
            tags=list(e.tags),
            billable=e.billable,
            start=e.start,
            end=e.end,
            break_seconds=e.break_seconds,
        )
        self._set_tags(batch, row, old_tags)
        self._save(batch, row, e)

    @apply.register(TimeEntry.Deleted)
    def _deleted(self, e: TimeEntry.Deleted, batch: Batch) -> None:
        row = self._entry(batch, e.originator_id)
        if row is not None:
            row["deleted"] = True
            self._save(batch, row, e)

    @apply.register(TimeEntry.Restored)
    def _restored(self, e: TimeEntry.Restored, batch: Batch) -> None:
        row = self._entry(batch, e.originator_id)
        if row is not None:
            row["deleted"] = False
            self._save(batch, row, e)

    @apply.register(TimeEntry.TimesheetLocked)
    def _timesheet_locked(self, e: TimeEntry.TimesheetLocked, batch: Batch) -> None:
        self._relock(batch, e, timesheet_lock=e.state)

    @apply.register(TimeEntry.TimesheetUnlocked)
    def _timesheet_unlocked(self, e: TimeEntry.TimesheetUnlocked, batch: Batch) -> None:
        self._relock(batch, e, timesheet_lock=None)

    @apply.register(TimeEntry.Invoiced)
    def _invoiced(self, e: TimeEntry.Invoiced, batch: Batch) -> None:
        self._relock(batch, e, invoice_id=e.invoice_id)

    @apply.register(TimeEntry.Uninvoiced)
    def _uninvoiced(self, e: TimeEntry.Uninvoiced, batch: Batch) -> None:
        self._relock(batch, e, invoice_id=None)
