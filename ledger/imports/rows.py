"""What every parser produces: normalized rows, or a row error with its line number."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_TRUE = frozenset({"yes", "true", "1", "y", "billable", "ja", "x"})
_FALSE = frozenset({"no", "false", "0", "n", "", "non-billable", "nein"})
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d")
_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")


class RowProblem(ValueError):
    """Raised inside a parser when one row cannot be taken; the message is the reason."""


@dataclass(frozen=True)
class ImportRow:
    """One time entry as read from a file, with names instead of ids."""

    line: int
    project: str
    start: datetime
    end: datetime
    client: str | None = None
    task: str | None = None
    member_email: str | None = None
    member_name: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    billable: bool | None = None

    @property
    def duration_seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True)
class RowError:
    """A row that cannot be imported, and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ParseResult:
    format: str
    rows: tuple[ImportRow, ...] = ()
    errors: tuple[RowError, ...] = field(default=())


def csv_records(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Each data record of a CSV text with the line it starts on (the header is line 1)."""
    body = text.lstrip("\ufeff")
    sample = body.split("\n", 1)[0]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(body, newline=""), delimiter=delimiter)
    reader.fieldnames  # noqa: B018 - reads the header, so line_num counts from it
    line = reader.line_num + 1
    for record in reader:
        if any((value or "").strip() for value in record.values() if isinstance(value, str)):
            yield (
                line,
                {(k or "").strip(): (v or "").strip() for k, v in record.items() if isinstance(v, str)},
            )
        line = reader.line_num + 1


def parse_csv(name: str, text: str, convert: Callable[[int, dict[str, str]], ImportRow]) -> ParseResult:
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    for line, record in csv_records(text):
        try:
            rows.append(convert(line, record))
        except RowProblem as problem:
            errors.append(RowError(line, str(problem)))
    return ParseResult(name, tuple(rows), tuple(errors))


def header_of(text: str) -> list[str]:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [cell.strip() for cell in next(csv.reader([first], delimiter=delimiter), [])]


def required(record: dict[str, str], column: str) -> str:
    value = record.get(column, "")
    if not value:
        raise RowProblem(f"{column!r} is empty.")
    return value


def parse_date(text: str, column: str) -> date:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar date only
        except ValueError:
            continue
    raise RowProblem(f"{column} {text!r} is not a date.")


def parse_time(text: str, column: str) -> time:
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(text.upper(), pattern).time()  # noqa: DTZ007 - a wall-clock time only
        except ValueError:
            continue
    raise RowProblem(f"{column} {text!r} is not a time of day.")


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A local wall-clock time in `tz` as a UTC instant (the earlier one when a DST change repeats it)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def parse_instant(text: str, column: str, tz: ZoneInfo) -> datetime:
    """An ISO 8601 date-time; without an offset it is a local time in `tz`."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RowProblem(f"{column} {text!r} is not an ISO 8601 date and time.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def parse_duration(text: str, column: str) -> int:
    """Seconds from `h:mm[:ss]` or decimal hours."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3) or any(p < 0 for p in parts):
                raise ValueError(text)
            hours, minutes, seconds = (*parts, 0)[:3]
            return hours * 3600 + minutes * 60 + seconds
        return round(float(text.replace(",", ".")) * 3600)
    except ValueError:
        raise RowProblem(f"{column} {text!r} is not a duration.") from None


def parse_bool(text: str, column: str) -> bool | None:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False if value else None
    raise RowProblem(f"{column} {text!r} is neither yes nor no.")


def split_tags(text: str) -> tuple[str, ...]:
    return tuple(tag.strip() for tag in text.split(",") if tag.strip())


def span(start: datetime, end: datetime | None, seconds: int | None) -> tuple[datetime, datetime]:
    """The end from itself or from a duration; refuses empty or backwards spans."""
    finish = end if end is not None else start + timedelta(seconds=seconds or 0)
    if finish <= start:
        raise RowProblem("The entry ends before it starts (or lasts no time).")
    return start, finish


def optional(record: dict[str, str], column: str) -> str | None:
    return record.get(column) or None


def detailed_report_row(
    line: int, record: dict[str, str], tz: ZoneInfo, *, date_time_columns: tuple[str, str, str, str]
) -> ImportRow:
    """A row of a "detailed report" CSV (Toggl Track, Clockify): they differ only in how
    they capitalise the start and end date and time columns, named in that order."""
    start_date, start_time, end_date, end_time = date_time_columns
    start = local_instant(
        parse_date(required(record, start_date), start_date),
        parse_time(required(record, start_time), start_time),
        tz,
    )
    end = local_instant(
        parse_date(required(record, end_date), end_date), parse_time(required(record, end_time), end_time), tz
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
