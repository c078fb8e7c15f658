"""The live stream's engine: one follower of the log per server process, fanned out to sockets.

One thread follows the log: on PostgreSQL through the library's LISTEN/NOTIFY
subscription, so appends by every server process arrive; on SQLite by reading
after each in-process append (and polling, for appends by other processes).
Each event is decoded once, tagged with its organization, and handed to the
event loop in one call, which offers it to every subscriber of that loop.

A subscriber registers before it replays: registration returns the hub's
position P under the same lock that advances it, so the replay from the store
covers `(after, P]` and the queue holds exactly what follows P. No gap, no
duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from pydantic_core import to_jsonable_python

from api.owners import Owner, Owners, kind_of
from ledger.application import TimeLedger

log = logging.getLogger("timeledger.stream")

# What each kind of aggregate needs to be seen; kinds not listed (users, tokens, timers,
# week bookings and locks, command records, templates) are bookkeeping or private and never streamed.
SCOPE_OF_KIND = {
    "TimeEntry": "read:entries",
    "Timesheet": "read:entries",
    "Organization": "read:catalog",
    "Client": "read:catalog",
    "Project": "read:catalog",
    "Task": "read:catalog",
    "RateCard": "read:catalog",
    # Invoice numbers (InvoiceSequence) are bookkeeping: the invoice's own events carry them.
    "Invoice": "write:invoices",
}
# Kinds that belong to one member: a member (role) sees only their own.
MEMBER_KINDS = frozenset({"TimeEntry", "Timesheet"})
POLL_SECONDS = 1.0
PAGE = 500


@dataclass(frozen=True)
class Item:
    """One streamable event: who may see it and the text frame to send."""

    position: int
    kind: str
    owner: Owner
    frame: str


@dataclass(eq=False)
class Subscriber:
    """One socket's view: its organization, what it may see, and its queue."""

    org_id: UUID
    scopes: frozenset[str]
    only_member: UUID | None  # a member (role) sees only their own entries
    loop: asyncio.AbstractEventLoop
    max_queue: int = 10_000
    queue: asyncio.Queue[Item | None] = field(init=False)
    overflowed: bool = False
    closed: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.max_queue)

    def sees(self, item: Item) -> bool:
        if item.owner.org_id != self.org_id:
            return False
        scope = SCOPE_OF_KIND[item.kind]
        if scope not in self.scopes and "admin" not in self.scopes:
            return False
        return item.kind not in MEMBER_KINDS or self.only_member in (None, item.owner.member_id)

    def close(self) -> None:
        """The client went away: wake the sender so it stops (None is the wake-up call)."""
        self.closed = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

    def offer(self, item: Item) -> None:
        """Runs in the subscriber's loop. A full queue ends the subscription (the client resumes)."""
        if self.overflowed or not self.sees(item):
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True


class StreamHub:
    def __init__(self, ledger: TimeLedger, store_kind: str) -> None:
        self.ledger = ledger
        self.store_kind = store_kind
        self._lock = threading.Lock()
        self._subscribers: dict[asyncio.AbstractEventLoop, set[Subscriber]] = {}
        self._owners = Owners(ledger)
        self._position = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscription: Any = None

    # --- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._position = self.ledger.head_position()
            self.ledger.after_append.append(self._on_append)
            self._thread = threading.Thread(target=self._run, name="stream-hub", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._subscription is not None:
            self._subscription.stop()
        with contextlib.suppress(ValueError):
            self.ledger.after_append.remove(self._on_append)
        if self._thread is not None:
            self._thread.join(10)

    @property
    def position(self) -> int:
        return self._position

    def subscribe(self, subscriber: Subscriber) -> int:
        """Register; returns the position up to which the caller must replay from the store."""
        self.start()
        with self._lock:
            self._subscribers.setdefault(subscriber.loop, set()).add(subscriber)
            return self._position

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            found = self._subscribers.get(subscriber.loop)
            if found is not None:
                found.discard(subscriber)
                if not found:
                    del self._subscribers[subscriber.loop]

    # --- following the log ----------------------------------------------------------

    def _on_append(self, _position: int) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.store_kind == "postgresql":
                    self._follow_subscription()
                else:
                    self._follow_by_reading()
            except Exception:  # the stream must outlive a lost connection
                log.exception("the stream lost the log; following it again")
                self._stop.wait(POLL_SECONDS)

    def _follow_subscription(self) -> None:
        with self.ledger.recorder.subscribe(gt=self._position) as subscription:
            self._subscription = subscription
            if self._stop.is_set():
                return
            for notification in subscription:
                self._deliver(notification)
                if self._stop.is_set():
                    break

    def _follow_by_reading(self) -> None:
        while not self._stop.is_set():
            batch = self.ledger.recorder.select_notifications(start=self._position + 1, limit=PAGE)
            for notification in batch:
                self._deliver(notification)
            if len(batch) < PAGE:
                self._wake.wait(POLL_SECONDS)
                self._wake.clear()

    def _deliver(self, notification: Notification) -> None:
        item = self.item_of(notification)
        with self._lock:
            self._position = notification.id
            if item is None:
                return
            loops = list(self._subscribers.items())
        for loop, subscribers in loops:
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(_fan_out, tuple(subscribers), item)

    # --- events as the stream shows them -----------------------------------------------

    def item_of(self, notification: Notification) -> Item | None:
        kind = kind_of(notification.topic)
        if kind not in SCOPE_OF_KIND:
            return None
        event = self.ledger.mapper.to_domain_event(notification)
        described = TimeLedger.describe_event(event)
        aggregate_id: UUID = event.originator_id
        owner = self._owner(aggregate_id, kind, described.data)
        if owner is None:
            return None
        message = {
            "type": "event",
            "v": 1,
            "position": notification.id,
            "event_type": described.event_type,
            "aggregate_id": aggregate_id,
            "version": described.version,
            "recorded_at": described.recorded_at,
            "actor": {
                "kind": described.actor_kind,
                "user_id": described.actor_user_id,
                "token_id": described.actor_token_id,
                "device_id": described.device_id,
            },
            "data": described.data,
        }
        frame = _dumps(message)
        return Item(notification.id, kind, owner, frame)

    def _owner(self, aggregate_id: UUID, kind: str, data: dict[str, Any]) -> Owner | None:
        return self._owners.of(aggregate_id, kind, data)

    def replay_page(self, after: int, until: int) -> tuple[list[Item], int]:
        """The streamable events of one page after `after` (up to `until`) from the store, and
        the position the page reached (blocking: run it in a thread)."""
        batch = self.ledger.recorder.select_notifications(start=after + 1, limit=min(PAGE, until - after))
        items = []
        reached = until if not batch else after
        for notification in batch:
            if notification.id > until:
                break
            reached = notification.id
            item = self.item_of(notification)
            if item is not None:
                items.append(item)
        return items, reached


def _fan_out(subscribers: Sequence[Subscriber], item: Item) -> None:
    for subscriber in subscribers:
        subscriber.offer(item)


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(to_jsonable_python(message), separators=(",", ":"))
