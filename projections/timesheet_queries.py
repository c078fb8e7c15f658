"""Queries on the timesheets read model: lists, the approvals queue, one timesheet and its history.

Every function takes the caller's `org_id` and never returns another organization's
rows. A timesheet's `total_seconds` is the member's worked time on the period's local
days, from the totals read model (the same numbers as a report of those days); its
`member_name` comes from the catalog read model.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, Select, and_, func, or_, select

from projections.catalog import CatalogProjection
from projections.registry import live_tables
from projections.timesheets import STEP_OF_EVENT, UNTOUCHED, TimesheetsProjection, advance
from projections.totals import TotalsProjection

BAD_CURSOR = "The cursor is not one this server gave out for this list; start again without it."
EVENT_TYPE = {step: f"Timesheet.{cls.__name__}" for cls, step in STEP_OF_EVENT.items()}


@dataclass(frozen=True)
class TimesheetRow:
    id: UUID
    org_id: UUID
    member_id: UUID
    kind: str
    first_day: date
    last_day: date
    start: datetime
    end: datetime
    state: str
    note: str
    reason: str
    entry_count: int
    submitted_at: datetime | None
    decided_at: datetime | None
    decided_by: UUID | None
    version: int
    updated_at: datetime
    member_name: str | None
    total_seconds: int


@dataclass(frozen=True)
class TimesheetStep:
    """One event of a timesheet: what happened, who did it, when, and the note or reason given."""

    version: int
    event_type: str
    recorded_at: datetime
    actor_kind: str
    actor_user_id: UUID | None
    actor_name: str | None
    actor_token_id: UUID | None
    device_id: str | None
    comment: str
    entry_count: int | None


@dataclass(frozen=True)
class TimesheetPage:
    items: tuple[TimesheetRow, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class TimesheetFilter:
    """Filters of a timesheet list; None means "any". Days select periods that overlap them."""

    member_id: UUID | None = None
    state: str | None = None
    day_from: date | None = None
    day_to: date | None = None


_COLUMNS = tuple(f.name for f in fields(TimesheetRow) if f.name not in ("member_name", "total_seconds"))


# --- cursors -----------------------------------------------------------------------


def _encode(kind: str, value: str, item_id: UUID) -> str:
    raw = json.dumps([kind, value, str(item_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(kind: str, cursor: str) -> tuple[str, UUID]:
    try:
        found = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(found, list) and len(found) == 3 and found[0] == kind):
            raise ValueError(cursor)
        value, item_id = found[1], found[2]
        if not isinstance(value, str) or not isinstance(item_id, str):
            raise ValueError(cursor)
        return value, UUID(item_id)
    except (ValueError, TypeError) as error:
        raise ValueError(BAD_CURSOR) from error


def _day_cursor(cursor: str) -> tuple[date, UUID]:
    value, item_id = _decode("timesheets", cursor)
    try:
        return date.fromisoformat(value), item_id
    except ValueError as error:
        raise ValueError(BAD_CURSOR) from error


def _instant_cursor(cursor: str) -> tuple[datetime, UUID]:
    value, item_id = _decode("approvals", cursor)
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as error:
        raise ValueError(BAD_CURSOR) from error
    if instant.tzinfo is None or not 1900 <= instant.year <= 2999:
        raise ValueError(BAD_CURSOR)
    return instant.astimezone(UTC), item_id


# --- queries ---------------------------------------------------------------------------


def _select(conn: Connection, org_id: UUID) -> Select[Any]:
    """Timesheets of an organization with their member's name and the period's worked time."""
    t = live_tables(conn, TimesheetsProjection)["timesheets"]
    users = live_tables(conn, CatalogProjection)["users"]
    daily = live_tables(conn, TotalsProjection)["daily"]
    total = (
        select(func.coalesce(func.sum(daily.c.seconds), 0))
        .where(
            daily.c.org_id == t.c.org_id,
            daily.c.member_id == t.c.member_id,
            daily.c.day >= t.c.first_day,
            daily.c.day <= t.c.last_day,
        )
        .scalar_subquery()
    )
    return (
        select(t, users.c.display_name.label("member_name"), total.label("total_seconds"))
        .select_from(t.outerjoin(users, users.c.id == t.c.member_id))
        .where(t.c.org_id == org_id)
    )


def _row(r: Any) -> TimesheetRow:
    values = {name: getattr(r, name) for name in _COLUMNS}
    # PostgreSQL sums BIGINT as NUMERIC, so the sum comes back as Decimal there.
    return TimesheetRow(**values, member_name=r.member_name, total_seconds=int(r.total_seconds))


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError("A page holds at least one item; ask for a limit of 1 or more.")


def list_timesheets(
    engine: Engine,
    org_id: UUID,
    where: TimesheetFilter | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> TimesheetPage:
    """Timesheets of an organization, latest period first, a page at a time."""
    _check_limit(limit)
    where = where or TimesheetFilter()
    with engine.connect() as conn:
        t = live_tables(conn, TimesheetsProjection)["timesheets"]
        query = _select(conn, org_id)
        if where.member_id is not None:
            query = query.where(t.c.member_id == where.member_id)
        if where.state is not None:
            query = query.where(t.c.state == where.state)
        if where.day_from is not None:
            query = query.where(t.c.last_day >= where.day_from)
        if where.day_to is not None:
            query = query.where(t.c.first_day <= where.day_to)
        if cursor is not None:
            after_day, after_id = _day_cursor(cursor)
            query = query.where(
                or_(t.c.first_day < after_day, and_(t.c.first_day == after_day, t.c.id < after_id))
            )
        rows = conn.execute(query.order_by(t.c.first_day.desc(), t.c.id.desc()).limit(limit + 1)).all()
    items = tuple(_row(r) for r in rows[:limit])
    last = items[-1] if items else None
    next_cursor = (
        _encode("timesheets", last.first_day.isoformat(), last.id)
        if last is not None and len(rows) > limit
        else None
    )
    return TimesheetPage(items, next_cursor)


def approval_queue(
    engine: Engine,
    org_id: UUID,
    *,
    exclude_member: UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> TimesheetPage:
    """Submitted timesheets, the longest waiting first; `exclude_member`'s own are left out."""
    _check_limit(limit)
    with engine.connect() as conn:
        t = live_tables(conn, TimesheetsProjection)["timesheets"]
        query = _select(conn, org_id).where(t.c.state == "submitted")
        if exclude_member is not None:
            query = query.where(t.c.member_id != exclude_member)
        if cursor is not None:
            after_at, after_id = _instant_cursor(cursor)
            query = query.where(
                or_(t.c.submitted_at > after_at, and_(t.c.submitted_at == after_at, t.c.id > after_id))
            )
        rows = conn.execute(query.order_by(t.c.submitted_at, t.c.id).limit(limit + 1)).all()
    items = tuple(_row(r) for r in rows[:limit])
    last = items[-1] if items else None
    next_cursor = (
        _encode("approvals", last.submitted_at.isoformat(), last.id)
        if last is not None and last.submitted_at is not None and len(rows) > limit
        else None
    )
    return TimesheetPage(items, next_cursor)


