"""Report summaries: worked time and billable amounts over local days, grouped by dimensions.

Sums come from the totals read model (`rm_daily_totals`), so they match
timesheets and budgets to the minor unit. Tags are not part of the daily
totals: grouping by tag reads each entry's per-day contributions (kept by the
totals projection) together with the entry's tags (entries read model). An
entry with two tags counts under both; an untagged entry counts under `None`.
Clients come from the catalog: a project moved to another client takes its
history along, as the entries list shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Select, func, select

from ledger.timezones import local_midnight, week_start
from projections.catalog import CatalogProjection
from projections.entries import EntriesProjection
from projections.registry import live_tables
from projections.totals import NO_TASK, TotalsProjection

DIMENSIONS = ("client", "project", "task", "member", "tag", "day", "week", "month")
# The name of each dimension's key in a report row.
KEY_NAMES = {
    "client": "client_id",
    "project": "project_id",
    "task": "task_id",
    "member": "member_id",
    "tag": "tag",
    "day": "day",
    "week": "week",
    "month": "month",
}
PERIODS = ("day", "week", "month")

Key = UUID | date | str | None


@dataclass(frozen=True)
class SummaryQuery:
    """What to sum: an organization's local days `day_from`..`day_to` (inclusive), grouped by `group_by`."""

    org_id: UUID
    day_from: date
    day_to: date
    group_by: tuple[str, ...]
    timezone: str = "UTC"
    week_start: str = "monday"
    # Only this member's time (a member's own report); None for everyone's.
    member_id: UUID | None = None

    def __post_init__(self) -> None:
        unknown = [g for g in self.group_by if g not in DIMENSIONS]
        if unknown:
            raise ValueError(f"Unknown dimension {unknown[0]!r}; use {', '.join(DIMENSIONS)}.")


@dataclass(frozen=True)
class SummaryRow:
    """One group: its keys in `group_by` order, and its sums."""

    keys: tuple[Key, ...]
    seconds: int
    billable_seconds: int
    billable_amount_minor: int


@dataclass(frozen=True)
class Summary:
    rows: tuple[SummaryRow, ...]
    total: SummaryRow


def summarize(engine: Engine, query: SummaryQuery) -> Summary:
    """Rows ordered by their keys (nulls last), and the total with each entry counted once."""
    with engine.connect() as conn:
        parts = _tagged_parts(conn, query) if "tag" in query.group_by else _daily_parts(conn, query)
        total = _total(conn, query)
    sums: dict[tuple[Key, ...], list[int]] = {}
    for values, amounts in parts:
        keys = tuple(_key(name, values) for name in query.group_by)
        found = sums.setdefault(keys, [0, 0, 0])
        for i in range(3):
            found[i] += amounts[i]
    rows = tuple(SummaryRow(keys, *sums[keys]) for keys in sorted(sums, key=_order))
    return Summary(rows, total)


def _key(name: str, values: dict[str, Any]) -> Key:
    if name == "week":
        return week_start(values["day"], values["week_start"])
    if name == "month":
        return date(values["day"].year, values["day"].month, 1)
    found: Key = values[name]
    return found


def _order(keys: tuple[Key, ...]) -> tuple[tuple[bool, str], ...]:
    # UUIDs as hex text sort as the databases sort them; ISO dates sort by time.
    return tuple((k is None, "" if k is None else str(k)) for k in keys)


Part = tuple[dict[str, Any], tuple[int, int, int]]


