"""Checks for text and numbers that reach the log, so every store and read model can hold them.

PostgreSQL text cannot hold a NUL character and its integers stop at 2⁶³ - 1; a
value either refuses would stall every read model at that event, so the ledger
refuses it at the door.
"""

from __future__ import annotations

import re

from ledger.errors import InvalidInputError

# Control characters: none in names; descriptions may keep line breaks and tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Amounts and durations above this are mistakes, and stay far below 2⁶³.
LARGEST = 10**15


def check_line(text: str, field: str, what: str) -> str:
    """A one-line text (a name, a tag, an email): no control characters."""
    if _CONTROL.search(text):
        raise InvalidInputError(f"The {what} contains a control character.", field=field)
    return text


def check_multiline(text: str, field: str, what: str) -> str:
    """A text that may span lines (a description): no other control characters."""
    if _CONTROL_BUT_LINES.search(text):
        raise InvalidInputError(f"The {what} contains a control character.", field=field)
    return text


def check_whole(value: object, field: str, largest: int = LARGEST) -> int:
    """A whole number from 0 to `largest`."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= largest:
        raise InvalidInputError(f"{field} must be a whole number from 0 to {largest}.", field=field)
    return value
