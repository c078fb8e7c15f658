"""The timer and time entries: `/timer/*` and `/time-entries/*`."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth import Principal, ledger_of, require, sees_everyone
from api.commands import IdempotencyKey, IfMatch, command_id, etag, expected_version, read_side, settle
from api.problems import ApiProblem
from ledger.application import TimeLedger
from ledger.core import Receipt
from ledger.errors import NotFoundError
from ledger.snapshots import EntrySnapshot
from projections.entry_queries import EntryFilter, EntryRow, list_entries
from schemas.common import Instant, Page
from schemas.entries import (
    BulkAction,
    ContinueEntry,
    EditEntry,
    HistoryEvent,
    RecordEntry,
    StartTimer,
    TimeEntry,
    TimerAt,
)

router = APIRouter(tags=["time entries"])
Reader = Annotated[Principal, Depends(require("read:entries"))]
Writer = Annotated[Principal, Depends(require("write:entries"))]
Ledger = Annotated[TimeLedger, Depends(ledger_of)]


def entry_out(entry: EntrySnapshot | EntryRow, duration: int | None = None) -> TimeEntry:
    return TimeEntry(
        id=entry.id,
        member_id=entry.member_id,
        project_id=entry.project_id,
        task_id=entry.task_id,
        description=entry.description,
        tags=list(entry.tags),
        billable=entry.billable,
        start=entry.start,
        end=entry.end,
        duration_seconds=duration if duration is not None else entry.duration_seconds or 0,
        break_seconds=entry.break_seconds,
        status=entry.status,
        version=entry.version,
        lock=entry.lock,
    )


def _visible(ledger: TimeLedger, principal: Principal, entry: EntrySnapshot) -> EntrySnapshot:
    if entry.member_id != principal.user_id and not sees_everyone(principal):
        raise NotFoundError(f"There is no time entry with id {entry.id}.")
    return entry


def _answer(
    request: Request, response: Response, ledger: TimeLedger, principal: Principal, receipt: Receipt
) -> TimeEntry:
    settle(request, response, ledger, receipt)
    # A repeated command answers with the entry as the first run left it: the same body.
    entry = ledger.get_entry(receipt.id, principal.actor, version=receipt.version)
    response.headers["ETag"] = etag(entry.version)
    return entry_out(entry)


# --- timer -------------------------------------------------------------------------


@router.get("/timer", response_model=TimeEntry | None, summary="The running (or paused) entry, or null")
def get_timer(principal: Reader, ledger: Ledger, response: Response) -> TimeEntry | None:
    running = ledger.running_entry(principal.org_id, principal.actor)
    if running is None:
        return None
    response.headers["ETag"] = etag(running.version)
    return entry_out(running)


@router.post("/timer/start", response_model=TimeEntry, status_code=201, summary="Start a timer")
def start_timer(
    body: StartTimer,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TimeEntry:
    """Starts a new running entry; a running one is stopped at the same instant."""
    receipt = ledger.start_timer(
        org_id=principal.org_id,
        project_id=body.project_id,
        task_id=body.task_id,
        description=body.description,
        tags=body.tags,
        billable=body.billable,
        at=body.at,
        member_id=body.member_id,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    return _answer(request, response, ledger, principal, receipt)


def _timer_command(name: str, summary: str) -> None:
    def handle(
        principal: Writer,
        ledger: Ledger,
        request: Request,
        response: Response,
        body: TimerAt | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> TimeEntry:
        body = body or TimerAt()
        command = getattr(ledger, f"{name}_timer")
        receipt = command(
            org_id=principal.org_id,
            at=body.at,
            member_id=body.member_id,
            actor=principal.actor,
            command_id=command_id(idempotency_key),
        )
        return _answer(request, response, ledger, principal, receipt)

    handle.__name__ = f"{name}_timer"
    router.post(f"/timer/{name}", response_model=TimeEntry, summary=summary)(handle)


_timer_command("stop", "Stop the running timer (now or at a past time)")
_timer_command("pause", "Pause the running timer; the pause is not worked time")
_timer_command("resume", "Resume a paused timer")


# --- entries -----------------------------------------------------------------------


@router.get("/time-entries", response_model=Page[TimeEntry], summary="List time entries, newest first")
def list_time_entries(
    principal: Reader,
    ledger: Ledger,
    request: Request,
    member: UUID | None = None,
    project: UUID | None = None,
    client: UUID | None = None,
    task: UUID | None = None,
    tag: str | None = None,
    billable: bool | None = None,
    from_: Annotated[Instant | None, Query(alias="from", description="Entries starting at or after")] = None,
    to: Annotated[Instant | None, Query(description="Entries starting before")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[TimeEntry]:
    if not sees_everyone(principal):
        if member is not None and member != principal.user_id:
            return Page[TimeEntry](items=[], next_cursor=None)
        member = principal.user_id
    where = EntryFilter(
        member_id=member,
        project_id=project,
        client_id=client,
        task_id=task,
        tag=tag,
        billable=billable,
        start_from=from_,
        start_to=to,
    )
    try:
        page = list_entries(read_side(request).engine, principal.org_id, where, cursor, limit)
    except ValueError as error:
        raise ApiProblem(400, "invalid-cursor", str(error), field="cursor") from None
    return Page[TimeEntry](
        items=[_listed(ledger, principal, row) for row in page.items], next_cursor=page.next_cursor
    )


def _listed(ledger: TimeLedger, principal: Principal, row: EntryRow) -> TimeEntry:
    if row.end is None:
        # A running entry's worked time grows by the second: ask the ledger, not the read model.
        return entry_out(ledger.get_entry(row.id, principal.actor))
    return entry_out(row)


@router.post("/time-entries", response_model=TimeEntry, status_code=201, summary="Record a manual entry")
def record_entry(
    body: RecordEntry,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TimeEntry:
    receipt = ledger.record_entry(
        org_id=principal.org_id,
        project_id=body.project_id,
        start=body.start,
        end=body.end,
        duration_seconds=body.duration_seconds,
        break_minutes=body.break_minutes,
        task_id=body.task_id,
        description=body.description,
        tags=body.tags,
        billable=body.billable,
        member_id=body.member_id,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    return _answer(request, response, ledger, principal, receipt)


@router.post(
    "/time-entries/bulk",
    response_model=Page[TimeEntry],
    summary="One change to many entries: all of them or none",
)
def bulk_update(
    body: BulkAction,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Page[TimeEntry]:
    """Set billable, add or remove a tag, or delete. Each entry is checked by the same rules as a
    single change; if any is refused, the answer names it and no entry changes."""
    for entry_id in body.entry_ids:
        _visible(ledger, principal, ledger.get_entry(entry_id, principal.actor))
    receipt = ledger.bulk_update_entries(
        org_id=principal.org_id,
        entry_ids=body.entry_ids,
        action=body.action,
        value=body.value,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    settle(request, response, ledger, receipt)
    items = [entry_out(ledger.get_entry(i, principal.actor)) for i in receipt.related]
    return Page[TimeEntry](items=items, next_cursor=None)


@router.get("/time-entries/{entry_id}", response_model=TimeEntry, summary="One entry")
def get_time_entry(entry_id: UUID, principal: Reader, ledger: Ledger, response: Response) -> TimeEntry:
    entry = _visible(ledger, principal, ledger.get_entry(entry_id, principal.actor))
    response.headers["ETag"] = etag(entry.version)
    return entry_out(entry)


@router.patch("/time-entries/{entry_id}", response_model=TimeEntry, summary="Change an entry")
def edit_entry(
    entry_id: UUID,
    body: EditEntry,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> TimeEntry:
    """Fields left out keep their value. Send `If-Match` with the ETag you read to refuse stale edits."""
    _visible(ledger, principal, ledger.get_entry(entry_id, principal.actor))
    receipt = ledger.edit_entry(
        entry_id=entry_id,
        expected_version=expected_version(if_match),
        actor=principal.actor,
        command_id=command_id(idempotency_key),
        **body.model_dump(exclude_unset=True),
    )
    return _answer(request, response, ledger, principal, receipt)


def _versioned_command(name: str, method: str, path: str, summary: str) -> None:
    """A command on one entry that may name the version it read (`If-Match`)."""

    def handle(
        entry_id: UUID,
        principal: Writer,
        ledger: Ledger,
        request: Request,
        response: Response,
        idempotency_key: IdempotencyKey = None,
        if_match: IfMatch = None,
    ) -> TimeEntry:
        _visible(ledger, principal, ledger.get_entry(entry_id, principal.actor))
        receipt = getattr(ledger, name)(
            entry_id=entry_id,
            expected_version=expected_version(if_match),
            actor=principal.actor,
            command_id=command_id(idempotency_key),
        )
        return _answer(request, response, ledger, principal, receipt)

    handle.__name__ = name
    router.api_route(path, methods=[method], response_model=TimeEntry, summary=summary)(handle)


_versioned_command("delete_entry", "DELETE", "/time-entries/{entry_id}", "Delete an entry (restorable)")
_versioned_command("restore_entry", "POST", "/time-entries/{entry_id}/restore", "Undo a delete")


@router.post(
    "/time-entries/{entry_id}/continue",
    response_model=TimeEntry,
    status_code=201,
    summary="Start a new timer copying this entry",
)
def continue_entry(
    entry_id: UUID,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    body: ContinueEntry | None = None,
    idempotency_key: IdempotencyKey = None,
) -> TimeEntry:
    _visible(ledger, principal, ledger.get_entry(entry_id, principal.actor))
    receipt = ledger.continue_entry(
        entry_id=entry_id,
        at=(body or ContinueEntry()).at,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    return _answer(request, response, ledger, principal, receipt)


@router.get(
    "/time-entries/{entry_id}/history",
    response_model=list[HistoryEvent],
    summary="Every event of an entry: what changed, who, when, from which device",
)
def entry_history(entry_id: UUID, principal: Reader, ledger: Ledger) -> list[HistoryEvent]:
    _visible(ledger, principal, ledger.get_entry(entry_id, principal.actor))
    return [HistoryEvent(**vars(item)) for item in ledger.entry_history(entry_id, principal.actor)]
