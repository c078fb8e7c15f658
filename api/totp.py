"""Two-factor login with TOTP (RFC 6238, via pyotp): secrets, codes, recovery codes, encryption.

The ledger never sees a TOTP secret in clear text: it is encrypted here with
Fernet under a key derived (HKDF-SHA256) from the server's secret key, and the
ciphertext is what `User.TwoFactorEnabled` stores. Recovery codes are stored as
SHA-256 hashes only. Rotating the server's secret key makes stored secrets
unreadable: users then log in with a recovery code and enrol again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Request

from api.problems import ApiProblem
from api.sessions import codec_of
from ledger.users import RECOVERY_CODE_COUNT

ISSUER = "TimeLedger"
# Accept the code of the previous and the next 30-second step too: clocks drift, people type slowly.
VALID_WINDOW = 1
_CODE = re.compile(r"^\d{6}$")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_KDF_INFO = b"timeledger totp secret encryption v1"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The `otpauth://` URI an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def code_matches(secret: str, code: str | None, for_time: float) -> bool:
    """Whether `code` is the secret's TOTP code at `for_time`, give or take one step."""
    cleaned = (code or "").replace(" ", "")
    if not _CODE.match(cleaned):
        return False
    return pyotp.TOTP(secret).verify(cleaned, for_time=for_time, valid_window=VALID_WINDOW)


def matching_step(secret: str, code: str | None, for_time: float) -> int | None:
    """The 30-second step whose code `code` is (now, or one step either side), or None."""
    cleaned = (code or "").replace(" ", "")
    if not _CODE.match(cleaned):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.fromtimestamp(for_time, tz=UTC))
    for step in (now - VALID_WINDOW, now, now + VALID_WINDOW):
        if hmac.compare_digest(totp.generate_otp(step), cleaned):
            return step
    return None


class UsedSteps:
    """The last step each user logged in with: a code (or an older one) then works no more.

    Kept per process: with several API processes a code could be replayed once on
    another process within its 90 seconds (see docs/decisions.md).
    """

    def __init__(self) -> None:
        self._last: dict[object, int] = {}
        self._lock = threading.Lock()

    def accept(self, user_id: object, secret: str, code: str | None, for_time: float) -> bool:
        step = matching_step(secret, code, for_time)
        if step is None:
            return False
        with self._lock:
            if step <= self._last.get(user_id, -1):
                return False
            self._last[user_id] = step
            return True


def used_steps_of(request: Request) -> UsedSteps:
    state = request.app.state
    found: UsedSteps | None = getattr(state, "totp_used_steps", None)
    if found is None:
        found = state.totp_used_steps = UsedSteps()
    return found


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Codes like `k7pq-2mxa-9rtd` (about 59 bits each), shown to the user once."""
    codes: set[str] = set()
    while len(codes) < count:
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        codes.add(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return sorted(codes)


def hash_recovery_code(code: str) -> str:
    """SHA-256 of the code, ignoring case, spaces and dashes (as people retype it)."""
    cleaned = re.sub(r"[\s-]", "", code).lower()
    return hashlib.sha256(cleaned.encode("utf-8")).hexdigest()


class SecretBox:
    """Encrypts and decrypts TOTP secrets with a key derived from the server's secret key."""

    def __init__(self, server_key: str | bytes) -> None:
        material = server_key.encode("utf-8") if isinstance(server_key, str) else server_key
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(material)
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            raise ApiProblem(
                500,
                "two-factor-key-mismatch",
                "The stored two-factor secret cannot be decrypted with this server's secret key; "
                "log in with a recovery code and set up two-factor login again.",
            ) from None


def server_key_of(request: Request) -> str | bytes:
    """The server's secret key (the one session cookies are signed with)."""
    key: str | bytes | None = getattr(request.app.state, "secret_key", None)
    return key or codec_of(request).secret_key


def box_of(request: Request) -> SecretBox:
    return SecretBox(server_key_of(request))


def clock_of(request: Request) -> Callable[[], float]:
    """The time TOTP codes are checked at (tests may set `app.state.totp_clock`)."""
    found: Callable[[], float] = getattr(request.app.state, "totp_clock", time.time)
    return found
