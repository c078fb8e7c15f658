"""Messages of the live stream (`GET /api/v1/stream`, WebSocket, JSON text frames)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

STREAM_VERSION = 1


class StreamActor(BaseModel):
    kind: str = Field(description="user, token or system")
    user_id: UUID | None
    token_id: UUID | None
    device_id: str | None


class StreamEvent(BaseModel):
    """One event of the log, at its position; positions only grow, with gaps for hidden events."""

    type: Literal["event"] = "event"
    v: int = STREAM_VERSION
    position: int
    event_type: str = Field(description="e.g. TimeEntry.Started; see docs/events.md")
    aggregate_id: UUID
    version: int
    recorded_at: datetime
    actor: StreamActor
    data: dict[str, Any]


class Heartbeat(BaseModel):
    """Sent while nothing else is: the connection lives, and the log's head is here."""

    type: Literal["heartbeat"] = "heartbeat"
    v: int = STREAM_VERSION
    head: int
    position: int = Field(description="the last position this connection has been sent up to")


class Resume(BaseModel):
    """The server is closing the connection: reconnect with `after` to lose nothing."""

    type: Literal["resume"] = "resume"
    v: int = STREAM_VERSION
    after: int
    reason: str
