"""Webhooks: subscriptions (the secret is shown at creation and rotation only) and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from schemas.common import Strict

PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
DeliveryStatus = Literal["pending", "delivered", "failed", "cancelled"]

_URL = "Where deliveries are POSTed: an http:// or https:// URL without credentials."
_TYPES = (
    "Event types to receive, as in docs/events.md (e.g. `TimeEntry.Started`), or `['*']` for "
    "every event of the organization a webhook may carry."
)


class CreateWebhook(Strict):
    url: str = Field(min_length=1, max_length=2000, description=_URL)
    event_types: list[str] = Field(min_length=1, max_length=100, description=_TYPES)
    description: str = Field(default="", max_length=200, pattern=PRINTABLE)
    active: bool = Field(default=True, description="An inactive webhook receives nothing.")


class EditWebhook(Strict):
    """Fields left out keep their value."""

    url: str | None = Field(default=None, min_length=1, max_length=2000, description=_URL)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=100, description=_TYPES)
    description: str | None = Field(default=None, max_length=200, pattern=PRINTABLE)
    active: bool | None = None


class Webhook(BaseModel):
    """A subscription as lists show it: never its secret."""

    id: UUID
    url: str
    event_types: list[str]
    description: str
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class CreatedWebhook(Webhook):
    """A subscription just created, with its signing secret."""

    secret: str = Field(
        description="The signing secret (`whsec_…`); shown in this response only. Receivers use it to "
        "check `TimeLedger-Signature`."
    )


class WebhookSecret(BaseModel):
    """A new signing secret; the previous one no longer signs anything."""

    id: UUID
    secret: str = Field(description="The new signing secret (`whsec_…`); shown in this response only.")


class WebhookPing(BaseModel):
    """A test delivery was asked for; it shows in the delivery log as soon as it is dispatched."""

    webhook_id: UUID
    delivery_id: UUID
    event_type: Literal["ping"] = "ping"


class WebhookAttempt(BaseModel):
    attempt: int = Field(description="1 for the first try")
    at: datetime
    duration_ms: int
    status_code: int | None = Field(description="The receiver's HTTP status; null when none came.")
    error: str | None = Field(
        description="Why the attempt failed (a status, a timeout, a refused connection)."
    )


class WebhookDelivery(BaseModel):
    """One event (or ping) for one webhook, with every attempt to deliver it."""

    id: UUID = Field(description="Also sent as `TimeLedger-Delivery` and as `id` in the body.")
    webhook_id: UUID
    position: int = Field(description="The event's position in the log")
    event_type: str = Field(description="e.g. TimeEntry.Started, or ping")
    status: DeliveryStatus
    attempts: list[WebhookAttempt]
    created_at: datetime
    finished_at: datetime | None
    last_status_code: int | None
    last_error: str | None
