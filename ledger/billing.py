"""Billed time and money, in exact integers: rates, rounding, lines, discount and taxes.

The rules (also in docs/billing.md):
- Durations stay raw in the log; rounding applies to billed time only, per entry or
  per member, local day, project and task (the organization's `rounding_scope`).
- The rate of an entry is the most specific one in effect on the local day it
  started (ledger/rates.py); an entry with no rate cannot be billed.
- Money is an integer of the currency's minor units. A line's amount is its billed
  seconds times the hourly rate / 3600, rounded half up once per line. The discount (a
  percentage or a fixed amount) comes off the subtotal; each tax is a percentage of
  that net, rounded half up; the total is net + taxes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision

from ledger.errors import InvalidInputError
from ledger.rates import Rate, resolve_rate
from ledger.settings import OrgSettings
from ledger.text import LARGEST, check_line
from ledger.timezones import local_day

GROUPINGS = ("project_task", "entry")
MAX_TAXES = 5
MAX_LABEL = 60


def currency_digits(code: str) -> int:
    """Minor digits of an ISO 4217 currency: 2 for EUR, 0 for JPY, 3 for KWD."""
    return int(get_currency_precision(code))


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for numerator ≥ 0 and denominator > 0."""
    return (2 * numerator + denominator) // (2 * denominator)


def round_seconds(seconds: int, mode: str, minutes: int) -> int:
    """Billed seconds under a rounding rule: none, or up, down or nearest to `minutes`."""
    if mode == "none":
        return seconds
    step = minutes * 60
    whole, rest = divmod(seconds, step)
    if rest == 0:
        return seconds
    if mode == "up" or (mode == "nearest" and 2 * rest >= step):
        return (whole + 1) * step
    return whole * step


def amount_for(seconds: int, rate_minor_per_hour: int) -> int:
    return half_up(seconds * rate_minor_per_hour, 3600)


@dataclass(frozen=True)
class WorkItem:
    """An entry as billing sees it: who, on what, when it started, and its worked seconds."""

    entry_id: UUID
    member_id: UUID
    project_id: UUID
    task_id: UUID | None
    client_id: UUID | None
    start: datetime
    raw_seconds: int
    description: str


@dataclass(frozen=True)
class BilledItem:
    work: WorkItem
    day: date
    billed_seconds: int
    rate: Rate


def bill(items: list[WorkItem], rates: list[Rate], settings: OrgSettings, currency: str) -> list[BilledItem]:
    """Billed seconds and the applicable rate of each item, in the items' order."""
    tz = ZoneInfo(settings.timezone)
    priced: list[tuple[WorkItem, date, Rate]] = []
    for item in items:
        day = local_day(item.start, tz)
        rate = resolve_rate(
            rates, on=day, member_id=item.member_id, project_id=item.project_id, client_id=item.client_id
        )
        if rate is None or rate.amount_minor is None:
            raise InvalidInputError(
                f"No hourly rate applies to entry {item.entry_id} (on {day}); set a rate for its "
                "member, project, client or the organization first.",
                field="rates",
            )
        if rate.currency != currency:
            raise InvalidInputError(
                f"The rate of entry {item.entry_id} is in {rate.currency}, not the invoice's {currency}.",
                field="currency",
            )
        priced.append((item, day, rate))
    billed = {
        item.entry_id: round_seconds(item.raw_seconds, settings.rounding_mode, settings.rounding_minutes)
        for item, _, _ in priced
    }
    if settings.rounding_scope == "day":
        billed = _round_by_day(priced, settings)
    return [BilledItem(item, day, billed[item.entry_id], rate) for item, day, rate in priced]


