"""The invoices read model follows every invoice event; rendered documents outlive a rebuild."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from projections.documents import get_document, save_document
from projections.invoice_queries import get_invoice_row, list_invoices
from projections.invoices import InvoicesProjection
from projections.operations import rebuild, verify
from tests.conftest import NOW, World
from tests.projections.conftest import ReadSide

DAY = NOW.date()


def billable_day(world: World) -> None:
    ledger = world.ledger
    ledger.change_settings(
        org_id=world.org_id, changes={"invoice_requires_approval": False}, actor=world.owner
    )
    ledger.set_rate(
        org_id=world.org_id,
        level="organization",
        amount_minor=12_000,
        effective_from=date(2026, 1, 1),
        actor=world.owner,
    )
    for hours in (6, 4):
        ledger.record_entry(
            org_id=world.org_id,
            project_id=world.project_id,
            start=NOW - timedelta(hours=hours),
            duration_seconds=1800,
            actor=world.member,
        )


def draft(world: World) -> tuple[UUID, int]:
    receipt = world.ledger.draft_invoice(
        org_id=world.org_id, client_id=world.client_id, period_from=DAY, period_to=DAY, actor=world.owner
    )
    return receipt.id, receipt.version


def test_rows_follow_draft_revise_issue_pay_void_and_discard(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    ledger = world.ledger
    billable_day(world)
    kept, _ = draft(world)
    ledger.revise_invoice(
        invoice_id=kept,
        taxes=[{"label": "VAT", "percent": "20"}],
        due_date=date(2026, 12, 20),
        actor=world.owner,
    )
    rs.catch_up()
    row = get_invoice_row(rs.engine, world.org_id, kept)
    assert row is not None
    assert (row.state, row.number, row.subtotal_minor, row.total_minor, row.line_count) == (
        "draft",
        None,
        12_000,
        14_400,
        1,
    )
    assert (row.period_from, row.period_to, row.due_date, row.version) == (DAY, DAY, date(2026, 12, 20), 2)

    ledger.issue_invoice(invoice_id=kept, issued_on=DAY, actor=world.owner)
    ledger.mark_invoice_paid(invoice_id=kept, paid_on=DAY, actor=world.owner)
    ledger.void_invoice(invoice_id=kept, reason="wrong client", actor=world.owner)
    dropped, _ = draft(world)
    ledger.discard_invoice(invoice_id=dropped, actor=world.owner)
    rs.catch_up()
    row = get_invoice_row(rs.engine, world.org_id, kept)
    assert row is not None
    assert (row.state, row.number, row.issued_on, row.paid_on, row.version) == (
        "void",
        "INV-2026-0001",
        DAY,
        DAY,
        5,
    )
    assert [r.id for r in list_invoices(rs.engine, world.org_id).items] == [kept]
    assert [r.id for r in list_invoices(rs.engine, world.org_id, state="discarded").items] == [dropped]
    assert list_invoices(rs.engine, world.org_id, state="draft").items == ()
    report = verify(ledger, rs.engine, InvoicesProjection)
    assert report.ok, report.difference
    assert report.rows == 2


def test_a_rebuild_keeps_the_rendered_documents(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    billable_day(world)
    invoice_id, version = draft(world)
    rs.catch_up()
    at = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    save_document(rs.engine, invoice_id, version, "application/pdf", b"%PDF-1.7 first", at)
    # A retried job writes the same version again: one row, the latest bytes.
    save_document(rs.engine, invoice_id, version, "application/pdf", b"%PDF-1.7 again", at)

    done = rebuild(world.ledger, rs.engine, InvoicesProjection)
    assert done.generation == 2
    document = get_document(rs.engine, invoice_id, version)
    assert document is not None
    assert (document.data, document.content_type, document.rendered_at) == (
        b"%PDF-1.7 again",
        "application/pdf",
        at,
    )
    assert get_document(rs.engine, invoice_id, version + 1) is None
    assert get_invoice_row(rs.engine, world.org_id, invoice_id) is not None
