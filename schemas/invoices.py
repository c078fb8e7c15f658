"""Invoices: drafts of a client's billable time, issued with a gapless number, paid or voided.

Money is an integer of minor units; every invoice says its `currency` and how many
minor digits it has (`minor_digits`: 2 for EUR, 0 for JPY), so clients format
`total_minor: 17850` as 178.50 EUR without a currency table of their own.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from schemas.common import Strict

InvoiceState = Literal["draft", "issued", "paid", "void", "discarded"]
Grouping = Literal["project_task", "entry"]
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
MAX_NOTE = 2000


def _plausible(value: date) -> date:
    if not 1900 <= value.year <= 2999:
        raise ValueError("a day must fall in the years 1900 to 2999")
    return value


# A calendar day (YYYY-MM-DD) of the organization's timezone.
Day = Annotated[date, AfterValidator(_plausible)]
Percent = Annotated[
    str | int,
    Field(
        description='From 0 to 100 with at most 4 decimals, as text ("19", "7.5") or a whole number',
        examples=["19"],
    ),
]
Label = Annotated[str, Field(min_length=1, max_length=60, pattern=PRINTABLE)]
Note = Annotated[str, Field(max_length=MAX_NOTE)]


# --- requests ---------------------------------------------------------------------------


class Tax(Strict):
    """A tax on the net amount (subtotal less discount), e.g. VAT 19."""

    label: Label
    percent: Percent


class Discount(Strict):
    """Either a percentage of the subtotal or a fixed amount in minor units."""

    label: Label | None = Field(default=None, description='Defaults to "Discount"')
    percent: Percent | None = None
    amount_minor: int | None = Field(default=None, ge=0)


class DraftInvoice(Strict):
    """Draft an invoice of the client's billable entries that started on local days `from` to `to`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    client_id: UUID
    from_: Day = Field(alias="from", description="First local day, inclusive")
    to: Day = Field(description="Last local day, inclusive; at most 366 days after `from`")
    grouping: Grouping = Field(
        default="project_task", description="One line per project, task and rate; or one line per entry"
    )
    taxes: list[Tax] = Field(default_factory=list, max_length=5)
    discount: Discount | None = None
    notes: Note | None = None
    due_date: Day | None = None


class ReviseInvoice(Strict):
    """Change a draft: only the fields given change (`null` clears taxes, discount, notes or due date)."""

    grouping: Grouping | None = Field(default=None, description="Left out or null: unchanged")
    taxes: list[Tax] | None = Field(default=None, max_length=5)
    discount: Discount | None = None
    notes: Note | None = None
    due_date: Day | None = None
    refresh: bool = Field(
        default=False, description="Gather the client's billable entries of the period again"
    )

    def changes(self) -> dict[str, Any]:
        """The fields given, as plain values (a null grouping is no change)."""
        given = self.model_dump(exclude_unset=True)
        if given.get("grouping", "") is None:
            del given["grouping"]
        return given


class IssueInvoice(Strict):
    issued_on: Day | None = Field(default=None, description="Defaults to today in the organization")


class MarkInvoicePaid(Strict):
    paid_on: Day | None = Field(default=None, description="Defaults to today in the organization")


class VoidInvoice(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=MAX_NOTE)]


# --- answers ----------------------------------------------------------------------------


class InvoiceSummary(BaseModel):
    """An invoice as lists show it: no lines."""

    id: UUID
    client_id: UUID
    state: InvoiceState
    number: str | None = Field(description="Given when issued; null on drafts")
    currency: str = Field(description="ISO 4217 code of every amount of the invoice")
    minor_digits: int = Field(description="Digits after the decimal point of the currency (EUR 2, JPY 0)")
    period_from: date
    period_to: date
    issued_on: date | None
    due_date: date | None
    paid_on: date | None
    subtotal_minor: int
    total_minor: int
    line_count: int
    created_at: datetime
    updated_at: datetime
    version: int


class InvoiceLine(BaseModel):
    description: str
    project_id: UUID
    task_id: UUID | None
    entry_ids: list[UUID]
    first_day: date
    last_day: date
    seconds: int = Field(description="Billed seconds (after the organization's rounding)")
    rate_minor: int = Field(description="Hourly rate in minor units")
    amount_minor: int


class TaxAmount(BaseModel):
    label: str
    percent: str
    amount_minor: int


class DiscountTerms(BaseModel):
    label: str
    percent: str | None
    amount_minor: int | None


class BilledEntry(BaseModel):
    entry_id: UUID
    billed_seconds: int


class Invoice(InvoiceSummary):
    """An invoice with its lines, discount, taxes and the entries it bills."""

    grouping: Grouping
    lines: list[InvoiceLine]
    discount: DiscountTerms | None
    discount_minor: int
    taxes: list[TaxAmount] = Field(description="Each tax with its amount on the net")
    notes: str
    void_reason: str
    entries: list[BilledEntry]
