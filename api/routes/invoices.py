"""Invoices: `/invoices` and `/invoices/{id}/…`, all with scope `write:invoices` (owners and admins).

Lists come from the invoices read model; one invoice (its lines, taxes, entries) from
the ledger. Issuing asks the job queue for the PDF; `GET …/pdf` sends the stored
document of the invoice's current version, or asks for it and waits a while.
"""

from __future__ import annotations

import re
import time
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Engine

from api.auth import Principal, ledger_of, require
from api.commands import IdempotencyKey, IfMatch, command_id, etag, expected_version, read_side, settle
from api.jobs import JobQueue, jobs_of
from api.problems import ApiProblem
from ledger.application import TimeLedger
from ledger.billing import currency_digits
from ledger.core import Receipt
from ledger.invoices import Invoice as InvoiceAggregate
from projections.documents import Document, get_document
from projections.invoice_queries import InvoiceRow, list_invoices
from schemas.common import Page
from schemas.invoices import (
    BilledEntry,
    DiscountTerms,
    DraftInvoice,
    Invoice,
    InvoiceLine,
    InvoiceState,
    InvoiceSummary,
    IssueInvoice,
    MarkInvoicePaid,
    ReviseInvoice,
    TaxAmount,
    VoidInvoice,
)

router = APIRouter(tags=["invoices"])
Writer = Annotated[Principal, Depends(require("write:invoices"))]
Ledger = Annotated[TimeLedger, Depends(ledger_of)]
Jobs = Annotated[JobQueue, Depends(jobs_of)]
PRINTED_STATES = ("draft", "issued", "paid", "void")
POLL_SECONDS = 0.1
PDF_RESPONSE = {
    200: {
        "description": "The invoice as A4 PDF (a draft carries a DRAFT mark, a void one VOID)",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def invoice_out(invoice: InvoiceAggregate) -> Invoice:
    totals = invoice.totals
    discount = invoice.discount
    return Invoice(
        id=invoice.id,
        client_id=invoice.client_id,
        state=invoice.state,  # type: ignore[arg-type]
        number=invoice.number,
        currency=invoice.currency,
        minor_digits=currency_digits(invoice.currency),
        period_from=invoice.period_from,
        period_to=invoice.period_to,
        issued_on=invoice.issued_on,
        due_date=invoice.due_date,
        paid_on=invoice.paid_on,
        subtotal_minor=totals.subtotal_minor,
        total_minor=totals.total_minor,
        line_count=len(invoice.lines),
        created_at=invoice.created_on,
        updated_at=invoice.modified_on,
        version=invoice.version,
        grouping=invoice.grouping,  # type: ignore[arg-type]
        lines=[InvoiceLine(**vars(line)) for line in invoice.lines],
        discount=DiscountTerms(**vars(discount)) if discount else None,
        discount_minor=totals.discount_minor,
        taxes=[TaxAmount(label=t[0], percent=t[1], amount_minor=t[2]) for t in totals.taxes],
        notes=invoice.notes,
        void_reason=invoice.void_reason,
        entries=[BilledEntry(entry_id=k, billed_seconds=v) for k, v in invoice.entries.items()],
    )


def summary_out(row: InvoiceRow) -> InvoiceSummary:
    fields = {k: v for k, v in vars(row).items() if k != "org_id"}
    return InvoiceSummary(**fields, minor_digits=currency_digits(row.currency))


def _answer(
    request: Request, response: Response, ledger: TimeLedger, principal: Principal, receipt: Receipt
) -> Invoice:
    settle(request, response, ledger, receipt)
    # A repeated command answers with the invoice as the first run left it: the same body.
    invoice = ledger.get_invoice(receipt.id, principal.actor, version=receipt.version)
    response.headers["ETag"] = etag(invoice.version)
    return invoice_out(invoice)


@router.get("/invoices", response_model=Page[InvoiceSummary], summary="Invoices, newest first")
def list_all(
    principal: Writer,
    request: Request,
    state: Annotated[
        InvoiceState | None, Query(description="Only this state; without it, all but discarded drafts")
    ] = None,
    client_id: UUID | None = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page")] = 50,
) -> Page[InvoiceSummary]:
    try:
        page = list_invoices(
            read_side(request).engine,
            principal.org_id,
            state=state,
            client_id=client_id,
            cursor=cursor,
            limit=limit,
        )
    except ValueError as error:
        raise ApiProblem(400, "invalid-cursor", str(error), field="cursor") from None
    return Page[InvoiceSummary](items=[summary_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/invoices", response_model=Invoice, status_code=201, summary="Draft an invoice")
def draft(
    body: DraftInvoice,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Invoice:
    """Gathers the client's billable entries of the period (approved ones, unless the organization's
    `invoice_requires_approval` is off) and computes lines and totals (docs/billing.md)."""
    terms = body.model_dump(exclude={"client_id", "from_", "to"})
    receipt = ledger.draft_invoice(
        org_id=principal.org_id,
        client_id=body.client_id,
        period_from=body.from_,
        period_to=body.to,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
        **terms,
    )
    return _answer(request, response, ledger, principal, receipt)


@router.get("/invoices/{invoice_id}", response_model=Invoice, summary="One invoice with its lines")
def get_one(invoice_id: UUID, principal: Writer, ledger: Ledger, response: Response) -> Invoice:
    invoice = ledger.get_invoice(invoice_id, principal.actor)
    response.headers["ETag"] = etag(invoice.version)
    return invoice_out(invoice)


@router.patch("/invoices/{invoice_id}", response_model=Invoice, summary="Change a draft")
def revise(
    invoice_id: UUID,
    body: ReviseInvoice,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Invoice:
    """Fields left out keep their value; `refresh: true` gathers the period's entries again."""
    receipt = ledger.revise_invoice(
        invoice_id=invoice_id,
        expected_version=expected_version(if_match),
        actor=principal.actor,
        command_id=command_id(idempotency_key),
        **body.changes(),
    )
    return _answer(request, response, ledger, principal, receipt)


@router.post("/invoices/{invoice_id}/issue", response_model=Invoice, summary="Issue a draft")
def issue(
    invoice_id: UUID,
    principal: Writer,
    ledger: Ledger,
    jobs: Jobs,
    request: Request,
    response: Response,
    body: IssueInvoice | None = None,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Invoice:
    """Gives it the organization's next number and locks its entries; its PDF is rendered next."""
    receipt = ledger.issue_invoice(
        invoice_id=invoice_id,
        issued_on=(body or IssueInvoice()).issued_on,
        expected_version=expected_version(if_match),
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    answer = _answer(request, response, ledger, principal, receipt)
    jobs.render_invoice(receipt.id, receipt.version)
    return answer


@router.post("/invoices/{invoice_id}/mark-paid", response_model=Invoice, summary="Mark an invoice paid")
def mark_paid(
    invoice_id: UUID,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    body: MarkInvoicePaid | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Invoice:
    receipt = ledger.mark_invoice_paid(
        invoice_id=invoice_id,
        paid_on=(body or MarkInvoicePaid()).paid_on,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    return _answer(request, response, ledger, principal, receipt)


@router.post("/invoices/{invoice_id}/void", response_model=Invoice, summary="Void an issued invoice")
def void(
    invoice_id: UUID,
    body: VoidInvoice,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Invoice:
    """Its entries unlock; its number stays used (the next invoice takes the next one)."""
    receipt = ledger.void_invoice(
        invoice_id=invoice_id,
        reason=body.reason,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    return _answer(request, response, ledger, principal, receipt)


@router.delete("/invoices/{invoice_id}", response_model=Invoice, summary="Discard a draft")
def discard(
    invoice_id: UUID,
    principal: Writer,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Invoice:
    """Only drafts are discarded (no number was taken); void an issued invoice instead."""
    receipt = ledger.discard_invoice(
        invoice_id=invoice_id, actor=principal.actor, command_id=command_id(idempotency_key)
    )
    return _answer(request, response, ledger, principal, receipt)


# --- the PDF ---------------------------------------------------------------------------------


def _rendered(engine: Engine, jobs: JobQueue, invoice_id: UUID, version: int, wait: float) -> Document:
    """The stored document of this version; else ask for it and poll until it lands (or 503)."""
    found = get_document(engine, invoice_id, version)
    if found is not None:
        return found
    jobs.render_invoice(invoice_id, version)
    deadline = time.monotonic() + wait
    while found is None and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        found = get_document(engine, invoice_id, version)
    if found is None:
        raise ApiProblem(
            503,
            "pdf-pending",
            "The PDF of this invoice is not rendered yet (are the workers running?); ask again shortly.",
            headers={"Retry-After": "5"},
        )
    return found


def _file_name(invoice: InvoiceAggregate) -> str:
    name = invoice.number or f"draft-{invoice.id}-v{invoice.version}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ".pdf"


@router.get(
    "/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses=PDF_RESPONSE,  # type: ignore[arg-type]
    summary="The invoice as PDF",
)
def pdf(invoice_id: UUID, principal: Writer, ledger: Ledger, jobs: Jobs, request: Request) -> Response:
    """The current version, rendered by a job; `503` with `Retry-After` while it is not ready."""
    invoice = ledger.get_invoice(invoice_id, principal.actor)
    invoice.require_state(PRINTED_STATES, "printed")
    wait = float(request.app.state.pdf_wait_seconds)
    document = _rendered(read_side(request).engine, jobs, invoice.id, invoice.version, wait)
    return Response(
        document.data,
        media_type=document.content_type,
        headers={
            "ETag": etag(invoice.version),
            "Content-Disposition": f'inline; filename="{_file_name(invoice)}"',
        },
    )
