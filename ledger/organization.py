"""The organization (tenant): its name, settings and members with their roles.

Invariants: a member has exactly one role; there is always at least one owner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from ledger.base import CommandContext, LedgerAggregate
from ledger.errors import ConflictError, DuplicateError, InvalidInputError, NotFoundError
from ledger.settings import OrgSettings
from ledger.text import check_line

ROLES = ("owner", "admin", "manager", "member")
ADMIN_ROLES = ("owner", "admin")
MANAGER_ROLES = ("owner", "admin", "manager")


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInputError(
            f"There is no role {role!r}; a member is one of {', '.join(ROLES)}.", field="role"
        )
    return role


def check_name(name: str, what: str, field: str = "name") -> str:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned:
        raise InvalidInputError(f"The {what} needs a name.", field=field)
    if len(cleaned) > 200:
        raise InvalidInputError(f"The {what}'s name is longer than 200 characters.", field=field)
    return check_line(cleaned, field, f"{what}'s name")


class Organization(LedgerAggregate):
    """A team that tracks time together."""

    if TYPE_CHECKING:
        name: str
        settings: OrgSettings
        members: dict[UUID, str]

    class Created(LedgerAggregate.Created):
        name: str
        settings: dict[str, Any]

        def apply(self, org: Organization) -> None:
            org.name = self.name
            org.settings = OrgSettings.from_dict(self.settings)
            org.members = {}

    class Renamed(LedgerAggregate.Event):
        name: str

        def apply(self, org: Organization) -> None:
            org.name = self.name

    class SettingsChanged(LedgerAggregate.Event):
        settings: dict[str, Any]

        def apply(self, org: Organization) -> None:
            org.settings = OrgSettings.from_dict(self.settings)

    class MemberAdded(LedgerAggregate.Event):
        user_id: UUID
        role: str

        def apply(self, org: Organization) -> None:
            org.members[self.user_id] = self.role

    class MemberRoleChanged(LedgerAggregate.Event):
        user_id: UUID
        role: str

        def apply(self, org: Organization) -> None:
            org.members[self.user_id] = self.role

    class MemberRemoved(LedgerAggregate.Event):
        user_id: UUID

        def apply(self, org: Organization) -> None:
            org.members.pop(self.user_id, None)

    @classmethod
    def create(cls, ctx: CommandContext, name: str, settings: OrgSettings) -> Organization:
        settings.validate()
        return cls._start(
            cls.Created,
            ctx,
            id=uuid4(),
            name=check_name(name, "organization"),
            settings=settings.to_dict(),
        )

    def rename(self, ctx: CommandContext, name: str) -> None:
        self._record(self.Renamed, ctx, name=check_name(name, "organization"))

    def change_settings(self, ctx: CommandContext, changes: dict[str, Any]) -> None:
        updated = self.settings.with_changes(changes)
        self._record(self.SettingsChanged, ctx, settings=updated.to_dict())

    def role_of(self, user_id: UUID | None) -> str | None:
        return self.members.get(user_id) if user_id is not None else None

    def require_member(self, user_id: UUID) -> str:
        role = self.members.get(user_id)
        if role is None:
            raise NotFoundError(f"User {user_id} is not a member of {self.name}.")
        return role

    def add_member(self, ctx: CommandContext, user_id: UUID, role: str) -> None:
        check_role(role)
        if user_id in self.members:
            raise DuplicateError(f"That person is already a member of {self.name}.")
        self._record(self.MemberAdded, ctx, user_id=user_id, role=role)

    def change_role(self, ctx: CommandContext, user_id: UUID, role: str) -> None:
        check_role(role)
        current = self.require_member(user_id)
        if current == "owner" and role != "owner":
            self._refuse_losing_last_owner(user_id)
        self._record(self.MemberRoleChanged, ctx, user_id=user_id, role=role)

    def remove_member(self, ctx: CommandContext, user_id: UUID) -> None:
        if self.require_member(user_id) == "owner":
            self._refuse_losing_last_owner(user_id)
        self._record(self.MemberRemoved, ctx, user_id=user_id)

    def _refuse_losing_last_owner(self, user_id: UUID) -> None:
        owners = [uid for uid, r in self.members.items() if r == "owner" and uid != user_id]
        if not owners:
            raise ConflictError(f"{self.name} would have no owner left; make someone else an owner first.")
