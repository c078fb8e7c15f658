"""The invoice PDF job: in this process, and sent through a real Redis to a real `timeledger worker`."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from ledger.invoices import Invoice
from ledger.store import store_config
from projections.database import readmodel_engine
from projections.documents import get_document
from tests.conftest import StoreHandle, World
from tests.workers.conftest import ALL_SCHEDULES_OFF, REDIS_URL
from workers.broker import close, install
from workers.context import WorkerContext
from workers.invoice_jobs import WorkerJobQueue, invoice_document, render_invoice_now
from workers.invoice_pdf import format_money

ROOT = Path(__file__).resolve().parents[2]
MONDAY = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
READY = "TimeLedger worker on"
WAIT_SECONDS = 90.0


def issued_invoice(world: World) -> Invoice:
    """An issued invoice of two lines (two tasks), 19% VAT, from approved billable time."""
    ledger = world.ledger
    ledger.set_rate(
        org_id=world.org_id,
        level="organization",
        amount_minor=9_000,
        effective_from=date(2026, 1, 1),
        actor=world.owner,
    )
    support = ledger.create_task(project_id=world.project_id, name="Support", actor=world.owner).id
    for start, minutes, task in ((MONDAY, 120, world.task_id), (MONDAY + timedelta(days=2), 45, support)):
        ledger.record_entry(
            org_id=world.org_id,
            project_id=world.project_id,
            task_id=task,
            start=start,
            end=start + timedelta(minutes=minutes),
            actor=world.member,
        )
    sheet = ledger.submit_timesheet(org_id=world.org_id, day=MONDAY.date(), actor=world.member).id
    ledger.approve_timesheet(timesheet_id=sheet, actor=world.manager)
    drafted = ledger.draft_invoice(
        org_id=world.org_id,
        client_id=world.client_id,
        period_from=date(2026, 11, 9),
        period_to=date(2026, 11, 15),
        taxes=[{"label": "VAT", "percent": "19"}],
        actor=world.owner,
    )
    ledger.issue_invoice(invoice_id=drafted.id, issued_on=date(2026, 11, 16), actor=world.owner)
    return ledger.get_invoice(drafted.id, world.owner)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def assert_shows(data: bytes, invoice: Invoice) -> None:
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert invoice.number is not None
    assert invoice.number in text
    for line in invoice.lines:
        assert line.description in text
        assert format_money(line.amount_minor, invoice.currency, "en") in text
    assert format_money(invoice.totals.total_minor, invoice.currency, "en") in text


@pytest.fixture
def engine(store: StoreHandle, tmp_path: Path) -> Iterator[Engine]:
    found = readmodel_engine(store_config(store.url, tmp_path))
    yield found
    found.dispose()


def test_the_job_renders_the_version_it_was_given_and_skips_unknown_ones(
    world: World, engine: Engine
) -> None:
    invoice = issued_invoice(world)
    ctx = WorkerContext(world.ledger, engine)
    document = invoice_document(world.ledger, invoice)
    assert (document.client_name, document.status, document.org_name) == ("Globex", "issued", "Acme")
    assert [line.detail for line in document.lines] == ["Nov 9, 2026", "Nov 11, 2026"]

    assert render_invoice_now(ctx, invoice.id, invoice.version)
    stored = get_document(engine, invoice.id, invoice.version)
    assert stored is not None
    assert stored.content_type == "application/pdf"
    assert_shows(stored.data, invoice)
    # The draft's version renders as a draft; versions that do not exist render nothing.
    assert render_invoice_now(ctx, invoice.id, 1)
    draft = get_document(engine, invoice.id, 1)
    assert draft is not None
    assert "DRAFT" in pdf_text(draft.data)
    assert not render_invoice_now(ctx, invoice.id, invoice.version + 1)
    assert not render_invoice_now(ctx, invoice.id, 0)
    assert not render_invoice_now(ctx, world.client_id, 1)
    assert get_document(engine, invoice.id, invoice.version + 1) is None


def worker_env(store: StoreHandle, home: Path, namespace: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELEDGER_") and k != "DATABASE_URL"}
    env.update(
        TIMELEDGER_HOME=str(home),
        DATABASE_URL=store.url,
        REDIS_URL=REDIS_URL,
        TIMELEDGER_REDIS_NAMESPACE=namespace,
        PYTHONUNBUFFERED="1",
    )
    return env


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@pytest.mark.slow
def test_a_real_worker_renders_the_pdf_sent_through_redis(
    world: World, store: StoreHandle, engine: Engine, redis_namespace: str, tmp_path: Path
) -> None:
    invoice = issued_invoice(world)
    schedules = [arg for name in ALL_SCHEDULES_OFF for arg in ("--schedule", f"{name}=off")]
    log = tmp_path / "worker.log"
    with log.open("w", encoding="utf-8") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "timeledger.cli", "worker", "--threads", "2", *schedules],
            cwd=ROOT,
            env=worker_env(store, tmp_path / "home", redis_namespace),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    broker = install(REDIS_URL, namespace=redis_namespace)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while READY not in log.read_text(errors="replace"):
            assert worker.poll() is None, f"the worker exited while starting:\n{tail(log)}"
            assert time.monotonic() < deadline, f"the worker did not start:\n{tail(log)}"
            time.sleep(0.1)
        WorkerJobQueue().render_invoice(invoice.id, invoice.version)
        document = None
        while document is None:
            assert worker.poll() is None, f"the worker exited:\n{tail(log)}"
            assert time.monotonic() < deadline, f"no PDF after {WAIT_SECONDS} s:\n{tail(log)}"
            time.sleep(0.2)
            document = get_document(engine, invoice.id, invoice.version)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, tail(log)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        close(broker)
        install(None)
    assert_shows(document.data, invoice)
    assert f"rendered the PDF of invoice {invoice.id}" in log.read_text()
