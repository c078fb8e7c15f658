"""Queries on the invoices read model: pages of an organization's invoices, newest first."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, and_, or_, select

from projections.catalog_queries import BAD_CURSOR, Page
from projections.invoices import InvoicesProjection
from projections.registry import live_tables

CURSOR_KIND = "invoices"


@dataclass(frozen=True)
class InvoiceRow:
    id: UUID
    org_id: UUID
    client_id: UUID
    state: str
    number: str | None
    currency: str
    period_from: date
    period_to: date
    issued_on: date | None
    due_date: date | None
    paid_on: date | None
    subtotal_minor: int
    total_minor: int
    line_count: int
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, row: Any) -> InvoiceRow:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


def _encode_cursor(row: InvoiceRow) -> str:
    raw = json.dumps([CURSOR_KIND, row.created_at.isoformat(), str(row.id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """(created_at, id) of the last invoice of the previous page; anything else is a ValueError."""
    try:
        kind, created, invoice_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = (datetime.fromisoformat(created), UUID(invoice_id))
    except (ValueError, TypeError) as error:
        raise ValueError(BAD_CURSOR) from error
    if kind != CURSOR_KIND or after[0].tzinfo is None:
        raise ValueError(BAD_CURSOR)
    return after


def list_invoices(
    engine: Engine,
    org_id: UUID,
    *,
    state: str | None = None,
    client_id: UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[InvoiceRow]:
    """An organization's invoices, newest draft first: of one `state`, or all but discarded drafts."""
    if limit < 1:
        raise ValueError("A page holds at least one item; ask for a limit of 1 or more.")
    with engine.connect() as conn:
        t = live_tables(conn, InvoicesProjection)["invoices"]
        query = select(t).where(t.c.org_id == org_id)
        query = query.where(t.c.state == state if state is not None else t.c.state != "discarded")
        if client_id is not None:
            query = query.where(t.c.client_id == client_id)
        if cursor is not None:
            created_at, after_id = _decode_cursor(cursor)
            query = query.where(
                or_(t.c.created_at < created_at, and_(t.c.created_at == created_at, t.c.id < after_id))
            )
        rows = conn.execute(query.order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit + 1)).all()
    items = tuple(InvoiceRow.of(r) for r in rows[:limit])
    return Page(items, _encode_cursor(items[-1]) if len(rows) > limit else None)


def get_invoice_row(engine: Engine, org_id: UUID, invoice_id: UUID) -> InvoiceRow | None:
    with engine.connect() as conn:
        t = live_tables(conn, InvoicesProjection)["invoices"]
        row = conn.execute(select(t).where(and_(t.c.id == invoice_id, t.c.org_id == org_id))).first()
    return InvoiceRow.of(row) if row is not None else None
