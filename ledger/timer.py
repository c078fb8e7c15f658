"""One running timer per member: the slot every start and stop is version-checked on.

Invariant: at most one running entry per member per organization. Two starts
racing both write this aggregate, so one of them loses the append and retries
on fresh state, where it sees (and stops) the winner's entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from ledger.base import CommandContext, LedgerAggregate
from ledger.ids import member_timer_id


class MemberTimer(LedgerAggregate):
    """Which entry, if any, is running for one member."""

    if TYPE_CHECKING:
        org_id: UUID
        member_id: UUID
        running_entry_id: UUID | None

    class Opened(LedgerAggregate.Created):
        org_id: UUID
        member_id: UUID

        def apply(self, timer: MemberTimer) -> None:
            timer.org_id = self.org_id
            timer.member_id = self.member_id
            timer.running_entry_id = None

    class Claimed(LedgerAggregate.Event):
        entry_id: UUID

        def apply(self, timer: MemberTimer) -> None:
            timer.running_entry_id = self.entry_id

    class Released(LedgerAggregate.Event):
        entry_id: UUID

        def apply(self, timer: MemberTimer) -> None:
            timer.running_entry_id = None

    @classmethod
    def open(cls, ctx: CommandContext, org_id: UUID, member_id: UUID) -> MemberTimer:
        return cls._start(
            cls.Opened, ctx, id=member_timer_id(org_id, member_id), org_id=org_id, member_id=member_id
        )

    def claim(self, ctx: CommandContext, entry_id: UUID) -> None:
        self._record(self.Claimed, ctx, entry_id=entry_id)

    def release(self, ctx: CommandContext, entry_id: UUID) -> None:
        if self.running_entry_id == entry_id:
            self._record(self.Released, ctx, entry_id=entry_id)
