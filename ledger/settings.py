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
TIMESHEET_PERIODS = ("week", "month")
_NUMBER_FIELDS = re.compile(r"\{(year|seq(?::0[1-9])?)\}")
MAX_LOGO_CHARS = 300_000
_LOGO = re.compile(r"^data:image/(png|jpeg|svg\+xml);base64,[A-Za-z0-9+/=]+$")
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
    # Timesheets cover the organization's week or its calendar month.
    timesheet_period: str = "week"
    # Days on which members are reminded when they logged no time.
    working_days: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")
    # Invoices take only entries of approved timesheets unless this is turned off.
    invoice_requires_approval: bool = True
    # `{year}` is the issue year, `{seq}` the organization's next number (`{seq:04}` pads it).
    invoice_number_format: str = "INV-{year}-{seq:04}"
    invoice_address: str = ""
    # A data URL (PNG, JPEG or SVG, base64) printed at the top of invoices.
    invoice_logo: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrgSettings:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if isinstance(values.get("working_days"), list):
            values["working_days"] = tuple(values["working_days"])
        return cls(**values)

    def with_changes(self, changes: dict[str, Any]) -> OrgSettings:
        """Return validated settings with `changes` applied; unknown names are refused."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise InvalidInputError(
                f"Unknown setting {unknown[0]!r}; known settings are {', '.join(sorted(known))}.",
                field=unknown[0],
            )
        if isinstance(changes.get("working_days"), list):
            changes = {**changes, "working_days": tuple(changes["working_days"])}
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
        _one_of("timesheet_period", self.timesheet_period, TIMESHEET_PERIODS)
        if not isinstance(self.working_days, tuple) or any(d not in WEEKDAYS for d in self.working_days):
            raise InvalidInputError(
                f"working_days must be a list of weekday names ({', '.join(WEEKDAYS)}).", field="working_days"
            )
        if not isinstance(self.invoice_requires_approval, bool):
            raise InvalidInputError(
                "invoice_requires_approval must be true or false.", field="invoice_requires_approval"
            )
        self._validate_invoice_texts()
        _whole_number("max_entry_seconds", self.max_entry_seconds, low=60, high=7 * 24 * 3600)
        _whole_number("future_allowance_seconds", self.future_allowance_seconds, low=0, high=7 * 24 * 3600)

    def _validate_invoice_texts(self) -> None:
        fmt = self.invoice_number_format
        if (
            not isinstance(fmt, str)
            or not 0 < len(fmt) <= 40
            or "{seq" not in fmt
            or _NUMBER_FIELDS.sub("", fmt).count("{") + _NUMBER_FIELDS.sub("", fmt).count("}")
        ):
            raise InvalidInputError(
                "invoice_number_format needs {seq} (or {seq:04} to pad) and may hold {year}, "
                "within 40 characters, e.g. INV-{year}-{seq:04}.",
                field="invoice_number_format",
            )
        if not isinstance(self.invoice_address, str) or len(self.invoice_address) > 500:
            raise InvalidInputError(
                "invoice_address is text of at most 500 characters.", field="invoice_address"
            )
        logo = self.invoice_logo
        if not isinstance(logo, str) or (logo and (len(logo) > MAX_LOGO_CHARS or not _LOGO.match(logo))):
            raise InvalidInputError(
                "invoice_logo must be empty or a base64 data URL of a PNG, JPEG or SVG image "
                f"of at most {MAX_LOGO_CHARS} characters.",
                field="invoice_logo",
            )

    def invoice_number(self, year: int, seq: int) -> str:
        def field_value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "year":
                return str(year)
            width = int(name[5:]) if ":" in name else 0
            return str(seq).zfill(width)

        return _NUMBER_FIELDS.sub(field_value, self.invoice_number_format)


def _one_of(name: str, value: object, allowed: tuple[Any, ...]) -> None:
    if value not in allowed or isinstance(value, bool):
        shown = ", ".join(str(a) for a in allowed)
        raise InvalidInputError(f"{name} must be one of {shown}; got {value!r}.", field=name)


def _whole_number(name: str, value: object, *, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInputError(
            f"{name} must be a whole number from {low} to {high}; got {value!r}.", field=name
        )
