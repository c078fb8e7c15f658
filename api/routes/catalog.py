"""The catalog: `/organizations`, `/members`, `/clients`, `/projects`, `/tasks` and `/rates`.

Reads need `read:catalog`, writes `write:catalog`; which role may change what
is the ledger's rule. Ids of another organization answer 404.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Engine

from api.auth import Principal, ledger_of, require
from api.commands import IdempotencyKey, command_id, read_side, settle
from api.problems import ApiProblem
from ledger.application import TimeLedger
from ledger.base import LedgerAggregate
from ledger.catalog import Client as ClientAggregate
from ledger.catalog import Project as ProjectAggregate
from ledger.catalog import Task as TaskAggregate
from ledger.core import Receipt
from ledger.errors import NotFoundError
from ledger.settings import OrgSettings
from projections import catalog_queries as queries
from schemas.catalog import (
    PRINTABLE,
    AddMember,
    ChangeRole,
    Client,
    CreateClient,
    CreateProject,
    CreateTask,
    EditClient,
    EditOrganization,
    EditProject,
    EditTask,
    Member,
    Organization,
    Project,
    Rate,
    RateLevel,
    Role,
    SetRate,
    Settings,
    Task,
)
from schemas.common import Page

router = APIRouter(tags=["catalog"])
Reader = Annotated[Principal, Depends(require("read:catalog"))]
Writer = Annotated[Principal, Depends(require("write:catalog"))]
Ledger = Annotated[TimeLedger, Depends(ledger_of)]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
Search = Annotated[
    str | None, Query(max_length=200, pattern=PRINTABLE, description="Part of the name, any case")
]
Archived = Annotated[bool | None, Query(description="Only archived (true) or active (false) ones")]

R = TypeVar("R")


# --- helpers -----------------------------------------------------------------------


def _found(row: R | None, what: str, item_id: object) -> R:
    if row is None:
        raise NotFoundError(f"There is no {what} with id {item_id}.")
    return row


def _written(row: R | None) -> R:
    """The read model's row of what a command just wrote (present unless the projections lag)."""
    if row is None:
        raise ApiProblem(
            503,
            "lagging",
            "The change was saved but the lists do not show it yet; read it again shortly.",
            headers={"Retry-After": "1"},
        )
    return row


def _own(ledger: TimeLedger, principal: Principal, cls: type[LedgerAggregate], item_id: UUID) -> None:
    """Refuse ids of another organization as unknown, without telling whose they are."""
    found = ledger.aggregate(item_id)
    if not isinstance(found, cls) or getattr(found, "org_id", None) != principal.org_id:
        raise NotFoundError(f"There is no {cls.__name__.lower()} with id {item_id}.")


def _paged(list_: Callable[..., queries.Page[Any]], *args: Any, **kwargs: Any) -> queries.Page[Any]:
    try:
        return list_(*args, **kwargs)
    except ValueError as error:
        raise ApiProblem(400, "invalid-cursor", str(error), field="cursor") from None


def _engine(request: Request) -> Engine:
    return read_side(request).engine


def _sub_key(key: str | None, part: str) -> str | None:
    """One command id per command of a request that runs two commands under one key."""
    if key is None:
        return None
    text = f"{part}:{key}"
    return text if len(text) <= 200 else f"{part}:{hashlib.sha256(key.encode()).hexdigest()}"


def _organization_out(row: queries.OrganizationRow) -> Organization:
    # Settings stored before a newer setting existed read back with its default.
    settings = Settings(**OrgSettings.from_dict(row.settings).to_dict())
    return Organization(id=row.id, name=row.name, settings=settings, created_at=row.created_at)


def _member_out(row: queries.MemberRow) -> Member:
    return Member(**vars(row))


def _client_out(row: queries.ClientRow) -> Client:
    return Client(**vars(row))


def _project_out(row: queries.ProjectRow) -> Project:
    return Project(**vars(row))