def get_timesheet(
    engine: Engine, org_id: UUID, timesheet_id: UUID, version: int | None = None
) -> TimesheetRow | None:
    """One timesheet as it stands, or as it stood at `version` (folded again from its history)."""
    with engine.connect() as conn:
        tables = live_tables(conn, TimesheetsProjection)
        t, h = tables["timesheets"], tables["events"]
        found = conn.execute(_select(conn, org_id).where(t.c.id == timesheet_id)).first()
        if found is None or version is None or version == found.version:
            return _row(found) if found is not None else None
        steps = conn.execute(
            select(h).where(h.c.timesheet_id == timesheet_id, h.c.version <= version).order_by(h.c.version)
        ).mappings()
        row = {name: getattr(found, name) for name in _COLUMNS} | UNTOUCHED
        for step in steps:
            row = advance(row, dict(step))
    if row["version"] != version:
        return None
    return TimesheetRow(**row, member_name=found.member_name, total_seconds=int(found.total_seconds))


def timesheet_history(engine: Engine, org_id: UUID, timesheet_id: UUID) -> list[TimesheetStep]:
    """Every event of a timesheet, oldest first, with the name of the person behind each."""
    with engine.connect() as conn:
        h = live_tables(conn, TimesheetsProjection)["events"]
        users = live_tables(conn, CatalogProjection)["users"]
        rows = conn.execute(
            select(h, users.c.display_name.label("actor_name"))
            .select_from(h.outerjoin(users, users.c.id == h.c.actor_user_id))
            .where(h.c.org_id == org_id, h.c.timesheet_id == timesheet_id)
            .order_by(h.c.version)
        ).all()
    return [
        TimesheetStep(
            version=r.version,
            event_type=EVENT_TYPE[r.step],
            recorded_at=r.recorded_at,
            actor_kind=r.actor_kind,
            actor_user_id=r.actor_user_id,
            actor_name=r.actor_name,
            actor_token_id=r.actor_token_id,
            device_id=r.device_id,
            comment=r.comment,
            entry_count=r.entry_count,
        )
        for r in rows
    ]


def tracked_seconds(engine: Engine, org_id: UUID, member_id: UUID, first_day: date, last_day: date) -> int:
    """A member's worked seconds on a range of local days (inclusive), from the totals read model."""
    with engine.connect() as conn:
        daily = live_tables(conn, TotalsProjection)["daily"]
        total = conn.execute(
            select(func.coalesce(func.sum(daily.c.seconds), 0)).where(
                daily.c.org_id == org_id,
                daily.c.member_id == member_id,
                daily.c.day >= first_day,
                daily.c.day <= last_day,
            )
        ).scalar()
    return int(total or 0)
