"""Every read model, by name."""

from __future__ import annotations

from projections.base import ReadModel
from projections.catalog import CatalogProjection
from projections.entries import EntriesProjection
from projections.invoices import InvoicesProjection
from projections.timesheets import TimesheetsProjection
from projections.totals import TotalsProjection

ALL: tuple[type[ReadModel], ...] = (
    CatalogProjection,
    EntriesProjection,
    TotalsProjection,
    InvoicesProjection,
    TimesheetsProjection,
)
BY_NAME: dict[str, type[ReadModel]] = {model.name: model for model in ALL}
