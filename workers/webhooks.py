"""Webhooks: a dispatcher that follows the log and one delivery actor that POSTs, signs and retries.

The dispatcher reads the event log after its position and, in one transaction of the
read-model database, creates a pending delivery per (matching subscription, event) and
moves its position: a crash anywhere neither loses nor doubles a delivery, and two
dispatchers (threads or processes) take turns on the position row. After the commit it
sends one `deliver_webhook` message per new delivery; a row left without a message (a
crash between commit and send) is sent again by the sweep.

The actor claims a pending delivery, POSTs the signed payload, and logs the attempt. A
2xx delivers it; anything else raises `dramatiq.Retry`, so the broker tries again after
an exponential backoff, until `max_attempts` attempts have failed. A delivered (or
failed, or cancelled) delivery is never sent again, whatever messages still arrive.

Start the dispatcher where the log is followed: `WebhookDispatcher(ledger, engine).start()`
(see docs/webhooks.md).
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import dramatiq
import httpx
from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Engine

from ledger.application import TimeLedger
from ledger.organization import Organization
from ledger.webhooks import PING, WEBHOOK_KINDS, WebhookSubscription
from projections.webhook_log import DeliveryRow, delivery_id
from schemas.stream import StreamActor, StreamEvent
from workers import webhook_log as log_
from workers.broker import actor
from workers.context import context

__all__ = [
    "QUEUE",
    "SETTINGS_KEY",
    "WebhookDispatcher",
    "WebhookSettings",
    "deliver",
    "deliver_webhook",
    "payload_of",
    "sign",
    "verify",
]

log = logging.getLogger("timeledger.webhooks")

QUEUE = "webhooks"
SETTINGS_KEY = "webhook_settings"  # WorkerContext.extras[SETTINGS_KEY]: a WebhookSettings
SIGNATURE_HEADER = "TimeLedger-Signature"
USER_AGENT = "TimeLedger-Webhooks/1"
_OWNER_CACHE = 100_000


@dataclass(frozen=True)
class WebhookSettings:
    """How hard deliveries try. Backoffs double from `min_backoff_ms` up to `max_backoff_ms`."""

    max_attempts: int = 8
    min_backoff_ms: int = 10_000
    max_backoff_ms: int = 3_600_000
    timeout_seconds: float = 10.0
    # A pending delivery with no message this long after its creation is sent again.
    resend_unsent_after: timedelta = timedelta(seconds=60)
    # How often the dispatcher's thread sweeps for such deliveries.
    sweep_every_seconds: float = 30.0

    @property
    def lease(self) -> timedelta:
        """How long one attempt may hold a delivery (the HTTP timeout plus room)."""
        return timedelta(seconds=self.timeout_seconds + 60)

    @property
    def stale_after(self) -> timedelta:
        """Silence beyond any backoff: the delivery's message was lost (a broker crash)."""
        return timedelta(milliseconds=self.max_backoff_ms) + self.lease + timedelta(minutes=5)

    def message_options(self) -> dict[str, int]:
        # Our own attempt count decides when to give up; the broker must never give up first.
        return {
            "max_retries": self.max_attempts,
            "min_backoff": self.min_backoff_ms,
            "max_backoff": self.max_backoff_ms,
        }


def _now() -> datetime:
    return datetime.now(UTC)


def settings_of_context() -> WebhookSettings:
    found = context().extras.get(SETTINGS_KEY)
    return found if isinstance(found, WebhookSettings) else WebhookSettings()


# --- signing ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `TimeLedger-Signature` header: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float | None = None, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the signature and refuse stale timestamps (replays)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# --- the payload -----------------------------------------------------------------------------


def stream_event(ledger: TimeLedger, notification: Notification) -> tuple[StreamEvent, Any]:
    """An event as the live stream shows it (schemas/stream.py), and the decoded event."""
    event = ledger.mapper.to_domain_event(notification)
    described = TimeLedger.describe_event(event)
    message = StreamEvent(
        position=notification.id,
        event_type=described.event_type,
        aggregate_id=event.originator_id,
        version=described.version,
        recorded_at=described.recorded_at,
        actor=StreamActor(
            kind=described.actor_kind,
            user_id=described.actor_user_id,
            token_id=described.actor_token_id,
            device_id=described.device_id,
        ),
        data=described.data,
    )
    return message, event


def payload_of(ledger: TimeLedger, delivery: DeliveryRow) -> bytes | None:
    """The JSON body of a delivery (the same bytes on every attempt); None if its event is gone."""
    found = ledger.recorder.select_notifications(start=delivery.position, limit=1)
    if not found or found[0].id != delivery.position:
        return None
    message, _ = stream_event(ledger, found[0])
    body = {
        "id": str(delivery.id),
        "type": delivery.event_type,
        "position": delivery.position,
        "org_id": str(delivery.org_id),
        "event": message.model_dump(mode="json"),
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- delivering --------------------------------------------------------------------------------


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str | None]:
    """POST once: the status code (if one came) and why it failed (None for a 2xx)."""
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            status_code = client.post(url, content=body, headers=headers).status_code
    except Exception as failure:  # whatever stops the request is a failed attempt, logged as such
        return None, f"{type(failure).__name__}: {failure}"[:500]
    return status_code, None if 200 <= status_code < 300 else f"The receiver answered {status_code}."


