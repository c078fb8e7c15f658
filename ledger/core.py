"""The command runner: loads aggregates, retries lost races, and makes command ids idempotent."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, OperationalError

from ledger.actors import Actor
from ledger.base import CommandContext, LedgerAggregate
from ledger.chain import normalise
from ledger.clock import Clock, SystemClock
from ledger.command_log import CommandRecord
from ledger.errors import (
    ConcurrencyError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    LedgerError,
    NotFoundError,
)
from ledger.ids import command_record_id
from ledger.organization import Organization
from ledger.passwords import Passwords
from ledger.store import serialised_schema_setup

A = TypeVar("A", bound=LedgerAggregate)

MAX_ATTEMPTS = 200
MAX_COMMAND_ID_LENGTH = 200


@dataclass(frozen=True)
class Receipt:
    """What a command returns: the aggregate it was about, its new version, and related ids.

    `position` is the log position the caller can wait for; `repeated` says
    the answer came from an earlier run of the same command id.
    """

    command: str
    id: UUID
    version: int
    related: tuple[UUID, ...] = ()
    position: int = field(default=0, compare=False)
    repeated: bool = field(default=False, compare=False)
    secret: str | None = field(default=None, compare=False, repr=False)

    def as_record(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "version": self.version,
            "related": [str(r) for r in self.related],
        }

    @classmethod
    def from_record(cls, command: str, data: dict[str, Any], position: int) -> Receipt:
        return cls(
            command=command,
            id=UUID(data["id"]),
            version=int(data["version"]),
            related=tuple(UUID(r) for r in data["related"]),
            position=position,
            repeated=True,
        )


Decision = tuple[list[LedgerAggregate], Receipt]


class StaleReadError(Exception):
    """Raised inside a decision when two aggregates it read disagree.

    Aggregates are read one query at a time, so a writer can commit between two
    reads (a timer read before, its entry after). That is a lost race, not a
    broken rule: the command decides again on fresh state.
    """


def fingerprint(command: str, args: dict[str, Any]) -> str:
    text = json.dumps([command, normalise(args)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    """Replay events onto an aggregate.

    The library's default projector asserts each event against a runtime-checkable
    Protocol, which costs more than the replay itself on Python 3.11.
    """
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class LedgerCore(Application[UUID]):
    """Shared machinery of the ledger's commands and queries."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock | None = None,
        passwords: Passwords | None = None,
    ) -> None:
        super().__init__(env)
        self.clock: Clock = clock or SystemClock()
        self.passwords = passwords or Passwords()
        self.after_append: list[Callable[[int], None]] = []
        # Aggregates loaded while deciding one command, so two paths that need the same
        # aggregate share one object (saving two copies would conflict with itself).
        self._session = threading.local()

    def construct_recorder(self) -> Any:
        with serialised_schema_setup(self.factory):
            return super().construct_recorder()

    # --- loading ----------------------------------------------------------

    def _loaded(self) -> dict[UUID, LedgerAggregate]:
        loaded: dict[UUID, LedgerAggregate] | None = getattr(self._session, "loaded", None)
        return loaded if loaded is not None else {}

    def _find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        loaded = self._loaded()
        if aggregate_id in loaded:
            found = loaded[aggregate_id]
            return found if isinstance(found, cls) else None
        try:
            aggregate: object = self.repository.get(aggregate_id, projector_func=_project)
        except AggregateNotFoundError:
            return None
        if not isinstance(aggregate, cls):
            return None
        loaded[aggregate_id] = aggregate
        return aggregate

    def _find_or_open(self, cls: type[A], aggregate_id: UUID, opener: Callable[[], A]) -> A:
        found = self._find(cls, aggregate_id)
        if found is not None:
            return found
        opened = opener()
        self._loaded()[aggregate_id] = opened
        return opened

    def _load(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        aggregate = self._find(cls, aggregate_id)
        if aggregate is None:
            raise NotFoundError(f"There is no {what} with id {aggregate_id}.")
        return aggregate

    def _org_role(
        self, org_id: UUID, actor: Actor, about: tuple[str, UUID] | None = None
    ) -> tuple[Organization, str]:
        """The organization and the actor's role in it; outsiders are told it doesn't exist.

        `about` names the item (kind, id) the command was given, so an outsider's refusal
        names that item and never reveals the id of the organization that owns it.
        """
        missing = (
            f"There is no {about[0]} with id {about[1]}."
            if about is not None
            else f"There is no organization with id {org_id}."
        )
        if actor.org_id is not None and actor.org_id != org_id:
            raise NotFoundError(missing)
        org = self._load(Organization, org_id, "organization")
        if actor.kind == "system":
            return org, "owner"
        role = org.role_of(actor.user_id)
        if role is None:
            raise NotFoundError(missing)
        return org, role

    @staticmethod
    def _require_role(role: str, allowed: tuple[str, ...], doing: str) -> None:
        if role not in allowed:
            raise ForbiddenError(f"Your role ({role}) may not {doing}.")

    def head_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    # --- running commands --------------------------------------------------

    def _execute(
        self,
        command: str,
        actor: Actor,
        command_id: str | None,
        args: dict[str, Any],
        decide: Callable[[CommandContext], Decision],
    ) -> Receipt:
        """Run `decide` until its append wins, at most once per command id."""
        if command_id is not None and (
            not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_COMMAND_ID_LENGTH
        ):
            raise InvalidInputError(
                f"A command id is 1 to {MAX_COMMAND_ID_LENGTH} characters.", field="command_id"
            )
        print_ = fingerprint(command, args) if command_id is not None else ""
        for attempt in range(MAX_ATTEMPTS):
            if command_id is not None:
                earlier = self._earlier_result(command, actor, command_id, print_)
                if earlier is not None:
                    return earlier
            ctx = CommandContext(actor=actor, command_id=command_id, recorded_at=self.clock.now())
            self._session.loaded = {}
            try:
                aggregates, receipt = decide(ctx)
            except StaleReadError:
                self._back_off(attempt)
                continue
            except LedgerError:
                # A twin with the same command id may have committed since the look-up
                # above and changed the state this decision refused: answer as it did.
                if command_id is not None:
                    earlier = self._earlier_result(command, actor, command_id, print_)
                    if earlier is not None:
                        return earlier
                raise
            finally:
                self._session.loaded = None
            aggregates = list({id(a): a for a in aggregates}.values())
            if command_id is not None:
                aggregates.append(CommandRecord.make(ctx, command, print_, receipt.as_record()))
            try:
                recordings = self.save(*aggregates)
            except (IntegrityError, OperationalError):
                # Another writer appended to one of these aggregates first (or SQLite
                # was busy): decide again on fresh state.
                self._back_off(attempt)
                continue
            position = max((r.notification.id for r in recordings), default=0)
            for listener in self.after_append:
                listener(position)
            return Receipt(
                command=receipt.command,
                id=receipt.id,
                version=receipt.version,
                related=receipt.related,
                position=position,
                secret=receipt.secret,
            )
        raise ConcurrencyError(
            f"{command} kept colliding with other changes and gave up after {MAX_ATTEMPTS} tries; try again."
        )

    @staticmethod
    def _back_off(attempt: int) -> None:
        # Random jitter so racing writers stop colliding in lockstep.
        time.sleep(random.uniform(0, min(0.05, 0.0005 * 2**attempt)))  # noqa: S311

    def _earlier_result(self, command: str, actor: Actor, command_id: str, print_: str) -> Receipt | None:
        record = self._find(CommandRecord, command_record_id(actor.label, command_id))
        if record is None:
            return None
        if record.command != command or record.fingerprint != print_:
            raise IdempotencyKeyReusedError(
                f"The command id {command_id!r} was already used for a different "
                f"{'command' if record.command != command else 'input'}; use a new id."
            )
        return Receipt.from_record(command, record.result, self.head_position())
