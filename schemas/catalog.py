"""The organization, its members, clients, projects, tasks and hourly rates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, Field

from schemas.common import Strict

Role = Literal["owner", "admin", "manager", "member"]
RateLevel = Literal["project_member", "project", "client", "member", "organization"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# Control characters (NUL above all, which PostgreSQL text cannot hold) are refused at the door.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]
# Upper bounds keep amounts inside the read models' 64-bit columns, sums included.
MAX_BUDGET_SECONDS = 10**9  # about 31 years of work
MAX_MINOR = 10**15  # a budget: ten trillion units of the currency
MAX_RATE_MINOR = 10**9  # an hourly rate: ten million units of the currency


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r}; use an IANA name such as Europe/Berlin") from None
    return value


TimeZone = Annotated[str, AfterValidator(_timezone)]


# --- the organization ----------------------------------------------------------------


class Settings(BaseModel):
    """An organization's settings: how days are cut, money counted and time rounded."""

    timezone: str = Field(description="IANA time zone that cuts days and weeks")
    week_start: Weekday
    currency: str = Field(description="ISO 4217 code of every amount of the organization")
    rounding_mode: Literal["none", "up", "down", "nearest"]
    rounding_minutes: int
    rounding_scope: Literal["entry", "day"]
    overlap_allowed: bool
    max_entry_seconds: int
    future_allowance_seconds: int
    require_two_factor_for_admins: bool = Field(
        default=False, description="Owners and admins must log in with a second factor"
    )
    timesheet_period: Literal["week", "month"] = Field(
        default="week", description="Timesheets cover the organization's week or calendar month"
    )
    working_days: list[Weekday] = Field(
        default=["monday", "tuesday", "wednesday", "thursday", "friday"],
        description="Days on which members with no time logged are reminded",
    )
    invoice_requires_approval: bool = Field(
        default=True, description="Invoices take only entries of approved timesheets"
    )
    invoice_number_format: str = Field(
        default="INV-{year}-{seq:04}", description="`{seq}` (or `{seq:04}` padded) and optional `{year}`"
    )
    invoice_address: str = Field(default="", description="The organization's address on invoices")
    invoice_logo: str = Field(
        default="", description="A base64 data URL (PNG, JPEG or SVG) printed on invoices, or empty"
    )


class SettingsChanges(Strict):
    """Settings to change; the ones left out (or null) keep their value."""

    timezone: TimeZone | None = None
    week_start: Weekday | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    rounding_mode: Literal["none", "up", "down", "nearest"] | None = None
    rounding_minutes: Literal[1, 5, 6, 10, 15, 30] | None = None
    rounding_scope: Literal["entry", "day"] | None = None
    overlap_allowed: bool | None = None
    max_entry_seconds: int | None = Field(default=None, ge=60, le=7 * 24 * 3600)
    future_allowance_seconds: int | None = Field(default=None, ge=0, le=7 * 24 * 3600)
    require_two_factor_for_admins: bool | None = None
    timesheet_period: Literal["week", "month"] | None = None
    working_days: list[Weekday] | None = Field(default=None, max_length=7)
    invoice_requires_approval: bool | None = None
    invoice_number_format: str | None = Field(default=None, min_length=1, max_length=40)
    invoice_address: str | None = Field(default=None, max_length=500)
    invoice_logo: str | None = Field(default=None, max_length=300_000)


class Organization(BaseModel):
    id: UUID
    name: str
    settings: Settings
    created_at: datetime


class EditOrganization(Strict):
    """Rename the organization and/or change some of its settings (owners and admins)."""

    name: Name | None = None
    settings: SettingsChanges | None = None


# --- members -------------------------------------------------------------------------


class Member(BaseModel):
    user_id: UUID
    email: str
    display_name: str
    role: Role
    joined_at: datetime


class AddMember(Strict):
    """Add a person by email; someone new is registered with this name (and password, if given)."""

    email: str = Field(min_length=3, max_length=254, pattern=PRINTABLE)
    name: Name
    role: Role
    password: str | None = Field(default=None, min_length=8, description="Only used for a new person.")


class ChangeRole(Strict):
    role: Role


# --- clients, projects, tasks ----------------------------------------------------------


class Client(BaseModel):
    id: UUID
    name: str
    archived: bool


class CreateClient(Strict):
    name: Name


class EditClient(Strict):
    name: Name


class Project(BaseModel):
    """A project; its money budget is in minor units (cents) of `currency`."""

    id: UUID
    name: str
    client_id: UUID | None
    billable: bool
    budget_seconds: int | None
    budget_minor: int | None
    currency: str
    archived: bool


class CreateProject(Strict):
    name: Name
    client_id: UUID | None = None
    billable: bool = Field(default=True, description="The default for entries on this project.")
    budget_seconds: int | None = Field(default=None, ge=0, le=MAX_BUDGET_SECONDS)
    budget_minor: int | None = Field(
        default=None, ge=0, le=MAX_MINOR, description="In minor units of the organization's currency."
    )


class EditProject(Strict):
    """Only the fields given change; `client_id`, `budget_seconds` or `budget_minor` null clears it."""

    name: Name | None = None
    client_id: UUID | None = None
    billable: bool | None = None
    budget_seconds: int | None = Field(default=None, ge=0, le=MAX_BUDGET_SECONDS)
    budget_minor: int | None = Field(default=None, ge=0, le=MAX_MINOR)


class Task(BaseModel):
    id: UUID
    project_id: UUID
    name: str
    archived: bool


class CreateTask(Strict):
    project_id: UUID
    name: Name


class EditTask(Strict):
    name: Name


# --- rates ---------------------------------------------------------------------------


class Rate(BaseModel):
    """An hourly rate from `effective_from` on; `amount_minor` null clears the level's rate."""

    seq: int = Field(description="Order in which the organization's rates were set")
    level: RateLevel
    amount_minor: int | None
    currency: str
    effective_from: date
    client_id: UUID | None
    project_id: UUID | None
    member_id: UUID | None


class SetRate(Strict):
    """Set an hourly rate in minor units of the organization's currency; null clears it from that date."""

    level: RateLevel
    amount_minor: int | None = Field(ge=0, le=MAX_RATE_MINOR)
    effective_from: date
    client_id: UUID | None = None
    project_id: UUID | None = None
    member_id: UUID | None = None
