"""Who is calling: an API token (`Authorization: Bearer …` or `X-API-Key`), else a session cookie.

A token carries its own scopes. A session (the signed `tl_session` cookie, see
`api/sessions.py`) gets the scopes of the member's role, read from the ledger on
every request, so a role change or a removal takes effect at once. A
cookie-authenticated POST, PUT, PATCH or DELETE must echo the session's CSRF
token in `X-CSRF-Token`; token requests need none (a browser never adds them on
its own). A session still waiting for two-factor enrolment reaches only the
enrolment routes (`authenticate_enrolling`).
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from api.problems import ApiProblem
from api.sessions import COOKIE_NAME, CSRF_HEADER, ROLE_SCOPES, SessionData, codec_of
from api.token_usage import touch
from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.errors import NotFoundError
from ledger.organization import MANAGER_ROLES

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer tl_…`")
api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API token, as a header")
session_cookie = APIKeyCookie(
    name=COOKIE_NAME,
    auto_error=False,
    description="A browser session from `POST /api/v1/session`; writes also need `X-CSRF-Token`",
)
DEVICE_HEADER = "X-Device-Id"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """An authenticated caller, acting inside one organization."""

    user_id: UUID
    org_id: UUID
    token_id: UUID | None  # None when a session cookie authenticated the request
    scopes: tuple[str, ...]
    device_id: str | None
    role: str  # the member's role, read once when the request was authenticated
    session: SessionData | None = None

    @property
    def actor(self) -> Actor:
        if self.token_id is None:
            # A person's session: the ledger checks their membership, and the actor is held to
            # the session's organization, whose role gave the session its scopes.
            return Actor("user", self.user_id, device_id=self.device_id, org_id=self.org_id)
        return Actor.token(self.user_id, self.token_id, self.org_id, device_id=self.device_id)

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def ledger_of(request: HTTPConnection) -> TimeLedger:
    ledger: TimeLedger = request.app.state.ledger
    return ledger


def _authenticate(request: Request, token_text: str | None, *, enrolling: bool) -> Principal:
    device = request.headers.get(DEVICE_HEADER)
    device_id = device[:100] if device else None
    if token_text:
        principal = _token_principal(request, token_text, device_id)
    else:
        session = codec_of(request).read(request)
        if session is None:
            raise ApiProblem(
                401,
                "not-authenticated",
                "Send an API token as 'Authorization: Bearer <token>' or 'X-API-Key: <token>', "
                "or log in with POST /api/v1/session.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = _session_principal(request, session, device_id, enrolling=enrolling)
    _limit(request, principal.token_id or principal.user_id)
    return principal


def _token_principal(request: HTTPConnection, text: str, device_id: str | None) -> Principal:
    found = ledger_of(request).authenticate_token(text)
    if found is None:
        raise ApiProblem(
            401,
            "invalid-token",
            "The API token is unknown, revoked or expired.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    ledger = ledger_of(request)
    try:
        role = ledger.get_organization(found.org_id, Actor.user(found.user_id)).role_of(found.user_id)
    except NotFoundError:
        role = None
    if role is None:
        raise ApiProblem(401, "invalid-token", "The token's member is no longer in the organization.")
    touch(request.app.state.read_side.engine, found.token_id, ledger.clock.now())
    return Principal(
        found.user_id, found.org_id, found.token_id, scopes_within_role(found.scopes, role), device_id, role
    )


def scopes_within_role(scopes: tuple[str, ...], role: str) -> tuple[str, ...]:
    """What a token may do now: its scopes, cut down to what its member's current role grants.

    A token issued to an admin who was later made a member keeps working, as a member's token.
    """
    granted = ROLE_SCOPES[role]
    if "admin" in granted:
        return scopes
    wanted = granted if "admin" in scopes else scopes
    return tuple(s for s in wanted if s in granted)


def _session_principal(
    request: Request, session: SessionData, device_id: str | None, *, enrolling: bool
) -> Principal:
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode("utf-8"), session.csrf.encode("utf-8")):
            raise ApiProblem(
                403,
                "csrf-failed",
                f"A request authenticated by the session cookie must send the session's CSRF token "
                f"in {CSRF_HEADER}.",
            )
    role = _session_role(ledger_of(request), session)
    if not session.complete and not enrolling:
        raise ApiProblem(
            403,
            "two-factor-enrolment-required",
            "Your organization requires two-factor login for owners and admins: set it up with "
            "POST /api/v1/session/two-factor/secret and POST /api/v1/session/two-factor first.",
        )
    return Principal(session.user, session.org, None, ROLE_SCOPES[role], device_id, role, session)


def _session_role(ledger: TimeLedger, session: SessionData) -> str:
    """The member's role now (not at login), so a change or removal counts from the next request."""
    try:
        role = ledger.get_organization(session.org, Actor.user(session.user)).role_of(session.user)
    except NotFoundError:
        role = None
    if role is None:
        raise ApiProblem(
            401, "invalid-session", "You are no longer a member of this organization; log in again."
        )
    return role


