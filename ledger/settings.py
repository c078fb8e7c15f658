"""Organization settings: the values that shape the rules for an organization's entries."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.errors import InvalidInputError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ROUNDING_MODES = ("none", "up", "down", "nearest")
ROUNDING_MINUTES = (1, 5, 6, 10, 15, 30)
ROUNDING_SCOPES = ("entry", "day")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class OrgSettings:
    """An organization's settings, each with a default a new team can live with."""

    timezone: str = "UTC"
    week_start: str = "monday"
    currency: str = "EUR"
    rounding_mode: str = "none"
    rounding_minutes: int = 15
    rounding_scope: str = "entry"
    overlap_allowed: bool = True
    max_entry_seconds: int = 24 * 3600
    future_allowance_seconds: int = 15 * 60
    # Owners and admins without two-factor login get a session that can only enrol.
    require_two_factor_for_admins: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrgSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_changes(self, changes: dict[str, Any]) -> OrgSettings:
        """Return validated settings with `changes` applied; unknown names are refused."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise InvalidInputError(
                f"Unknown setting {unknown[0]!r}; known settings are {', '.join(sorted(known))}.",
                field=unknown[0],
            )
        updated = replace(self, **changes)
        updated.validate()
        return updated

    def validate(self) -> None:
        try:
            if not isinstance(self.timezone, str):
                raise ValueError(self.timezone)
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInputError(
                f"Unknown timezone {self.timezone!r}; use an IANA name such as Europe/Berlin.",
                field="timezone",
            ) from None
        _one_of("week_start", self.week_start, WEEKDAYS)
        if not isinstance(self.currency, str) or not _CURRENCY.match(self.currency):
            raise InvalidInputError(
                f"Currency {self.currency!r} is not a three-letter ISO 4217 code such as EUR.",
                field="currency",
            )
        _one_of("rounding_mode", self.rounding_mode, ROUNDING_MODES)
        _one_of("rounding_minutes", self.rounding_minutes, ROUNDING_MINUTES)
        _one_of("rounding_scope", self.rounding_scope, ROUNDING_SCOPES)
        if not isinstance(self.overlap_allowed, bool):
            raise InvalidInputError("overlap_allowed must be true or false.", field="overlap_allowed")
        if not isinstance(self.require_two_factor_for_admins, bool):
            raise InvalidInputError(
                "require_two_factor_for_admins must be true or false.", field="require_two_factor_for_admins"
            )
        _whole_number("max_entry_seconds", self.max_entry_seconds, low=60, high=7 * 24 * 3600)
        _whole_number("future_allowance_seconds", self.future_allowance_seconds, low=0, high=7 * 24 * 3600)


def _one_of(name: str, value: object, allowed: tuple[Any, ...]) -> None:
    if value not in allowed or isinstance(value, bool):
        shown = ", ".join(str(a) for a in allowed)
        raise InvalidInputError(f"{name} must be one of {shown}; got {value!r}.", field=name)


def _whole_number(name: str, value: object, *, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInputError(
            f"{name} must be a whole number from {low} to {high}; got {value!r}.", field=name
        )
