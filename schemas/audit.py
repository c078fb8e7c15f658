"""The organization's audit log: every event, who did it, when, from which device."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class AuditActor(BaseModel):
    """Who caused an event: a person (`user`), one of their API tokens (`token`), or `system`."""

    kind: str
    user_id: UUID | None
    token_id: UUID | None
    device_id: str | None = Field(description="The `X-Device-Id` the request sent, if any.")


class AuditEvent(BaseModel):
    """One event of the organization's log; secret fields read `[redacted]`."""

    position: int = Field(description="The event's place in the global log.")
    event_type: str = Field(examples=["TimeEntry.Corrected"])
    aggregate_id: UUID
    version: int = Field(description="The event's version within its aggregate.")
    recorded_at: datetime
    actor: AuditActor
    command_id: str | None
    data: dict[str, Any]
