"""Queries on the totals read model: daily rows, sums by member/project/day, project budgets.

Day ranges are inclusive at both ends (`day_from` <= day <= `day_to`), days being
the organization's local days. Amounts are in minor units, before any rounding
rule from the settings (see `projections.totals`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, NamedTuple
from uuid import UUID

from sqlalchemy import Engine, func, select

from projections.registry import live_tables
from projections.totals import NO_TASK, TotalsProjection

GroupBy = Literal["member", "project", "day"]


@dataclass(frozen=True)
class DailyTotal:
    org_id: UUID
    member_id: UUID
    project_id: UUID
    task_id: UUID | None
    day: date
    seconds: int
    billable_seconds: int
    billable_amount_minor: int


class Total(NamedTuple):
    """One group of `totals_by`: (key, seconds, billable_seconds, amount)."""

    key: Any
    seconds: int
    billable_seconds: int
    amount_minor: int


@dataclass(frozen=True)
class ProjectBudget:
    project_id: UUID
    org_id: UUID
    budget_seconds: int | None
    budget_minor: int | None
    used_seconds: int
    used_billable_seconds: int
    used_minor: int


def daily_totals(
    engine: Engine,
    org_id: UUID,
    day_from: date,
    day_to: date,
    member_id: UUID | None = None,
    project_id: UUID | None = None,
) -> list[DailyTotal]:
    """Rows of an organization's days, ordered by day, member, project, task (no task first)."""
    with engine.connect() as conn:
        d = live_tables(conn, TotalsProjection)["daily"]
        query = select(d).where(d.c.org_id == org_id, d.c.day >= day_from, d.c.day <= day_to)
        if member_id is not None:
            query = query.where(d.c.member_id == member_id)
        if project_id is not None:
            query = query.where(d.c.project_id == project_id)
        order = (d.c.day, d.c.member_id, d.c.project_id, d.c.task_key)
        rows = conn.execute(query.order_by(*order)).all()
    return [
        DailyTotal(
            org_id=r.org_id,
            member_id=r.member_id,
            project_id=r.project_id,
            task_id=None if r.task_key == NO_TASK else r.task_key,
            day=r.day,
            seconds=int(r.seconds),
            billable_seconds=int(r.billable_seconds),
            billable_amount_minor=int(r.billable_amount_minor),
        )
        for r in rows
    ]


def totals_by(engine: Engine, org_id: UUID, day_from: date, day_to: date, group_by: GroupBy) -> list[Total]:
    """Sums over a range of days per member, project or day, ordered by that key."""
    columns = {"member": "member_id", "project": "project_id", "day": "day"}
    if group_by not in columns:
        raise ValueError(f"totals_by groups by member, project or day, not {group_by!r}.")
    with engine.connect() as conn:
        d = live_tables(conn, TotalsProjection)["daily"]
        key = d.c[columns[group_by]]
        query = (
            select(
                key,
                func.sum(d.c.seconds),
                func.sum(d.c.billable_seconds),
                func.sum(d.c.billable_amount_minor),
            )
            .where(d.c.org_id == org_id, d.c.day >= day_from, d.c.day <= day_to)
            .group_by(key)
            .order_by(key)
        )
        rows = conn.execute(query).all()
    # PostgreSQL sums BIGINT as NUMERIC, so the sums come back as Decimal there.
    return [Total(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]


def project_budget(engine: Engine, project_id: UUID) -> ProjectBudget | None:
    with engine.connect() as conn:
        b = live_tables(conn, TotalsProjection)["budgets"]
        r = conn.execute(select(b).where(b.c.project_id == project_id)).first()
    if r is None:
        return None
    return ProjectBudget(
        project_id=r.project_id,
        org_id=r.org_id,
        budget_seconds=r.budget_seconds,
        budget_minor=r.budget_minor,
        used_seconds=int(r.used_seconds),
        used_billable_seconds=int(r.used_billable_seconds),
        used_minor=int(r.used_minor),
    )
