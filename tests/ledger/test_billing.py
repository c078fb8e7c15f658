"""Amounts: the rate hierarchy, effective dates, every rounding rule, tax, discount, currencies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from ledger.application import TimeLedger
from ledger.billing import (
    Discount,
    Tax,
    WorkItem,
    bill,
    clean_discount,
    clean_taxes,
    currency_digits,
    make_lines,
    round_seconds,
    totals,
)
from ledger.errors import InvalidInputError
from ledger.ids import rate_card_id
from ledger.rates import Rate, RateCard
from ledger.settings import OrgSettings
from tests.conftest import World

MEMBER, OTHER, PROJECT, CLIENT = uuid4(), uuid4(), uuid4(), uuid4()
JAN = date(2026, 1, 1)


def rate(level: str, amount: int, on: date = JAN, **target: UUID) -> Rate:
    return Rate(level=level, amount_minor=amount, currency="EUR", effective_from=on, **target)


def item(
    minutes: int, start: datetime | None = None, member: UUID = MEMBER, task: UUID | None = None
) -> WorkItem:
    return WorkItem(
        entry_id=uuid4(),
        member_id=member,
        project_id=PROJECT,
        task_id=task,
        client_id=CLIENT,
        start=start or datetime(2026, 3, 2, 9, tzinfo=UTC),
        raw_seconds=minutes * 60,
        description="",
    )


def rate_of(rates: list[Rate], member: UUID = MEMBER, on: datetime | None = None) -> int:
    [billed] = bill([item(60, on, member)], rates, OrgSettings(), "EUR")
    assert billed.rate.amount_minor is not None
    return billed.rate.amount_minor


def test_the_most_specific_rate_wins() -> None:
    rates = [rate("organization", 100)]
    assert rate_of(rates) == 100
    rates.append(rate("member", 200, member_id=MEMBER))
    assert rate_of(rates) == 200
    rates.append(rate("client", 300, client_id=CLIENT))
    assert rate_of(rates) == 300
    rates.append(rate("project", 400, project_id=PROJECT))
    assert rate_of(rates) == 400
    rates.append(rate("project_member", 500, project_id=PROJECT, member_id=MEMBER))
    assert rate_of(rates) == 500
    assert rate_of(rates, member=OTHER) == 400  # the member-on-project rate is MEMBER's only


def test_a_rate_applies_from_its_effective_date_on() -> None:
    rates = [rate("organization", 100), rate("organization", 150, on=date(2026, 3, 2))]
    assert rate_of(rates, on=datetime(2026, 3, 1, 23, tzinfo=UTC)) == 100
    assert rate_of(rates, on=datetime(2026, 3, 2, 0, tzinfo=UTC)) == 150
    with pytest.raises(InvalidInputError, match="No hourly rate"):
        rate_of([rate("organization", 100, on=date(2026, 4, 1))])


@pytest.mark.parametrize(
    ("mode", "minutes", "raw", "billed"),
    [
        ("none", 15, 61, 61),
        ("up", 1, 61 * 60 + 1, 62 * 60),
        ("up", 5, 61 * 60, 65 * 60),
        ("up", 6, 61 * 60, 66 * 60),
        ("up", 10, 60 * 60, 60 * 60),
        ("up", 15, 61 * 60, 75 * 60),
        ("up", 30, 1, 30 * 60),
        ("down", 5, 64 * 60, 60 * 60),
        ("down", 6, 71 * 60, 66 * 60),
        ("down", 15, 74 * 60, 60 * 60),
        ("down", 30, 29 * 60, 0),
        ("nearest", 10, 64 * 60 + 59, 60 * 60),
        ("nearest", 10, 65 * 60, 70 * 60),
        ("nearest", 15, 67 * 60 + 30, 75 * 60),
        ("nearest", 30, 14 * 60, 0),
    ],
)
def test_each_rounding_rule(mode: str, minutes: int, raw: int, billed: int) -> None:
    assert round_seconds(raw, mode, minutes) == billed


# 7 min 31 s under every mode and step the settings allow, worked out by hand.
SEVEN_31 = 7 * 60 + 31
BY_HAND = {
    1: (480, 420, 480),
    5: (600, 300, 600),
    6: (720, 360, 360),
    10: (600, 0, 600),
    15: (900, 0, 900),
    30: (1800, 0, 0),
}


@pytest.mark.parametrize("minutes", sorted(BY_HAND))
def test_every_mode_at_every_step(minutes: int) -> None:
    up, down, nearest = BY_HAND[minutes]
    assert round_seconds(SEVEN_31, "up", minutes) == up
    assert round_seconds(SEVEN_31, "down", minutes) == down
    assert round_seconds(SEVEN_31, "nearest", minutes) == nearest
    assert round_seconds(SEVEN_31, "none", minutes) == SEVEN_31


def test_rounding_per_day_rounds_the_days_total_and_keeps_raw_durations() -> None:
    settings = OrgSettings(rounding_mode="up", rounding_minutes=15, rounding_scope="day")
    day = datetime(2026, 3, 2, 9, tzinfo=UTC)
    items = [item(10, day), item(10, day + timedelta(hours=1)), item(10, day + timedelta(days=1))]
    billed = bill(items, [rate("organization", 6000)], settings, "EUR")
    assert [b.billed_seconds for b in billed] == [600, 1200, 900]  # day 1: 20 → 30 min; day 2: 10 → 15
    assert [b.work.raw_seconds for b in billed] == [600, 600, 600]
    per_entry = bill(items, [rate("organization", 6000)], OrgSettings(rounding_mode="up"), "EUR")
    assert [b.billed_seconds for b in per_entry] == [900, 900, 900]
    down = OrgSettings(rounding_mode="down", rounding_minutes=15, rounding_scope="day")
    shrunk = bill(
        [item(20, day), item(4, day + timedelta(hours=1))], [rate("organization", 6000)], down, "EUR"
    )
    assert [b.billed_seconds for b in shrunk] == [900, 0]  # 24 → 15 min, never below zero per entry


def test_lines_tax_and_discount_are_exact_and_round_half_up() -> None:
    rates = [rate("organization", 8_333)]  # 83.33 an hour
    billed = bill([item(50), item(25, task=uuid4())], rates, OrgSettings(), "EUR")
    lines = make_lines(billed, "project_task", {PROJECT: "Site"})
    # 50 min x 83.33 = 69.441… → 6944; 25 min → 34.720… → 3472
    assert sorted(line.amount_minor for line in lines) == [3472, 6944]
    result = totals(lines, Discount("Loyal", percent="12.5"), (Tax("VAT", "19"), Tax("City", "0.5")))
    subtotal = 6944 + 3472
    discount = 1302  # 10416 x 0.125 = 1302.0
    net = subtotal - discount
    assert result.subtotal_minor == subtotal
    assert result.discount_minor == discount
    assert [t[2] for t in result.taxes] == [1732, 46]  # 9114 x .19 = 1731.66; x .005 = 45.57
    assert result.total_minor == net + 1732 + 46
    fixed = totals(lines, Discount("Flat", amount_minor=416), ())
    assert fixed.total_minor == 10_000
    with pytest.raises(InvalidInputError, match="more than the subtotal"):
        totals(lines, Discount("Too much", amount_minor=subtotal + 1), ())


def test_inputs_for_taxes_and_discounts_are_checked() -> None:
    assert clean_taxes([{"label": "VAT", "percent": "7.50"}]) == (Tax("VAT", "7.5"),)
    for bad in (
        [{"label": "VAT", "percent": "101"}],
        [{"label": "", "percent": "5"}],
        "19",
        [{"percent": 1.5}],
    ):
        with pytest.raises(InvalidInputError):
            clean_taxes(bad)
    with pytest.raises(InvalidInputError, match="either"):
        clean_discount({"percent": "5", "amount_minor": 10})
    with pytest.raises(InvalidInputError):
        clean_discount({"percent": "0.00001"})


def test_currencies_with_zero_and_two_minor_digits(world: World) -> None:
    assert currency_digits("JPY") == 0
    assert currency_digits("EUR") == 2
    ledger = world.ledger
    ledger.change_settings(
        org_id=world.org_id,
        changes={"currency": "JPY", "invoice_requires_approval": False},
        actor=world.owner,
    )
    ledger.set_rate(
        org_id=world.org_id, level="organization", amount_minor=5_000, actor=world.owner, effective_from=JAN
    )  # ¥5,000 an hour
    start = datetime(2026, 11, 9, 9, tzinfo=UTC)
    ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=start,
        end=start + timedelta(minutes=7),
        actor=world.member,
    )
    receipt = ledger.draft_invoice(
        org_id=world.org_id,
        client_id=world.client_id,
        period_from=date(2026, 11, 9),
        period_to=date(2026, 11, 9),
        taxes=[{"label": "JCT", "percent": "10"}],
        actor=world.owner,
    )
    invoice = ledger.get_invoice(receipt.id, world.owner)
    assert invoice.currency == "JPY"
    # 7 min x ¥5,000 / 60 = ¥583.33 → ¥583; tax 58.3 → ¥58.
    assert (invoice.totals.subtotal_minor, invoice.totals.taxes[0][2], invoice.totals.total_minor) == (
        583,
        58,
        641,
    )


def test_a_replay_gives_the_same_totals(world: World, make_ledger: Callable[..., TimeLedger]) -> None:
    ledger = world.ledger
    ledger.change_settings(
        org_id=world.org_id,
        changes={"invoice_requires_approval": False, "rounding_mode": "up", "rounding_minutes": 6},
        actor=world.owner,
    )
    ledger.set_rate(
        org_id=world.org_id, level="organization", amount_minor=9_000, actor=world.owner, effective_from=JAN
    )
    ledger.set_rate(
        org_id=world.org_id,
        level="project",
        project_id=world.project_id,
        amount_minor=12_000,
        actor=world.owner,
        effective_from=date(2026, 11, 10),
    )
    start = datetime(2026, 11, 9, 9, tzinfo=UTC)
    for day in range(4):
        ledger.record_entry(
            org_id=world.org_id,
            project_id=world.project_id,
            start=start + timedelta(days=day),
            end=start + timedelta(days=day, minutes=47),
            actor=world.member,
        )
    receipt = ledger.draft_invoice(
        org_id=world.org_id,
        client_id=world.client_id,
        period_from=date(2026, 11, 9),
        period_to=date(2026, 11, 15),
        grouping="entry",
        discount={"percent": "5"},
        taxes=[{"label": "VAT", "percent": "20"}],
        actor=world.owner,
    )
    ledger.issue_invoice(invoice_id=receipt.id, actor=world.owner)
    original = ledger.get_invoice(receipt.id, world.owner)
    # 47 min rounds up to 48: day 1 at 90.00 → 72.00, days 2-4 at 120.00 → 96.00 each.
    assert [line.amount_minor for line in original.lines] == [7200, 9600, 9600, 9600]

    replayed = make_ledger(world.clock).get_invoice(receipt.id, world.owner)  # a cold ledger reads the log
    assert replayed.totals == original.totals
    assert replayed.lines == original.lines
    # Recomputing from the entries and rates in the log gives the same amounts too.
    recomputed = make_ledger(world.clock).recompute_invoice(receipt.id, world.owner)
    assert recomputed["totals"] == original.totals.to_dict()
    assert recomputed["lines"] == [line.to_dict() for line in original.lines]


def test_without_a_date_a_first_rate_covers_all_time_and_a_change_starts_today(world: World) -> None:
    ledger = world.ledger
    ledger.set_rate(org_id=world.org_id, level="organization", amount_minor=8_000, actor=world.owner)
    ledger.set_rate(org_id=world.org_id, level="organization", amount_minor=9_000, actor=world.owner)
    card = ledger.aggregate(rate_card_id(world.org_id))
    assert isinstance(card, RateCard)
    assert [(r.amount_minor, r.effective_from) for r in card.rates] == [
        (8_000, date(1900, 1, 1)),
        (9_000, world.clock.now().date()),
    ]
