"""Webhooks: `/webhooks`. Subscribe URLs to event types, rotate secrets, read the delivery log.

Everything here needs the `admin` scope, and the ledger insists on the owner or
admin role. The signing secret is in the answers of create and rotate only. The
delivery log is written by the worker's dispatcher (docs/webhooks.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth import Principal, ledger_of, require
from api.commands import IdempotencyKey, command_id, read_side, settle
from api.problems import ApiProblem
from ledger.application import TimeLedger
from ledger.webhooks import WebhookInfo
from projections import webhook_log
from schemas.common import Page
from schemas.webhooks import (
    CreatedWebhook,
    CreateWebhook,
    DeliveryStatus,
    EditWebhook,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookPing,
    WebhookSecret,
)

router = APIRouter(tags=["webhooks"])
Admin = Annotated[Principal, Depends(require("admin"))]
Ledger = Annotated[TimeLedger, Depends(ledger_of)]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page")]


def webhook_out(info: WebhookInfo) -> Webhook:
    return Webhook(
        id=info.id,
        url=info.url,
        event_types=list(info.event_types),
        description=info.description,
        active=info.active,
        created_at=info.created_at,
        updated_at=info.updated_at,
        version=info.version,
    )


def delivery_out(row: webhook_log.DeliveryRow) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        webhook_id=row.subscription_id,
        position=row.position,
        event_type=row.event_type,
        status=row.status,  # type: ignore[arg-type]
        attempts=[WebhookAttempt(**vars(a)) for a in row.attempt_log],
        created_at=row.created_at,
        finished_at=row.finished_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
    )


def _cursor_of(info: WebhookInfo) -> str:
    raw = json.dumps(["webhooks", info.created_at.isoformat(), str(info.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str | None, items: list[WebhookInfo]) -> list[WebhookInfo]:
    """Newest first, after the one the cursor names (webhooks are few: the list is one load)."""
    items = sorted(items, key=lambda i: (i.created_at, i.id), reverse=True)
    if cursor is None:
        return items
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, created_at, webhook_id = json.loads(raw)
        if kind != "webhooks":
            raise ValueError(kind)
        after = (datetime.fromisoformat(created_at).astimezone(UTC), UUID(webhook_id))
    except (ValueError, TypeError, binascii.Error):
        raise ApiProblem(
            400, "invalid-cursor", "The cursor is not one this server gave out for this list.", field="cursor"
        ) from None
    return [i for i in items if (i.created_at, i.id) < after]


@router.post(
    "/webhooks",
    response_model=CreatedWebhook,
    status_code=201,
    summary="Subscribe a URL to event types; the signing secret is in this response only",
)
def create_webhook(
    body: CreateWebhook,
    principal: Admin,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CreatedWebhook:
    """The same `Idempotency-Key` again answers the first answer, secret included."""
    receipt = ledger.create_webhook(
        org_id=principal.org_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        active=body.active,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    settle(request, response, ledger, receipt)
    info = ledger.get_webhook(receipt.id, principal.actor)
    return CreatedWebhook(secret=receipt.secret or "", **webhook_out(info).model_dump())


@router.get("/webhooks", response_model=Page[Webhook], summary="List webhooks, newest first")
def list_webhooks(
    principal: Admin, ledger: Ledger, cursor: Cursor = None, limit: Limit = 50
) -> Page[Webhook]:
    items = _after(cursor, ledger.list_webhooks(principal.org_id, principal.actor))
    page = items[:limit]
    more = len(items) > limit
    next_cursor = _cursor_of(page[-1]) if more else None
    return Page[Webhook](items=[webhook_out(i) for i in page], next_cursor=next_cursor)


@router.get("/webhooks/{webhook_id}", response_model=Webhook, summary="One webhook (never its secret)")
def get_webhook(webhook_id: UUID, principal: Admin, ledger: Ledger) -> Webhook:
    return webhook_out(ledger.get_webhook(webhook_id, principal.actor))


@router.patch(
    "/webhooks/{webhook_id}", response_model=Webhook, summary="Change a webhook's URL, events or state"
)
def edit_webhook(
    webhook_id: UUID,
    body: EditWebhook,
    principal: Admin,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Webhook:
    """Fields left out keep their value; `active: false` pauses deliveries (pending ones are cancelled)."""
    receipt = ledger.change_webhook(
        webhook_id=webhook_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        active=body.active,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    settle(request, response, ledger, receipt)
    return webhook_out(ledger.get_webhook(webhook_id, principal.actor))


@router.delete("/webhooks/{webhook_id}", status_code=204, response_class=Response, summary="Delete a webhook")
def delete_webhook(
    webhook_id: UUID,
    principal: Admin,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """No more deliveries; retries still pending are cancelled. Its delivery log is no longer shown."""
    receipt = ledger.delete_webhook(
        webhook_id=webhook_id, actor=principal.actor, command_id=command_id(idempotency_key)
    )
    settle(request, response, ledger, receipt)
    response.status_code = 204
    return response


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    response_model=WebhookSecret,
    summary="Replace the signing secret; the new one is in this response only",
)
def rotate_secret(
    webhook_id: UUID,
    principal: Admin,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> WebhookSecret:
    """Deliveries signed from now on (retries included) use the new secret."""
    receipt = ledger.rotate_webhook_secret(
        webhook_id=webhook_id, actor=principal.actor, command_id=command_id(idempotency_key)
    )
    settle(request, response, ledger, receipt)
    return WebhookSecret(id=receipt.id, secret=receipt.secret or "")


@router.post(
    "/webhooks/{webhook_id}/test",
    response_model=WebhookPing,
    status_code=202,
    summary="Send a test delivery (`ping`) to this webhook",
)
def ping_webhook(
    webhook_id: UUID,
    principal: Admin,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> WebhookPing:
    """The ping goes through the log like any event; follow it in `GET …/deliveries` by its id.
    An inactive webhook answers 409."""
    receipt = ledger.ping_webhook(
        webhook_id=webhook_id, actor=principal.actor, command_id=command_id(idempotency_key)
    )
    settle(request, response, ledger, receipt)
    delivery = webhook_log.delivery_id(webhook_id, webhook_id, receipt.version)
    return WebhookPing(webhook_id=webhook_id, delivery_id=delivery)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=Page[WebhookDelivery],
    summary="The delivery log: each delivery with its attempts, newest event first",
)
def list_deliveries(
    webhook_id: UUID,
    principal: Admin,
    ledger: Ledger,
    request: Request,
    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries in this state")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[WebhookDelivery]:
    ledger.get_webhook(webhook_id, principal.actor)
    try:
        page = webhook_log.list_deliveries(read_side(request).engine, webhook_id, status, cursor, limit)
    except ValueError as error:
        raise ApiProblem(400, "invalid-cursor", str(error), field="cursor") from None
    return Page[WebhookDelivery](items=[delivery_out(r) for r in page.items], next_cursor=page.next_cursor)
