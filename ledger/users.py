"""People who log in: a user may belong to several organizations.

Invariant: an email belongs to one user, enforced by `EmailIndex`, whose id is
derived from the email and which is saved in the same append as the user.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from ledger.base import CommandContext, LedgerAggregate
from ledger.errors import InvalidInputError
from ledger.ids import email_index_id
from ledger.organization import check_name

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower() if isinstance(email, str) else ""
    if not _EMAIL.match(cleaned) or len(cleaned) > 254:
        raise InvalidInputError(f"{email!r} is not an email address.", field="email")
    return cleaned


class User(LedgerAggregate):
    """A person with a login."""

    if TYPE_CHECKING:
        email: str
        display_name: str
        password_hash: str | None

    class Registered(LedgerAggregate.Created):
        email: str
        display_name: str
        password_hash: str | None

        def apply(self, user: User) -> None:
            user.email = self.email
            user.display_name = self.display_name
            user.password_hash = self.password_hash

    class Renamed(LedgerAggregate.Event):
        display_name: str

        def apply(self, user: User) -> None:
            user.display_name = self.display_name

    class PasswordChanged(LedgerAggregate.Event):
        password_hash: str

        def apply(self, user: User) -> None:
            user.password_hash = self.password_hash

    @classmethod
    def register(cls, ctx: CommandContext, email: str, display_name: str, password_hash: str | None) -> User:
        return cls._start(
            cls.Registered,
            ctx,
            id=uuid4(),
            email=normalise_email(email),
            display_name=check_name(display_name, "person"),
            password_hash=password_hash,
        )

    def rename(self, ctx: CommandContext, display_name: str) -> None:
        self._record(self.Renamed, ctx, display_name=check_name(display_name, "person"))

    def change_password(self, ctx: CommandContext, password_hash: str) -> None:
        self._record(self.PasswordChanged, ctx, password_hash=password_hash)


class EmailIndex(LedgerAggregate):
    """Points an email at its user; exists once per email."""

    if TYPE_CHECKING:
        user_id: UUID

    class Claimed(LedgerAggregate.Created):
        user_id: UUID

        def apply(self, index: EmailIndex) -> None:
            index.user_id = self.user_id

    @classmethod
    def claim(cls, ctx: CommandContext, email: str, user_id: UUID) -> EmailIndex:
        return cls._start(cls.Claimed, ctx, id=email_index_id(email), user_id=user_id)
