"""Hourly rates at every level, with effective dates; the most specific level wins.

Levels from most to least specific: member on a project, project, client,
member, organization. A rate applies from its effective date on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.base import CommandContext, LedgerAggregate
from ledger.errors import InvalidInputError
from ledger.ids import rate_card_id
from ledger.text import LARGEST

LEVELS = ("project_member", "project", "client", "member", "organization")
_NEEDS = {
    "project_member": ("project_id", "member_id"),
    "project": ("project_id",),
    "client": ("client_id",),
    "member": ("member_id",),
    "organization": (),
}


@dataclass(frozen=True)
class Rate:
    """One hourly rate: an amount in minor units of a currency, from a date on."""

    level: str
    amount_minor: int | None
    currency: str
    effective_from: date
    client_id: UUID | None = None
    project_id: UUID | None = None
    member_id: UUID | None = None

    def key(self) -> tuple[str, UUID | None, UUID | None, UUID | None]:
        return (self.level, self.client_id, self.project_id, self.member_id)


def check_rate_target(
    level: str, client_id: UUID | None, project_id: UUID | None, member_id: UUID | None
) -> None:
    if level not in LEVELS:
        raise InvalidInputError(
            f"There is no rate level {level!r}; use one of {', '.join(LEVELS)}.", field="level"
        )
    given = {"client_id": client_id, "project_id": project_id, "member_id": member_id}
    for name, value in given.items():
        needed = name in _NEEDS[level]
        if needed and value is None:
            raise InvalidInputError(f"A {level} rate needs {name}.", field=name)
        if not needed and value is not None:
            raise InvalidInputError(f"A {level} rate takes no {name}.", field=name)


class RateCard(LedgerAggregate):
    """All rates of one organization (one per organization, id derived from it)."""

    if TYPE_CHECKING:
        org_id: UUID
        rates: list[Rate]

    class Opened(LedgerAggregate.Created):
        org_id: UUID

        def apply(self, card: RateCard) -> None:
            card.org_id = self.org_id
            card.rates = []

    class RateSet(LedgerAggregate.Event):
        level: str
        amount_minor: int | None
        currency: str
        effective_from: str
        client_id: UUID | None
        project_id: UUID | None
        member_id: UUID | None

        def apply(self, card: RateCard) -> None:
            card.rates.append(
                Rate(
                    level=self.level,
                    amount_minor=self.amount_minor,
                    currency=self.currency,
                    effective_from=date.fromisoformat(self.effective_from),
                    client_id=self.client_id,
                    project_id=self.project_id,
                    member_id=self.member_id,
                )
            )

    @classmethod
    def open(cls, ctx: CommandContext, org_id: UUID) -> RateCard:
        return cls._start(cls.Opened, ctx, id=rate_card_id(org_id), org_id=org_id)

    def set_rate(self, ctx: CommandContext, rate: Rate) -> None:
        """Set (or with amount None, clear) a rate from its effective date on."""
        check_rate_target(rate.level, rate.client_id, rate.project_id, rate.member_id)
        if rate.amount_minor is not None and (
            not isinstance(rate.amount_minor, int)
            or isinstance(rate.amount_minor, bool)
            or not 0 <= rate.amount_minor <= LARGEST
        ):
            raise InvalidInputError(
                f"amount_minor must be a whole number of minor units (cents), from 0 to {LARGEST}.",
                field="amount_minor",
            )
        self._record(
            self.RateSet,
            ctx,
            level=rate.level,
            amount_minor=rate.amount_minor,
            currency=rate.currency,
            effective_from=rate.effective_from.isoformat(),
            client_id=rate.client_id,
            project_id=rate.project_id,
            member_id=rate.member_id,
        )

    def rate_for(self, *, on: date, member_id: UUID, project_id: UUID, client_id: UUID | None) -> Rate | None:
        """The rate that applies to a member's work on a project on a day, or None."""
        return resolve_rate(
            self.rates, on=on, member_id=member_id, project_id=project_id, client_id=client_id
        )


def resolve_rate(
    rates: list[Rate], *, on: date, member_id: UUID, project_id: UUID, client_id: UUID | None
) -> Rate | None:
    """The most specific rate in effect on `on`: member on project, project, client, member, org.

    A level whose latest rate on that day is cleared (amount None) falls through
    to the next level.
    """
    wanted = [
        ("project_member", None, project_id, member_id),
        ("project", None, project_id, None),
        ("client", client_id, None, None),
        ("member", None, None, member_id),
        ("organization", None, None, None),
    ]
    for key in wanted:
        if key[0] == "client" and client_id is None:
            continue
        applicable = [r for r in rates if r.key() == key and r.effective_from <= on]
        if applicable:
            # sorted() is stable: of two rates from the same day, the later one set wins.
            latest = sorted(applicable, key=lambda r: r.effective_from)[-1]
            if latest.amount_minor is not None:
                return latest
    return None
