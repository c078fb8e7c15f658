"""The TimeLedger application: every command and the write-side queries, in one object."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.commands_catalog import CatalogCommands
from ledger.commands_invoices import InvoiceCommands
from ledger.commands_org import OrganizationCommands
from ledger.commands_templates import TemplateCommands
from ledger.commands_timesheets import TimesheetCommands
from ledger.commands_webhooks import WebhookCommands
from ledger.core import _project
from ledger.errors import InvalidInputError, NotFoundError
from ledger.ids import email_index_id, member_timer_id
from ledger.organization import Organization
from ledger.snapshots import EntrySnapshot, HistoryItem, TokenPrincipal
from ledger.time_entry import TimeEntry
from ledger.timer import MemberTimer
from ledger.tokens import ApiToken, parse_token_text
from ledger.transcodings import CachedUUIDAsHex
from ledger.users import EmailIndex, User, normalise_email

_META_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "actor_kind",
        "actor_user_id",
        "actor_token_id",
        "device_id",
        "command_id",
        "prev_hash",
        "hash",
    }
)


class TimeLedger(
    OrganizationCommands,
    CatalogCommands,
    TemplateCommands,
    TimesheetCommands,
    InvoiceCommands,
    WebhookCommands,
):
    """Commands check the rules and append; queries here read the write model by id."""

    name = "TimeLedger"
    env: ClassVar[dict[str, str]] = {
        # Cached aggregates are fast-forwarded with a read of their newer events on every
        # load, so the cache is safe with several processes writing the same store.
        "AGGREGATE_CACHE_MAXSIZE": "5000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }
    # A member's timer gains two events per timer; snapshots keep a cold load short.
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {MemberTimer: 100}

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(CachedUUIDAsHex())

    # --- queries -------------------------------------------------------------

    def get_entry(self, entry_id: UUID, actor: Actor, version: int | None = None) -> EntrySnapshot:
        """An entry as it stands now, or as it stood at `version` (what a command returned)."""
        entry, _ = self._entry_for_reading(entry_id, actor)
        if version is not None and version != entry.version:
            entry = self.repository.get(entry_id, version=version, projector_func=_project)
        return EntrySnapshot.of(entry, self.clock.now())

    def _entry_for_reading(self, entry_id: UUID, actor: Actor) -> tuple[TimeEntry, Organization]:
        entry = self._load(TimeEntry, entry_id, "time entry")
        try:
            org, _ = self._org_role(entry.org_id, actor)
        except NotFoundError:
            raise NotFoundError(f"There is no time entry with id {entry_id}.") from None
        return entry, org

    def running_entry(
        self, org_id: UUID, actor: Actor, member_id: UUID | None = None
    ) -> EntrySnapshot | None:
        """The member's running (or paused) entry, or None."""
        self._org_role(org_id, actor)
        member = member_id or actor.user_id
        if member is None:
            return None
        timer = self._find(MemberTimer, member_timer_id(org_id, member))
        if timer is None or timer.running_entry_id is None:
            return None
        return EntrySnapshot.of(self._load(TimeEntry, timer.running_entry_id, "time entry"), self.clock.now())

    def entry_history(self, entry_id: UUID, actor: Actor) -> list[HistoryItem]:
        """Every event of an entry, oldest first."""
        self._entry_for_reading(entry_id, actor)
        return [self._history_item(e) for e in self.events.get(entry_id)]

    @classmethod
    def describe_event(cls, event: object) -> HistoryItem:
        """One stored event as the outside sees it: what, who, when, from where, and its data."""
        return cls._history_item(event)

    @staticmethod
    def _history_item(event: object) -> HistoryItem:
        state = vars(event)
        return HistoryItem(
            version=state["originator_version"],
            event_type=type(event).__qualname__,
            recorded_at=state["timestamp"],
            actor_kind=state["actor_kind"],
            actor_user_id=state["actor_user_id"],
            actor_token_id=state["actor_token_id"],
            device_id=state["device_id"],
            command_id=state["command_id"],
            data={k: v for k, v in state.items() if k not in _META_FIELDS},
        )

    def get_organization(self, org_id: UUID, actor: Actor) -> Organization:
        org, _ = self._org_role(org_id, actor)
        return org

    def get_user(self, user_id: UUID) -> User | None:
        return self._find(User, user_id)

    def user_by_email(self, email: str) -> User | None:
        try:
            index = self._find(EmailIndex, email_index_id(normalise_email(email)))
        except InvalidInputError:
            return None
        return self._find(User, index.user_id) if index else None

    def authenticate_password(self, email: str, password: str) -> UUID | None:
        """The user's id when the password is right, else None (never says which part was wrong)."""
        user = self.user_by_email(email)
        if user is None:
            # Hash anyway so a missing account answers as slowly as a wrong password.
            self.passwords.verify(None, password)
            return None
        return user.id if self.passwords.verify(user.password_hash, password) else None

    def authenticate_token(self, text: str) -> TokenPrincipal | None:
        parsed = parse_token_text(text)
        if parsed is None:
            return None
        token = self._find(ApiToken, parsed[0])
        if token is None or not token.matches(parsed[1], self.clock.now()):
            return None
        return TokenPrincipal(token.id, token.org_id, token.user_id, token.scopes)

    def aggregate(self, aggregate_id: UUID) -> LedgerAggregate | None:
        """Any aggregate by id (for tools and tests)."""
        return self._find(LedgerAggregate, aggregate_id)
