"""The formats an import reads, and telling them apart by their header."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from ledger.imports import clockify, kimai, ours, timetracker, toggl
from ledger.imports.rows import ParseResult, header_of

Parser = Callable[[str, ZoneInfo], ParseResult]

PARSERS: dict[str, Parser] = {
    toggl.NAME: toggl.parse,
    clockify.NAME: clockify.parse,
    kimai.NAME: kimai.parse,
    timetracker.NAME: timetracker.parse,
    ours.NAME: ours.parse,
}
FORMATS = tuple(PARSERS)
_SIGNATURES = (
    (toggl.NAME, toggl.SIGNATURE),
    (clockify.NAME, clockify.SIGNATURE),
    (kimai.NAME, kimai.SIGNATURE),
    (timetracker.NAME, timetracker.SIGNATURE),
)


def detect_format(text: str) -> str | None:
    """The format whose columns the file's header holds, or None."""
    if ours.looks_like(text):
        return ours.NAME
    header = set(header_of(text))
    for name, signature in _SIGNATURES:
        if header.issuperset(signature):
            return name
    return None
