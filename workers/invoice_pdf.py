"""Invoice PDFs: an `InvoiceDocument` rendered to HTML by Jinja2, then to A4 PDF by WeasyPrint.

Everything the page shows is formatted here (money, hours, dates); the template
only lays it out. Rendering never touches the network or the file system: the only
resources a document may load are `data:` URLs (the organization's logo).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_currency_precision
from jinja2 import Environment, FileSystemLoader, StrictUndefined

with warnings.catch_warnings():
    # Without libharfbuzz-subset0 WeasyPrint subsets fonts with fontTools (slower, still
    # correct) and says so once, at import, as a DeprecationWarning: not an error here.
    warnings.filterwarnings("ignore", message="HarfBuzz-Subset will be required", category=DeprecationWarning)
    from weasyprint import CSS, HTML  # type: ignore[import-untyped]
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # type: ignore[import-untyped]

__all__ = [
    "ExternalResourceRefusedError",
    "InvoiceDocument",
    "InvoiceLine",
    "InvoiceTax",
    "OnlyDataUrls",
    "format_decimal_hours",
    "format_hours_minutes",
    "format_money",
    "render_invoice_html",
    "render_invoice_pdf",
]

TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    detail: str  # e.g. the dates or the member
    seconds: int  # billed seconds
    rate_minor: int  # per hour
    amount_minor: int


@dataclass(frozen=True)
class InvoiceTax:
    label: str
    percent: str  # as it is printed, e.g. "19" or "7.5"
    amount_minor: int


@dataclass(frozen=True)
class InvoiceDocument:
    number: str | None  # None: a draft, printed with a DRAFT mark
    status: str
    issued_on: date | None
    due_date: date | None
    period_from: date
    period_to: date
    currency: str
    org_name: str
    org_address: str  # multi-line
    logo_data_url: str  # a data: URL of a PNG, JPEG or SVG, or ""
    client_name: str
    lines: tuple[InvoiceLine, ...]
    subtotal_minor: int
    discount_label: str
    discount_minor: int  # subtracted from the subtotal; 0 prints no discount row
    taxes: tuple[InvoiceTax, ...]
    total_minor: int
    notes: str
    locale: str = "en"


class ExternalResourceRefusedError(ValueError):
    """Raised when a document asks for a resource that is not a `data:` URL."""


class OnlyDataUrls(URLFetcher):  # type: ignore[misc]
    """A WeasyPrint URL fetcher that serves `data:` URLs and refuses everything else."""

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if not url.lower().startswith("data:"):
            raise ExternalResourceRefusedError(f"Invoices load no external resources: {url[:80]!r}")
        return super().fetch(url, headers)


def format_money(amount_minor: int, currency: str, locale: str) -> str:
    """Minor units as the locale writes an amount of the currency (JPY 1234 → ¥1,234)."""
    amount = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=locale)


def format_hours_minutes(seconds: int) -> str:
    """Seconds as h:mm, rounded to the nearest minute (5430 → 1:31)."""
    hours, minutes = divmod((seconds + 30) // 60, 60)
    return f"{hours}:{minutes:02d}"


def format_decimal_hours(seconds: int, locale: str) -> str:
    """Seconds as hours with two decimals, half up (5430 → 1.51)."""
    hours = (Decimal(seconds) / 3600).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format_decimal(hours, format="#,##0.00", locale=locale)


def render_invoice_html(doc: InvoiceDocument) -> str:
    """The invoice as an HTML page (every value escaped)."""
    return _ENV.get_template("invoice.html").render(_page(doc))


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The invoice as an A4 PDF; only `data:` URLs are ever loaded."""
    fetcher = OnlyDataUrls()
    html = HTML(string=render_invoice_html(doc), base_url=None, url_fetcher=fetcher)
    css = CSS(string=(TEMPLATES / "invoice.css").read_text("utf-8"), base_url=None, url_fetcher=fetcher)
    pdf: bytes = html.write_pdf(stylesheets=[css])
    return pdf


def _page(doc: InvoiceDocument) -> dict[str, Any]:
    """What the template shows, already formatted in the document's locale."""

    def money(amount_minor: int) -> str:
        return format_money(amount_minor, doc.currency, doc.locale)

    def day(value: date | None) -> str:
        return format_date(value, format="medium", locale=doc.locale) if value else ""

    if doc.number is None:
        title, watermark = "Invoice (draft)", "DRAFT"
    else:
        title = f"Invoice {doc.number}"
        watermark = "VOID" if doc.status.lower() in ("void", "voided") else ""
    return {
        "doc": doc,
        "lang": doc.locale.replace("_", "-"),
        "title": title,
        "watermark": watermark,
        "issued_on": day(doc.issued_on),
        "due_date": day(doc.due_date),
        "period_from": day(doc.period_from),
        "period_to": day(doc.period_to),
        "lines": [
            {
                "description": line.description,
                "detail": line.detail,
                "hours_minutes": format_hours_minutes(line.seconds),
                "decimal_hours": format_decimal_hours(line.seconds, doc.locale),
                "rate": money(line.rate_minor),
                "amount": money(line.amount_minor),
            }
            for line in doc.lines
        ],
        "subtotal": money(doc.subtotal_minor),
        "discount": money(-doc.discount_minor) if doc.discount_minor else "",
        "taxes": [
            {"label": tax.label, "percent": tax.percent, "amount": money(tax.amount_minor)}
            for tax in doc.taxes
        ],
        "total": money(doc.total_minor),
    }
