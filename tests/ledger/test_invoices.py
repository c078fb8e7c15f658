"""Invoices: drafts from approved billable time, exact amounts, gapless numbers, locks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.clock import SystemClock
from ledger.errors import ForbiddenError, InvalidInputError, LockedError, WorkflowError
from ledger.invoices import Invoice
from tests.conftest import World
from tests.ledger.test_races import race

MONDAY = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
WEEK = (date(2026, 11, 9), date(2026, 11, 15))


def record(world: World, start: datetime, minutes: int, **extra: object) -> UUID:
    return world.ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=start,
        end=start + timedelta(minutes=minutes),
        actor=world.member,
        **extra,  # type: ignore[arg-type]
    ).id


def approve_week(world: World) -> UUID:
    sheet = world.ledger.submit_timesheet(org_id=world.org_id, day=WEEK[0], actor=world.member).id
    world.ledger.approve_timesheet(timesheet_id=sheet, actor=world.manager)
    return sheet


def draft(world: World, **terms: object) -> Invoice:
    receipt = world.ledger.draft_invoice(
        org_id=world.org_id,
        client_id=world.client_id,
        period_from=WEEK[0],
        period_to=WEEK[1],
        actor=world.owner,
        **terms,  # type: ignore[arg-type]
    )
    return world.ledger.get_invoice(receipt.id, world.owner)


def rate(world: World, amount: int, level: str = "organization", **target: object) -> None:
    world.ledger.set_rate(
        org_id=world.org_id,
        level=level,
        amount_minor=amount,
        effective_from=date(2026, 1, 1),
        actor=world.owner,
        **target,  # type: ignore[arg-type]
    )


def test_draft_takes_only_approved_billable_entries_of_the_client(world: World) -> None:
    rate(world, 10_000)
    billed = record(world, MONDAY, 90, task_id=world.task_id)
    record(world, MONDAY + timedelta(hours=3), 30, billable=False)
    other_project = world.ledger.create_project(org_id=world.org_id, name="Internal", actor=world.owner).id
    world.ledger.record_entry(
        org_id=world.org_id,
        project_id=other_project,
        start=MONDAY + timedelta(hours=5),
        end=MONDAY + timedelta(hours=6),
        actor=world.member,
    )
    with pytest.raises(InvalidInputError, match="approved"):
        draft(world)
    approve_week(world)
    invoice = draft(world, taxes=[{"label": "VAT", "percent": "19"}])
    assert list(invoice.entries) == [billed]
    [line] = invoice.lines
    assert (line.description, line.seconds, line.rate_minor, line.amount_minor) == (
        "Website / Design",
        5400,
        10_000,
        15_000,
    )
    assert invoice.totals.to_dict() == {
        "subtotal_minor": 15_000,
        "discount_minor": 0,
        "taxes": [{"label": "VAT", "percent": "19", "amount_minor": 2850}],
        "total_minor": 17_850,
    }
    with pytest.raises(ForbiddenError):
        world.ledger.draft_invoice(
            org_id=world.org_id,
            client_id=world.client_id,
            period_from=WEEK[0],
            period_to=WEEK[1],
            actor=world.manager,
        )


def test_issue_numbers_locks_entries_and_void_unlocks_them(world: World) -> None:
    ledger = world.ledger
    rate(world, 6_000)
    entry = record(world, MONDAY, 60)
    sheet = approve_week(world)
    invoice = draft(world)
    ledger.issue_invoice(invoice_id=invoice.id, issued_on=date(2026, 11, 16), actor=world.owner)
    issued = ledger.get_invoice(invoice.id, world.owner)
    assert (issued.state, issued.number) == ("issued", "INV-2026-0001")
    ledger.reopen_timesheet(timesheet_id=sheet, actor=world.manager)
    with pytest.raises(LockedError, match="invoice"):
        ledger.edit_entry(entry_id=entry, description="changed", actor=world.owner)
    with pytest.raises(WorkflowError, match="issued"):
        ledger.revise_invoice(invoice_id=invoice.id, notes="too late", actor=world.owner)
    ledger.mark_invoice_paid(invoice_id=invoice.id, paid_on=date(2026, 11, 20), actor=world.owner)
    ledger.void_invoice(invoice_id=invoice.id, reason="billed the wrong client", actor=world.owner)
    ledger.edit_entry(entry_id=entry, description="changed", actor=world.member)
    # The voided number stays used: the next invoice takes 0002.
    approve_week(world)
    again = draft(world)
    ledger.issue_invoice(invoice_id=again.id, issued_on=date(2026, 11, 16), actor=world.owner)
    assert ledger.get_invoice(again.id, world.owner).number == "INV-2026-0002"


def test_issue_refuses_a_draft_whose_entries_or_rates_changed(world: World) -> None:
    ledger = world.ledger
    ledger.change_settings(
        org_id=world.org_id, changes={"invoice_requires_approval": False}, actor=world.owner
    )
    rate(world, 6_000)
    entry = record(world, MONDAY, 60)
    invoice = draft(world)
    ledger.edit_entry(entry_id=entry, end=MONDAY + timedelta(minutes=90), actor=world.member)
    with pytest.raises(WorkflowError, match="refresh"):
        ledger.issue_invoice(invoice_id=invoice.id, actor=world.owner)
    ledger.revise_invoice(invoice_id=invoice.id, refresh=True, actor=world.owner)
    assert ledger.get_invoice(invoice.id, world.owner).totals.total_minor == 9_000
    rate(world, 7_000)
    with pytest.raises(WorkflowError, match="refresh"):
        ledger.issue_invoice(invoice_id=invoice.id, actor=world.owner)
    ledger.revise_invoice(invoice_id=invoice.id, refresh=True, actor=world.owner)
    ledger.issue_invoice(invoice_id=invoice.id, actor=world.owner)
    assert ledger.get_invoice(invoice.id, world.owner).totals.total_minor == 10_500


def test_an_entry_goes_on_one_issued_invoice_only(world: World) -> None:
    ledger = world.ledger
    rate(world, 6_000)
    record(world, MONDAY, 60)
    approve_week(world)
    first, second = draft(world), draft(world)
    ledger.issue_invoice(invoice_id=first.id, actor=world.owner)
    with pytest.raises(WorkflowError, match="another issued invoice"):
        ledger.issue_invoice(invoice_id=second.id, actor=world.owner)
    ledger.discard_invoice(invoice_id=second.id, actor=world.owner)
    assert ledger.get_invoice(second.id, world.owner).state == "discarded"


def test_twenty_invoices_issued_at_once_get_twenty_consecutive_numbers(
    make_ledger: Callable[..., TimeLedger],
) -> None:
    ledger = make_ledger(SystemClock())
    created = ledger.create_organization(
        name="Numbers", owner_email="o@num.test", owner_name="O", owner_password="owner-password"
    )
    owner = Actor.user(created.related[0])
    ledger.change_settings(
        org_id=created.id,
        changes={"invoice_requires_approval": False, "invoice_number_format": "N-{seq:03}"},
        actor=owner,
    )
    ledger.set_rate(
        org_id=created.id,
        level="organization",
        amount_minor=1000,
        actor=owner,
        effective_from=date(2026, 1, 1),
    )
    drafts = []
    for i in range(20):
        client = ledger.create_client(org_id=created.id, name=f"Client {i}", actor=owner).id
        project = ledger.create_project(org_id=created.id, name=f"P{i}", client_id=client, actor=owner).id
        ledger.record_entry(
            org_id=created.id,
            project_id=project,
            start=datetime(2026, 3, 2, 8, tzinfo=UTC),
            end=datetime(2026, 3, 2, 9, tzinfo=UTC),
            actor=owner,
        )
        drafts.append(
            ledger.draft_invoice(
                org_id=created.id,
                client_id=client,
                period_from=date(2026, 3, 1),
                period_to=date(2026, 3, 31),
                actor=owner,
            ).id
        )
    _, errors = race(20, lambda i: ledger.issue_invoice(invoice_id=drafts[i], actor=owner))
    assert errors == []
    numbers = sorted(ledger.get_invoice(d, owner).number or "" for d in drafts)
    assert numbers == [f"N-{n:03}" for n in range(1, 21)]
