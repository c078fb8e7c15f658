"""Clocks: the one place the ledger learns the time, injectable so tests can set it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from ledger.errors import InvalidInputError


class Clock(Protocol):
    """Returns the current instant as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(tz=UTC)


class FixedClock:
    """A clock that stands still until told to move (for tests and replays)."""

    def __init__(self, at: datetime) -> None:
        self._at = ensure_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = ensure_utc(at)

    def advance(self, seconds: float) -> None:
        self._at = self._at + timedelta(seconds=seconds)


# Times far outside working life are input mistakes; bounding them also keeps every
# sum of a time and an entry's length (up to a week) inside what datetime can hold.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return `value` in UTC; a naive datetime is refused because its zone is a guess."""
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{value!r} is not a date and time.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            f"The time {value.isoformat()} has no timezone offset; send it with one "
            "(for example 2026-03-29T09:00:00+02:00)."
        )
    if not EARLIEST <= value <= LATEST:
        raise InvalidInputError(f"The time {value.isoformat()} is outside the years 1900 to 2999.")
    return value.astimezone(UTC)
