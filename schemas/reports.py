"""Reports: time and billable amounts summed over local days, grouped by the dimensions asked for."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Totals(BaseModel):
    seconds: int = Field(description="Worked seconds (pauses and breaks out, no rounding applied).")
    billable_seconds: int
    billable_amount_minor: int = Field(
        description="Billable seconds at the rate in effect each day, in minor units of `currency`."
    )


class SummaryRow(Totals):
    keys: dict[str, str | None] = Field(
        description="One value per group, in `group_by` order: client_id, project_id, task_id, member_id "
        "(UUIDs), tag, day, week (first day of the week), month (first day of the month); null for "
        "no client, no task or no tag."
    )


class Summary(BaseModel):
    """Totals of local days `from` to `to` (inclusive) in the organization's timezone."""

    from_: date = Field(alias="from")
    to: date
    currency: str
    group_by: list[str]
    rows: list[SummaryRow] = Field(description="Ordered by the keys, in `group_by` order; nulls last.")
    total: Totals = Field(description="All time of the range, each entry counted once.")
