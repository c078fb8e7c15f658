"""Who is calling: API tokens from `Authorization: Bearer …` or `X-API-Key`, and their scopes."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.problems import ApiProblem
from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.organization import MANAGER_ROLES

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer tl_…`")
api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API token, as a header")
DEVICE_HEADER = "X-Device-Id"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller, acting inside one organization."""

    user_id: UUID
    org_id: UUID
    token_id: UUID
    scopes: tuple[str, ...]
    device_id: str | None

    @property
    def actor(self) -> Actor:
        return Actor.token(self.user_id, self.token_id, self.org_id, device_id=self.device_id)

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def ledger_of(request: Request) -> TimeLedger:
    ledger: TimeLedger = request.app.state.ledger
    return ledger


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    key: Annotated[str | None, Depends(api_key)],
) -> Principal:
    text = credentials.credentials if credentials is not None else key
    if not text:
        raise ApiProblem(
            401,
            "not-authenticated",
            "Send an API token as 'Authorization: Bearer <token>' or 'X-API-Key: <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    found = ledger_of(request).authenticate_token(text)
    if found is None:
        raise ApiProblem(
            401,
            "invalid-token",
            "The API token is unknown, revoked or expired.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    limiter = request.app.state.rate_limiter
    if limiter is not None:
        wait = limiter.take(found.token_id)
        if wait > 0:
            raise ApiProblem(
                429,
                "rate-limited",
                f"This token made too many requests; try again in {math.ceil(wait)} s.",
                headers={"Retry-After": str(math.ceil(wait))},
            )
    device = request.headers.get(DEVICE_HEADER)
    return Principal(
        found.user_id, found.org_id, found.token_id, found.scopes, device[:100] if device else None
    )


def require(scope: str) -> Callable[..., Principal]:
    """A dependency that authenticates and insists on one scope (`admin` holds every scope)."""

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.has(scope):
            raise ApiProblem(
                403, "missing-scope", f"This token lacks the scope {scope!r}.", required_scope=scope
            )
        return principal

    check.__name__ = f"require_{scope.replace(':', '_')}"
    # Read by the OpenAPI hook (api/openapi.py) and the scope tests generated from the spec.
    check.required_scope = scope  # type: ignore[attr-defined]
    return check


def role_of(ledger: TimeLedger, principal: Principal) -> str:
    org = ledger.get_organization(principal.org_id, principal.actor)
    role = org.role_of(principal.user_id)
    if role is None:  # removed from the organization after the token was issued
        raise ApiProblem(401, "invalid-token", "The token's member is no longer in the organization.")
    return role


def sees_everyone(ledger: TimeLedger, principal: Principal) -> bool:
    """Managers and above see every member's time; members see their own."""
    return role_of(ledger, principal) in MANAGER_ROLES
