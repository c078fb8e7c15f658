"""Queries on the catalog read model: the organization, members, clients, projects, tasks, rates.

Every function takes the caller's `org_id` and never returns another
organization's rows. Lists come a page at a time, ordered by name then id
(rates: in the order they were set), with an opaque cursor.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, Engine, Select, Table, and_, func, or_, select

from projections.catalog import CatalogProjection
from projections.registry import live_tables

T = TypeVar("T")
BAD_CURSOR = "The cursor is not one this server gave out for this list; start again without it."


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; `next_cursor` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class OrganizationRow:
    id: UUID
    name: str
    settings: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class MemberRow:
    user_id: UUID
    email: str
    display_name: str
    role: str
    joined_at: datetime


@dataclass(frozen=True)
class ClientRow:
    id: UUID
    name: str
    archived: bool


@dataclass(frozen=True)
class ProjectRow:
    id: UUID
    name: str
    client_id: UUID | None
    billable: bool
    budget_seconds: int | None
    budget_minor: int | None
    currency: str
    archived: bool


@dataclass(frozen=True)
class TaskRow:
    id: UUID
    project_id: UUID
    name: str
    archived: bool


@dataclass(frozen=True)
class RateRow:
    seq: int
    level: str
    amount_minor: int | None
    currency: str
    effective_from: date
    client_id: UUID | None
    project_id: UUID | None
    member_id: UUID | None


# --- cursors -----------------------------------------------------------------------


def _encode_cursor(kind: str, *values: object) -> str:
    raw = json.dumps([kind, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(kind: str, cursor: str) -> list[Any]:
    """The values of a cursor of this list (`kind`); anything else is a ValueError."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found = json.loads(raw)
    except (ValueError, TypeError) as error:
        raise ValueError(BAD_CURSOR) from error
    if not isinstance(found, list) or not found or found[0] != kind:
        raise ValueError(BAD_CURSOR)
    return found[1:]


def _name_cursor(kind: str, cursor: str) -> tuple[str, UUID]:
    values = _decode_cursor(kind, cursor)
    if len(values) != 2 or not isinstance(values[0], str) or not isinstance(values[1], str):
        raise ValueError(BAD_CURSOR)
    if "\x00" in values[0]:  # no name holds one, and PostgreSQL text cannot compare with one
        raise ValueError(BAD_CURSOR)
    try:
        return values[0], UUID(values[1])
    except ValueError as error:
        raise ValueError(BAD_CURSOR) from error


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError("A page holds at least one item; ask for a limit of 1 or more.")


def _by_name(
    conn: Connection, query: Select[Any], kind: str, name: Any, key: Any, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """Run a name-ordered query a page at a time (keyset paging on name, then id)."""
    _check_limit(limit)
    if cursor is not None:
        after_name, after_id = _name_cursor(kind, cursor)
        query = query.where(or_(name > after_name, and_(name == after_name, key > after_id)))
    rows = list(conn.execute(query.order_by(name, key).limit(limit + 1)).all())
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]._mapping
        next_cursor = _encode_cursor(kind, last[name], str(last[key]))
    return page, next_cursor


def _contains(column: Any, q: str) -> ColumnElement[bool]:
    """A case-insensitive substring match; `%` and `_` in `q` match themselves."""
    condition: ColumnElement[bool] = func.lower(column).contains(q.lower(), autoescape=True)
    return condition


def _tables(conn: Connection) -> dict[str, Table]:
    return live_tables(conn, CatalogProjection)


# --- the organization ----------------------------------------------------------------


def get_organization(engine: Engine, org_id: UUID) -> OrganizationRow | None:
    with engine.connect() as conn:
        o = _tables(conn)["organizations"]
        row = conn.execute(select(o).where(o.c.id == org_id)).first()
    if row is None:
        return None
    return OrganizationRow(row.id, row.name, dict(row.settings), row.created_at)


# --- members -------------------------------------------------------------------------


def _member_query(t: dict[str, Table], org_id: UUID) -> Select[Any]:
    m, u = t["members"], t["users"]
    return (
        select(m.c.user_id, m.c.role, m.c.joined_at, u.c.email, u.c.display_name)
        .join(u, u.c.id == m.c.user_id)
        .where(m.c.org_id == org_id)
    )


def _member(r: Any) -> MemberRow:
    return MemberRow(r.user_id, r.email, r.display_name, r.role, r.joined_at)


