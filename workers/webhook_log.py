"""Writes to the webhook delivery log (tables in `projections/webhook_log.py`).

The dispatcher writes inside its own transaction (the position and the rows it
creates commit together); the delivery actor claims a row, then records each
attempt. Every write is conditional, so a repeated message or a second process
changes nothing it should not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, and_, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from projections.webhook_log import (
    DISPATCHER,
    DeliveryRow,
    attempts,
    deliveries,
    dispatch,
    ensure_tables,
    subscriptions,
)

__all__ = [
    "Subscription",
    "claim",
    "delete_subscription",
    "finish",
    "insert_delivery",
    "lock_position",
    "mark_enqueued",
    "position",
    "prepare",
    "record_attempt",
    "resend_candidates",
    "save_subscription",
    "set_position",
    "subscriptions_of",
    "take_for_resend",
]


@dataclass(frozen=True)
class Subscription:
    """What the dispatcher knows of a subscription: enough to match events, nothing to send them."""

    id: UUID
    org_id: UUID
    event_types: tuple[str, ...]
    active: bool

    def wants(self, event_type: str) -> bool:
        return self.active and ("*" in self.event_types or event_type in self.event_types)


def prepare(engine: Engine) -> None:
    """Create the tables and the dispatcher's position row (at 0) if missing."""
    ensure_tables(engine)
    with engine.connect() as conn:
        found = conn.execute(select(dispatch.c.position).where(dispatch.c.name == DISPATCHER)).first()
    if found is not None:
        return
    try:
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(insert(dispatch).values(name=DISPATCHER, position=0))
    except IntegrityError:
        pass  # another process inserted it first


# --- the dispatcher, inside its transaction ------------------------------------------------


def lock_position(conn: Connection) -> int:
    """The dispatcher's position, locked against other dispatchers until the transaction ends."""
    query = select(dispatch.c.position).where(dispatch.c.name == DISPATCHER).with_for_update()
    return int(conn.execute(query).scalar_one())


def position(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(dispatch.c.position).where(dispatch.c.name == DISPATCHER)).scalar() or 0
        )


def set_position(conn: Connection, position: int) -> None:
    conn.execute(update(dispatch).where(dispatch.c.name == DISPATCHER).values(position=position))


def subscriptions_of(conn: Connection) -> dict[UUID, Subscription]:
    rows = conn.execute(select(subscriptions)).all()
    return {r.id: Subscription(r.id, r.org_id, tuple(r.event_types), bool(r.active)) for r in rows}


def save_subscription(conn: Connection, subscription: Subscription) -> None:
    values = {
        "org_id": subscription.org_id,
        "event_types": list(subscription.event_types),
        "active": subscription.active,
    }
    changed = conn.execute(
        update(subscriptions).where(subscriptions.c.id == subscription.id).values(**values)
    ).rowcount
    if not changed:
        conn.execute(insert(subscriptions).values(id=subscription.id, **values))


def delete_subscription(conn: Connection, subscription_id: UUID) -> None:
    conn.execute(delete(subscriptions).where(subscriptions.c.id == subscription_id))


def insert_delivery(conn: Connection, values: dict[str, Any]) -> bool:
    """Add a pending delivery; False when the (subscription, position) pair already has one."""
    insert_ = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert_(deliveries).values(
        status="pending",
        attempts=0,
        updated_at=values["created_at"],
        **values,
    )
    result = conn.execute(statement.on_conflict_do_nothing())
    return bool(result.rowcount)


# --- after the dispatcher's commit, and the sweep --------------------------------------------


def mark_enqueued(engine: Engine, ids: Iterable[UUID], now: datetime) -> None:
    wanted = list(ids)
    if not wanted:
        return
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(wanted), deliveries.c.enqueued_at.is_(None))
            .values(enqueued_at=now)
        )


def _needs_message(now: datetime, unsent_before: datetime, stale_before: datetime) -> Any:
    """Pending rows that no message will reach: never sent, or silent far beyond any backoff."""
    return and_(
        deliveries.c.status == "pending",
        or_(deliveries.c.leased_until.is_(None), deliveries.c.leased_until < now),
        or_(
            and_(deliveries.c.enqueued_at.is_(None), deliveries.c.created_at < unsent_before),
            and_(deliveries.c.enqueued_at < stale_before, deliveries.c.updated_at < stale_before),
        ),
    )


def resend_candidates(
    engine: Engine, now: datetime, unsent_before: datetime, stale_before: datetime, limit: int = 500
) -> list[UUID]:
    with engine.connect() as conn:
        query = select(deliveries.c.id).where(_needs_message(now, unsent_before, stale_before))
        return [r.id for r in conn.execute(query.limit(limit)).all()]


def take_for_resend(
    engine: Engine, delivery: UUID, now: datetime, unsent_before: datetime, stale_before: datetime
) -> bool:
    """Mark one candidate as sent now; False when another sweeper (or the dispatcher) took it."""
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        taken = conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery, _needs_message(now, unsent_before, stale_before))
            .values(enqueued_at=now, updated_at=now)
        ).rowcount
    return bool(taken)


# --- the delivery actor -----------------------------------------------------------------------


def claim(engine: Engine, delivery: UUID, now: datetime, lease: timedelta) -> DeliveryRow | None:
    """Take a pending, unleased delivery for one attempt; None when there is nothing to do."""
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        taken = conn.execute(
            update(deliveries)
            .where(
                deliveries.c.id == delivery,
                deliveries.c.status == "pending",
                or_(deliveries.c.leased_until.is_(None), deliveries.c.leased_until < now),
            )
            .values(leased_until=now + lease, updated_at=now)
        ).rowcount
        if not taken:
            return None
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery)).one()
    return DeliveryRow.of(row)


def record_attempt(
    engine: Engine,
    delivery: UUID,
    *,
    attempt: int,
    at: datetime,
    duration_ms: int,
    status_code: int | None,
    error: str | None,
    status: str,
) -> None:
    """Log one attempt and the delivery's new status, and release the lease, in one transaction."""
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(
            insert(attempts).values(
                delivery_id=delivery,
                attempt=attempt,
                at=at,
                duration_ms=duration_ms,
                status_code=status_code,
                error=error,
            )
        )
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery)
            .values(
                status=status,
                attempts=attempt,
                last_status_code=status_code,
                last_error=error,
                leased_until=None,
                updated_at=at,
                finished_at=at if status != "pending" else None,
            )
        )


def finish(engine: Engine, delivery: UUID, status: str, now: datetime, reason: str) -> None:
    """End a claimed delivery without sending it (its subscription is gone or inactive)."""
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery)
            .values(
                status=status, last_error=reason[:500], leased_until=None, updated_at=now, finished_at=now
            )
        )
