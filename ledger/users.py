"""People who log in: a user may belong to several organizations.

Invariant: an email belongs to one user, enforced by `EmailIndex`, whose id is
derived from the email and which is saved in the same append as the user.

Two-factor login: the ledger keeps the TOTP secret only as ciphertext (the API
holds the key) and recovery codes only as SHA-256 hashes; each code works once.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from ledger.base import CommandContext, LedgerAggregate
from ledger.errors import ConflictError, InvalidInputError
from ledger.ids import email_index_id
from ledger.organization import check_name

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
RECOVERY_CODE_COUNT = 10
MAX_SECRET_CIPHERTEXT = 1000


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower() if isinstance(email, str) else ""
    if not _EMAIL.match(cleaned) or len(cleaned) > 254 or _CONTROL.search(cleaned):
        raise InvalidInputError(f"{email!r} is not an email address.", field="email")
    return cleaned


def check_code_hash(code_hash: str, field: str = "code_hash") -> str:
    if not isinstance(code_hash, str) or not _SHA256_HEX.match(code_hash):
        raise InvalidInputError("A recovery code hash is 64 lower-case hex digits (SHA-256).", field=field)
    return code_hash


class User(LedgerAggregate):
    """A person with a login.

    Invariants: two-factor login is either on (with a secret) or off; a recovery
    code is spent at most once; codes are known only by their hashes.
    """

    if TYPE_CHECKING:
        email: str
        display_name: str
        password_hash: str | None
        # Ciphertext of the TOTP secret while two-factor login is on, else None.
        two_factor_secret: str | None
        # Hashes of the recovery codes not yet used.
        recovery_code_hashes: tuple[str, ...]

    class Registered(LedgerAggregate.Created):
        email: str
        display_name: str
        password_hash: str | None

        def apply(self, user: User) -> None:
            user.email = self.email
            user.display_name = self.display_name
            user.password_hash = self.password_hash
            user.two_factor_secret = None
            user.recovery_code_hashes = ()

    class Renamed(LedgerAggregate.Event):
        display_name: str

        def apply(self, user: User) -> None:
            user.display_name = self.display_name

    class PasswordChanged(LedgerAggregate.Event):
        password_hash: str

        def apply(self, user: User) -> None:
            user.password_hash = self.password_hash

    class TwoFactorEnabled(LedgerAggregate.Event):
        secret_ciphertext: str
        recovery_code_hashes: tuple[str, ...]

        def apply(self, user: User) -> None:
            user.two_factor_secret = self.secret_ciphertext
            user.recovery_code_hashes = tuple(self.recovery_code_hashes)

    class TwoFactorDisabled(LedgerAggregate.Event):
        def apply(self, user: User) -> None:
            user.two_factor_secret = None
            user.recovery_code_hashes = ()

    class RecoveryCodeUsed(LedgerAggregate.Event):
        code_hash: str

        def apply(self, user: User) -> None:
            user.recovery_code_hashes = tuple(h for h in user.recovery_code_hashes if h != self.code_hash)

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

    @property
    def two_factor_enabled(self) -> bool:
        return self.two_factor_secret is not None

    def enable_two_factor(
        self, ctx: CommandContext, secret_ciphertext: str, recovery_code_hashes: tuple[str, ...]
    ) -> None:
        if self.two_factor_enabled:
            raise ConflictError("Two-factor login is already on; turn it off before setting it up again.")
        if (
            not isinstance(secret_ciphertext, str)
            or not secret_ciphertext.strip()
            or len(secret_ciphertext) > MAX_SECRET_CIPHERTEXT
        ):
            raise InvalidInputError(
                f"The encrypted secret is 1 to {MAX_SECRET_CIPHERTEXT} characters.", field="secret_ciphertext"
            )
        hashes = tuple(check_code_hash(h, "recovery_code_hashes") for h in recovery_code_hashes)
        if len(set(hashes)) != RECOVERY_CODE_COUNT:
            raise InvalidInputError(
                f"Two-factor login needs {RECOVERY_CODE_COUNT} different recovery codes.",
                field="recovery_code_hashes",
            )
        self._record(
            self.TwoFactorEnabled, ctx, secret_ciphertext=secret_ciphertext, recovery_code_hashes=hashes
        )

    def disable_two_factor(self, ctx: CommandContext) -> None:
        if not self.two_factor_enabled:
            raise ConflictError("Two-factor login is already off.")
        self._record(self.TwoFactorDisabled, ctx)

    def use_recovery_code(self, ctx: CommandContext, code_hash: str) -> None:
        check_code_hash(code_hash)
        if not self.two_factor_enabled:
            raise ConflictError("Two-factor login is off, so there are no recovery codes to use.")
        if code_hash not in self.recovery_code_hashes:
            raise ConflictError("That recovery code is unknown or was already used.")
        self._record(self.RecoveryCodeUsed, ctx, code_hash=code_hash)


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
