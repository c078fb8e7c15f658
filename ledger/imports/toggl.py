"""Toggl Track: the CSV of the Detailed report (Reports > Detailed > Export > CSV)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ledger.imports.rows import ImportRow, ParseResult, detailed_report_row, parse_csv

NAME = "toggl"
# The columns that say a file is a Toggl Track detailed report.
SIGNATURE = ("User", "Email", "Project", "Start date", "Start time", "End date", "End time", "Duration")


def parse(text: str, tz: ZoneInfo) -> ParseResult:
    """Dates and times are the exporting user's local wall clock, read in `tz`."""

    def convert(line: int, record: dict[str, str]) -> ImportRow:
        return detailed_report_row(
            line, record, tz, date_time_columns=("Start date", "Start time", "End date", "End time")
        )

    return parse_csv(NAME, text, convert)
