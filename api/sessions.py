"""Browser sessions: a signed cookie naming the user, their organization and a CSRF token.

The cookie is signed (itsdangerous) with the server's secret key and expires
after `MAX_AGE`; it holds no secret of the user's. Cookie-authenticated
requests that change something must echo the CSRF token in `X-CSRF-Token`
(double submit), so another site cannot make a logged-in browser write.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass
from uuid import UUID

from fastapi import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Engine, select
from starlette.requests import HTTPConnection

from projections.catalog import CatalogProjection
from projections.registry import live_tables

COOKIE_NAME = "tl_session"
CSRF_HEADER = "X-CSRF-Token"
MAX_AGE = 12 * 3600

# What a session may do follows from the member's role (tokens carry explicit scopes).
ROLE_SCOPES = {
    "owner": ("admin",),
    "admin": ("admin",),
    "manager": (
        "read:entries",
        "write:entries",
        "read:reports",
        "read:catalog",
        "write:catalog",
        "approve:timesheets",
    ),
    "member": ("read:entries", "write:entries", "read:reports", "read:catalog"),
}


@dataclass(frozen=True)
class SessionData:
    user_id: str
    org_id: str
    csrf: str
    issued_at: int
    # False while an admin who must use two-factor login has not enrolled yet.
    complete: bool = True

    @property
    def user(self) -> UUID:
        return UUID(self.user_id)

    @property
    def org(self) -> UUID:
        return UUID(self.org_id)


class SessionCodec:
    def __init__(self, secret_key: str, secure: bool) -> None:
        self._secret_key = secret_key
        self._serializer = URLSafeTimedSerializer(secret_key, salt="timeledger-session")
        self.secure = secure

    @property
    def secret_key(self) -> str:
        return self._secret_key

    def serializer(self, salt: str) -> URLSafeTimedSerializer:
        """A signer with the same key for another purpose; the salt keeps the two apart."""
        return URLSafeTimedSerializer(self._secret_key, salt=salt)

    def new(self, user_id: UUID, org_id: UUID, complete: bool = True) -> SessionData:
        return SessionData(str(user_id), str(org_id), secrets.token_urlsafe(24), int(time.time()), complete)

    def write(self, response: Response, session: SessionData) -> None:
        response.set_cookie(
            COOKIE_NAME,
            self._serializer.dumps(asdict(session)),
            max_age=MAX_AGE,
            httponly=True,
            secure=self.secure,
            samesite="lax",
            path="/",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE_NAME, path="/", secure=self.secure, httponly=True, samesite="lax")

    def read(self, request: HTTPConnection) -> SessionData | None:
        text = request.cookies.get(COOKIE_NAME)
        if not text:
            return None
        try:
            data = self._serializer.loads(text, max_age=MAX_AGE)
            return SessionData(**data)
        except (BadSignature, TypeError, ValueError):
            return None


def codec_of(request: HTTPConnection) -> SessionCodec:
    codec: SessionCodec = request.app.state.sessions
    return codec


def organizations_of(engine: Engine, user_id: UUID) -> list[tuple[UUID, str]]:
    """The organizations a user belongs to, with their role, oldest membership first."""
    with engine.connect() as conn:
        members = live_tables(conn, CatalogProjection)["members"]
        rows = conn.execute(
            select(members.c.org_id, members.c.role)
            .where(members.c.user_id == user_id)
            .order_by(members.c.joined_at, members.c.org_id)
        ).all()
    return [(row.org_id, row.role) for row in rows]
