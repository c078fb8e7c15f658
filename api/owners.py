"""Whose an event is: the organization (and, for entries and timesheets, the member) of its aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.application import TimeLedger
from ledger.organization import Organization


@dataclass(frozen=True)
class Owner:
    """Whose an aggregate is: its organization and, for a time entry or timesheet, its member."""

    org_id: UUID
    member_id: UUID | None


def kind_of(topic: str) -> str:
    """The aggregate kind of an event topic (`ledger.time_entry:TimeEntry.Started` → `TimeEntry`)."""
    return topic.rsplit(":", 1)[-1].split(".", 1)[0]


class Owners:
    """Finds, and remembers, whose each aggregate is (an aggregate never changes organization)."""

    def __init__(self, ledger: TimeLedger) -> None:
        self.ledger = ledger
        self._found: dict[UUID, Owner | None] = {}

    def of(self, aggregate_id: UUID, kind: str, data: dict[str, Any]) -> Owner | None:
        if aggregate_id in self._found:
            return self._found[aggregate_id]
        found: Owner | None
        if kind == "Organization":
            found = Owner(aggregate_id, None)
        elif "org_id" in data:  # a creation event names its organization
            found = Owner(data["org_id"], data.get("member_id"))
        else:
            aggregate = self.ledger.aggregate(aggregate_id)
            if aggregate is None:
                return None
            org_id = (
                aggregate.id if isinstance(aggregate, Organization) else getattr(aggregate, "org_id", None)
            )
            found = None if org_id is None else Owner(org_id, getattr(aggregate, "member_id", None))
        self._found[aggregate_id] = found
        return found
