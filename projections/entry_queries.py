"""Queries on the entries read model: pages of entries with filters, and running timers."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, and_, or_, select

from projections.entries import EntriesProjection
from projections.registry import live_tables


@dataclass(frozen=True)
class EntryRow:
    id: UUID
    org_id: UUID
    member_id: UUID
    project_id: UUID
    client_id: UUID | None
    task_id: UUID | None
    description: str
    tags: tuple[str, ...]
    billable: bool
    start: datetime
    end: datetime | None
    break_seconds: int
    duration_seconds: int | None
    status: str
    version: int
    last_editor: UUID | None
    updated_at: datetime
    lock: str | None = None  # "submitted", "approved" or "invoiced" while something holds it


@dataclass(frozen=True)
class EntryPage:
    items: tuple[EntryRow, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class RunningTimer:
    org_id: UUID
    member_id: UUID
    entry_id: UUID
    project_id: UUID
    task_id: UUID | None
    description: str
    start: datetime
    paused_at: datetime | None


@dataclass(frozen=True)
class EntryFilter:
    """Filters of an entry list; None means "any"."""

    member_id: UUID | None = None
    project_id: UUID | None = None
    client_id: UUID | None = None
    task_id: UUID | None = None
    tag: str | None = None
    billable: bool | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None
    include_deleted: bool = False


def _row(r: Any) -> EntryRow:
    return EntryRow(
        id=r.id,
        org_id=r.org_id,
        member_id=r.member_id,
        project_id=r.project_id,
        client_id=r.client_id,
        task_id=r.task_id,
        description=r.description,
        tags=tuple(r.tags),
        billable=r.billable,
        start=r.start,
        end=r.end,
        break_seconds=r.break_seconds,
        duration_seconds=r.duration_seconds,
        status=r.status,
        version=r.version,
        last_editor=r.last_editor,
        updated_at=r.updated_at,
        lock=r.lock,
    )


def _encode_cursor(start: datetime, entry_id: UUID) -> str:
    raw = json.dumps([start.isoformat(), str(entry_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        start, entry_id = json.loads(raw)
        instant = datetime.fromisoformat(start).astimezone(UTC)
        if not 1900 <= instant.year <= 2999:
            raise ValueError(start)
        return instant, UUID(entry_id)
    except (ValueError, TypeError, OverflowError) as error:
        raise ValueError("The cursor is not one this server gave out.") from error


def list_entries(
    engine: Engine, org_id: UUID, where: EntryFilter | None = None, cursor: str | None = None, limit: int = 50
) -> EntryPage:
    """Entries of an organization, newest start first, a page at a time."""
    where = where or EntryFilter()
    with engine.connect() as conn:
        t = live_tables(conn, EntriesProjection)
        e = t["entries"]
        query = select(e).where(e.c.org_id == org_id)
        for column, value in (
            ("member_id", where.member_id),
            ("project_id", where.project_id),
            ("client_id", where.client_id),
            ("task_id", where.task_id),
            ("billable", where.billable),
        ):
            if value is not None:
                query = query.where(e.c[column] == value)
        if not where.include_deleted:
            query = query.where(e.c.deleted.is_(False))
        if where.start_from is not None:
            query = query.where(e.c.start >= where.start_from)
        if where.start_to is not None:
            query = query.where(e.c.start < where.start_to)
        if where.tag is not None:
            tags = t["tags"]
            query = query.where(
                e.c.id.in_(
                    select(tags.c.entry_id).where(and_(tags.c.org_id == org_id, tags.c.tag == where.tag))
                )
            )
        if cursor is not None:
            after_start, after_id = _decode_cursor(cursor)
            query = query.where(
                or_(e.c.start < after_start, and_(e.c.start == after_start, e.c.id < after_id))
            )
        rows = conn.execute(query.order_by(e.c.start.desc(), e.c.id.desc()).limit(limit + 1)).all()
    items = tuple(_row(r) for r in rows[:limit])
    next_cursor = _encode_cursor(items[-1].start, items[-1].id) if len(rows) > limit else None
    return EntryPage(items, next_cursor)


def get_entry(engine: Engine, org_id: UUID, entry_id: UUID) -> EntryRow | None:
    with engine.connect() as conn:
        e = live_tables(conn, EntriesProjection)["entries"]
        row = conn.execute(select(e).where(and_(e.c.id == entry_id, e.c.org_id == org_id))).first()
    return _row(row) if row is not None else None


def running_timers(engine: Engine, org_id: UUID) -> list[RunningTimer]:
    """Who is working now (running or paused timers), earliest start first."""
    with engine.connect() as conn:
        r = live_tables(conn, EntriesProjection)["running"]
        rows = conn.execute(select(r).where(r.c.org_id == org_id).order_by(r.c.start)).all()
    return [
        RunningTimer(
            x.org_id, x.member_id, x.entry_id, x.project_id, x.task_id, x.description, x.start, x.paused_at
        )
        for x in rows
    ]
