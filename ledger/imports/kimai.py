"""Kimai 2: the CSV export of the timesheet list (Timesheets > Export > CSV)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from ledger.imports.rows import (
    ImportRow,
    ParseResult,
    local_instant,
    optional,
    parse_bool,
    parse_csv,
    parse_date,
    parse_duration,
    parse_time,
    required,
    span,
    split_tags,
)

NAME = "kimai"
SIGNATURE = ("Date", "From", "To", "Duration", "Customer", "Project", "Activity")


def parse(text: str, tz: ZoneInfo) -> ParseResult:
    """One date with From/To wall-clock times in `tz`; a To before From ends the next day.

    Kimai's Activity becomes the task; the member is the E-mail column when present,
    else the User (the user's display name or username).
    """

    def convert(line: int, record: dict[str, str]) -> ImportRow:
        day = parse_date(required(record, "Date"), "Date")
        start = local_instant(day, parse_time(required(record, "From"), "From"), tz)
        if record.get("To"):
            end = local_instant(day, parse_time(record["To"], "To"), tz)
            if end <= start:
                end = local_instant(day + timedelta(days=1), parse_time(record["To"], "To"), tz)
            begin, finish = span(start, end, None)
        else:
            begin, finish = span(start, None, parse_duration(required(record, "Duration"), "Duration"))
        return ImportRow(
            line=line,
            project=required(record, "Project"),
            start=begin,
            end=finish,
            client=optional(record, "Customer"),
            task=optional(record, "Activity"),
            member_email=optional(record, "E-mail"),
            member_name=optional(record, "User") or optional(record, "Username"),
            description=record.get("Description", ""),
            tags=split_tags(record.get("Tags", "")),
            billable=parse_bool(record.get("Billable", ""), "Billable"),
        )

    return parse_csv(NAME, text, convert)
