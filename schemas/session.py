"""Browser sessions: password login, the session's own view, and two-factor (TOTP) enrolment."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from schemas.common import Strict


class Login(Strict):
    """Log in with email and password; with two-factor login on, add a TOTP or recovery code."""

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    totp_code: str | None = Field(default=None, max_length=20, description="The 6 digits of the app")
    recovery_code: str | None = Field(default=None, max_length=64, description="One unused recovery code")
    org_id: UUID | None = Field(
        default=None, description="The organization to act in; default: the first one you joined"
    )


class SessionOrganization(BaseModel):
    id: UUID
    role: str = Field(description="owner, admin, manager or member")


class Session(BaseModel):
    """The logged-in person, the organization they act in, and the CSRF token for writes."""

    user_id: UUID
    org_id: UUID
    role: str = Field(description="owner, admin, manager or member")
    csrf_token: str = Field(description="Send as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE")
    organizations: list[SessionOrganization]
    two_factor_enabled: bool
    two_factor_enrolment_required: bool = Field(
        description="True while the organization requires two-factor login of owners and admins and "
        "you have not set it up: until then only the two-factor routes answer."
    )


class TwoFactorSecret(BaseModel):
    """A fresh TOTP secret, not stored until confirmed with a code."""

    secret: str = Field(description="Base32; type it into an authenticator app, or use the URI")
    otpauth_uri: str = Field(description="`otpauth://totp/…`, for a QR code")


class EnableTwoFactor(Strict):
    secret: str = Field(pattern=r"^[A-Z2-7]{16,128}$", description="The secret from /two-factor/secret")
    code: str = Field(max_length=20, description="The app's current 6-digit code for that secret")


class RecoveryCodes(BaseModel):
    """Each code logs in once instead of a TOTP code; they are shown only in this answer."""

    recovery_codes: list[str]


class DisableTwoFactor(Strict):
    code: str = Field(max_length=20, description="The app's current 6-digit code")
