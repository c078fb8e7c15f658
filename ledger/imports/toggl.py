"""Toggl Track: the CSV of the Detailed report (Reports > Detailed > Export > CSV)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ledger.imports.rows import (
    ImportRow,
    ParseResult,
    local_instant,
    optional,
    parse_bool,
    parse_csv,
    parse_date,
    parse_time,
    required,
    span,
    split_tags,
)

NAME = "toggl"
# The columns that say a file is a Toggl Track detailed report.
SIGNATURE = ("User", "Email", "Project", "Start date", "Start time", "End date", "End time", "Duration")


def parse(text: str, tz: ZoneInfo) -> ParseResult:
    """Dates and times are the exporting user's local wall clock, read in `tz`."""

    def convert(line: int, record: dict[str, str]) -> ImportRow:
        start = local_instant(
            parse_date(required(record, "Start date"), "Start date"),
            parse_time(required(record, "Start time"), "Start time"),
            tz,
        )
        end = local_instant(
            parse_date(required(record, "End date"), "End date"),
            parse_time(required(record, "End time"), "End time"),
            tz,
        )
        begin, finish = span(start, end, None)
        return ImportRow(
            line=line,
            project=required(record, "Project"),
            start=begin,
            end=finish,
            client=optional(record, "Client"),
            task=optional(record, "Task"),
            member_email=optional(record, "Email"),
            member_name=optional(record, "User"),
            description=record.get("Description", ""),
            tags=split_tags(record.get("Tags", "")),
            billable=parse_bool(record.get("Billable", ""), "Billable"),
        )

    return parse_csv(NAME, text, convert)
