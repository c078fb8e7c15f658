"""Invoice PDFs: real WeasyPrint renders, read back with pypdf."""

from __future__ import annotations

import base64
import io
import logging
import socket
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from workers.invoice_pdf import (
    ExternalResourceRefusedError,
    InvoiceDocument,
    InvoiceLine,
    InvoiceTax,
    OnlyDataUrls,
    format_decimal_hours,
    format_hours_minutes,
    format_money,
    render_invoice_html,
    render_invoice_pdf,
)


def png_data_url() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (30, 90, 160)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def make_line(index: int = 0, **overrides: Any) -> InvoiceLine:
    fields: dict[str, Any] = {
        "description": f"Website relaunch, part {index}",
        "detail": "Ada Lovelace, Mar 1-31",
        "seconds": 5400,
        "rate_minor": 9000,
        "amount_minor": 13500,
    }
    return InvoiceLine(**(fields | overrides))


def make_document(**overrides: Any) -> InvoiceDocument:
    fields: dict[str, Any] = {
        "number": "2026-0007",
        "status": "issued",
        "issued_on": date(2026, 4, 1),
        "due_date": date(2026, 5, 1),
        "period_from": date(2026, 3, 1),
        "period_to": date(2026, 3, 31),
        "currency": "EUR",
        "org_name": "Acme Consulting GmbH",
        "org_address": "Hauptstraße 1\n10115 Berlin\nGermany",
        "logo_data_url": "",
        "client_name": "Globex Corporation",
        "lines": (make_line(1), make_line(2)),
        "subtotal_minor": 27000,
        "discount_label": "Loyalty discount",
        "discount_minor": 1350,
        "taxes": (InvoiceTax("VAT", "19", 4873),),
        "total_minor": 30523,
        "notes": "Payable within 30 days.",
    }
    return InvoiceDocument(**(fields | overrides))


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def image_count(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


ISSUED = make_document(
    lines=(
        make_line(1, description='Design <b>bold</b> & "quoted"'),
        make_line(2, description="Backend <script>alert(1)</script>", seconds=5430),
        make_line(3, description="Hosting"),
    ),
    subtotal_minor=123456,
    discount_minor=6173,
    taxes=(InvoiceTax("VAT", "19", 22283), InvoiceTax("City tax", "2.5", 2932)),
    total_minor=142498,
    notes="Pay within 30 days.\nIBAN: <i>DE00 1234</i>",
    logo_data_url=png_data_url(),
)
DRAFT_IN_YEN = make_document(
    number=None,
    status="draft",
    issued_on=None,
    due_date=None,
    currency="JPY",
    lines=(make_line(1, rate_minor=12000, amount_minor=18000),),
    subtotal_minor=18000,
    discount_minor=0,
    taxes=(InvoiceTax("Consumption tax", "10", 1800),),
    total_minor=1234567,
)
LONG = make_document(lines=tuple(make_line(i, description=f"Task number {i:03d}") for i in range(200)))


@pytest.fixture(scope="module")
def issued_pdf() -> bytes:
    return render_invoice_pdf(ISSUED)


@pytest.fixture(scope="module")
def issued_text(issued_pdf: bytes) -> list[str]:
    return pages_text(issued_pdf)


@pytest.fixture(scope="module")
def draft_text() -> list[str]:
    return pages_text(render_invoice_pdf(DRAFT_IN_YEN))


@pytest.fixture(scope="module")
def long_text() -> list[str]:
    return pages_text(render_invoice_pdf(LONG))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fail any DNS lookup or socket connection, and record the attempt."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_an_issued_invoice_shows_its_number_lines_and_total(issued_text: list[str]) -> None:
    text = "\n".join(issued_text)
    assert "2026-0007" in text
    for line in ISSUED.lines:
        assert line.description in text
    assert "€1,424.98" in text
    assert "DRAFT" not in text


def test_an_issued_invoice_shows_the_header_dates_and_sums(issued_text: list[str]) -> None:
    text = "\n".join(issued_text)
    assert "Acme Consulting GmbH" in text
    assert "Hauptstraße 1\n10115 Berlin\nGermany" in text  # the address keeps its lines
    assert "Globex Corporation" in text
    assert "Apr 1, 2026" in text
    assert "May 1, 2026" in text
    assert "Mar 1, 2026 \u2013 Mar 31, 2026" in text
    assert "€1,234.56" in text  # subtotal
    assert "Loyalty discount" in text
    assert "-€61.73" in text
    assert "VAT (19%)" in text
    assert "City tax (2.5%)" in text
    assert "€29.32" in text
    assert "Page 1 of 1" in text


def test_a_line_shows_hours_minutes_decimal_hours_rate_and_amount(issued_text: list[str]) -> None:
    assert "1:31 1.51 €90.00 €135.00" in "\n".join(issued_text)


def test_the_page_is_a4_with_the_logo(issued_pdf: bytes) -> None:
    page = PdfReader(io.BytesIO(issued_pdf)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert image_count(issued_pdf) == 1


def test_html_in_descriptions_and_notes_is_printed_as_text(issued_text: list[str]) -> None:
    text = "\n".join(issued_text)
    assert 'Design <b>bold</b> & "quoted"' in text
    assert "<script>alert(1)</script>" in text
    assert "IBAN: <i>DE00 1234</i>" in text

    html = render_invoice_html(ISSUED)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;DE00 1234&lt;/i&gt;" in html


def test_a_draft_is_marked_draft_and_has_no_number(draft_text: list[str]) -> None:
    text = "\n".join(draft_text)
    assert "Invoice DRAFT" in text
    assert "2026-0007" not in text
    assert "Invoice (draft)" in text  # the footer


def test_a_currency_without_minor_digits_prints_whole_units(draft_text: list[str]) -> None:
    text = "\n".join(draft_text)
    assert "1:30 1.50 ¥12,000 ¥18,000" in text  # rate and amount: minor units are yen
    assert "Total ¥1,234,567" in text
    assert "¥12,000.00" not in text
    assert "¥120.00" not in text


@pytest.mark.parametrize(
    ("amount_minor", "currency", "locale", "expected"),
    [
        (1234, "JPY", "en", "¥1,234"),
        (0, "JPY", "en", "¥0"),
        (123456, "EUR", "en", "€1,234.56"),
        (5, "EUR", "en", "€0.05"),
        (-6173, "EUR", "en", "-€61.73"),
        (123456, "EUR", "de", "1.234,56\xa0€"),
        (1234567, "BHD", "en", "BHD1,234.567"),
        # Beyond a float's 53 bits: exact only with Decimal.
        (12345678901234567, "EUR", "en", "€123,456,789,012,345.67"),
    ],
)
def test_money_is_formatted_with_the_currencys_minor_digits(
    amount_minor: int, currency: str, locale: str, expected: str
) -> None:
    assert format_money(amount_minor, currency, locale) == expected


@pytest.mark.parametrize(
    ("seconds", "hours_minutes", "decimal_hours"),
    [(0, "0:00", "0.00"), (5430, "1:31", "1.51"), (5429, "1:30", "1.51"), (3_600_000, "1000:00", "1,000.00")],
)
def test_billed_seconds_print_as_hours_and_minutes_and_decimal_hours(
    seconds: int, hours_minutes: str, decimal_hours: str
) -> None:
    assert format_hours_minutes(seconds) == hours_minutes
    assert format_decimal_hours(seconds, "en") == decimal_hours


def test_two_hundred_lines_run_over_numbered_pages(long_text: list[str]) -> None:
    pages = len(long_text)
    assert pages > 1
    for number, text in enumerate(long_text, start=1):
        assert f"Page {number} of {pages}" in text
        if "Task number" in text:
            assert "Description" in text  # the table header repeats on every page it runs over
    text = "\n".join(long_text)
    assert all(f"Task number {i:03d}" in text for i in range(200))
    assert text.index("Total €305.23") > text.index("Task number 199")  # the sums follow the last line


def test_the_fetcher_serves_data_urls_and_refuses_everything_else(no_network: list[object]) -> None:
    fetcher = OnlyDataUrls()
    response = fetcher.fetch("data:text/plain;base64," + base64.b64encode(b"hi").decode())
    assert response.read() == b"hi"
    for url in ("http://192.0.2.1/logo.png", "https://example.com/a.css", "file:///etc/passwd", "ftp://x/y"):
        with pytest.raises(ExternalResourceRefusedError):
            fetcher.fetch(url)
    assert no_network == []


def test_a_logo_on_the_web_is_refused_not_fetched(
    no_network: list[object], caplog: pytest.LogCaptureFixture
) -> None:
    doc = replace(DRAFT_IN_YEN, logo_data_url="http://192.0.2.1/logo.png")
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        pdf = render_invoice_pdf(doc)
    assert no_network == []
    assert image_count(pdf) == 0  # the image is dropped, the invoice still renders
    assert "Invoices load no external resources" in caplog.text
    assert "DRAFT" in pages_text(pdf)[0]


def test_an_svg_logo_renders_without_reaching_out(
    no_network: list[object], caplog: pytest.LogCaptureFixture
) -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' width="120" height="40"><rect width="120" height="40" fill="#1e5aa0"/>'
        '<image xlink:href="http://192.0.2.1/tracker.png" width="1" height="1"/></svg>'
    )
    logo = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    doc = replace(ISSUED, logo_data_url=logo)
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        pdf = render_invoice_pdf(doc)
    assert no_network == []
    assert "Invoices load no external resources: 'http://192.0.2.1/tracker.png'" in caplog.text
    assert "2026-0007" in pages_text(pdf)[0]
