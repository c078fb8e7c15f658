"""Following the event log: batches of events applied to a read model, position and rows together."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Engine

from ledger.application import TimeLedger
from projections.base import ReadModel, TrackingView
from projections.batch import Batch
from projections.registry import ensure_live, live_generation

DEFAULT_BATCH = 1000
MAX_CACHED_ROWS = 300_000
# A rebuild keeps every row it wrote in memory, so it never reads its own tables back: about
# 1 GiB at a million events, which buys twice the speed of a capped cache.
REBUILD_MAX_CACHED_ROWS = 3_000_000


class GenerationChanged(Exception):
    """Raised when a rebuild switched the live generation under a live runner."""


class Runner:
    """Applies the log to one generation of one read model, exactly once per event.

    Several runners (threads or processes) may follow the same read model: each
    batch locks the tracking row first, so one applies a range while the others
    wait and then continue from where it stopped.
    """

    def __init__(
        self,
        ledger: TimeLedger,
        engine: Engine,
        model_class: type[ReadModel],
        generation: int | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self.ledger = ledger
        self.engine = engine
        self.model_class = model_class
        self.follows_live = generation is None
        self.batch_size = batch_size
        self.max_cached_rows = MAX_CACHED_ROWS
        self._changed = threading.Condition()
        self._position = 0
        self._cache: dict[str, dict[Any, Any]] = {}
        self._cache_position = -1
        self.known_empty = False
        self._pending: tuple[dict[str, dict[Any, Any]], int, int] = ({}, 0, 0)
        self._bind(generation if generation is not None else ensure_live(engine, model_class))

    def _bind(self, generation: int) -> None:
        self.view = TrackingView(self.engine, self.model_class.name, generation)
        self.model = self.model_class(self.view)
        self._cache = {}
        self._cache_position = -1
        self._position = self.view.position()

    @property
    def name(self) -> str:
        return self.model_class.name

    @property
    def position(self) -> int:
        return self._position

    def head(self) -> int:
        return self.ledger.head_position()

    def run_batch(self, until: int | None = None) -> int:
        """Apply the next batch of events (at most up to `until`); returns how many."""
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            if self.follows_live:
                live = live_generation(conn, self.model_class)
                if live is not None and live != self.view.generation:
                    raise GenerationChanged
            position = self.view.lock_position(conn)
            limit = self.batch_size if until is None else min(self.batch_size, until - position)
            notifications = (
                self.ledger.recorder.select_notifications(start=position + 1, limit=limit)
                if limit > 0
                else []
            )
            if not notifications:
                self._advance(position)
                return 0
            self.apply_in(conn, position, notifications, {})
        self._committed(notifications[-1].id)
        return len(notifications)

    def apply_in(
        self, conn: Connection, position: int, notifications: Sequence[Notification], decoded: dict[int, Any]
    ) -> None:
        """Apply the notifications after `position` inside the caller's transaction.

        `decoded` holds events already decoded for other read models in the same pass.
        Call `_committed` after the transaction commits.
        """
        # Rows cached from our last batch are still right if nobody else moved the position.
        fresh = self._cache_position != position
        if fresh:
            self.known_empty = self.known_empty and position == 0
        cache = {} if fresh else self._cache
        self._cache, self._cache_position = {}, -1  # until this batch commits
        batch = Batch(conn, cache=cache, known_empty=self.known_empty)
        mapper = self.ledger.mapper
        model = self.model
        handler_for = self.model_class.handler_for
        last = position
        for notification in notifications:
            if notification.id <= position:
                continue
            last = notification.id
            handler = handler_for(notification.topic)
            if handler is None:
                continue
            event = decoded.get(notification.id)
            if event is None:
                event = decoded[notification.id] = mapper.to_domain_event(notification)
            handler(model, event, batch)
        batch.flush()
        self.known_empty = batch.known_empty
        self.view.set_position(conn, last)
        self._pending = (cache, last, batch.cached_rows())

    def _committed(self, last: int) -> None:
        cache, position, rows = self._pending
        if rows < self.max_cached_rows:
            self._cache, self._cache_position = cache, position
        else:
            # Rows written earlier are no longer all in memory, so misses must be looked up.
            self.known_empty = False
        self._advance(last)

    def _advance(self, position: int) -> None:
        with self._changed:
            self._position = position
            self._changed.notify_all()

    def catch_up(self, until: int | None = None) -> int:
        """Apply everything up to `until` (default: the head when called); returns how many."""
        target = self.head() if until is None else until
        total = 0
        while self._position < target:
            try:
                done = self.run_batch(until=target)
            except GenerationChanged:
                self._bind(ensure_live(self.engine, self.model_class))
                continue
            total += done
            if done == 0:
                break
        return total

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until this read model has applied `position` (read-your-writes)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._position < position:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True


def catch_up_together(
    ledger: TimeLedger,
    engine: Engine,
    runners: Sequence[Runner],
    until: int | None = None,
    batch_size: int = 5000,
) -> int:
    """Catch several read models up in one pass over the log (each event decoded once).

    Each batch is one transaction that writes every read model's rows and positions.
    """
    target = ledger.head_position() if until is None else until
    done = 0
    while min(r.position for r in runners) < target:
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            positions = [r.view.lock_position(conn) for r in runners]
            start = min(positions)
            limit = min(batch_size, target - start)
            notifications = ledger.recorder.select_notifications(start=start + 1, limit=limit, stop=target)
            if not notifications:
                break
            decoded: dict[int, Any] = {}
            for runner, position in zip(runners, positions, strict=True):
                runner.apply_in(conn, position, notifications, decoded)
        for runner in runners:
            runner._committed(notifications[-1].id)
        done += len(notifications)
    return done
