"""Entry templates: a member's saved entry details, used to start a timer in one call."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from api.auth import Principal, ledger_of, require
from api.commands import IdempotencyKey, command_id, settle
from api.routes.entries import entry_out
from ledger.application import TimeLedger
from ledger.templates import Template as LedgerTemplate
from schemas.common import Page
from schemas.entries import Template, TemplateIn, TimeEntry

router = APIRouter(tags=["templates"])
Reader = Annotated[Principal, Depends(require("read:entries"))]
Writer = Annotated[Principal, Depends(require("write:entries"))]
Ledger = Annotated[TimeLedger, Depends(ledger_of)]


def template_out(template: LedgerTemplate) -> Template:
    d = template.details
    return Template(
        id=template.id,
        name=template.name,
        project_id=d.project_id,
        task_id=d.task_id,
        description=d.description,
        tags=list(d.tags),
        billable=d.billable,
    )


@router.get("/templates", response_model=Page[Template], summary="Your entry templates, by name")
def list_templates(principal: Reader, ledger: Ledger) -> Page[Template]:
    found = ledger.templates(principal.org_id, principal.actor)
    return Page[Template](items=[template_out(t) for t in found], next_cursor=None)


@router.post("/templates", response_model=Template, status_code=201, summary="Save a template")
def create_template(
    body: TemplateIn,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Template:
    receipt = ledger.save_template(
        org_id=principal.org_id,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
        **body.model_dump(),
    )
    settle(request, response, ledger, receipt)
    return template_out(ledger.template(principal.org_id, receipt.related[0], principal.actor))


@router.get("/templates/{template_id}", response_model=Template, summary="One template")
def get_template(template_id: UUID, principal: Reader, ledger: Ledger) -> Template:
    return template_out(ledger.template(principal.org_id, template_id, principal.actor))


@router.put("/templates/{template_id}", response_model=Template, summary="Replace a template")
def replace_template(
    template_id: UUID,
    body: TemplateIn,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Template:
    ledger.template(principal.org_id, template_id, principal.actor)
    receipt = ledger.save_template(
        org_id=principal.org_id,
        template_id=template_id,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
        **body.model_dump(),
    )
    settle(request, response, ledger, receipt)
    return template_out(ledger.template(principal.org_id, template_id, principal.actor))


@router.delete("/templates/{template_id}", status_code=204, summary="Delete a template")
def delete_template(
    template_id: UUID,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    receipt = ledger.remove_template(
        org_id=principal.org_id,
        template_id=template_id,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    response = Response(status_code=204)
    settle(request, response, ledger, receipt)
    return response


@router.post(
    "/templates/{template_id}/start",
    response_model=TimeEntry,
    status_code=201,
    summary="Start a timer from a template",
)
def start_from_template(
    template_id: UUID,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TimeEntry:
    receipt = ledger.start_from_template(
        org_id=principal.org_id,
        template_id=template_id,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    settle(request, response, ledger, receipt)
    return entry_out(ledger.get_entry(receipt.id, principal.actor, version=receipt.version))