def _daily_parts(conn: Connection, query: SummaryQuery) -> list[Part]:
    """Sums of the daily totals, grouped in SQL by the columns the dimensions need."""
    d = live_tables(conn, TotalsProjection)["daily"]
    projects = live_tables(conn, CatalogProjection)["projects"]
    columns = {
        "client": projects.c.client_id,
        "project": d.c.project_id,
        "task": d.c.task_key,
        "member": d.c.member_id,
        "day": d.c.day,
    }
    needed = {"day" if g in PERIODS else g for g in query.group_by}
    chosen = [(name, column) for name, column in columns.items() if name in needed]
    statement = _filtered(
        select(
            *(column for _, column in chosen),
            func.sum(d.c.seconds),
            func.sum(d.c.billable_seconds),
            func.sum(d.c.billable_amount_minor),
        ),
        d,
        query,
    )
    if "client" in needed:
        statement = statement.select_from(d.outerjoin(projects, projects.c.id == d.c.project_id))
    statement = statement.group_by(*(column for _, column in chosen))
    parts: list[Part] = []
    for row in conn.execute(statement).all():
        values = {name: row[i] for i, (name, _) in enumerate(chosen)}
        if "task" in values and values["task"] == NO_TASK:
            values["task"] = None
        values["week_start"] = query.week_start
        # PostgreSQL sums BIGINT as NUMERIC, so the sums come back as Decimal there.
        n = len(chosen)
        parts.append((values, (int(row[n]), int(row[n + 1]), int(row[n + 2]))))
    return parts


def _filtered(statement: Select[Any], d: Any, query: SummaryQuery) -> Select[Any]:
    statement = statement.where(
        d.c.org_id == query.org_id, d.c.day >= query.day_from, d.c.day <= query.day_to
    )
    if query.member_id is not None:
        statement = statement.where(d.c.member_id == query.member_id)
    return statement


def _total(conn: Connection, query: SummaryQuery) -> SummaryRow:
    d = live_tables(conn, TotalsProjection)["daily"]
    sums = (func.sum(d.c.seconds), func.sum(d.c.billable_seconds), func.sum(d.c.billable_amount_minor))
    row = conn.execute(_filtered(select(*sums), d, query)).one()
    return SummaryRow((), *(int(value or 0) for value in row))


def _tagged_parts(conn: Connection, query: SummaryQuery) -> list[Part]:
    """One part per (entry, tag, local day): the entry's contribution to that day, once per tag."""
    totals = live_tables(conn, TotalsProjection)["entries"]
    entries = live_tables(conn, EntriesProjection)["entries"]
    projects = live_tables(conn, CatalogProjection)["projects"]
    tz = ZoneInfo(query.timezone)
    # An entry adds to local days between its start and end only: a superset, cut to days below.
    begins = local_midnight(query.day_from, tz)
    ends = local_midnight(query.day_to + timedelta(days=1), tz)
    statement = (
        select(
            totals.c.member_id,
            totals.c.project_id,
            totals.c.task_id,
            totals.c.contributions,
            projects.c.client_id,
            entries.c.tags,
        )
        .select_from(
            totals.join(entries, entries.c.id == totals.c.id).outerjoin(
                projects, projects.c.id == totals.c.project_id
            )
        )
        .where(
            totals.c.org_id == query.org_id,
            totals.c.deleted.is_(False),
            totals.c["end"].is_not(None),
            totals.c.start < ends,
            totals.c["end"] > begins,
        )
    )
    if query.member_id is not None:
        statement = statement.where(totals.c.member_id == query.member_id)
    parts: list[Part] = []
    for row in conn.execute(statement).all():
        base = {
            "client": row.client_id,
            "project": row.project_id,
            "task": row.task_id,
            "member": row.member_id,
            "week_start": query.week_start,
        }
        for day, amounts in _days_in(row.contributions, query.day_from, query.day_to):
            for tag in _tags(row.tags):
                parts.append(({**base, "day": day, "tag": tag}, amounts))
    return parts


def _days_in(
    contributions: dict[str, list[int]], day_from: date, day_to: date
) -> Iterable[tuple[date, tuple[int, int, int]]]:
    for text, (seconds, billable, amount) in contributions.items():
        day = date.fromisoformat(text)
        if day_from <= day <= day_to:
            yield day, (int(seconds), int(billable), int(amount))


def _tags(tags: Sequence[str] | None) -> list[str | None]:
    found: list[str | None] = list(dict.fromkeys(tags or ()))
    return found or [None]
