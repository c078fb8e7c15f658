"""Webhook subscriptions: where an organization's events are POSTed, signed with a shared secret.

Invariants: the URL is http or https with a host and no credentials; the event types
are `*` or names of events a webhook may carry; a deleted subscription takes no more
commands; an organization keeps at most `MAX_WEBHOOKS`. The secret lives in the log
(the worker signs with it) and is shown only to the admin who created or rotated it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from uuid import UUID, uuid4, uuid5

from ledger.base import CommandContext, LedgerAggregate
from ledger.errors import ConflictError, InvalidInputError, NotFoundError
from ledger.ids import NAMESPACE
from ledger.text import check_line

# Aggregates whose events a webhook may carry. Users, tokens, webhooks (they hold secrets)
# and the bookkeeping aggregates never leave the server; a new aggregate joins by name here.
WEBHOOK_KINDS = frozenset(
    {"Organization", "Client", "Project", "Task", "RateCard", "TimeEntry", "Timesheet", "Invoice"}
)
ALL_EVENTS = "*"
PING = "ping"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a fixed marker, not a secret
MAX_WEBHOOKS = 50
MAX_EVENT_TYPES = 100
MAX_URL = 2000
MAX_DESCRIPTION = 200
_SPACE = re.compile(r"\s")


def webhook_book_id(org_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"webhooks:{org_id}")


def new_webhook_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def deliverable_event_types() -> frozenset[str]:
    """Every event type a webhook may subscribe to (as the stream names them: `TimeEntry.Started`)."""
    found: set[str] = set()
    pending = list(LedgerAggregate.__subclasses__())
    while pending:
        aggregate = pending.pop()
        pending.extend(aggregate.__subclasses__())
        if aggregate.__name__ not in WEBHOOK_KINDS:
            continue
        for name, value in vars(aggregate).items():
            if isinstance(value, type) and issubclass(value, LedgerAggregate.Event) and name != "Event":
                found.add(value.__qualname__)
    return frozenset(found)


def check_url(url: object) -> str:
    text = url.strip() if isinstance(url, str) else ""
    if not text or len(text) > MAX_URL or _SPACE.search(text):
        raise InvalidInputError(
            f"A webhook needs a URL of 1 to {MAX_URL} characters without spaces.", field="url"
        )
    check_line(text, "url", "webhook's URL")
    wrong = InvalidInputError(
        "A webhook's URL starts with http:// or https:// and names a host.", field="url"
    )
    try:
        parts = urlsplit(text)
        host = parts.hostname
        _ = parts.port  # raises on a port that is not a number from 0 to 65535
    except ValueError:
        raise wrong from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise wrong
    if parts.username is not None or parts.password is not None:
        raise InvalidInputError(
            "Put no credentials in a webhook's URL; receivers check the signature instead.", field="url"
        )
    return text


def check_event_types(event_types: object) -> tuple[str, ...]:
    if isinstance(event_types, str) or not isinstance(event_types, (list, tuple)):
        raise InvalidInputError("Event types are a list of event names, or ['*'].", field="event_types")
    if not all(isinstance(t, str) for t in event_types):
        raise InvalidInputError("Event types are a list of event names, or ['*'].", field="event_types")
    cleaned = tuple(dict.fromkeys(t.strip() for t in event_types))
    if not 1 <= len(cleaned) <= MAX_EVENT_TYPES:
        raise InvalidInputError(
            f"A webhook subscribes to 1 to {MAX_EVENT_TYPES} event types.", field="event_types"
        )
    if ALL_EVENTS in cleaned:
        return (ALL_EVENTS,)
    known = deliverable_event_types()
    unknown = [t for t in cleaned if t not in known]
    if unknown:
        raise InvalidInputError(
            f"There is no event type {unknown[0][:100]!r} a webhook can receive; use names from the "
            "event catalogue such as 'TimeEntry.Started', or '*'.",
            field="event_types",
        )
    return cleaned


def check_description(description: object) -> str:
    text = description.strip() if isinstance(description, str) else None
    if text is None or len(text) > MAX_DESCRIPTION:
        raise InvalidInputError(
            f"A webhook's description is at most {MAX_DESCRIPTION} characters.", field="description"
        )
    return check_line(text, "description", "webhook's description")


class WebhookSubscription(LedgerAggregate):
    """An organization's order to receive some of its events at a URL."""

    if TYPE_CHECKING:
        org_id: UUID
        url: str
        event_types: tuple[str, ...]
        description: str
        active: bool
        secret: str
        deleted: bool

    class Created(LedgerAggregate.Created):
        org_id: UUID
        url: str
        event_types: tuple[str, ...]
        description: str
        active: bool
        secret: str

        def apply(self, hook: WebhookSubscription) -> None:
            hook.org_id = self.org_id
            hook.secret = self.secret
            hook.deleted = False
            WebhookSubscription.Changed.apply(self, hook)  # type: ignore[arg-type]

    class Changed(LedgerAggregate.Event):
        url: str
        event_types: tuple[str, ...]
        description: str
        active: bool

        def apply(self, hook: WebhookSubscription) -> None:
            hook.url = self.url
            hook.event_types = tuple(self.event_types)
            hook.description = self.description
            hook.active = self.active

    class SecretRotated(LedgerAggregate.Event):
        secret: str

        def apply(self, hook: WebhookSubscription) -> None:
            hook.secret = self.secret

    class Deleted(LedgerAggregate.Event):
        def apply(self, hook: WebhookSubscription) -> None:
            hook.deleted = True
            hook.active = False

    class Pinged(LedgerAggregate.Event):
        """An admin asked for a test delivery (`ping`) to this subscription alone."""

        def apply(self, hook: WebhookSubscription) -> None:
            pass

    @classmethod
    def create(
        cls,
        ctx: CommandContext,
        *,
        org_id: UUID,
        url: str,
        event_types: list[str] | tuple[str, ...],
        description: str,
        active: bool,
    ) -> WebhookSubscription:
        return cls._start(
            cls.Created,
            ctx,
            id=uuid4(),
            org_id=org_id,
            url=check_url(url),
            event_types=check_event_types(event_types),
            description=check_description(description),
            active=bool(active),
            secret=new_webhook_secret(),
        )

    def require_present(self) -> None:
        if self.deleted:
            raise NotFoundError(f"There is no webhook with id {self.id}.")

    def change(
        self,
        ctx: CommandContext,
        *,
        url: str,
        event_types: list[str] | tuple[str, ...],
        description: str,
        active: bool,
    ) -> None:
        self.require_present()
        self._record(
            self.Changed,
            ctx,
            url=check_url(url),
            event_types=check_event_types(event_types),
            description=check_description(description),
            active=bool(active),
        )

    def rotate_secret(self, ctx: CommandContext) -> None:
        self.require_present()
        self._record(self.SecretRotated, ctx, secret=new_webhook_secret())

    def delete(self, ctx: CommandContext) -> None:
        self.require_present()
        self._record(self.Deleted, ctx)

    def ping(self, ctx: CommandContext) -> None:
        self.require_present()
        if not self.active:
            raise ConflictError("This webhook is inactive; activate it before sending a test delivery.")
        self._record(self.Pinged, ctx)

    def wants(self, event_type: str) -> bool:
        """Whether an event of this type goes to this subscription (while it is active)."""
        return self.active and (ALL_EVENTS in self.event_types or event_type in self.event_types)


