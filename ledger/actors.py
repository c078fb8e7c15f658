"""Who is behind a command: a person, one of their API tokens, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

ACTOR_KINDS = ("user", "token", "system")


@dataclass(frozen=True)
class Actor:
    """The author of a command, recorded on every event it produces."""

    kind: str
    user_id: UUID | None = None
    token_id: UUID | None = None
    device_id: str | None = None
    # A token acts inside one organization only; None for a person's own session.
    org_id: UUID | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(kind="system")

    @classmethod
    def user(cls, user_id: UUID, device_id: str | None = None) -> Actor:
        return cls(kind="user", user_id=user_id, device_id=device_id)

    @classmethod
    def token(cls, user_id: UUID, token_id: UUID, org_id: UUID, device_id: str | None = None) -> Actor:
        return cls(kind="token", user_id=user_id, token_id=token_id, device_id=device_id, org_id=org_id)

    @property
    def label(self) -> str:
        """A short text naming the actor, used to scope command ids."""
        if self.kind == "system":
            return "system"
        return f"user:{self.user_id}"
