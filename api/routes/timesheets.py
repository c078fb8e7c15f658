"""Timesheets and the approvals queue: `/timesheets/*` and `/approvals`.

Members submit their own timesheets (managers may submit for them); managers, admins
and owners approve, reject and reopen them, a manager never their own. Lists and the
queue come from the timesheets read model; a command answers once it shows there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth import Principal, ledger_of, require, sees_everyone
from api.commands import IdempotencyKey, command_id, read_side, settle
from api.problems import ApiProblem
from ledger.application import TimeLedger
from ledger.core import Receipt
from ledger.errors import ForbiddenError, NotFoundError
from ledger.organization import ADMIN_ROLES
from projections import timesheet_queries as queries
from schemas.common import Page
from schemas.timesheets import (
    Day,
    DecideTimesheet,
    RejectTimesheet,
    ReopenTimesheet,
    SubmitTimesheet,
    Timesheet,
    TimesheetDetail,
    TimesheetEvent,
    TimesheetPeriod,
    TimesheetState,
    TimesheetSummary,
)

router = APIRouter(tags=["timesheets"])
Reader = Annotated[Principal, Depends(require("read:entries"))]
Writer = Annotated[Principal, Depends(require("write:entries"))]
Approver = Annotated[Principal, Depends(require("approve:timesheets"))]
Ledger = Annotated[TimeLedger, Depends(ledger_of)]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
DayQuery = Annotated[Day, Query(description="A local day of the organization (YYYY-MM-DD)")]


def _paged(list_: Callable[..., queries.TimesheetPage], *args: Any, **kwargs: Any) -> Page[TimesheetSummary]:
    try:
        page = list_(*args, **kwargs)
    except ValueError as error:
        raise ApiProblem(400, "invalid-cursor", str(error), field="cursor") from None
    items = [TimesheetSummary.model_validate(row, from_attributes=True) for row in page.items]
    return Page[TimesheetSummary](items=items, next_cursor=page.next_cursor)


def _visible(
    principal: Principal, row: queries.TimesheetRow | None, timesheet_id: UUID
) -> queries.TimesheetRow:
    if row is None or (row.member_id != principal.user_id and not sees_everyone(principal)):
        raise NotFoundError(f"There is no timesheet with id {timesheet_id}.")
    return row


def _answer(
    request: Request, response: Response, ledger: TimeLedger, principal: Principal, r: Receipt
) -> Timesheet:
    settle(request, response, ledger, r)
    # A repeated command answers with the timesheet as the first run left it: the same body.
    row = queries.get_timesheet(read_side(request).engine, principal.org_id, r.id, version=r.version)
    if row is None:
        raise ApiProblem(
            503,
            "lagging",
            "The change was saved but the lists do not show it yet; read it again shortly.",
            headers={"Retry-After": "1"},
        )
    return Timesheet.model_validate(row, from_attributes=True)


@router.get("/timesheets", response_model=Page[TimesheetSummary], summary="List timesheets, latest first")
def list_timesheets(
    principal: Reader,
    request: Request,
    member_id: UUID | None = None,
    state: TimesheetState | None = None,
    from_: Annotated[date | None, Query(alias="from", description="Periods ending on or after")] = None,
    to: Annotated[date | None, Query(description="Periods starting on or before")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[TimesheetSummary]:
    """Members see their own timesheets; managers, admins and owners everyone's."""
    if not sees_everyone(principal):
        if member_id is not None and member_id != principal.user_id:
            return Page[TimesheetSummary](items=[], next_cursor=None)
        member_id = principal.user_id
    where = queries.TimesheetFilter(member_id=member_id, state=state, day_from=from_, day_to=to)
    return _paged(queries.list_timesheets, read_side(request).engine, principal.org_id, where, cursor, limit)


