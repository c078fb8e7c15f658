"""API tokens: a secret shown once, stored as a hash, with scopes and an optional expiry."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from ledger.base import CommandContext, LedgerAggregate
from ledger.errors import ConflictError, InvalidInputError
from ledger.organization import check_name

SCOPES = (
    "read:entries",
    "write:entries",
    "read:reports",
    "read:catalog",
    "write:catalog",
    "approve:timesheets",
    "write:invoices",
    "admin",
)
TOKEN_PREFIX = "tl"  # noqa: S105 - a fixed marker, not a secret


def hash_secret(secret: str) -> str:
    # The secret is 256 random bits, so a fast hash is enough; a slow KDF buys nothing here.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_token_text(token_id: UUID) -> tuple[str, str]:
    """Return (the token as given to its holder, the secret part)."""
    secret = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}_{token_id.hex}_{secret}", secret


def parse_token_text(text: str) -> tuple[UUID, str] | None:
    parts = text.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    try:
        return UUID(hex=parts[1]), parts[2]
    except ValueError:
        return None


def check_scopes(scopes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    if isinstance(scopes, str) or not all(isinstance(s, str) for s in scopes):
        raise InvalidInputError("Scopes are a list of scope names.", field="scopes")
    cleaned = tuple(dict.fromkeys(scopes))
    unknown = [s for s in cleaned if s not in SCOPES]
    if unknown:
        raise InvalidInputError(
            f"Unknown scope {unknown[0]!r}; scopes are {', '.join(SCOPES)}.", field="scopes"
        )
    if not cleaned:
        raise InvalidInputError("A token needs at least one scope.", field="scopes")
    return cleaned


class ApiToken(LedgerAggregate):
    """A credential for scripts and devices, acting as one member of one organization."""

    if TYPE_CHECKING:
        org_id: UUID
        user_id: UUID
        name: str
        scopes: tuple[str, ...]
        secret_hash: str
        expires_at: datetime | None
        revoked: bool

    class Issued(LedgerAggregate.Created):
        org_id: UUID
        user_id: UUID
        name: str
        scopes: tuple[str, ...]
        secret_hash: str
        expires_at: datetime | None

        def apply(self, token: ApiToken) -> None:
            token.org_id = self.org_id
            token.user_id = self.user_id
            token.name = self.name
            token.scopes = tuple(self.scopes)
            token.secret_hash = self.secret_hash
            token.expires_at = self.expires_at
            token.revoked = False

    class Revoked(LedgerAggregate.Event):
        def apply(self, token: ApiToken) -> None:
            token.revoked = True

    @classmethod
    def issue(
        cls,
        ctx: CommandContext,
        *,
        org_id: UUID,
        user_id: UUID,
        name: str,
        scopes: tuple[str, ...],
        expires_at: datetime | None,
    ) -> tuple[ApiToken, str]:
        token_id = uuid4()
        text, secret = new_token_text(token_id)
        token = cls._start(
            cls.Issued,
            ctx,
            id=token_id,
            org_id=org_id,
            user_id=user_id,
            name=check_name(name, "token") if name else "token",
            scopes=check_scopes(scopes),
            secret_hash=hash_secret(secret),
            expires_at=expires_at,
        )
        return token, text

    def matches(self, secret: str, now: datetime) -> bool:
        if self.revoked or (self.expires_at is not None and self.expires_at <= now):
            return False
        return hmac.compare_digest(self.secret_hash, hash_secret(secret))

    def revoke(self, ctx: CommandContext) -> None:
        if self.revoked:
            raise ConflictError("This token is already revoked.")
        self._record(self.Revoked, ctx)
