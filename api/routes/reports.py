"""Reports: `/reports/summary`, totals of time and money grouped by any of eight dimensions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.auth import Principal, ledger_of, require, sees_everyone
from api.commands import read_side
from api.problems import ApiProblem
from ledger.application import TimeLedger
from projections.report_queries import DIMENSIONS, KEY_NAMES, SummaryQuery, summarize
from schemas.reports import Summary, SummaryRow, Totals

router = APIRouter(tags=["reports"])
Reader = Annotated[Principal, Depends(require("read:reports"))]
Ledger = Annotated[TimeLedger, Depends(ledger_of)]
MAX_DAYS = 366
# The years every instant of the API lies in (see schemas.common.Instant).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def parse_group_by(text: str) -> tuple[str, ...]:
    groups = tuple(part.strip() for part in text.split(","))
    for group in groups:
        if group not in DIMENSIONS:
            raise ApiProblem(
                422,
                "invalid-input",
                f"group_by: unknown group {group!r}; use one or more of {', '.join(DIMENSIONS)}.",
                field="group_by",
            )
    if len(set(groups)) != len(groups):
        raise ApiProblem(422, "invalid-input", "group_by: a group is named twice.", field="group_by")
    return groups


def check_range(day_from: date, day_to: date) -> None:
    for field, day in (("from", day_from), ("to", day_to)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ApiProblem(
                422, "invalid-input", f"{field}: a day must fall in the years 1900 to 2999.", field=field
            )
    if day_to < day_from:
        raise ApiProblem(422, "invalid-input", "to: the range ends before it begins.", field="to")
    if (day_to - day_from).days + 1 > MAX_DAYS:
        raise ApiProblem(422, "invalid-input", f"to: a report spans at most {MAX_DAYS} days.", field="to")


@router.get(
    "/reports/summary",
    response_model=Summary,
    response_model_by_alias=True,
    summary="Time and billable amounts of a range of days, grouped",
)
def summary(
    principal: Reader,
    ledger: Ledger,
    request: Request,
    from_: Annotated[date, Query(alias="from", description="First local day (YYYY-MM-DD), inclusive")],
    to: Annotated[date, Query(description="Last local day (YYYY-MM-DD), inclusive; at most 366 days")],
    group_by: Annotated[
        str,
        Query(
            description=f"One or more of {', '.join(DIMENSIONS)}, comma separated, outermost first.",
            examples=["project,day"],
        ),
    ],
) -> Summary:
    """Days are the organization's local days. Members see their own time, managers and above everyone's.

    Grouped by `tag`, an entry with two tags counts under both (so the rows can add up to more than
    `total`), and an untagged entry counts under tag null. `week` is the first day of the week as the
    organization's `week_start` setting cuts weeks; `month` is the first day of the month. Amounts are
    the billable seconds at each day's rate, before any rounding rule of the organization's settings.
    """
    groups = parse_group_by(group_by)
    check_range(from_, to)
    settings = ledger.get_organization(principal.org_id, principal.actor).settings
    query = SummaryQuery(
        org_id=principal.org_id,
        day_from=from_,
        day_to=to,
        group_by=groups,
        timezone=settings.timezone,
        week_start=settings.week_start,
        member_id=None if sees_everyone(principal) else principal.user_id,
    )
    found = summarize(read_side(request).engine, query)
    rows = [
        SummaryRow(
            keys={
                KEY_NAMES[name]: None if key is None else str(key)
                for name, key in zip(groups, row.keys, strict=True)
            },
            seconds=row.seconds,
            billable_seconds=row.billable_seconds,
            billable_amount_minor=row.billable_amount_minor,
        )
        for row in found.rows
    ]
    total = found.total
    return Summary.model_validate(
        {
            "from": from_,
            "to": to,
            "currency": settings.currency,
            "group_by": list(groups),
            "rows": rows,
            "total": Totals(
                seconds=total.seconds,
                billable_seconds=total.billable_seconds,
                billable_amount_minor=total.billable_amount_minor,
            ),
        }
    )
