"""Who the caller is: the person, the organization the token acts in, the role and the token."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field


class MeUser(BaseModel):
    id: UUID
    email: str
    display_name: str


class MeOrganization(BaseModel):
    id: UUID
    name: str
    timezone: str = Field(description="IANA name; days and weeks are cut in this timezone.")
    currency: str = Field(description="ISO 4217 code of amounts in minor units.")
    week_start: str = Field(description="The first day of a week, e.g. monday.")


class MeToken(BaseModel):
    id: UUID
    name: str
    scopes: list[str]
    expires_at: datetime | None


class Me(BaseModel):
    """The caller as the calling token sees them."""

    user: MeUser
    organization: MeOrganization
    role: str = Field(description="owner, admin, manager or member")
    token: MeToken | None = Field(description="The calling token; null for a browser session.")
