"""The Flask TimeTracker (github.com/DRYTRIX/TimeTracker): its time-entries CSV export.

Columns: ID, User, Project, Client, Task, Start Time, End Time, Duration (hours),
Duration (formatted), Notes, Tags, Source, Billable, Created At, Updated At. Times are
ISO 8601 without an offset, in the server's timezone. The export names the user by
display name only (no e-mail).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ledger.imports.rows import (
    ImportRow,
    ParseResult,
    optional,
    parse_bool,
    parse_csv,
    parse_instant,
    required,
    span,
    split_tags,
)

NAME = "timetracker"
SIGNATURE = ("ID", "User", "Project", "Start Time", "End Time", "Duration (hours)", "Notes", "Source")


def parse(text: str, tz: ZoneInfo) -> ParseResult:
    def convert(line: int, record: dict[str, str]) -> ImportRow:
        start = parse_instant(required(record, "Start Time"), "Start Time", tz)
        end_text = required(record, "End Time")
        begin, finish = span(start, parse_instant(end_text, "End Time", tz), None)
        user = optional(record, "User")
        return ImportRow(
            line=line,
            project=required(record, "Project"),
            start=begin,
            end=finish,
            client=optional(record, "Client"),
            task=optional(record, "Task"),
            member_email=user if user and "@" in user else None,
            member_name=user,
            description=record.get("Notes", ""),
            tags=split_tags(record.get("Tags", "")),
            billable=parse_bool(record.get("Billable", ""), "Billable"),
        )

    return parse_csv(NAME, text, convert)
