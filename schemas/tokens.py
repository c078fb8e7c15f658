"""API tokens: issuing one (its secret is shown once), listing them, revoking them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from schemas.common import Instant, Strict


class CreateToken(Strict):
    """A new token; it can hold only scopes the calling token holds itself."""

    # No control characters: PostgreSQL text cannot hold NUL.
    name: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="What the token is for, e.g. a device.",
    )
    scopes: list[str] = Field(
        min_length=1,
        description="read:entries, write:entries, read:reports, read:catalog, write:catalog, "
        "approve:timesheets, write:invoices, admin (admin holds every scope).",
    )
    expires_at: Instant | None = Field(default=None, description="When it stops working; never when null.")
    user_id: UUID | None = Field(
        default=None,
        description="The member the token acts for (defaults to you). Naming someone else needs the "
        "admin scope and the owner or admin role.",
    )


class Token(BaseModel):
    """A token as lists show it: never its secret."""

    id: UUID
    name: str
    user_id: UUID
    scopes: list[str]
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None = Field(description="Accurate to about a minute; null if never used.")
    revoked: bool = False


class IssuedToken(Token):
    """A token just issued, with its secret."""

    token: str = Field(
        description="The secret to send as `Authorization: Bearer …`; shown in this response only."
    )