def deliver(ledger: TimeLedger, engine: Engine, delivery: UUID, settings: WebhookSettings) -> str:
    """One attempt at one delivery. Returns its status after: pending (retry), delivered, failed,
    cancelled, or `skipped` when there was nothing to do (done already, or another worker has it)."""
    claimed = log_.claim(engine, delivery, _now(), settings.lease)
    if claimed is None:
        return "skipped"
    hook = ledger.webhook_for_delivery(claimed.subscription_id)
    if hook is None or hook.deleted or not hook.active:
        log_.finish(engine, delivery, "cancelled", _now(), "The webhook was deleted or deactivated.")
        return "cancelled"
    body = payload_of(ledger, claimed)
    if body is None:
        log_.finish(engine, delivery, "failed", _now(), "The event of this delivery is not in the log.")
        return "failed"
    attempt = claimed.attempts + 1
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(hook.secret, int(time.time()), body),
        "TimeLedger-Delivery": str(claimed.id),
        "TimeLedger-Event": claimed.event_type,
        "TimeLedger-Attempt": str(attempt),
    }
    at = _now()
    started = time.monotonic()
    status_code, error = _post(hook.url, body, headers, settings.timeout_seconds)
    duration_ms = round((time.monotonic() - started) * 1000)
    given_up = "failed" if attempt >= settings.max_attempts else "pending"
    status = "delivered" if error is None else given_up
    log_.record_attempt(
        engine,
        delivery,
        attempt=attempt,
        at=at,
        duration_ms=duration_ms,
        status_code=status_code,
        error=error,
        status=status,
    )
    return status


_DEFAULTS = WebhookSettings()


@actor(
    queue_name=QUEUE,
    max_retries=_DEFAULTS.max_attempts,
    min_backoff=_DEFAULTS.min_backoff_ms,
    max_backoff=_DEFAULTS.max_backoff_ms,
)
def deliver_webhook(delivery_id: str) -> None:
    """Try one webhook delivery; raises `Retry` (logged quietly) while attempts remain."""
    ctx = context()
    status = deliver(ctx.ledger, ctx.engine, UUID(delivery_id), settings_of_context())
    if status == "pending":
        raise dramatiq.Retry(f"webhook delivery {delivery_id} failed; it will be tried again")


def send_delivery(delivery: UUID, settings: WebhookSettings) -> None:
    options = settings.message_options()
    deliver_webhook.send_with_options(
        args=(str(delivery),),
        max_retries=options["max_retries"],
        min_backoff=options["min_backoff"],
        max_backoff=options["max_backoff"],
    )


# --- dispatching -------------------------------------------------------------------------------


def _kind(topic: str) -> str:
    return topic.rsplit(":", 1)[-1].split(".", 1)[0]


