"""The organization's audit log: `/audit-log` (scope `admin`); one entry's is its `/history`."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from api.audit_log import AuditFilter, AuditRecord, read_audit_log
from api.auth import Principal, ledger_of, require
from api.problems import ApiProblem
from ledger.application import TimeLedger
from schemas.audit import AuditActor, AuditEvent
from schemas.common import Instant, Page

router = APIRouter(tags=["audit"])
Admin = Annotated[Principal, Depends(require("admin"))]
Ledger = Annotated[TimeLedger, Depends(ledger_of)]


def _out(record: AuditRecord) -> AuditEvent:
    item = record.item
    return AuditEvent(
        position=record.position,
        event_type=item.event_type,
        aggregate_id=record.aggregate_id,
        version=item.version,
        recorded_at=item.recorded_at,
        actor=AuditActor(
            kind=item.actor_kind,
            user_id=item.actor_user_id,
            token_id=item.actor_token_id,
            device_id=item.device_id,
        ),
        command_id=item.command_id,
        data=item.data,
    )


@router.get(
    "/audit-log",
    response_model=Page[AuditEvent],
    summary="The organization's events: who did what, when, from which device",
)
def audit_log(
    principal: Admin,
    ledger: Ledger,
    from_: Annotated[Instant | None, Query(alias="from", description="Recorded at or after")] = None,
    to: Annotated[Instant | None, Query(description="Recorded at or before")] = None,
    user_id: Annotated[UUID | None, Query(description="Caused by this person")] = None,
    device_id: Annotated[str | None, Query(max_length=100, description="Sent from this device")] = None,
    event_type: Annotated[
        str | None, Query(max_length=100, description="Type prefix: `TimeEntry.` or `Invoice.Issued`")
    ] = None,
    aggregate_id: Annotated[UUID | None, Query(description="Events of this one aggregate")] = None,
    order: Annotated[Literal["newest", "oldest"], Query(description="Newest first (default)")] = "newest",
    cursor: Annotated[str | None, Query(max_length=20, description="A `next_cursor`")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AuditEvent]:
    where = AuditFilter(from_, to, user_id, device_id, event_type, aggregate_id)
    try:
        page = read_audit_log(
            ledger, principal.org_id, where, cursor=cursor, newest_first=order == "newest", limit=limit
        )
    except ValueError as error:
        raise ApiProblem(400, "invalid-cursor", str(error), field="cursor") from None
    return Page[AuditEvent](items=[_out(r) for r in page.items], next_cursor=page.next_cursor)
