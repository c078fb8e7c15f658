"""The catalog read model: organizations, members, users, clients, projects, tasks, rates, tokens."""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Uuid

from ledger.catalog import Client, Project, Task
from ledger.organization import Organization
from ledger.rates import RateCard
from ledger.tokens import ApiToken
from ledger.users import User
from projections.base import ReadModel
from projections.batch import Batch
from projections.columns import Instant


class CatalogProjection(ReadModel):
    """Lists the UI and API page through; one row per thing, current state only."""

    name = "catalog"

    @classmethod
    def define_tables(cls, metadata: MetaData, suffix: str) -> dict[str, Table]:
        return {
            "organizations": Table(
                f"rm_organizations{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("name", String(200), nullable=False),
                Column("settings", JSON, nullable=False),
                Column("created_at", Instant, nullable=False),
            ),
            "members": Table(
                f"rm_members{suffix}",
                metadata,
                Column("org_id", Uuid, primary_key=True),
                Column("user_id", Uuid, primary_key=True),
                Column("role", String(16), nullable=False),
                Column("joined_at", Instant, nullable=False),
            ),
            "users": Table(
                f"rm_users{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("email", String(254), nullable=False),
                Column("display_name", String(200), nullable=False),
            ),
            "clients": Table(
                f"rm_clients{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Column("name", String(200), nullable=False),
                Column("archived", Boolean, nullable=False),
                Index(f"ix_rm_clients{suffix}_org", "org_id", "name"),
            ),
            "projects": Table(
                f"rm_projects{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Column("client_id", Uuid, nullable=True),
                Column("name", String(200), nullable=False),
                Column("billable", Boolean, nullable=False),
                Column("budget_seconds", BigInteger, nullable=True),
                Column("budget_minor", BigInteger, nullable=True),
                Column("archived", Boolean, nullable=False),
                Index(f"ix_rm_projects{suffix}_org", "org_id", "name"),
            ),
            "tasks": Table(
                f"rm_tasks{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Column("project_id", Uuid, nullable=False),
                Column("name", String(200), nullable=False),
                Column("archived", Boolean, nullable=False),
                Index(f"ix_rm_tasks{suffix}_project", "project_id", "name"),
            ),
            "rate_cards": Table(
                f"rm_rate_cards{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
            ),
            "rates": Table(
                f"rm_rates{suffix}",
                metadata,
                Column("org_id", Uuid, primary_key=True),
                Column("seq", Integer, primary_key=True),
                Column("level", String(16), nullable=False),
                Column("client_id", Uuid, nullable=True),
                Column("project_id", Uuid, nullable=True),
                Column("member_id", Uuid, nullable=True),
                Column("amount_minor", BigInteger, nullable=True),
                Column("currency", String(3), nullable=False),
                Column("effective_from", String(10), nullable=False),
            ),
            "tokens": Table(
                f"rm_tokens{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Column("user_id", Uuid, nullable=False),
                Column("name", String(200), nullable=False),
                Column("scopes", JSON, nullable=False),
                Column("expires_at", Instant, nullable=True),
                Column("created_at", Instant, nullable=False),
                Column("revoked", Boolean, nullable=False),
                Index(f"ix_rm_tokens{suffix}_org", "org_id", "user_id"),
            ),
        }

    def _update(self, batch: Batch, table: str, key: Any, **values: Any) -> None:
        """Change some columns of a row that may not exist (then nothing happens)."""
        key = key if isinstance(key, tuple) else (key,)
        row = batch.get(self.t[table], key)
        if row is not None:
            row.update(values)
            batch.put(self.t[table], key, row)

    @singledispatchmethod
    def apply(self, event: object, batch: Batch) -> None:
        """Other events do not change the catalog."""

    @apply.register(Organization.Created)
    def _org_created(self, e: Organization.Created, batch: Batch) -> None:
        batch.put(
            self.t["organizations"],
            (e.originator_id,),
            {"id": e.originator_id, "name": e.name, "settings": dict(e.settings), "created_at": e.timestamp},
        )

    @apply.register(Organization.Renamed)
    def _org_renamed(self, e: Organization.Renamed, batch: Batch) -> None:
        self._update(batch, "organizations", e.originator_id, name=e.name)

    @apply.register(Organization.SettingsChanged)
    def _org_settings(self, e: Organization.SettingsChanged, batch: Batch) -> None:
        self._update(batch, "organizations", e.originator_id, settings=dict(e.settings))

    @apply.register(Organization.MemberAdded)
    def _member_added(self, e: Organization.MemberAdded, batch: Batch) -> None:
        batch.put(
            self.t["members"],
            (e.originator_id, e.user_id),
            {"org_id": e.originator_id, "user_id": e.user_id, "role": e.role, "joined_at": e.timestamp},
        )

    @apply.register(Organization.MemberRoleChanged)
    def _member_role(self, e: Organization.MemberRoleChanged, batch: Batch) -> None:
        self._update(batch, "members", (e.originator_id, e.user_id), role=e.role)

    @apply.register(Organization.MemberRemoved)
    def _member_removed(self, e: Organization.MemberRemoved, batch: Batch) -> None:
        batch.delete(self.t["members"], (e.originator_id, e.user_id))

    @apply.register(User.Registered)
    def _user(self, e: User.Registered, batch: Batch) -> None:
        batch.put(
            self.t["users"],
            (e.originator_id,),
            {"id": e.originator_id, "email": e.email, "display_name": e.display_name},
        )

    @apply.register(User.Renamed)
    def _user_renamed(self, e: User.Renamed, batch: Batch) -> None:
        self._update(batch, "users", e.originator_id, display_name=e.display_name)

    @apply.register(Client.Created)
    def _client(self, e: Client.Created, batch: Batch) -> None:
        batch.put(
            self.t["clients"],
            (e.originator_id,),
            {"id": e.originator_id, "org_id": e.org_id, "name": e.name, "archived": False},
        )

    @apply.register(Client.Renamed)
    def _client_renamed(self, e: Client.Renamed, batch: Batch) -> None:
        self._update(batch, "clients", e.originator_id, name=e.name)

    @apply.register(Client.Archived)
    def _client_archived(self, e: Client.Archived, batch: Batch) -> None:
        self._update(batch, "clients", e.originator_id, archived=True)

    @apply.register(Client.Unarchived)
    def _client_unarchived(self, e: Client.Unarchived, batch: Batch) -> None:
        self._update(batch, "clients", e.originator_id, archived=False)

    @apply.register(Project.Created)
    def _project(self, e: Project.Created, batch: Batch) -> None:
        batch.put(
            self.t["projects"],
            (e.originator_id,),
            {
                "id": e.originator_id,
                "org_id": e.org_id,
                "client_id": e.client_id,
                "name": e.name,
                "billable": e.billable,
                "budget_seconds": e.budget_seconds,
                "budget_minor": e.budget_minor,
                "archived": False,
            },
        )

    @apply.register(Project.Updated)
    def _project_updated(self, e: Project.Updated, batch: Batch) -> None:
        self._update(
            batch,
            "projects",
            e.originator_id,
            client_id=e.client_id,
            name=e.name,
            billable=e.billable,
            budget_seconds=e.budget_seconds,
            budget_minor=e.budget_minor,
        )

    @apply.register(Project.Archived)
    def _project_archived(self, e: Project.Archived, batch: Batch) -> None:
        self._update(batch, "projects", e.originator_id, archived=True)

    @apply.register(Project.Unarchived)
    def _project_unarchived(self, e: Project.Unarchived, batch: Batch) -> None:
        self._update(batch, "projects", e.originator_id, archived=False)

    @apply.register(Task.Created)
    def _task(self, e: Task.Created, batch: Batch) -> None:
        batch.put(
            self.t["tasks"],
            (e.originator_id,),
            {
                "id": e.originator_id,
                "org_id": e.org_id,
                "project_id": e.project_id,
                "name": e.name,
                "archived": False,
            },
        )

    @apply.register(Task.Renamed)
    def _task_renamed(self, e: Task.Renamed, batch: Batch) -> None:
        self._update(batch, "tasks", e.originator_id, name=e.name)

    @apply.register(Task.Archived)
    def _task_archived(self, e: Task.Archived, batch: Batch) -> None:
        self._update(batch, "tasks", e.originator_id, archived=True)

    @apply.register(Task.Unarchived)
    def _task_unarchived(self, e: Task.Unarchived, batch: Batch) -> None:
        self._update(batch, "tasks", e.originator_id, archived=False)

    @apply.register(RateCard.RateSet)
    def _rate(self, e: RateCard.RateSet, batch: Batch) -> None:
        card = batch.get(self.t["rate_cards"], (e.originator_id,))
        if card is None:
            return
        org_id = card["org_id"]
        batch.put(
            self.t["rates"],
            (org_id, e.originator_version),
            {
                "org_id": org_id,
                "seq": e.originator_version,
                "level": e.level,
                "client_id": e.client_id,
                "project_id": e.project_id,
                "member_id": e.member_id,
                "amount_minor": e.amount_minor,
                "currency": e.currency,
                "effective_from": e.effective_from,
            },
        )

    @apply.register(RateCard.Opened)
    def _rate_card(self, e: RateCard.Opened, batch: Batch) -> None:
        batch.put(self.t["rate_cards"], (e.originator_id,), {"id": e.originator_id, "org_id": e.org_id})

    @apply.register(ApiToken.Issued)
    def _token(self, e: ApiToken.Issued, batch: Batch) -> None:
        batch.put(
            self.t["tokens"],
            (e.originator_id,),
            {
                "id": e.originator_id,
                "org_id": e.org_id,
                "user_id": e.user_id,
                "name": e.name,
                "scopes": list(e.scopes),
                "expires_at": e.expires_at,
                "created_at": e.timestamp,
                "revoked": False,
            },
        )

    @apply.register(ApiToken.Revoked)
    def _token_revoked(self, e: ApiToken.Revoked, batch: Batch) -> None:
        self._update(batch, "tokens", e.originator_id, revoked=True)
