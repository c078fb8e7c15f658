"""The webhook delivery log: its tables beside the read models, and the queries that page it.

Not a read model: deliveries record what happened when the server talked to the
outside (status codes, errors, timings), which no replay of the log can rebuild, so a
rebuild neither needs nor touches these tables. They live here, not in `workers/`,
because the API pages the log too and may import only `ledger`, `projections` and
`schemas`. The worker's writes are in `workers/webhook_log.py`.

- `webhook_dispatch`: the dispatcher's position in the event log.
- `webhook_subscriptions`: the dispatcher's copy of each subscription's org, event types
  and active flag as of that position (never the URL or the secret).
- `webhook_deliveries`: one row per (subscription, event), unique on both.
- `webhook_attempts`: one row per HTTP attempt of a delivery.
"""

from __future__ import annotations

import base64
import json
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    select,
)

from ledger.ids import NAMESPACE
from projections.columns import Instant
from projections.registry import create_tables

STATUSES = ("pending", "delivered", "failed", "cancelled")
DISPATCHER = "webhooks"

metadata = MetaData()
dispatch = Table(
    "webhook_dispatch",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)
subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("org_id", Uuid, nullable=False, index=True),
    Column("event_types", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
)
deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subscription_id", Uuid, nullable=False),
    Column("org_id", Uuid, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("updated_at", Instant, nullable=False),
    # When a message for it was last handed to the broker; null: none yet (the sweep sends one).
    Column("enqueued_at", Instant, nullable=True),
    # A worker is sending it until then; another message for it meanwhile does nothing.
    Column("leased_until", Instant, nullable=True),
    Column("finished_at", Instant, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    UniqueConstraint("subscription_id", "position", name="uq_webhook_deliveries_event"),
    Index("ix_webhook_deliveries_status", "status", "updated_at"),
)
attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", Uuid, primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("at", Instant, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", String(500), nullable=True),
)

_ready: weakref.WeakSet[Engine] = weakref.WeakSet()


def ensure_tables(engine: Engine) -> None:
    """Create the delivery log's tables once per engine and process."""
    if engine in _ready:
        return
    create_tables(engine, metadata)
    _ready.add(engine)


def delivery_id(subscription_id: UUID, aggregate_id: UUID, version: int) -> UUID:
    """The id of the delivery of one event to one subscription (the same in every process)."""
    return uuid5(NAMESPACE, f"webhook-delivery:{subscription_id}:{aggregate_id}:{version}")


@dataclass(frozen=True)
class AttemptRow:
    attempt: int
    at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None


@dataclass(frozen=True)
class DeliveryRow:
    id: UUID
    subscription_id: UUID
    org_id: UUID
    position: int
    event_type: str
    status: str
    attempts: int
    created_at: datetime
    updated_at: datetime
    enqueued_at: datetime | None
    leased_until: datetime | None
    finished_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    attempt_log: tuple[AttemptRow, ...] = ()

    @classmethod
    def of(cls, row: Any, attempt_log: tuple[AttemptRow, ...] = ()) -> DeliveryRow:
        return cls(**{c.name: getattr(row, c.name) for c in deliveries.columns}, attempt_log=attempt_log)


@dataclass(frozen=True)
class DeliveryPage:
    items: tuple[DeliveryRow, ...]
    next_cursor: str | None


def get_delivery(engine: Engine, delivery: UUID) -> DeliveryRow | None:
    ensure_tables(engine)
    with engine.connect() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery)).first()
        if row is None:
            return None
        return DeliveryRow.of(row, _attempts_of(conn, [delivery]).get(delivery, ()))


def list_deliveries(
    engine: Engine,
    subscription_id: UUID,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> DeliveryPage:
    """A subscription's deliveries with their attempts, newest event first, a page at a time."""
    ensure_tables(engine)
    query = select(deliveries).where(deliveries.c.subscription_id == subscription_id)
    if status is not None:
        query = query.where(deliveries.c.status == status)
    if cursor is not None:
        query = query.where(deliveries.c.position < _decode_cursor(cursor))
    query = query.order_by(deliveries.c.position.desc()).limit(limit + 1)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        found = _attempts_of(conn, [r.id for r in rows[:limit]])
    items = tuple(DeliveryRow.of(r, found.get(r.id, ())) for r in rows[:limit])
    more = len(rows) > limit
    return DeliveryPage(items, _encode_cursor(items[-1].position) if more else None)


def _attempts_of(conn: Any, ids: list[UUID]) -> dict[UUID, tuple[AttemptRow, ...]]:
    if not ids:
        return {}
    rows = conn.execute(
        select(attempts).where(attempts.c.delivery_id.in_(ids)).order_by(attempts.c.attempt)
    ).all()
    found: dict[UUID, list[AttemptRow]] = {}
    for r in rows:
        found.setdefault(r.delivery_id, []).append(
            AttemptRow(r.attempt, r.at, r.duration_ms, r.status_code, r.error)
        )
    return {k: tuple(v) for k, v in found.items()}


def _encode_cursor(position: int) -> str:
    raw = json.dumps(["webhook-deliveries", position]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, position = json.loads(raw)
        if kind != "webhook-deliveries" or not isinstance(position, int) or isinstance(position, bool):
            raise ValueError(kind)
        return position
    except (ValueError, TypeError) as error:
        raise ValueError("The cursor is not one this server gave out for this list.") from error
