"""Clockify: the CSV of the Detailed report (Reports > Detailed > Export > Save as CSV)."""

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

NAME = "clockify"
SIGNATURE = ("Project", "Client", "Description", "Task", "User", "Email", "Start Date", "End Date")


def parse(text: str, tz: ZoneInfo) -> ParseResult:
    """Dates as the workspace shows them (MM/DD/YYYY by default); times 12- or 24-hour, read in `tz`."""

    def convert(line: int, record: dict[str, str]) -> ImportRow:
        start = local_instant(
            parse_date(required(record, "Start Date"), "Start Date"),
            parse_time(required(record, "Start Time"), "Start Time"),
            tz,
        )
        end = local_instant(
            parse_date(required(record, "End Date"), "End Date"),
            parse_time(required(record, "End Time"), "End Time"),
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