def _round_by_day(priced: list[tuple[WorkItem, date, Rate]], settings: OrgSettings) -> dict[UUID, int]:
    """Round each (member, day, project, task) total; the difference goes to its latest entries."""
    groups: dict[tuple[Any, ...], list[WorkItem]] = defaultdict(list)
    for item, day, _ in priced:
        groups[(item.member_id, day, item.project_id, item.task_id)].append(item)
    billed: dict[UUID, int] = {}
    for members in groups.values():
        members.sort(key=lambda i: (i.start, str(i.entry_id)))
        raw = sum(i.raw_seconds for i in members)
        difference = round_seconds(raw, settings.rounding_mode, settings.rounding_minutes) - raw
        shares = {i.entry_id: i.raw_seconds for i in members}
        for item in reversed(members):
            if difference >= 0:
                shares[item.entry_id] += difference
                break
            taken = min(shares[item.entry_id], -difference)
            shares[item.entry_id] -= taken
            difference += taken
            if difference == 0:
                break
        billed.update(shares)
    return billed


@dataclass(frozen=True)
class Line:
    """One invoice line: billed seconds at one hourly rate."""

    description: str
    project_id: UUID
    task_id: UUID | None
    entry_ids: tuple[UUID, ...]
    first_day: date
    last_day: date
    seconds: int
    rate_minor: int
    amount_minor: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "project_id": str(self.project_id),
            "task_id": str(self.task_id) if self.task_id else None,
            "entry_ids": [str(e) for e in self.entry_ids],
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "seconds": self.seconds,
            "rate_minor": self.rate_minor,
            "amount_minor": self.amount_minor,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Line:
        return cls(
            description=data["description"],
            project_id=UUID(data["project_id"]),
            task_id=UUID(data["task_id"]) if data["task_id"] else None,
            entry_ids=tuple(UUID(e) for e in data["entry_ids"]),
            first_day=date.fromisoformat(data["first_day"]),
            last_day=date.fromisoformat(data["last_day"]),
            seconds=data["seconds"],
            rate_minor=data["rate_minor"],
            amount_minor=data["amount_minor"],
        )


def make_lines(billed: list[BilledItem], grouping: str, names: dict[UUID, str]) -> list[Line]:
    """Invoice lines: one per (project, task, rate), or one per entry, in a stable order.

    `names` maps project and task ids to their names for the line descriptions.
    """
    if grouping not in GROUPINGS:
        raise InvalidInputError(f"grouping must be one of {', '.join(GROUPINGS)}.", field="grouping")
    if grouping == "entry":
        ordered = sorted(billed, key=lambda b: (b.work.start, str(b.work.entry_id)))
        lines = []
        for b in ordered:
            title = _title(b.work.project_id, b.work.task_id, names)
            text = f"{b.day.isoformat()} {title}" + (f": {b.work.description}" if b.work.description else "")
            lines.append(
                Line(
                    description=text[:500],
                    project_id=b.work.project_id,
                    task_id=b.work.task_id,
                    entry_ids=(b.work.entry_id,),
                    first_day=b.day,
                    last_day=b.day,
                    seconds=b.billed_seconds,
                    rate_minor=_minor(b.rate),
                    amount_minor=amount_for(b.billed_seconds, _minor(b.rate)),
                )
            )
        return lines
    groups: dict[tuple[UUID, UUID | None, int], list[BilledItem]] = defaultdict(list)
    for b in billed:
        groups[(b.work.project_id, b.work.task_id, _minor(b.rate))].append(b)
    lines = []
    for (project_id, task_id, rate_minor), members in groups.items():
        seconds = sum(b.billed_seconds for b in members)
        members.sort(key=lambda b: (b.work.start, str(b.work.entry_id)))
        lines.append(
            Line(
                description=_title(project_id, task_id, names),
                project_id=project_id,
                task_id=task_id,
                entry_ids=tuple(b.work.entry_id for b in members),
                first_day=min(b.day for b in members),
                last_day=max(b.day for b in members),
                seconds=seconds,
                rate_minor=rate_minor,
                amount_minor=amount_for(seconds, rate_minor),
            )
        )
    lines.sort(key=lambda line: (line.description, line.rate_minor, str(line.project_id), str(line.task_id)))
    return lines


def _minor(rate: Rate) -> int:
    assert rate.amount_minor is not None  # noqa: S101 - bill() refuses cleared rates
    return rate.amount_minor


