"""Time entries, the timer and an entry's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from schemas.common import Instant, Strict


class TimeEntry(BaseModel):
    """A time entry; `end` is null while it runs; `duration_seconds` is worked time (pauses and break out)."""

    id: UUID
    member_id: UUID
    project_id: UUID
    task_id: UUID | None
    description: str
    tags: list[str]
    billable: bool
    start: datetime
    end: datetime | None
    duration_seconds: int
    break_seconds: int = 0
    status: str = Field(description="running, paused, stopped or deleted")
    version: int
    lock: str | None = Field(
        default=None,
        description="What holds the entry still: submitted (its period's timesheet waits for a decision; "
        "only managers may change it), approved, or invoiced (billed on an issued invoice, which wins); "
        "null when free.",
    )


class StartTimer(Strict):
    project_id: UUID
    task_id: UUID | None = None
    description: str | None = None
    tags: list[str] | None = None
    billable: bool | None = Field(default=None, description="Defaults to the project's billable setting.")
    member_id: UUID | None = Field(default=None, description="Managers may start a timer for a member.")
    at: Instant | None = Field(default=None, description="When it started; defaults to now.")


class TimerAt(Strict):
    """Stop, pause or resume the running timer, now or at a given past time."""

    at: Instant | None = None
    member_id: UUID | None = None


class ContinueEntry(Strict):
    at: Instant | None = None


class RecordEntry(Strict):
    """A manual entry: `start` plus `end` or `duration_seconds`."""

    project_id: UUID
    start: Instant
    end: Instant | None = None
    duration_seconds: int | None = Field(default=None, ge=1)
    break_minutes: int = Field(default=0, ge=0)
    task_id: UUID | None = None
    description: str | None = None
    tags: list[str] | None = None
    billable: bool | None = None
    member_id: UUID | None = None


class EditEntry(Strict):
    """Only the fields given change; `task_id: null` clears the task."""

    project_id: UUID | None = None
    task_id: UUID | None = None
    description: str | None = None
    tags: list[str] | None = None
    billable: bool | None = None
    start: Instant | None = None
    end: Instant | None = None
    break_minutes: int | None = Field(default=None, ge=0)


class HistoryEvent(BaseModel):
    """One event of an entry: what changed, who, when, from which device."""

    version: int
    event_type: str
    recorded_at: datetime
    actor_kind: str
    actor_user_id: UUID | None
    actor_token_id: UUID | None
    device_id: str | None
    command_id: str | None
    data: dict[str, Any]


class BulkAction(Strict):
    """One change to many entries, applied to all of them or to none."""

    entry_ids: list[UUID] = Field(min_length=1, max_length=500)
    action: Literal["set_billable", "add_tag", "remove_tag", "delete"]
    value: bool | str | None = Field(
        default=None, description="true/false for set_billable, the tag for add_tag and remove_tag"
    )


class TemplateIn(Strict):
    name: str
    project_id: UUID
    task_id: UUID | None = None
    description: str | None = None
    tags: list[str] | None = None
    billable: bool | None = None


class Template(BaseModel):
    id: UUID
    name: str
    project_id: UUID
    task_id: UUID | None
    description: str
    tags: list[str]
    billable: bool
