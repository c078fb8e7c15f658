"""Commands on invoices: draft from billable entries, revise, issue, mark paid, void, discard.

Drafts read the write model only (members' weeks and their entries), so a draft
never misses an entry a read model has not caught up with. Issuing recomputes the
draft from its entries and refuses when anything changed, then takes the next
number and bills every entry in one append (rule 3: billed entries are locked).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from ledger.actors import Actor
from ledger.base import CommandContext, LedgerAggregate
from ledger.billing import (
    Discount,
    Tax,
    WorkItem,
    bill,
    clean_discount,
    clean_taxes,
    make_lines,
    totals,
)
from ledger.catalog import Client, Project, Task
from ledger.commands_entries import EntryCommands, check_version
from ledger.core import Receipt
from ledger.errors import InvalidInputError, NotFoundError, WorkflowError
from ledger.ids import invoice_sequence_id, member_week_id, rate_card_id
from ledger.invoices import Invoice, InvoiceSequence, invoice_content
from ledger.organization import ADMIN_ROLES, Organization
from ledger.rates import RateCard
from ledger.schedule import MemberWeek, week_keys
from ledger.time_entry import TimeEntry
from ledger.timesheets import clean_note
from ledger.timezones import local_day, local_midnight

_KEEP: Any = object()
LONGEST_PERIOD_DAYS = 366


class InvoiceCommands(EntryCommands):
    """Invoices, for owners and admins."""

    def draft_invoice(
        self,
        *,
        org_id: UUID,
        client_id: UUID,
        period_from: date,
        period_to: date,
        grouping: str = "project_task",
        taxes: list[dict[str, Any]] | None = None,
        discount: dict[str, Any] | None = None,
        notes: str | None = None,
        due_date: date | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Draft an invoice of a client's billable entries that started in [from, to] (local days)."""
        _check_period(period_from, period_to)
        parts = _Parts(
            grouping, clean_taxes(taxes), clean_discount(discount), clean_note(notes, "notes"), due_date
        )
        args = {
            "org_id": org_id,
            "client_id": client_id,
            "from": period_from.isoformat(),
            "to": period_to.isoformat(),
            **parts.as_args(),
        }

        def decide(ctx: CommandContext) -> tuple[list[LedgerAggregate], Receipt]:
            org = self._admin_org(org_id, actor)
            client = self._find(Client, client_id) if isinstance(client_id, UUID) else None
            if client is None or client.org_id != org.id:
                raise NotFoundError(f"There is no client with id {client_id}.")
            entries = self._billable_entries(org, client.id, period_from, period_to)
            content = self._content(org, client.id, entries, parts)
            invoice = Invoice.draft(
                ctx,
                org_id=org.id,
                client_id=client.id,
                period_from=period_from,
                period_to=period_to,
                currency=org.settings.currency,
                content=content,
            )
            return [invoice], Receipt("draft_invoice", invoice.id, invoice.version)

        return self._execute("draft_invoice", actor, command_id, args, decide)

    def revise_invoice(
        self,
        *,
        invoice_id: UUID,
        expected_version: int | None = None,
        grouping: str = _KEEP,
        taxes: list[dict[str, Any]] | None = _KEEP,
        discount: dict[str, Any] | None = _KEEP,
        notes: str = _KEEP,
        due_date: date | None = _KEEP,
        refresh: bool = False,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Change a draft's terms; `refresh` gathers its client's billable entries again."""
        given: dict[str, Any] = {
            k: v
            for k, v in {
                "grouping": grouping,
                "taxes": taxes,
                "discount": discount,
                "notes": notes,
                "due_date": due_date,
            }.items()
            if v is not _KEEP
        }
        cleaned = {
            "grouping": given.get("grouping", _KEEP),
            "taxes": clean_taxes(given["taxes"]) if "taxes" in given else _KEEP,
            "discount": clean_discount(given["discount"]) if "discount" in given else _KEEP,
            "notes": clean_note(given["notes"], "notes") if "notes" in given else _KEEP,
            "due_date": given.get("due_date", _KEEP),
        }
        if not isinstance(refresh, bool):
            raise InvalidInputError("refresh must be true or false.", field="refresh")
        args = {
            "invoice_id": invoice_id,
            "expected_version": expected_version,
            "refresh": refresh,
            **{k: _jsonable(v) for k, v in cleaned.items() if v is not _KEEP},
        }

        def decide(ctx: CommandContext) -> tuple[list[LedgerAggregate], Receipt]:
            invoice, org = self._invoice_for(invoice_id, actor)
            check_version(invoice, expected_version, "invoice")
            parts = _Parts(
                invoice.grouping if cleaned["grouping"] is _KEEP else cleaned["grouping"],
                invoice.taxes if cleaned["taxes"] is _KEEP else cleaned["taxes"],
                invoice.discount if cleaned["discount"] is _KEEP else cleaned["discount"],
                invoice.notes if cleaned["notes"] is _KEEP else cleaned["notes"],
                invoice.due_date if cleaned["due_date"] is _KEEP else cleaned["due_date"],
            )
            if refresh:
                entries = self._billable_entries(
                    org, invoice.client_id, invoice.period_from, invoice.period_to
                )
            else:
                entries = self._draft_entries(org, invoice)
            invoice.revise(ctx, self._content(org, invoice.client_id, entries, parts))
            return [invoice], Receipt("revise_invoice", invoice.id, invoice.version)

        return self._execute("revise_invoice", actor, command_id, args, decide)

    def issue_invoice(
        self,
        *,
        invoice_id: UUID,
        issued_on: date | None = None,
        expected_version: int | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Give a draft the next number of the organization's sequence and lock its entries."""
        if issued_on is not None and not isinstance(issued_on, date):
            raise InvalidInputError("issued_on is a date (YYYY-MM-DD).", field="issued_on")
        args = {
            "invoice_id": invoice_id,
            "issued_on": issued_on.isoformat() if issued_on else None,
            "expected_version": expected_version,
        }

        def decide(ctx: CommandContext) -> tuple[list[LedgerAggregate], Receipt]:
            invoice, org = self._invoice_for(invoice_id, actor)
            check_version(invoice, expected_version, "invoice")
            invoice.require_state(("draft",), "issued")
            entries = self._draft_entries(org, invoice)
            parts = _Parts(invoice.grouping, invoice.taxes, invoice.discount, invoice.notes, invoice.due_date)
            fresh = self._content(org, invoice.client_id, entries, parts)
            if fresh["lines"] != [line.to_dict() for line in invoice.lines] or fresh["totals"] != (
                invoice.totals.to_dict()
            ):
                raise WorkflowError(
                    "Entries or rates of this draft changed since it was drafted; refresh the draft, "
                    "check it, and issue it again."
                )
            day = issued_on or local_day(ctx.recorded_at, ZoneInfo(org.settings.timezone))
            sequence = self._find_or_open(
                InvoiceSequence, invoice_sequence_id(org.id), lambda: InvoiceSequence.open(ctx, org.id)
            )
            number = org.settings.invoice_number(day.year, sequence.last + 1)
            sequence.take(ctx, number, invoice.id)
            invoice.issue(ctx, number, sequence.last, day)
            for entry in entries:
                entry.bill(ctx, invoice.id)
            return [invoice, sequence, *entries], Receipt("issue_invoice", invoice.id, invoice.version)

        return self._execute("issue_invoice", actor, command_id, args, decide)

    def mark_invoice_paid(
        self,
        *,
        invoice_id: UUID,
        paid_on: date | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        if paid_on is not None and not isinstance(paid_on, date):
            raise InvalidInputError("paid_on is a date (YYYY-MM-DD).", field="paid_on")

        def decide(ctx: CommandContext) -> tuple[list[LedgerAggregate], Receipt]:
            invoice, org = self._invoice_for(invoice_id, actor)
            day = paid_on or local_day(ctx.recorded_at, ZoneInfo(org.settings.timezone))
            invoice.mark_paid(ctx, day)
            return [invoice], Receipt("mark_invoice_paid", invoice.id, invoice.version)

        args = {"invoice_id": invoice_id, "paid_on": paid_on.isoformat() if paid_on else None}
        return self._execute("mark_invoice_paid", actor, command_id, args, decide)

    def void_invoice(
        self,
        *,
        invoice_id: UUID,
        reason: str,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Void an issued invoice: its entries unlock, its number stays used."""
        text = clean_note(reason, "reason", required=True)

        def decide(ctx: CommandContext) -> tuple[list[LedgerAggregate], Receipt]:
            invoice, _ = self._invoice_for(invoice_id, actor)
            invoice.void(ctx, text)
            entries = [self._load(TimeEntry, entry_id, "time entry") for entry_id in invoice.entries]
            for entry in entries:
                entry.unbill(ctx, invoice.id)
            return [invoice, *entries], Receipt("void_invoice", invoice.id, invoice.version)

        return self._execute(
            "void_invoice", actor, command_id, {"invoice_id": invoice_id, "reason": text}, decide
        )

    def discard_invoice(self, *, invoice_id: UUID, actor: Actor, command_id: str | None = None) -> Receipt:
        def decide(ctx: CommandContext) -> tuple[list[LedgerAggregate], Receipt]:
            invoice, _ = self._invoice_for(invoice_id, actor)
            invoice.discard(ctx)
            return [invoice], Receipt("discard_invoice", invoice.id, invoice.version)

        return self._execute("discard_invoice", actor, command_id, {"invoice_id": invoice_id}, decide)

    # --- queries --------------------------------------------------------------

    def get_invoice(self, invoice_id: UUID, actor: Actor, version: int | None = None) -> Invoice:
        invoice, _ = self._invoice_for(invoice_id, actor)
        if version is not None and version != invoice.version:
            found: object = self.repository.get(invoice_id, version=version)
            assert isinstance(found, Invoice)  # noqa: S101 - same id, same aggregate
            return found
        return invoice

    def recompute_invoice(self, invoice_id: UUID, actor: Actor) -> dict[str, Any]:
        """The invoice's lines and totals computed again from its entries and the rates in the log.

        For an issued invoice this equals what it holds unless the entries' history
        was rewritten; audits compare the two.
        """
        invoice, org = self._invoice_for(invoice_id, actor)
        entries = [self._load(TimeEntry, entry_id, "time entry") for entry_id in invoice.entries]
        entries.sort(key=lambda e: (e.start, str(e.id)))
        parts = _Parts(invoice.grouping, invoice.taxes, invoice.discount, invoice.notes, invoice.due_date)
        return self._content(org, invoice.client_id, entries, parts)

    def catalog_names(self, ids: list[UUID]) -> dict[UUID, str]:
        """Names of clients, projects and tasks by id (for invoices and their PDFs)."""
        names: dict[UUID, str] = {}
        for item_id in ids:
            found = self._find(LedgerAggregate, item_id)
            if isinstance(found, Client | Project | Task):
                names[item_id] = found.name
        return names

    # --- helpers --------------------------------------------------------------

    def _admin_org(self, org_id: UUID, actor: Actor) -> Organization:
        org, role = self._org_role(org_id, actor)
        self._require_role(role, ADMIN_ROLES, "work with invoices")
        return org

    def _invoice_for(self, invoice_id: UUID, actor: Actor) -> tuple[Invoice, Organization]:
        invoice = self._find(Invoice, invoice_id) if isinstance(invoice_id, UUID) else None
        if invoice is None:
            raise NotFoundError(f"There is no invoice with id {invoice_id}.")
        org, role = self._org_role(invoice.org_id, actor, about=("invoice", invoice_id))
        self._require_role(role, ADMIN_ROLES, "work with invoices")
        return invoice, org

    def _billable_entries(
        self, org: Organization, client_id: UUID, period_from: date, period_to: date
    ) -> list[TimeEntry]:
        tz = ZoneInfo(org.settings.timezone)
        start = local_midnight(period_from, tz)
        end = local_midnight(period_to + timedelta(days=1), tz)
        found: dict[UUID, TimeEntry] = {}
        for member_id in org.members:
            for key in week_keys(start, end - timedelta(microseconds=1)):
                week = self._find(MemberWeek, member_week_id(org.id, member_id, key))
                if week is None:
                    continue
                for entry_id in week.entries_starting_in(start, end):
                    if entry_id in found:
                        continue
                    entry = self._load(TimeEntry, entry_id, "time entry")
                    if self._billable_reason(org, entry, client_id) is None:
                        found[entry_id] = entry
        return sorted(found.values(), key=lambda e: (e.start, str(e.id)))

    def _draft_entries(self, org: Organization, invoice: Invoice) -> list[TimeEntry]:
        """The draft's entries, each checked again; a refusal names the entry and the reason."""
        entries = []
        for entry_id in invoice.entries:
            entry = self._load(TimeEntry, entry_id, "time entry")
            reason = self._billable_reason(org, entry, invoice.client_id)
            if reason is not None:
                raise WorkflowError(
                    f"Entry {entry_id} can no longer be billed ({reason}); refresh the draft."
                )
            entries.append(entry)
        return sorted(entries, key=lambda e: (e.start, str(e.id)))

    def _billable_reason(self, org: Organization, entry: TimeEntry, client_id: UUID) -> str | None:
        """Why the entry cannot go on this client's invoice, or None when it can."""
        if entry.deleted:
            return "it was deleted"
        if entry.end is None:
            return "its timer is running"
        if not entry.details.billable:
            return "it is not billable"
        if entry.invoice_id is not None:
            return "it is on another issued invoice"
        project = self._find(Project, entry.details.project_id)
        if project is None or project.client_id != client_id:
            return "its project is not this client's"
        if org.settings.invoice_requires_approval and (
            entry.timesheet_lock is None or entry.timesheet_lock[1] != "approved"
        ):
            return "its timesheet is not approved"
        return None

    def _content(
        self, org: Organization, client_id: UUID, entries: list[TimeEntry], parts: _Parts
    ) -> dict[str, Any]:
        if not entries:
            raise InvalidInputError(
                "There are no billable entries of this client in this period"
                + (" with an approved timesheet" if org.settings.invoice_requires_approval else "")
                + ".",
                field="period",
            )
        items = [
            WorkItem(
                entry_id=e.id,
                member_id=e.member_id,
                project_id=e.details.project_id,
                task_id=e.details.task_id,
                client_id=client_id,
                start=e.start,
                raw_seconds=e.worked_seconds(e.end or e.start),
                description=e.details.description,
            )
            for e in entries
        ]
        card = self._find(RateCard, rate_card_id(org.id))
        billed = bill(items, card.rates if card else [], org.settings, org.settings.currency)
        ids = {i.project_id for i in items} | {i.task_id for i in items if i.task_id}
        lines = make_lines(billed, parts.grouping, self.catalog_names(list(ids)))
        return invoice_content(
            grouping=parts.grouping,
            lines=lines,
            entries={b.work.entry_id: b.billed_seconds for b in billed},
            taxes=parts.taxes,
            discount=parts.discount,
            notes=parts.notes,
            due_date=parts.due_date,
            totals=totals(lines, parts.discount, parts.taxes),
        )


class _Parts:
    """The terms of an invoice that its author chooses."""

    def __init__(
        self,
        grouping: str,
        taxes: tuple[Tax, ...],
        discount: Discount | None,
        notes: str,
        due_date: date | None,
    ) -> None:
        if due_date is not None and not isinstance(due_date, date):
            raise InvalidInputError("due_date is a date (YYYY-MM-DD).", field="due_date")
        self.grouping = grouping
        self.taxes = taxes
        self.discount = discount
        self.notes = notes
        self.due_date = due_date

    def as_args(self) -> dict[str, Any]:
        return {
            "grouping": self.grouping,
            "taxes": _jsonable(self.taxes),
            "discount": _jsonable(self.discount),
            "notes": self.notes,
            "due_date": _jsonable(self.due_date),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Tax | Discount):
        return value.to_dict()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _check_period(period_from: date, period_to: date) -> None:
    if not isinstance(period_from, date) or not isinstance(period_to, date):
        raise InvalidInputError("The period is two dates (YYYY-MM-DD).", field="period")
    if period_to < period_from:
        raise InvalidInputError("The period ends before it starts.", field="period")
    if (period_to - period_from).days >= LONGEST_PERIOD_DAYS:
        raise InvalidInputError(f"An invoice covers at most {LONGEST_PERIOD_DAYS} days.", field="period")