def _title(project_id: UUID, task_id: UUID | None, names: dict[UUID, str]) -> str:
    project = names.get(project_id, str(project_id))
    return f"{project} / {names.get(task_id, str(task_id))}" if task_id else project


# --- discount and taxes --------------------------------------------------------


def parse_percent(value: object, field: str) -> Fraction:
    """A percentage from 0 to 100 with at most 4 decimals, given as text or a whole number."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInputError(f'{field} must be a percentage such as "19" or "7.5".', field=field)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInputError(
            f'{field} must be a percentage such as "19" or "7.5"; got {value!r}.', field=field
        ) from None
    exponent = number.as_tuple().exponent
    if not number.is_finite() or not 0 <= number <= 100 or (isinstance(exponent, int) and exponent < -4):
        raise InvalidInputError(f"{field} must be from 0 to 100 with at most 4 decimals.", field=field)
    return Fraction(number)


@dataclass(frozen=True)
class Tax:
    label: str
    percent: str

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "percent": self.percent}


@dataclass(frozen=True)
class Discount:
    label: str
    percent: str | None = None
    amount_minor: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "percent": self.percent, "amount_minor": self.amount_minor}


def clean_taxes(raw: object) -> tuple[Tax, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or len(raw) > MAX_TAXES:
        raise InvalidInputError(f"taxes is a list of at most {MAX_TAXES} taxes.", field="taxes")
    taxes = []
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidInputError('Each tax is {"label": ..., "percent": ...}.', field="taxes")
        label = _label(item.get("label"), "tax")
        percent = parse_percent(item.get("percent"), "taxes.percent")
        taxes.append(Tax(label, _percent_text(percent)))
    return tuple(taxes)


def clean_discount(raw: object) -> Discount | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidInputError(
            'discount is {"percent": "10"} or {"amount_minor": 500}, with an optional label.',
            field="discount",
        )
    label = _label(raw.get("label") or "Discount", "discount")
    percent, amount = raw.get("percent"), raw.get("amount_minor")
    if (percent is None) == (amount is None):
        raise InvalidInputError("A discount has either a percent or an amount_minor.", field="discount")
    if percent is not None:
        return Discount(label, percent=_percent_text(parse_percent(percent, "discount.percent")))
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= LARGEST:
        raise InvalidInputError(
            f"discount.amount_minor must be a whole number of minor units from 0 to {LARGEST}.",
            field="discount",
        )
    return Discount(label, amount_minor=amount)


def _label(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_LABEL:
        raise InvalidInputError(f"A {what} needs a label of 1 to {MAX_LABEL} characters.", field=what)
    return check_line(value.strip(), what, f"{what} label")


def _percent_text(percent: Fraction) -> str:
    text = format(Decimal(percent.numerator) / Decimal(percent.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Totals:
    subtotal_minor: int
    discount_minor: int
    taxes: tuple[tuple[str, str, int], ...]  # label, percent, amount
    total_minor: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "subtotal_minor": self.subtotal_minor,
            "discount_minor": self.discount_minor,
            "taxes": [{"label": t[0], "percent": t[1], "amount_minor": t[2]} for t in self.taxes],
            "total_minor": self.total_minor,
        }


def totals(lines: list[Line], discount: Discount | None, taxes: tuple[Tax, ...]) -> Totals:
    subtotal = sum(line.amount_minor for line in lines)
    off = 0
    if discount is not None and discount.percent is not None:
        share = Fraction(discount.percent)
        off = half_up(subtotal * share.numerator, 100 * share.denominator)
    elif discount is not None and discount.amount_minor is not None:
        if discount.amount_minor > subtotal:
            raise InvalidInputError(
                f"The discount ({discount.amount_minor}) is more than the subtotal ({subtotal}).",
                field="discount",
            )
        off = discount.amount_minor
    net = subtotal - off
    taxed = []
    for tax in taxes:
        share = Fraction(tax.percent)
        taxed.append((tax.label, tax.percent, half_up(net * share.numerator, 100 * share.denominator)))
    return Totals(subtotal, off, tuple(taxed), net + sum(t[2] for t in taxed))
