"""Imports from other trackers' exports (and our own) into an organization."""

from __future__ import annotations

from ledger.imports.formats import FORMATS, detect_format
from ledger.imports.rows import ImportRow, ParseResult, RowError
from ledger.imports.run import Importer, Outcome, Plan, PlannedEntry

__all__ = [
    "FORMATS",
    "ImportRow",
    "Importer",
    "Outcome",
    "ParseResult",
    "Plan",
    "PlannedEntry",
    "RowError",
    "detect_format",
]
