"""Clockify: the CSV of the Detailed report (Reports > Detailed > Export > Save as CSV)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ledger.imports.rows import ImportRow, ParseResult, detailed_report_row, parse_csv

NAME = "clockify"
SIGNATURE = ("Project", "Client", "Description", "Task", "User", "Email", "Start Date", "End Date")


def parse(text: str, tz: ZoneInfo) -> ParseResult:
    """Dates as the workspace shows them (MM/DD/YYYY by default); times 12- or 24-hour, read in `tz`."""

    def convert(line: int, record: dict[str, str]) -> ImportRow:
        return detailed_report_row(
            line, record, tz, date_time_columns=("Start Date", "Start Time", "End Date", "End Time")
        )

    return parse_csv(NAME, text, convert)
