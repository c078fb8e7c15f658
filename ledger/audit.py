"""`audit verify`: walk the whole log and check every aggregate's hash chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from ledger.chain import GENESIS_HASH, event_hash

PAGE = 1000


@dataclass(frozen=True)
class Break:
    """The first event whose chain does not verify, and why."""

    position: int
    aggregate_id: UUID
    version: int
    topic: str
    reason: str

    def describe(self) -> str:
        return (
            f"event at position {self.position} ({self.topic}, aggregate {self.aggregate_id}, "
            f"version {self.version}): {self.reason}"
        )


@dataclass(frozen=True)
class VerifyResult:
    events: int
    aggregates: int
    head: int
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def _broken(n: Any, aggregate_id: UUID, count: int, aggregates: int, reason: str) -> VerifyResult:
    where = Break(n.id, aggregate_id, n.originator_version, n.topic, reason)
    return VerifyResult(count, aggregates, n.id, where)


def verify_log(app: Application[Any]) -> VerifyResult:
    """Check, in log order, that each event's hash is right and links to its predecessor's."""
    last_hash: dict[UUID, tuple[int, str]] = {}
    count = 0
    position = 0
    transcoder = app.mapper.transcoder
    while True:
        page = app.recorder.select_notifications(start=position + 1, limit=PAGE)
        if not page:
            break
        for n in page:
            position = n.id
            count += 1
            aggregate_id = (
                n.originator_id if isinstance(n.originator_id, UUID) else UUID(str(n.originator_id))
            )
            previous_version, previous_hash = last_hash.get(aggregate_id, (0, GENESIS_HASH))

            if n.originator_version != previous_version + 1:
                return _broken(
                    n, aggregate_id, count, len(last_hash), f"expected version {previous_version + 1}"
                )
            try:
                state = transcoder.decode(n.state)
            except Exception as e:
                return _broken(
                    n,
                    aggregate_id,
                    count,
                    len(last_hash),
                    f"its stored bytes do not decode ({type(e).__name__})",
                )
            if not isinstance(state, dict) or "hash" not in state or "prev_hash" not in state:
                return _broken(n, aggregate_id, count, len(last_hash), "it carries no hash chain")
            if state["prev_hash"] != previous_hash:
                return _broken(
                    n,
                    aggregate_id,
                    count,
                    len(last_hash),
                    "it does not link to the hash of the event before it",
                )
            expected = event_hash(
                topic=n.topic,
                originator_id=aggregate_id,
                originator_version=n.originator_version,
                state=state,
            )
            if state["hash"] != expected:
                return _broken(
                    n,
                    aggregate_id,
                    count,
                    len(last_hash),
                    "its content does not match its hash (it was altered)",
                )
            if transcoder.encode(state) != bytes(n.state):
                # Same values, different bytes (e.g. added whitespace): still not what was written.
                return _broken(
                    n,
                    aggregate_id,
                    count,
                    len(last_hash),
                    "its stored bytes differ from what the ledger wrote",
                )
            last_hash[aggregate_id] = (n.originator_version, state["hash"])
    return VerifyResult(count, len(last_hash), position, None)
