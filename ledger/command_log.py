"""Idempotency: a command id, once used, answers with the first result forever.

The record's id is derived from the actor and the command id, and it is saved
in the same append as the command's events, so two racing repeats cannot both
succeed: the loser retries and finds the record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.base import CommandContext, LedgerAggregate
from ledger.ids import command_record_id


class CommandRecord(LedgerAggregate):
    """The outcome of one command id."""

    if TYPE_CHECKING:
        command: str
        fingerprint: str
        result: dict[str, Any]

    class Recorded(LedgerAggregate.Created):
        command: str
        fingerprint: str
        result: dict[str, Any]

        def apply(self, record: CommandRecord) -> None:
            record.command = self.command
            record.fingerprint = self.fingerprint
            record.result = dict(self.result)

    @classmethod
    def make(
        cls, ctx: CommandContext, command: str, fingerprint: str, result: dict[str, Any]
    ) -> CommandRecord:
        assert ctx.command_id is not None  # noqa: S101 - callers only record commands with ids
        return cls._start(
            cls.Recorded,
            ctx,
            id=command_record_id(ctx.actor.label, ctx.command_id),
            command=command,
            fingerprint=fingerprint,
            result=result,
        )
