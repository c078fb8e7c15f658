"""Invoice PDFs as a job: render one invoice version and keep it in `invoice_documents`.

The API sends `render_invoice_pdf` after an issue and when someone asks for a PDF that
is not there yet (`WorkerJobQueue`). The job is idempotent: a version's document is the
same whoever renders it and however often, so retries and duplicate messages only
write the same row again.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from uuid import UUID

import dramatiq
import redis
from babel.dates import format_date

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.errors import NotFoundError
from ledger.invoices import Invoice
from projections.documents import PDF, save_document
from workers import invoice_pdf
from workers.broker import actor
from workers.context import WorkerContext, context

__all__ = ["WorkerJobQueue", "invoice_document", "render_invoice_now", "render_invoice_pdf"]

log = logging.getLogger("timeledger.jobs.invoices")
QUEUE = "invoices"
LOCALE = "en"


def _days(first: date, last: date) -> str:
    """The local days a line covers, as the PDF's other dates are written."""
    shown = [format_date(day, format="medium", locale=LOCALE) for day in (first, last)]
    return shown[0] if first == last else f"{shown[0]} to {shown[1]}"


def invoice_document(ledger: TimeLedger, invoice: Invoice) -> invoice_pdf.InvoiceDocument:
    """What the PDF of this invoice version shows, with the organization as it is now."""
    org = ledger.get_organization(invoice.org_id, Actor.system())
    client = ledger.catalog_names([invoice.client_id]).get(invoice.client_id, "")
    totals = invoice.totals
    return invoice_pdf.InvoiceDocument(
        number=invoice.number,
        status=invoice.state,
        issued_on=invoice.issued_on,
        due_date=invoice.due_date,
        period_from=invoice.period_from,
        period_to=invoice.period_to,
        currency=invoice.currency,
        org_name=org.name,
        org_address=org.settings.invoice_address,
        logo_data_url=org.settings.invoice_logo,
        client_name=client,
        lines=tuple(
            invoice_pdf.InvoiceLine(
                description=line.description,
                detail=_days(line.first_day, line.last_day),
                seconds=line.seconds,
                rate_minor=line.rate_minor,
                amount_minor=line.amount_minor,
            )
            for line in invoice.lines
        ),
        subtotal_minor=totals.subtotal_minor,
        discount_label=invoice.discount.label if invoice.discount else "",
        discount_minor=totals.discount_minor,
        taxes=tuple(
            invoice_pdf.InvoiceTax(label, percent, amount) for label, percent, amount in totals.taxes
        ),
        total_minor=totals.total_minor,
        notes=invoice.notes,
        locale=LOCALE,
    )


def render_invoice_now(ctx: WorkerContext, invoice_id: UUID, version: int) -> bool:
    """Render one invoice version into `invoice_documents`; False when there is no such version."""
    if version < 1:
        log.warning("skipped the PDF of invoice %s: there is no version %s", invoice_id, version)
        return False
    try:
        invoice = ctx.ledger.get_invoice(invoice_id, Actor.system(), version=version)
    except NotFoundError:
        log.warning("skipped the PDF of invoice %s: there is no such invoice", invoice_id)
        return False
    if invoice.version != version:
        log.warning("skipped the PDF of invoice %s: it has no version %s", invoice_id, version)
        return False
    pdf = invoice_pdf.render_invoice_pdf(invoice_document(ctx.ledger, invoice))
    save_document(ctx.engine, invoice_id, version, PDF, pdf, datetime.now(tz=UTC))
    log.info("rendered the PDF of invoice %s version %s (%s bytes)", invoice_id, version, len(pdf))
    return True


@actor(queue_name=QUEUE, max_retries=5, min_backoff=1_000, max_backoff=60_000)
def render_invoice_pdf(invoice_id: str, version: int) -> None:
    """Render the PDF of one invoice version (sent after an issue, or when a PDF is asked for)."""
    render_invoice_now(context(), UUID(invoice_id), version)


class WorkerJobQueue:
    """The API's `JobQueue` (api/jobs.py) on the process's broker (workers/broker.py)."""

    def render_invoice(self, invoice_id: UUID, version: int) -> None:
        try:
            render_invoice_pdf.send(str(invoice_id), version)
        except (dramatiq.errors.DramatiqError, redis.RedisError):
            # The PDF is asked for again when someone fetches it; the command already happened.
            log.warning("could not send the PDF job of invoice %s", invoice_id, exc_info=True)
