"""Invoices and the organization's gapless invoice numbers.

An invoice is drafted from billable entries of a client and period with its lines
and totals computed once and kept in the event, so a replay gives the same amounts
whatever rates or settings say later. `issue` takes the next number of the
organization's `InvoiceSequence` (one aggregate per organization, so two issues
race on it and numbers stay gapless) and bills the entries; `void` unbills them,
and its number stays used.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from ledger.base import CommandContext, LedgerAggregate
from ledger.billing import Discount, Line, Tax, Totals
from ledger.errors import WorkflowError
from ledger.ids import invoice_sequence_id

STATES = ("draft", "issued", "paid", "void", "discarded")


class Invoice(LedgerAggregate):
    """An invoice of one client for one period."""

    if TYPE_CHECKING:
        org_id: UUID
        client_id: UUID
        period_from: date
        period_to: date
        currency: str
        grouping: str
        lines: tuple[Line, ...]
        entries: dict[UUID, int]  # entry id -> billed seconds, as drafted
        taxes: tuple[Tax, ...]
        discount: Discount | None
        notes: str
        due_date: date | None
        totals: Totals
        state: str
        number: str | None
        issued_on: date | None
        paid_on: date | None
        void_reason: str

    class Drafted(LedgerAggregate.Created):
        org_id: UUID
        client_id: UUID
        period_from: str
        period_to: str
        currency: str
        content: dict[str, Any]

        def apply(self, invoice: Invoice) -> None:
            invoice.org_id = self.org_id
            invoice.client_id = self.client_id
            invoice.period_from = date.fromisoformat(self.period_from)
            invoice.period_to = date.fromisoformat(self.period_to)
            invoice.currency = self.currency
            invoice.state = "draft"
            invoice.number = None
            invoice.issued_on = None
            invoice.paid_on = None
            invoice.void_reason = ""
            _apply_content(invoice, self.content)

    class Revised(LedgerAggregate.Event):
        content: dict[str, Any]

        def apply(self, invoice: Invoice) -> None:
            _apply_content(invoice, self.content)

    class Issued(LedgerAggregate.Event):
        number: str
        sequence: int
        issued_on: str

        def apply(self, invoice: Invoice) -> None:
            invoice.state = "issued"
            invoice.number = self.number
            invoice.issued_on = date.fromisoformat(self.issued_on)

    class Paid(LedgerAggregate.Event):
        paid_on: str

        def apply(self, invoice: Invoice) -> None:
            invoice.state = "paid"
            invoice.paid_on = date.fromisoformat(self.paid_on)

    class Voided(LedgerAggregate.Event):
        reason: str

        def apply(self, invoice: Invoice) -> None:
            invoice.state = "void"
            invoice.void_reason = self.reason

    class Discarded(LedgerAggregate.Event):
        def apply(self, invoice: Invoice) -> None:
            invoice.state = "discarded"

    @classmethod
    def draft(
        cls,
        ctx: CommandContext,
        *,
        org_id: UUID,
        client_id: UUID,
        period_from: date,
        period_to: date,
        currency: str,
        content: dict[str, Any],
    ) -> Invoice:
        return cls._start(
            cls.Drafted,
            ctx,
            id=uuid4(),
            org_id=org_id,
            client_id=client_id,
            period_from=period_from.isoformat(),
            period_to=period_to.isoformat(),
            currency=currency,
            content=content,
        )

    def require_state(self, allowed: tuple[str, ...], doing: str) -> None:
        if self.state not in allowed:
            shown = f"{self.number} " if self.number else ""
            raise WorkflowError(f"Invoice {shown}is {self.state}, so it cannot be {doing}.")

    def revise(self, ctx: CommandContext, content: dict[str, Any]) -> None:
        self.require_state(("draft",), "changed (only drafts change)")
        self._record(self.Revised, ctx, content=content)

    def issue(self, ctx: CommandContext, number: str, sequence: int, issued_on: date) -> None:
        self.require_state(("draft",), "issued")
        self._record(self.Issued, ctx, number=number, sequence=sequence, issued_on=issued_on.isoformat())

    def mark_paid(self, ctx: CommandContext, paid_on: date) -> None:
        self.require_state(("issued",), "marked paid")
        self._record(self.Paid, ctx, paid_on=paid_on.isoformat())

    def void(self, ctx: CommandContext, reason: str) -> None:
        self.require_state(("issued", "paid"), "voided")
        self._record(self.Voided, ctx, reason=reason)

    def discard(self, ctx: CommandContext) -> None:
        self.require_state(("draft",), "discarded (only drafts are discarded; void an issued one)")
        self._record(self.Discarded, ctx)


def invoice_content(
    *,
    grouping: str,
    lines: list[Line],
    entries: dict[UUID, int],
    taxes: tuple[Tax, ...],
    discount: Discount | None,
    notes: str,
    due_date: date | None,
    totals: Totals,
) -> dict[str, Any]:
    """What a draft holds, as stored in its events (plain JSON values)."""
    return {
        "grouping": grouping,
        "lines": [line.to_dict() for line in lines],
        "entries": {str(k): v for k, v in sorted(entries.items(), key=lambda kv: str(kv[0]))},
        "taxes": [t.to_dict() for t in taxes],
        "discount": discount.to_dict() if discount else None,
        "notes": notes,
        "due_date": due_date.isoformat() if due_date else None,
        "totals": totals.to_dict(),
    }


def _apply_content(invoice: Invoice, content: dict[str, Any]) -> None:
    invoice.grouping = content["grouping"]
    invoice.lines = tuple(Line.from_dict(line) for line in content["lines"])
    invoice.entries = {UUID(k): v for k, v in content["entries"].items()}
    invoice.taxes = tuple(Tax(t["label"], t["percent"]) for t in content["taxes"])
    d = content["discount"]
    invoice.discount = Discount(d["label"], d["percent"], d["amount_minor"]) if d else None
    invoice.notes = content["notes"]
    invoice.due_date = date.fromisoformat(content["due_date"]) if content["due_date"] else None
    t = content["totals"]
    invoice.totals = Totals(
        t["subtotal_minor"],
        t["discount_minor"],
        tuple((x["label"], x["percent"], x["amount_minor"]) for x in t["taxes"]),
        t["total_minor"],
    )


class InvoiceSequence(LedgerAggregate):
    """The organization's invoice numbers: each issue takes the next, none is skipped."""

    if TYPE_CHECKING:
        org_id: UUID
        last: int

    class Opened(LedgerAggregate.Created):
        org_id: UUID

        def apply(self, sequence: InvoiceSequence) -> None:
            sequence.org_id = self.org_id
            sequence.last = 0

    class Numbered(LedgerAggregate.Event):
        sequence: int
        number: str
        invoice_id: UUID

        def apply(self, sequence: InvoiceSequence) -> None:
            sequence.last = self.sequence

    @classmethod
    def open(cls, ctx: CommandContext, org_id: UUID) -> InvoiceSequence:
        return cls._start(cls.Opened, ctx, id=invoice_sequence_id(org_id), org_id=org_id)

    def take(self, ctx: CommandContext, number: str, invoice_id: UUID) -> None:
        """Record that `number` (formatted from `last + 1`) went to an invoice."""
        self._record(self.Numbered, ctx, sequence=self.last + 1, number=number, invoice_id=invoice_id)
