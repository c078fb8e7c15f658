"""The base of every aggregate: events that carry who, when, which command, and the chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ledger.actors import Actor
from ledger.chain import GENESIS_HASH, event_hash

T = TypeVar("T", bound="LedgerAggregate")


@dataclass(frozen=True)
class CommandContext:
    """What every event of one command shares: the actor, the command id and the instant."""

    actor: Actor
    command_id: str | None
    recorded_at: datetime

    def event_fields(self) -> dict[str, Any]:
        return {
            "timestamp": self.recorded_at,
            "actor_kind": self.actor.kind,
            "actor_user_id": self.actor.user_id,
            "actor_token_id": self.actor.token_id,
            "device_id": self.actor.device_id,
            "command_id": self.command_id,
        }


class LedgerAggregate(Aggregate):
    """An aggregate whose events carry metadata and a hash chain.

    Command methods check rules and then call `_record`; only the events'
    `apply` methods change state, and they never raise.
    """

    class Event(Aggregate.Event):
        actor_kind: str
        actor_user_id: UUID | None
        actor_token_id: UUID | None
        device_id: str | None
        command_id: str | None
        prev_hash: str
        hash: str

        def __post_init__(self) -> None:
            super().__post_init__()
            if not self.hash:
                state = dict(vars(self))
                class_version = getattr(type(self), "class_version", 1)
                if class_version > 1:
                    state["class_version"] = class_version
                digest = event_hash(
                    topic=get_topic(type(self)),
                    originator_id=self.originator_id,
                    originator_version=self.originator_version,
                    state=state,
                )
                object.__setattr__(self, "hash", digest)

        def mutate(self, aggregate: Any) -> Any:
            mutated: Any = super().mutate(aggregate)
            mutated._last_hash = self.hash
            return mutated

    class Created(Event, Aggregate.Created):
        pass

    _last_hash = GENESIS_HASH

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """Copy for the repository's cache: containers are copied, their items shared.

        Every item held in an aggregate's dicts and lists is immutable (UUIDs, datetimes,
        strings, frozen dataclasses, tuples), so a one-level copy isolates a command's
        changes from the cached original at a fraction of `copy.deepcopy`'s cost.
        """
        clone = object.__new__(type(self))
        for name, value in self.__dict__.items():
            if isinstance(value, dict):
                value = dict(value)
            elif isinstance(value, list):
                value = list(value)
            clone.__dict__[name] = value
        return clone

    @classmethod
    def _start(
        cls,
        event_class: type[Aggregate.Created],
        ctx: CommandContext,
        *,
        id: UUID,
        **fields: Any,
    ) -> Self:
        """Create the aggregate with its first event."""
        return cls._create(
            event_class, id=id, prev_hash=GENESIS_HASH, hash="", **ctx.event_fields(), **fields
        )

    def _record(self, event_class: type[Aggregate.Event], ctx: CommandContext, **fields: Any) -> None:
        """Append one event to this aggregate."""
        self.trigger_event(event_class, prev_hash=self._last_hash, hash="", **ctx.event_fields(), **fields)
