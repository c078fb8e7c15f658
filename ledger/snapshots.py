"""Plain, frozen views of write-side state that commands' callers may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.time_entry import TimeEntry


@dataclass(frozen=True)
class EntrySnapshot:
    """A time entry as it stands at one version."""

    id: UUID
    org_id: UUID
    member_id: UUID
    project_id: UUID
    task_id: UUID | None
    description: str
    tags: tuple[str, ...]
    billable: bool
    start: datetime
    end: datetime | None
    pauses: tuple[tuple[datetime, datetime | None], ...]
    break_seconds: int
    duration_seconds: int
    status: str
    version: int
    lock: str | None = None  # "submitted", "approved" or "invoiced" while something holds it

    @classmethod
    def of(cls, entry: TimeEntry, now: datetime) -> EntrySnapshot:
        return cls(
            id=entry.id,
            org_id=entry.org_id,
            member_id=entry.member_id,
            project_id=entry.details.project_id,
            task_id=entry.details.task_id,
            description=entry.details.description,
            tags=entry.details.tags,
            billable=entry.details.billable,
            start=entry.start,
            end=entry.end,
            pauses=tuple((p.start, p.end) for p in entry.pauses),
            break_seconds=entry.break_seconds,
            duration_seconds=entry.worked_seconds(now),
            status=entry.status,
            version=entry.version,
            lock=lock_of(entry),
        )


def lock_of(entry: TimeEntry) -> str | None:
    """What holds an entry still; an issued invoice holds it harder than its timesheet."""
    if entry.invoice_id is not None:
        return "invoiced"
    return entry.timesheet_lock[1] if entry.timesheet_lock is not None else None


@dataclass(frozen=True)
class HistoryItem:
    """One event of an aggregate: what happened, who did it, when, from which device."""

    version: int
    event_type: str
    recorded_at: datetime
    actor_kind: str
    actor_user_id: UUID | None
    actor_token_id: UUID | None
    device_id: str | None
    command_id: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class TokenPrincipal:
    """Who a valid API token acts as."""

    token_id: UUID
    org_id: UUID
    user_id: UUID
    scopes: tuple[str, ...]
