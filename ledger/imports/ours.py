"""TimeLedger's own JSON export: `{"format": "timeledger", "version": 1, "entries": [...]}`.

Each entry holds project, client, task, member_email, description, tags, billable, and
start/end as ISO 8601 (an offset is expected; without one the time is read in `tz`).
A row's line is the line its object starts on in the file.
"""

from __future__ import annotations

import json
import re
from typing import Any
from zoneinfo import ZoneInfo

from ledger.imports.rows import ImportRow, ParseResult, RowError, RowProblem, parse_instant, span

NAME = "timeledger"
_ENTRIES = re.compile(r'"entries"\s*:\s*\[')


def looks_like(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith("{") and '"entries"' in text


def parse(text: str, tz: ZoneInfo) -> ParseResult:
    try:
        document = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as error:
        return ParseResult(NAME, errors=(RowError(error.lineno, f"This is not JSON: {error.msg}."),))
    entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, list) or document.get("format") != NAME:
        reason = 'Expected {"format": "timeledger", "entries": [...]}.'
        return ParseResult(NAME, errors=(RowError(1, reason),))
    lines = _entry_lines(text, len(entries))
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    for line, item in zip(lines, entries, strict=True):
        try:
            rows.append(_row(line, item, tz))
        except RowProblem as problem:
            errors.append(RowError(line, str(problem)))
    return ParseResult(NAME, tuple(rows), tuple(errors))


def _entry_lines(text: str, count: int) -> list[int]:
    """The line each element of the `entries` array starts on (1 for all if not found)."""
    found = _ENTRIES.search(text)
    if found is None:
        return [1] * count
    decoder = json.JSONDecoder()
    position, lines = found.end(), []
    for _ in range(count):
        while text[position] in " \t\r\n,":
            position += 1
        lines.append(text.count("\n", 0, position) + 1)
        _, position = decoder.raw_decode(text, position)
    return lines


def _text(item: dict[str, Any], key: str, *, needed: bool = False) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        if needed:
            raise RowProblem(f"{key!r} is empty.")
        return None
    if not isinstance(value, str):
        raise RowProblem(f"{key!r} must be text.")
    return value.strip()


def _row(line: int, item: Any, tz: ZoneInfo) -> ImportRow:
    if not isinstance(item, dict):
        raise RowProblem("An entry must be an object.")
    tags = item.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise RowProblem("'tags' must be a list of text.")
    billable = item.get("billable")
    if billable is not None and not isinstance(billable, bool):
        raise RowProblem("'billable' must be true or false.")
    start = parse_instant(_text(item, "start", needed=True) or "", "start", tz)
    begin, finish = span(start, parse_instant(_text(item, "end", needed=True) or "", "end", tz), None)
    return ImportRow(
        line=line,
        project=_text(item, "project", needed=True) or "",
        start=begin,
        end=finish,
        client=_text(item, "client"),
        task=_text(item, "task"),
        member_email=_text(item, "member_email"),
        description=_text(item, "description") or "",
        tags=tuple(tags),
        billable=billable,
    )
