"""`audit verify`: walk the whole log in position order and check its order, chains and checkpoints.

What is checked, event by event, in position order:
- no position is skipped (on stores whose positions are gap-free: SQLite; PostgreSQL's
  sequence also skips the positions of rolled-back appends, so there a skip is counted,
  not reported) — a skipped position is a removed event;
- each aggregate's versions come 1, 2, 3… in log order: a missing version is a removed
  event, a version that shows up before a lower one is a reordered log;
- each event decodes, links to the hash of its aggregate's previous event, matches its
  own hash, and is stored as exactly the bytes the ledger wrote (an altered event).

A running log hash chains every (position, event hash) pair, so it changes if any event
up to a position was removed, moved or altered, even across aggregates; comparing it
with a recorded checkpoint catches what the per-aggregate chains cannot (a removed last
event, events swapped between aggregates, a tail rewritten with recomputed hashes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from ledger.chain import GENESIS_HASH, event_hash

PAGE = 1000


@dataclass(frozen=True)
class Break:
    """The first event whose place or chain does not verify, and why."""

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
class Mismatch:
    """A checkpoint whose log hash the log no longer reproduces: history was rewritten."""

    position: int
    recorded: str
    found: str | None
    head: int

    def describe(self) -> str:
        if self.found is None:
            return (
                f"the log ends at position {self.head}, before checkpoint position {self.position}: "
                "events were removed from its end"
            )
        return (
            f"the log up to position {self.position} hashes to {self.found[:16]}…, not to the "
            f"checkpoint's {self.recorded[:16]}…: history before the checkpoint was rewritten"
        )


@dataclass(frozen=True)
class VerifyResult:
    events: int
    aggregates: int
    head: int
    first_break: Break | None
    log_hash: str = GENESIS_HASH
    mismatch: Mismatch | None = None
    checkpoints: int = 0
    skipped_positions: int = 0

    @property
    def ok(self) -> bool:
        return self.first_break is None and self.mismatch is None


def log_link(log_hash: str, position: int, hash_of_event: str) -> str:
    """The log hash after one more event: SHA-256 of the previous log hash, position and event hash."""
    return hashlib.sha256(f"{log_hash}:{position}:{hash_of_event}".encode()).hexdigest()


def _id(n: Any) -> UUID:
    return n.originator_id if isinstance(n.originator_id, UUID) else UUID(str(n.originator_id))


class _Walk:
    """The state of one pass over the log."""

    def __init__(
        self, app: Application[Any], expect: Sequence[tuple[int, str]], gapless_positions: bool
    ) -> None:
        self.app = app
        self.transcoder = app.mapper.transcoder
        self.gapless = gapless_positions
        self.pending = sorted(expect)
        self.last_hash: dict[UUID, tuple[int, str]] = {}
        self.count = 0
        self.position = 0
        self.log_hash = GENESIS_HASH
        self.skipped = 0
        self.checked = 0

    def result(self, first_break: Break | None = None, mismatch: Mismatch | None = None) -> VerifyResult:
        return VerifyResult(
            self.count,
            len(self.last_hash),
            self.position,
            first_break,
            self.log_hash,
            mismatch,
            self.checked,
            self.skipped,
        )

    def compare_before(self, position: int) -> Mismatch | None:
        """Compare every checkpoint below `position` with the log hash so far."""
        while self.pending and self.pending[0][0] < position:
            at, recorded = self.pending.pop(0)
            if recorded != self.log_hash:
                return Mismatch(at, recorded, self.log_hash, self.position)
            self.checked += 1
        return None

    def check_place(self, n: Any, aggregate_id: UUID) -> str | None:
        """Why this event is not where it should be in the log, if it is not."""
        reasons = []
        if n.id != self.position + 1:
            missing = (
                f"{self.position + 1}" if n.id == self.position + 2 else f"{self.position + 1}-{n.id - 1}"
            )
            if self.gapless:
                reasons.append(f"position {missing} before it is missing from the log (an event was removed)")
            else:
                self.skipped += n.id - self.position - 1
        previous_version = self.last_hash.get(aggregate_id, (0, GENESIS_HASH))[0]
        if n.originator_version != previous_version + 1:
            reasons.append(
                self.version_problem(aggregate_id, previous_version + 1, n.originator_version, n.id)
            )
        return "; ".join(reasons) or None

    def version_problem(self, aggregate_id: UUID, expected: int, found: int, position: int) -> str:
        if found < expected:
            return (
                f"expected version {expected}, but it comes after version {expected - 1} in the log "
                "(the log was reordered)"
            )
        stored = self.app.recorder.select_events(aggregate_id, gt=expected - 1, lte=expected)
        if not stored:
            return f"expected version {expected}, which is missing from the store (an event was removed)"
        later = self.position_of(aggregate_id, expected, after=position)
        return (
            f"expected version {expected}, which comes later in the log, at position {later} "
            "(the log was reordered)"
        )

    def position_of(self, aggregate_id: UUID, version: int, *, after: int) -> int | None:
        start = after + 1
        while page := self.app.recorder.select_notifications(start=start, limit=PAGE):
            for n in page:
                if _id(n) == aggregate_id and n.originator_version == version:
                    return int(n.id)
            start = page[-1].id + 1
        return None

    def check_content(self, n: Any, aggregate_id: UUID) -> tuple[str | None, str]:
        """Why this event's stored content does not verify (if it does not), and its hash."""
        try:
            state = self.transcoder.decode(n.state)
        except Exception as e:
            return f"its stored bytes do not decode ({type(e).__name__})", ""
        if not isinstance(state, dict) or "hash" not in state or "prev_hash" not in state:
            return "it carries no hash chain", ""
        if state["prev_hash"] != self.last_hash.get(aggregate_id, (0, GENESIS_HASH))[1]:
            return "it does not link to the hash of the event before it", ""
        expected = event_hash(
            topic=n.topic,
            originator_id=aggregate_id,
            originator_version=n.originator_version,
            state=state,
        )
        if state["hash"] != expected:
            return "its content does not match its hash (it was altered)", ""
        if self.transcoder.encode(state) != bytes(n.state):
            # Same values, different bytes (e.g. added whitespace): still not what was written.
            return "its stored bytes differ from what the ledger wrote", ""
        return None, str(state["hash"])

    def step(self, n: Any) -> VerifyResult | None:
        """Check one event; a result if the walk stops here."""
        mismatch = self.compare_before(n.id)
        if mismatch is not None:
            return self.result(mismatch=mismatch)
        aggregate_id = _id(n)
        self.count += 1
        reason = self.check_place(n, aggregate_id)
        if reason is None:
            reason, digest = self.check_content(n, aggregate_id)
        if reason is not None:
            self.position = n.id
            return self.result(Break(n.id, aggregate_id, n.originator_version, n.topic, reason))
        self.last_hash[aggregate_id] = (n.originator_version, digest)
        self.log_hash = log_link(self.log_hash, n.id, digest)
        self.position = n.id
        return None


def verify_log(
    app: Application[Any],
    *,
    expect: Sequence[tuple[int, str]] = (),
    gapless_positions: bool = True,
) -> VerifyResult:
    """Check the log's order, every event's hash chain, and the log hash at each expected position.

    `expect` holds (position, log hash) pairs from earlier checkpoints; the log hash up to a
    position covers every event at or below it.
    """
    walk = _Walk(app, expect, gapless_positions)
    while page := app.recorder.select_notifications(start=walk.position + 1, limit=PAGE):
        for n in page:
            stopped = walk.step(n)
            if stopped is not None:
                return stopped
    mismatch = walk.compare_before(walk.position + 1)
    if mismatch is None and walk.pending:
        at, recorded = walk.pending[0]
        mismatch = Mismatch(at, recorded, None, walk.position)
    return walk.result(mismatch=mismatch)