def _task_out(row: queries.TaskRow) -> Task:
    return Task(**vars(row))


def _rate_out(row: queries.RateRow) -> Rate:
    return Rate(**vars(row))


# --- the organization ----------------------------------------------------------------


def _same_org(principal: Principal, org_id: UUID) -> None:
    if org_id != principal.org_id:
        raise NotFoundError(f"There is no organization with id {org_id}.")


def _organization(request: Request, org_id: UUID) -> Organization:
    return _organization_out(
        _found(queries.get_organization(_engine(request), org_id), "organization", org_id)
    )


@router.get("/organizations", response_model=Page[Organization], summary="The token's organization")
def list_organizations(principal: Reader, request: Request) -> Page[Organization]:
    """A token acts in one organization, so the page holds just that one."""
    return Page[Organization](items=[_organization(request, principal.org_id)], next_cursor=None)


@router.get("/organizations/{org_id}", response_model=Organization, summary="The organization")
def get_organization(org_id: UUID, principal: Reader, request: Request) -> Organization:
    _same_org(principal, org_id)
    return _organization(request, org_id)


@router.patch("/organizations/{org_id}", response_model=Organization, summary="Rename or change settings")
def edit_organization(
    org_id: UUID,
    body: EditOrganization,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Organization:
    """Owners and admins; settings left out keep their value."""
    _same_org(principal, org_id)
    key = command_id(idempotency_key)
    changes = body.settings.model_dump(exclude_none=True) if body.settings else {}
    receipts: list[Receipt] = []
    if body.name is not None:
        receipts.append(
            ledger.rename_organization(
                org_id=org_id, name=body.name, actor=principal.actor, command_id=_sub_key(key, "name")
            )
        )
    if changes:
        receipts.append(
            ledger.change_settings(
                org_id=org_id, changes=changes, actor=principal.actor, command_id=_sub_key(key, "settings")
            )
        )
    if receipts:
        settle(request, response, ledger, max(receipts, key=lambda r: r.position))
    return _organization(request, org_id)


# --- members -------------------------------------------------------------------------


@router.get("/members", response_model=Page[Member], summary="Members, by name")
def list_members(
    principal: Reader,
    request: Request,
    role: Role | None = None,
    q: Annotated[
        str | None, Query(max_length=200, pattern=PRINTABLE, description="Part of the name or email")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[Member]:
    page = _paged(
        queries.list_members, _engine(request), principal.org_id, role=role, q=q, cursor=cursor, limit=limit
    )
    return Page[Member](items=[_member_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/members", response_model=Member, status_code=201, summary="Add a member")
def add_member(
    body: AddMember,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Member:
    """Owners and admins; a new email registers the person. Only an owner makes owners."""
    receipt = ledger.add_member(
        org_id=principal.org_id,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    settle(request, response, ledger, receipt)
    return _member_out(_written(queries.get_member(_engine(request), principal.org_id, receipt.id)))


@router.get("/members/{user_id}", response_model=Member, summary="One member")
def get_member(user_id: UUID, principal: Reader, request: Request) -> Member:
    row = queries.get_member(_engine(request), principal.org_id, user_id)
    return _member_out(_found(row, "member", user_id))


@router.patch("/members/{user_id}", response_model=Member, summary="Change a member's role")
def change_role(
    user_id: UUID,
    body: ChangeRole,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Member:
    receipt = ledger.change_role(
        org_id=principal.org_id,
        user_id=user_id,
        role=body.role,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    settle(request, response, ledger, receipt)
    return _member_out(_written(queries.get_member(_engine(request), principal.org_id, user_id)))


@router.delete("/members/{user_id}", status_code=204, response_class=Response, summary="Remove a member")
def remove_member(
    user_id: UUID,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> None:
    """The member's time stays in the ledger; they can no longer act in the organization."""
    receipt = ledger.remove_member(
        org_id=principal.org_id,
        user_id=user_id,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    settle(request, response, ledger, receipt)


# --- clients -------------------------------------------------------------------------


@router.get("/clients", response_model=Page[Client], summary="Clients, by name")
def list_clients(
    principal: Reader,
    request: Request,
    archived: Archived = None,
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[Client]:
    page = _paged(
        queries.list_clients,
        _engine(request),
        principal.org_id,
        archived=archived,
        q=q,
        cursor=cursor,
        limit=limit,
    )
    return Page[Client](items=[_client_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/clients", response_model=Client, status_code=201, summary="Create a client")
def create_client(
    body: CreateClient,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Client:
    receipt = ledger.create_client(
        org_id=principal.org_id, name=body.name, actor=principal.actor, command_id=command_id(idempotency_key)
    )
    settle(request, response, ledger, receipt)
    return _client_out(_written(queries.get_client(_engine(request), principal.org_id, receipt.id)))


@router.get("/clients/{client_id}", response_model=Client, summary="One client")
def get_client(client_id: UUID, principal: Reader, request: Request) -> Client:
    row = queries.get_client(_engine(request), principal.org_id, client_id)
    return _client_out(_found(row, "client", client_id))


@router.patch("/clients/{client_id}", response_model=Client, summary="Rename a client")
def edit_client(
    client_id: UUID,
    body: EditClient,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Client:
    _own(ledger, principal, ClientAggregate, client_id)
    receipt = ledger.rename_client(
        client_id=client_id, name=body.name, actor=principal.actor, command_id=command_id(idempotency_key)
    )
    settle(request, response, ledger, receipt)
    return _client_out(_written(queries.get_client(_engine(request), principal.org_id, client_id)))


# --- projects ------------------------------------------------------------------------


@router.get("/projects", response_model=Page[Project], summary="Projects, by name")
def list_projects(
    principal: Reader,
    request: Request,
    client: Annotated[UUID | None, Query(description="Only this client's projects")] = None,
    archived: Archived = None,
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[Project]:
    page = _paged(
        queries.list_projects,
        _engine(request),
        principal.org_id,
        client_id=client,
        archived=archived,
        q=q,
        cursor=cursor,
        limit=limit,
    )
    return Page[Project](items=[_project_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/projects", response_model=Project, status_code=201, summary="Create a project")
def create_project(
    body: CreateProject,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Project:
    receipt = ledger.create_project(
        org_id=principal.org_id,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
        **body.model_dump(),
    )
    settle(request, response, ledger, receipt)
    return _project_out(_written(queries.get_project(_engine(request), principal.org_id, receipt.id)))


@router.get("/projects/{project_id}", response_model=Project, summary="One project")
def get_project(project_id: UUID, principal: Reader, request: Request) -> Project:
    row = queries.get_project(_engine(request), principal.org_id, project_id)
    return _project_out(_found(row, "project", project_id))


@router.patch("/projects/{project_id}", response_model=Project, summary="Change a project")
def edit_project(
    project_id: UUID,
    body: EditProject,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Project:
    """Fields left out keep their value; `client_id` or a budget sent as null clears it."""
    _own(ledger, principal, ProjectAggregate, project_id)
    receipt = ledger.update_project(
        project_id=project_id,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
        **body.model_dump(exclude_unset=True),
    )
    settle(request, response, ledger, receipt)
    return _project_out(_written(queries.get_project(_engine(request), principal.org_id, project_id)))


# --- tasks ---------------------------------------------------------------------------


@router.get("/tasks", response_model=Page[Task], summary="Tasks, by name")
def list_tasks(
    principal: Reader,
    request: Request,
    project: Annotated[UUID | None, Query(description="Only this project's tasks")] = None,
    archived: Archived = None,
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[Task]:
    page = _paged(
        queries.list_tasks,
        _engine(request),
        principal.org_id,
        project_id=project,
        archived=archived,
        q=q,
        cursor=cursor,
        limit=limit,
    )
    return Page[Task](items=[_task_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/tasks", response_model=Task, status_code=201, summary="Create a task in a project")
def create_task(
    body: CreateTask,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Task:
    _own(ledger, principal, ProjectAggregate, body.project_id)
    receipt = ledger.create_task(
        project_id=body.project_id,
        name=body.name,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    settle(request, response, ledger, receipt)
    return _task_out(_written(queries.get_task(_engine(request), principal.org_id, receipt.id)))


@router.get("/tasks/{task_id}", response_model=Task, summary="One task")
def get_task(task_id: UUID, principal: Reader, request: Request) -> Task:
    return _task_out(_found(queries.get_task(_engine(request), principal.org_id, task_id), "task", task_id))


@router.patch("/tasks/{task_id}", response_model=Task, summary="Rename a task")
def edit_task(
    task_id: UUID,
    body: EditTask,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Task:
    _own(ledger, principal, TaskAggregate, task_id)
    receipt = ledger.rename_task(
        task_id=task_id, name=body.name, actor=principal.actor, command_id=command_id(idempotency_key)
    )
    settle(request, response, ledger, receipt)
    return _task_out(_written(queries.get_task(_engine(request), principal.org_id, task_id)))


# --- archive and unarchive -------------------------------------------------------------

_KINDS: dict[str, tuple[type[LedgerAggregate], Callable[..., Any], Callable[..., Any], type[Any]]] = {
    "client": (ClientAggregate, queries.get_client, _client_out, Client),
    "project": (ProjectAggregate, queries.get_project, _project_out, Project),
    "task": (TaskAggregate, queries.get_task, _task_out, Task),
}


def _archive_route(kind: str, archived: bool) -> None:
    aggregate, get, out, model = _KINDS[kind]
    verb = "archive" if archived else "unarchive"

    def handle(
        item_id: UUID,
        principal: Writer,
        ledger: Ledger,
        request: Request,
        response: Response,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        _own(ledger, principal, aggregate, item_id)
        command = ledger.archive if archived else ledger.unarchive
        receipt = command(
            kind=kind, item_id=item_id, actor=principal.actor, command_id=command_id(idempotency_key)
        )
        settle(request, response, ledger, receipt)
        return out(_written(get(_engine(request), principal.org_id, item_id)))

    handle.__name__ = f"{verb}_{kind}"
    summary = (
        f"Archive a {kind}: it keeps its time but takes no new time" if archived else f"Unarchive a {kind}"
    )
    router.post(f"/{kind}s/{{item_id}}/{verb}", response_model=model, summary=summary)(handle)


for _kind in _KINDS:
    _archive_route(_kind, True)
    _archive_route(_kind, False)


# --- rates ---------------------------------------------------------------------------


@router.get("/rates", response_model=Page[Rate], summary="Hourly rates, in the order they were set")
def list_rates(
    principal: Reader,
    request: Request,
    level: RateLevel | None = None,
    project: UUID | None = None,
    member: UUID | None = None,
    client: UUID | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[Rate]:
    page = _paged(
        queries.list_rates,
        _engine(request),
        principal.org_id,
        level=level,
        client_id=client,
        project_id=project,
        member_id=member,
        cursor=cursor,
        limit=limit,
    )
    return Page[Rate](items=[_rate_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/rates", response_model=Rate, status_code=201, summary="Set an hourly rate from a date on")
def set_rate(
    body: SetRate,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Rate:
    """Owners and admins. The most specific level wins: member on project, project, client, member, org."""
    receipt = ledger.set_rate(
        org_id=principal.org_id,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
        **body.model_dump(),
    )
    settle(request, response, ledger, receipt)
    # The rate card's version is the number of the rate it just set.
    return _rate_out(_written(queries.get_rate(_engine(request), principal.org_id, receipt.version)))
