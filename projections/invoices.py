"""The invoices read model: one row per invoice with its state, number, period and totals.

Lines, taxes and entries stay in the ledger (`Invoice` events hold them); this table
is what lists page and filter through.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from sqlalchemy import BigInteger, Column, Date, Index, Integer, MetaData, String, Table, Uuid

from ledger.invoices import Invoice
from projections.base import ReadModel
from projections.batch import Batch
from projections.columns import Instant


def totals_of(content: dict[str, Any]) -> dict[str, Any]:
    """The columns a draft's content sets (pure: the content as the event stores it)."""
    due = content["due_date"]
    return {
        "due_date": date.fromisoformat(due) if due else None,
        "subtotal_minor": content["totals"]["subtotal_minor"],
        "total_minor": content["totals"]["total_minor"],
        "line_count": len(content["lines"]),
    }


class InvoicesProjection(ReadModel):
    """`rm_invoices`: every invoice of every organization, current state only."""

    name = "invoices"

    @classmethod
    def define_tables(cls, metadata: MetaData, suffix: str) -> dict[str, Table]:
        return {
            "invoices": Table(
                f"rm_invoices{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Column("client_id", Uuid, nullable=False),
                Column("state", String(10), nullable=False),
                Column("number", String(64), nullable=True),
                Column("currency", String(3), nullable=False),
                Column("period_from", Date, nullable=False),
                Column("period_to", Date, nullable=False),
                Column("issued_on", Date, nullable=True),
                Column("due_date", Date, nullable=True),
                Column("paid_on", Date, nullable=True),
                Column("subtotal_minor", BigInteger, nullable=False),
                Column("total_minor", BigInteger, nullable=False),
                Column("line_count", Integer, nullable=False),
                Column("created_at", Instant, nullable=False),
                Column("updated_at", Instant, nullable=False),
                Column("version", Integer, nullable=False),
                Index(f"ix_rm_invoices{suffix}_org", "org_id", "created_at"),
                Index(f"ix_rm_invoices{suffix}_client", "org_id", "client_id", "created_at"),
            ),
        }

    def _change(self, batch: Batch, e: Any, **values: Any) -> None:
        """Set some columns of an invoice's row, with the event's version and time."""
        key = (e.originator_id,)
        row = batch.get(self.t["invoices"], key)
        if row is not None:
            row.update(values, version=e.originator_version, updated_at=e.timestamp)
            batch.put(self.t["invoices"], key, row)

    @singledispatchmethod
    def apply(self, event: object, batch: Batch) -> None:
        """Other events do not change invoices."""

    @apply.register(Invoice.Drafted)
    def _drafted(self, e: Invoice.Drafted, batch: Batch) -> None:
        batch.put(
            self.t["invoices"],
            (e.originator_id,),
            {
                "id": e.originator_id,
                "org_id": e.org_id,
                "client_id": e.client_id,
                "state": "draft",
                "number": None,
                "currency": e.currency,
                "period_from": date.fromisoformat(e.period_from),
                "period_to": date.fromisoformat(e.period_to),
                "issued_on": None,
                "paid_on": None,
                **totals_of(e.content),
                "created_at": e.timestamp,
                "updated_at": e.timestamp,
                "version": e.originator_version,
            },
        )

    @apply.register(Invoice.Revised)
    def _revised(self, e: Invoice.Revised, batch: Batch) -> None:
        self._change(batch, e, **totals_of(e.content))

    @apply.register(Invoice.Issued)
    def _issued(self, e: Invoice.Issued, batch: Batch) -> None:
        self._change(batch, e, state="issued", number=e.number, issued_on=date.fromisoformat(e.issued_on))

    @apply.register(Invoice.Paid)
    def _paid(self, e: Invoice.Paid, batch: Batch) -> None:
        self._change(batch, e, state="paid", paid_on=date.fromisoformat(e.paid_on))

    @apply.register(Invoice.Voided)
    def _voided(self, e: Invoice.Voided, batch: Batch) -> None:
        self._change(batch, e, state="void")

    @apply.register(Invoice.Discarded)
    def _discarded(self, e: Invoice.Discarded, batch: Batch) -> None:
        self._change(batch, e, state="discarded")
