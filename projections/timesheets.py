"""The timesheets read model: each member's timesheet per period, and the events that moved it.

A timesheet's state is a fold of its events (`opening` then `advance` per step); the
history table keeps every step, so a timesheet can be shown as it stood at any version
(what a repeated command answers) by folding the steps up to that version again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from sqlalchemy import Column, Date, Index, Integer, MetaData, String, Table, Text, Uuid

from ledger.timesheets import Timesheet
from projections.base import ReadModel
from projections.batch import Batch
from projections.columns import Instant

STEP_OF_EVENT: dict[type[Any], str] = {
    Timesheet.Opened: "opened",
    Timesheet.Submitted: "submitted",
    Timesheet.Approved: "approved",
    Timesheet.Rejected: "rejected",
    Timesheet.Reopened: "reopened",
}
# What the events change, as a timesheet stands once opened (before its first step).
UNTOUCHED: dict[str, Any] = {
    "state": "open",
    "note": "",
    "reason": "",
    "entry_count": 0,
    "submitted_at": None,
    "decided_at": None,
    "decided_by": None,
}
STATE_AFTER = {
    "opened": "open",
    "submitted": "submitted",
    "approved": "approved",
    "rejected": "rejected",
    "reopened": "open",
}


def opening(e: Timesheet.Opened) -> dict[str, Any]:
    """The row a timesheet starts as, before any step is applied."""
    return {
        "id": e.originator_id,
        "org_id": e.org_id,
        "member_id": e.member_id,
        "kind": e.kind,
        "first_day": date.fromisoformat(e.first_day),
        "last_day": date.fromisoformat(e.last_day),
        "start": e.start,
        "end": e.end,
        **UNTOUCHED,
        "version": 0,
        "updated_at": e.timestamp,
    }


def step_of(e: Any) -> dict[str, Any]:
    """One event as a history row's fields (without the timesheet's id and organization)."""
    return {
        "version": e.originator_version,
        "step": STEP_OF_EVENT[type(e)],
        "recorded_at": e.timestamp,
        "actor_kind": e.actor_kind,
        "actor_user_id": e.actor_user_id,
        "actor_token_id": e.actor_token_id,
        "device_id": e.device_id,
        "comment": getattr(e, "note", None) or getattr(e, "reason", None) or "",
        "entry_count": getattr(e, "entry_count", None),
    }


def advance(row: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    """The row after one step, as the aggregate's events change it (pure)."""
    kind, at = step["step"], step["recorded_at"]
    after = {**row, "state": STATE_AFTER[kind], "version": step["version"], "updated_at": at}
    if step["entry_count"] is not None:
        after["entry_count"] = step["entry_count"]
    if kind == "submitted":
        after.update(note=step["comment"], reason="", submitted_at=at, decided_at=None, decided_by=None)
    elif kind in ("approved", "rejected", "reopened"):
        after.update(reason=step["comment"], decided_at=at, decided_by=step["actor_user_id"])
    return after


class TimesheetsProjection(ReadModel):
    """`rm_timesheets` for lists and the approvals queue, `rm_timesheet_events` for each one's history."""

    name = "timesheets"

    @classmethod
    def define_tables(cls, metadata: MetaData, suffix: str) -> dict[str, Table]:
        return {
            "timesheets": Table(
                f"rm_timesheets{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Column("member_id", Uuid, nullable=False),
                Column("kind", String(8), nullable=False),
                Column("first_day", Date, nullable=False),
                Column("last_day", Date, nullable=False),
                Column("start", Instant, nullable=False),
                Column("end", Instant, nullable=False),
                Column("state", String(10), nullable=False),
                Column("note", Text, nullable=False),
                Column("reason", Text, nullable=False),
                Column("entry_count", Integer, nullable=False),
                Column("submitted_at", Instant, nullable=True),
                Column("decided_at", Instant, nullable=True),
                Column("decided_by", Uuid, nullable=True),
                Column("version", Integer, nullable=False),
                Column("updated_at", Instant, nullable=False),
                Index(f"ix_rm_timesheets{suffix}_days", "org_id", "first_day"),
                Index(f"ix_rm_timesheets{suffix}_member", "org_id", "member_id", "first_day"),
                Index(f"ix_rm_timesheets{suffix}_state", "org_id", "state", "submitted_at"),
            ),
            "events": Table(
                f"rm_timesheet_events{suffix}",
                metadata,
                Column("timesheet_id", Uuid, primary_key=True),
                Column("version", Integer, primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Column("step", String(10), nullable=False),
                Column("recorded_at", Instant, nullable=False),
                Column("actor_kind", String(8), nullable=False),
                Column("actor_user_id", Uuid, nullable=True),
                Column("actor_token_id", Uuid, nullable=True),
                Column("device_id", String(100), nullable=True),
                Column("comment", Text, nullable=False),
                Column("entry_count", Integer, nullable=True),
            ),
        }

    def _step(self, batch: Batch, row: dict[str, Any], e: Any) -> None:
        step = step_of(e)
        history = {"timesheet_id": row["id"], "org_id": row["org_id"], **step}
        batch.put(self.t["events"], (row["id"], step["version"]), history)
        batch.put(self.t["timesheets"], (row["id"],), advance(row, step))

    @singledispatchmethod
    def apply(self, event: object, batch: Batch) -> None:
        """Other events do not change timesheets."""

    @apply.register(Timesheet.Opened)
    def _opened(self, e: Timesheet.Opened, batch: Batch) -> None:
        self._step(batch, opening(e), e)

    @apply.register(Timesheet.Submitted)
    @apply.register(Timesheet.Approved)
    @apply.register(Timesheet.Rejected)
    @apply.register(Timesheet.Reopened)
    def _moved(self, e: Any, batch: Batch) -> None:
        row = batch.get(self.t["timesheets"], (e.originator_id,))
        if row is not None:
            self._step(batch, row, e)