def list_members(
    engine: Engine,
    org_id: UUID,
    *,
    role: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[MemberRow]:
    """Members of an organization by display name; `q` matches the name or the email."""
    with engine.connect() as conn:
        t = _tables(conn)
        m, u = t["members"], t["users"]
        query = _member_query(t, org_id)
        if role is not None:
            query = query.where(m.c.role == role)
        if q:
            query = query.where(or_(_contains(u.c.display_name, q), _contains(u.c.email, q)))
        rows, next_cursor = _by_name(conn, query, "members", u.c.display_name, m.c.user_id, cursor, limit)
    return Page(tuple(_member(r) for r in rows), next_cursor)


def get_member(engine: Engine, org_id: UUID, user_id: UUID) -> MemberRow | None:
    with engine.connect() as conn:
        t = _tables(conn)
        row = conn.execute(_member_query(t, org_id).where(t["members"].c.user_id == user_id)).first()
    return _member(row) if row is not None else None


# --- clients -------------------------------------------------------------------------


def _client(r: Any) -> ClientRow:
    return ClientRow(r.id, r.name, r.archived)


def list_clients(
    engine: Engine,
    org_id: UUID,
    *,
    archived: bool | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ClientRow]:
    with engine.connect() as conn:
        c = _tables(conn)["clients"]
        query = select(c).where(c.c.org_id == org_id)
        if archived is not None:
            query = query.where(c.c.archived.is_(archived))
        if q:
            query = query.where(_contains(c.c.name, q))
        rows, next_cursor = _by_name(conn, query, "clients", c.c.name, c.c.id, cursor, limit)
    return Page(tuple(_client(r) for r in rows), next_cursor)


def get_client(engine: Engine, org_id: UUID, client_id: UUID) -> ClientRow | None:
    with engine.connect() as conn:
        c = _tables(conn)["clients"]
        row = conn.execute(select(c).where(and_(c.c.id == client_id, c.c.org_id == org_id))).first()
    return _client(row) if row is not None else None


# --- projects ------------------------------------------------------------------------


def _currency(conn: Connection, t: dict[str, Table], org_id: UUID) -> str:
    """The organization's currency, which every project budget is counted in."""
    settings = conn.execute(select(t["organizations"].c.settings).where(t["organizations"].c.id == org_id))
    found = settings.scalar()
    currency = found.get("currency") if isinstance(found, dict) else None
    return currency if isinstance(currency, str) else "EUR"


def _project(r: Any, currency: str) -> ProjectRow:
    return ProjectRow(
        id=r.id,
        name=r.name,
        client_id=r.client_id,
        billable=r.billable,
        budget_seconds=r.budget_seconds,
        budget_minor=r.budget_minor,
        currency=currency,
        archived=r.archived,
    )


def list_projects(
    engine: Engine,
    org_id: UUID,
    *,
    client_id: UUID | None = None,
    archived: bool | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ProjectRow]:
    with engine.connect() as conn:
        t = _tables(conn)
        p = t["projects"]
        query = select(p).where(p.c.org_id == org_id)
        if client_id is not None:
            query = query.where(p.c.client_id == client_id)
        if archived is not None:
            query = query.where(p.c.archived.is_(archived))
        if q:
            query = query.where(_contains(p.c.name, q))
        rows, next_cursor = _by_name(conn, query, "projects", p.c.name, p.c.id, cursor, limit)
        currency = _currency(conn, t, org_id)
    return Page(tuple(_project(r, currency) for r in rows), next_cursor)


def get_project(engine: Engine, org_id: UUID, project_id: UUID) -> ProjectRow | None:
    with engine.connect() as conn:
        t = _tables(conn)
        p = t["projects"]
        row = conn.execute(select(p).where(and_(p.c.id == project_id, p.c.org_id == org_id))).first()
        currency = _currency(conn, t, org_id)
    return _project(row, currency) if row is not None else None


# --- tasks ---------------------------------------------------------------------------


def _task(r: Any) -> TaskRow:
    return TaskRow(r.id, r.project_id, r.name, r.archived)


def list_tasks(
    engine: Engine,
    org_id: UUID,
    *,
    project_id: UUID | None = None,
    archived: bool | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[TaskRow]:
    with engine.connect() as conn:
        k = _tables(conn)["tasks"]
        query = select(k).where(k.c.org_id == org_id)
        if project_id is not None:
            query = query.where(k.c.project_id == project_id)
        if archived is not None:
            query = query.where(k.c.archived.is_(archived))
        if q:
            query = query.where(_contains(k.c.name, q))
        rows, next_cursor = _by_name(conn, query, "tasks", k.c.name, k.c.id, cursor, limit)
    return Page(tuple(_task(r) for r in rows), next_cursor)


def get_task(engine: Engine, org_id: UUID, task_id: UUID) -> TaskRow | None:
    with engine.connect() as conn:
        k = _tables(conn)["tasks"]
        row = conn.execute(select(k).where(and_(k.c.id == task_id, k.c.org_id == org_id))).first()
    return _task(row) if row is not None else None


# --- rates ---------------------------------------------------------------------------


def _rate(r: Any) -> RateRow:
    return RateRow(
        seq=r.seq,
        level=r.level,
        amount_minor=r.amount_minor,
        currency=r.currency,
        effective_from=date.fromisoformat(r.effective_from),
        client_id=r.client_id,
        project_id=r.project_id,
        member_id=r.member_id,
    )


def _seq_cursor(cursor: str) -> int:
    values = _decode_cursor("rates", cursor)
    if len(values) != 1 or not isinstance(values[0], int) or isinstance(values[0], bool):
        raise ValueError(BAD_CURSOR)
    return values[0]


def list_rates(
    engine: Engine,
    org_id: UUID,
    *,
    level: str | None = None,
    client_id: UUID | None = None,
    project_id: UUID | None = None,
    member_id: UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[RateRow]:
    """Every rate ever set (a cleared rate has amount None), in the order they were set."""
    _check_limit(limit)
    with engine.connect() as conn:
        r = _tables(conn)["rates"]
        query = select(r).where(r.c.org_id == org_id)
        for column, value in (
            ("level", level),
            ("client_id", client_id),
            ("project_id", project_id),
            ("member_id", member_id),
        ):
            if value is not None:
                query = query.where(r.c[column] == value)
        if cursor is not None:
            query = query.where(r.c.seq > _seq_cursor(cursor))
        rows = conn.execute(query.order_by(r.c.seq).limit(limit + 1)).all()
    items = tuple(_rate(x) for x in rows[:limit])
    next_cursor = _encode_cursor("rates", items[-1].seq) if len(rows) > limit else None
    return Page(items, next_cursor)


def get_rate(engine: Engine, org_id: UUID, seq: int) -> RateRow | None:
    with engine.connect() as conn:
        r = _tables(conn)["rates"]
        row = conn.execute(select(r).where(and_(r.c.org_id == org_id, r.c.seq == seq))).first()
    return _rate(row) if row is not None else None