@router.get(
    "/timesheets/period",
    response_model=TimesheetPeriod,
    summary="The timesheet whose period holds a day, and the period's worked time",
)
def timesheet_period(
    principal: Reader, ledger: Ledger, request: Request, day: DayQuery, member_id: UUID | None = None
) -> TimesheetPeriod:
    """`state` is open while the period's timesheet was never submitted. Members ask about themselves."""
    member = member_id or principal.user_id
    if member != principal.user_id and not sees_everyone(principal):
        raise ForbiddenError(f"Your role ({principal.role}) may not see other members' timesheets.")
    sheet_id, period, sheet = ledger.timesheet_period(principal.org_id, day, principal.actor, member_id)
    total = queries.tracked_seconds(
        read_side(request).engine, principal.org_id, member, period.first_day, period.last_day
    )
    return TimesheetPeriod.model_validate(
        {
            **vars(period),  # kind, first_day, last_day, start, end
            "id": sheet_id,
            "member_id": member,
            "state": sheet.state if sheet is not None else "open",
            "exists": sheet is not None,
            "version": sheet.version if sheet is not None else None,
            "total_seconds": total,
        }
    )


@router.get(
    "/timesheets/{timesheet_id}",
    response_model=TimesheetDetail,
    summary="One timesheet with its history: who did what, when, and why",
)
def get_timesheet(timesheet_id: UUID, principal: Reader, request: Request) -> TimesheetDetail:
    engine = read_side(request).engine
    row = _visible(principal, queries.get_timesheet(engine, principal.org_id, timesheet_id), timesheet_id)
    history = [
        TimesheetEvent.model_validate(step, from_attributes=True)
        for step in queries.timesheet_history(engine, principal.org_id, timesheet_id)
    ]
    return TimesheetDetail.model_validate({**vars(row), "history": history})


@router.post("/timesheets/submit", response_model=Timesheet, summary="Submit the timesheet of a day's period")
def submit_timesheet(
    body: SubmitTimesheet,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Timesheet:
    """Locks the period's entries: from now on only managers change them, until it is approved
    (then nobody), rejected or reopened. Refused while a timer runs in the period."""
    receipt = ledger.submit_timesheet(
        org_id=principal.org_id,
        day=body.day,
        member_id=body.member_id,
        note=body.note,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    return _answer(request, response, ledger, principal, receipt)


@router.post(
    "/timesheets/{timesheet_id}/approve",
    response_model=Timesheet,
    summary="Approve a submitted timesheet: its entries lock for everyone",
)
def approve_timesheet(
    timesheet_id: UUID,
    principal: Approver,
    ledger: Ledger,
    request: Request,
    response: Response,
    body: DecideTimesheet | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Timesheet:
    """A manager may not approve their own timesheet (an admin or the owner may)."""
    receipt = ledger.approve_timesheet(
        timesheet_id=timesheet_id,
        note=(body or DecideTimesheet()).note,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    return _answer(request, response, ledger, principal, receipt)


@router.post(
    "/timesheets/{timesheet_id}/reject",
    response_model=Timesheet,
    summary="Send a submitted timesheet back to its member, with a reason",
)
def reject_timesheet(
    timesheet_id: UUID,
    body: RejectTimesheet,
    principal: Approver,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Timesheet:
    receipt = ledger.reject_timesheet(
        timesheet_id=timesheet_id,
        reason=body.reason,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    return _answer(request, response, ledger, principal, receipt)


@router.post(
    "/timesheets/{timesheet_id}/reopen",
    response_model=Timesheet,
    summary="Open a submitted or approved timesheet again: its entries unlock",
)
def reopen_timesheet(
    timesheet_id: UUID,
    principal: Approver,
    ledger: Ledger,
    request: Request,
    response: Response,
    body: ReopenTimesheet | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Timesheet:
    receipt = ledger.reopen_timesheet(
        timesheet_id=timesheet_id,
        reason=(body or ReopenTimesheet()).reason,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    return _answer(request, response, ledger, principal, receipt)


@router.get(
    "/approvals",
    response_model=Page[TimesheetSummary],
    summary="Submitted timesheets you may decide, the longest waiting first",
)
def approvals(
    principal: Approver, request: Request, cursor: Cursor = None, limit: Limit = 50
) -> Page[TimesheetSummary]:
    """A manager's own timesheets are left out: an admin or the owner decides those."""
    if not sees_everyone(principal):
        return Page[TimesheetSummary](items=[], next_cursor=None)
    own = None if principal.role in ADMIN_ROLES else principal.user_id
    return _paged(
        queries.approval_queue,
        read_side(request).engine,
        principal.org_id,
        exclude_member=own,
        cursor=cursor,
        limit=limit,
    )