def _limit(request: Request, key: UUID) -> None:
    limiter = request.app.state.rate_limiter
    if limiter is None:
        return
    wait = limiter.take(key)
    if wait > 0:
        raise ApiProblem(
            429,
            "rate-limited",
            f"Too many requests with this credential; try again in {math.ceil(wait)} s.",
            headers={"Retry-After": str(math.ceil(wait))},
        )


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    key: Annotated[str | None, Depends(api_key)],
    _cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal:
    """The caller, by API token or else by session cookie (complete sessions only)."""
    return _authenticate(request, credentials.credentials if credentials else key, enrolling=False)


def authenticate_enrolling(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    key: Annotated[str | None, Depends(api_key)],
    _cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal:
    """Like `authenticate`, but also lets in a session that still has to enrol in two-factor login."""
    return _authenticate(request, credentials.credentials if credentials else key, enrolling=True)


def require(scope: str) -> Callable[..., Principal]:
    """A dependency that authenticates and insists on one scope (`admin` holds every scope)."""

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.has(scope):
            who = "This token lacks" if principal.token_id else "Your role does not grant"
            raise ApiProblem(403, "missing-scope", f"{who} the scope {scope!r}.", required_scope=scope)
        return principal

    check.__name__ = f"require_{scope.replace(':', '_')}"
    # Read by the OpenAPI hook (api/openapi.py) and the scope tests generated from the spec.
    check.required_scope = scope  # type: ignore[attr-defined]
    return check


def sees_everyone(principal: Principal) -> bool:
    """Managers and above see every member's time; members see their own."""
    return principal.role in MANAGER_ROLES


def authenticate_socket(websocket: HTTPConnection) -> Principal:
    """Who opened a WebSocket: a token (header, or `token` in the query for browsers), or a
    session cookie from a page of this same site (the Origin must match: browsers send cookies
    on cross-site socket requests, and sockets have no CSRF header)."""
    header = websocket.headers.get("authorization", "")
    text = header[7:].strip() if header.lower().startswith("bearer ") else None
    text = text or websocket.headers.get("x-api-key") or websocket.query_params.get("token")
    device = websocket.headers.get(DEVICE_HEADER)
    device_id = device[:100] if device else None
    if text:
        return _token_principal(websocket, text, device_id)
    session = codec_of(websocket).read(websocket)
    if session is None:
        raise ApiProblem(
            401, "not-authenticated", "Send an API token, or open the stream from a logged-in page."
        )
    origin = websocket.headers.get("origin")
    if origin is None or origin.split("://", 1)[-1] != websocket.headers.get("host"):
        raise ApiProblem(403, "bad-origin", "A session may open the stream from this site's own pages only.")
    if not session.complete:
        raise ApiProblem(403, "two-factor-enrolment-required", "Set up two-factor login first.")
    role = _session_role(ledger_of(websocket), session)
    return Principal(session.user, session.org, None, ROLE_SCOPES[role], device_id, role, session)