class WebhookDispatcher:
    """Follows the event log and creates (and sends) one delivery per matching subscription."""

    def __init__(
        self,
        ledger: TimeLedger,
        engine: Engine,
        settings: WebhookSettings | None = None,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
    ) -> None:
        self.ledger = ledger
        self.engine = engine
        self.settings = settings or WebhookSettings()
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._owners: collections.OrderedDict[UUID, UUID | None] = collections.OrderedDict()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._prepared = False

    # --- one pass ------------------------------------------------------------------------

    def run_once(self) -> int:
        """Dispatch everything new in the log; returns how many deliveries this call created."""
        self._prepare()
        total = 0
        while True:
            created, more = self._dispatch_batch()
            self._send(created)
            total += len(created)
            if not more:
                return total

    def position(self) -> int:
        """The last log position dispatched."""
        self._prepare()
        return log_.position(self.engine)

    def sweep(self, unsent_for: timedelta | None = None) -> int:
        """Send pending deliveries that no message will reach; returns how many were sent."""
        self._prepare()
        now = _now()
        unsent_before = now - (self.settings.resend_unsent_after if unsent_for is None else unsent_for)
        stale_before = now - self.settings.stale_after
        sent = 0
        for found in log_.resend_candidates(self.engine, now, unsent_before, stale_before):
            if log_.take_for_resend(self.engine, found, now, unsent_before, stale_before):
                send_delivery(found, self.settings)
                sent += 1
        if sent:
            log.info("webhooks: sent %d pending deliveries again", sent)
        return sent

    def _prepare(self) -> None:
        if not self._prepared:
            log_.prepare(self.engine)
            self._prepared = True

    def _dispatch_batch(self) -> tuple[list[UUID], bool]:
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            position = log_.lock_position(conn)
            notifications = self.ledger.recorder.select_notifications(
                start=position + 1, limit=self.batch_size
            )
            if not notifications:
                return [], False
            subscriptions = log_.subscriptions_of(conn)
            created: list[UUID] = []
            for notification in notifications:
                created.extend(self._consider(conn, notification, subscriptions))
            log_.set_position(conn, notifications[-1].id)
        return created, len(notifications) == self.batch_size

    def _consider(
        self, conn: Connection, notification: Notification, subscriptions: dict[UUID, log_.Subscription]
    ) -> list[UUID]:
        kind = _kind(notification.topic)
        if kind == "WebhookSubscription":
            return self._subscription_event(conn, notification, subscriptions)
        if kind not in WEBHOOK_KINDS or not any(s.active for s in subscriptions.values()):
            return []
        message, event = stream_event(self.ledger, notification)
        org_id = self._org_of(event.originator_id, kind, message.data)
        wanted = [s for s in subscriptions.values() if s.org_id == org_id and s.wants(message.event_type)]
        return [
            d
            for s in wanted
            if (d := self._create(conn, s, notification, event, message.event_type)) is not None
        ]

    def _subscription_event(
        self, conn: Connection, notification: Notification, subscriptions: dict[UUID, log_.Subscription]
    ) -> list[UUID]:
        event = self.ledger.mapper.to_domain_event(notification)
        hook_id: UUID = event.originator_id
        known = subscriptions.get(hook_id)
        if isinstance(event, WebhookSubscription.Created | WebhookSubscription.Changed):
            if isinstance(event, WebhookSubscription.Created):
                org_id = event.org_id
            elif known is not None:
                org_id = known.org_id
            else:
                return []  # a change of a subscription this dispatcher never saw created
            subscription = log_.Subscription(hook_id, org_id, tuple(event.event_types), bool(event.active))
            log_.save_subscription(conn, subscription)
            subscriptions[hook_id] = subscription
        elif isinstance(event, WebhookSubscription.Deleted):
            log_.delete_subscription(conn, hook_id)
            subscriptions.pop(hook_id, None)
        elif isinstance(event, WebhookSubscription.Pinged) and known is not None:
            created = self._create(conn, known, notification, event, PING)
            return [created] if created is not None else []
        return []

    def _create(
        self,
        conn: Connection,
        subscription: log_.Subscription,
        notification: Notification,
        event: Any,
        event_type: str,
    ) -> UUID | None:
        new_id = delivery_id(subscription.id, event.originator_id, event.originator_version)
        values = {
            "id": new_id,
            "subscription_id": subscription.id,
            "org_id": subscription.org_id,
            "position": notification.id,
            "event_type": event_type,
            "created_at": _now(),
        }
        return new_id if log_.insert_delivery(conn, values) else None

    def _org_of(self, aggregate_id: UUID, kind: str, data: dict[str, Any]) -> UUID | None:
        """The organization an aggregate belongs to (remembered: it never changes)."""
        if kind == "Organization":
            return aggregate_id
        if aggregate_id in self._owners:
            self._owners.move_to_end(aggregate_id)
            return self._owners[aggregate_id]
        found = data.get("org_id")
        if not isinstance(found, UUID):
            aggregate = self.ledger.aggregate(aggregate_id)
            org = getattr(aggregate, "org_id", None)
            found = aggregate.id if isinstance(aggregate, Organization) else org
        self._owners[aggregate_id] = found if isinstance(found, UUID) else None
        if len(self._owners) > _OWNER_CACHE:
            self._owners.popitem(last=False)
        return self._owners[aggregate_id]

    def _send(self, created: list[UUID]) -> None:
        sent: list[UUID] = []
        for found in created:
            try:
                send_delivery(found, self.settings)
            except Exception:  # the broker is down: the sweep sends it later
                log.exception("webhooks: could not send delivery %s to the broker", found)
                continue
            sent.append(found)
        log_.mark_enqueued(self.engine, sent, _now())

    # --- the thread ------------------------------------------------------------------------

    def start(self) -> None:
        """Follow the log in a daemon thread, woken by in-process appends and every poll."""
        if self._thread is not None:
            return
        self._stop.clear()
        self.ledger.after_append.append(self._on_append)
        self._thread = threading.Thread(target=self._run, name="webhook-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        with contextlib.suppress(ValueError):
            self.ledger.after_append.remove(self._on_append)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _on_append(self, _position: int) -> None:
        self._wake.set()

    def _run(self) -> None:
        next_sweep = time.monotonic()
        while not self._stop.is_set():
            try:
                self.run_once()
                if time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + self.settings.sweep_every_seconds
            except Exception:  # a lost database connection must not end the thread
                log.exception("webhooks: dispatching failed; trying again")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
