"""An organization's audit log: its events from the log itself, filtered, newest or oldest first.

Read straight from the event log (not a read model), so it shows exactly what was
recorded. Secrets that events carry (password and token hashes, two-factor and
webhook secrets) never leave: their values are replaced by `REDACTED`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Notification

from api.owners import Owners, kind_of
from ledger.application import TimeLedger
from ledger.snapshots import HistoryItem

PAGE = 500
# A page stops after this many events read, so a filter that matches little still answers
# quickly; the caller follows `next_cursor` on.
SCAN_LIMIT = 20_000
REDACTED = "[redacted]"
SECRET_FIELDS = frozenset(
    {
        "secret",
        "secret_hash",
        "secret_ciphertext",
        "password_hash",
        "two_factor_secret",
        "recovery_code_hashes",
        "code_hash",
    }
)
# Bookkeeping aggregates: they repeat, as locks and indexes, what the organization's own
# aggregates record, or belong to no organization.
UNAUDITED_KINDS = frozenset(
    {"CommandRecord", "EmailIndex", "User", "InvoiceSequence", "MemberTimer", "MemberWeek", "WebhookBook"}
)


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show; every field left None matches everything."""

    since: datetime | None = None
    until: datetime | None = None
    user_id: UUID | None = None
    device_id: str | None = None
    event_type: str | None = None  # a prefix: `TimeEntry.` or `Invoice.Issued`
    aggregate_id: UUID | None = None

    def matches(self, aggregate_id: UUID, item: HistoryItem) -> bool:
        return (
            (self.since is None or item.recorded_at >= self.since)
            and (self.until is None or item.recorded_at <= self.until)
            and (self.user_id is None or item.actor_user_id == self.user_id)
            and (self.device_id is None or item.device_id == self.device_id)
            and (self.event_type is None or item.event_type.startswith(self.event_type))
            and (self.aggregate_id is None or aggregate_id == self.aggregate_id)
        )


@dataclass(frozen=True)
class AuditRecord:
    position: int
    aggregate_id: UUID
    item: HistoryItem


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditRecord]
    next_cursor: str | None


def read_audit_log(
    ledger: TimeLedger,
    org_id: UUID,
    where: AuditFilter,
    *,
    cursor: str | None = None,
    newest_first: bool = True,
    limit: int = 50,
) -> AuditPage:
    """One page of an organization's events; raises ValueError for a cursor not from a page."""
    owners = Owners(ledger)
    start = _position(cursor)
    found: list[AuditRecord] = []
    last = start
    notifications = _backwards(ledger, start) if newest_first else _forwards(ledger, start)
    for scanned, notification in enumerate(notifications, 1):
        last = notification.id
        record = _record(ledger, owners, org_id, notification)
        if record is not None and where.matches(record.aggregate_id, record.item):
            found.append(record)
            if len(found) == limit:
                break
        if scanned >= SCAN_LIMIT:
            break
    else:
        return AuditPage(found, None)
    return AuditPage(found, str(last))


def _position(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit():
        raise ValueError("The cursor is not one this list gave out; start again without it.")
    return int(cursor)


def _backwards(ledger: TimeLedger, before: int | None) -> Iterator[Notification]:
    upper = ledger.head_position() if before is None else before - 1
    while upper >= 1:
        lower = max(1, upper - PAGE + 1)
        batch = ledger.recorder.select_notifications(start=lower, stop=upper, limit=PAGE)
        yield from reversed(batch)
        upper = lower - 1


def _forwards(ledger: TimeLedger, after: int | None) -> Iterator[Notification]:
    position = after or 0
    while True:
        batch = ledger.recorder.select_notifications(start=position + 1, limit=PAGE)
        yield from batch
        if len(batch) < PAGE:
            return
        position = batch[-1].id


def _record(
    ledger: TimeLedger, owners: Owners, org_id: UUID, notification: Notification
) -> AuditRecord | None:
    kind = kind_of(notification.topic)
    if kind in UNAUDITED_KINDS:
        return None
    event = ledger.mapper.to_domain_event(notification)
    item = TimeLedger.describe_event(event)
    aggregate_id: UUID = event.originator_id
    owner = owners.of(aggregate_id, kind, item.data)
    if owner is None or owner.org_id != org_id:
        return None
    data = {k: REDACTED if k in SECRET_FIELDS else v for k, v in item.data.items()}
    return AuditRecord(notification.id, aggregate_id, replace(item, data=data))