class WebhookBook(LedgerAggregate):
    """The webhook subscriptions of one organization, so listing them is one load."""

    if TYPE_CHECKING:
        org_id: UUID
        webhook_ids: tuple[UUID, ...]

    class Opened(LedgerAggregate.Created):
        org_id: UUID

        def apply(self, book: WebhookBook) -> None:
            book.org_id = self.org_id
            book.webhook_ids = ()

    class Added(LedgerAggregate.Event):
        webhook_id: UUID

        def apply(self, book: WebhookBook) -> None:
            book.webhook_ids = (*book.webhook_ids, self.webhook_id)

    class Removed(LedgerAggregate.Event):
        webhook_id: UUID

        def apply(self, book: WebhookBook) -> None:
            book.webhook_ids = tuple(i for i in book.webhook_ids if i != self.webhook_id)

    @classmethod
    def open(cls, ctx: CommandContext, org_id: UUID) -> WebhookBook:
        return cls._start(cls.Opened, ctx, id=webhook_book_id(org_id), org_id=org_id)

    def add(self, ctx: CommandContext, webhook_id: UUID) -> None:
        if len(self.webhook_ids) >= MAX_WEBHOOKS:
            raise ConflictError(
                f"An organization may keep at most {MAX_WEBHOOKS} webhooks; delete one first."
            )
        self._record(self.Added, ctx, webhook_id=webhook_id)

    def remove(self, ctx: CommandContext, webhook_id: UUID) -> None:
        if webhook_id in self.webhook_ids:
            self._record(self.Removed, ctx, webhook_id=webhook_id)


@dataclass(frozen=True)
class WebhookInfo:
    """A subscription as its admins see it: never its secret."""

    id: UUID
    org_id: UUID
    url: str
    event_types: tuple[str, ...]
    description: str
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, hook: WebhookSubscription) -> WebhookInfo:
        return cls(
            id=hook.id,
            org_id=hook.org_id,
            url=hook.url,
            event_types=tuple(hook.event_types),
            description=hook.description,
            active=hook.active,
            created_at=hook.created_on,
            updated_at=hook.modified_on,
            version=hook.version,
        )
