"""`/me`: who the caller acts as, in which organization, with which role and token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import Principal, authenticate, ledger_of
from api.routes.tokens import visible_token
from ledger.application import TimeLedger
from ledger.errors import NotFoundError
from schemas.me import Me, MeOrganization, MeToken, MeUser

router = APIRouter(tags=["me"])
Caller = Annotated[Principal, Depends(authenticate)]
Ledger = Annotated[TimeLedger, Depends(ledger_of)]


def _token(ledger: TimeLedger, principal: Principal) -> MeToken | None:
    if principal.token_id is None:  # a browser session
        return None
    token = visible_token(ledger, principal, principal.token_id)
    return MeToken(id=token.id, name=token.name, scopes=list(principal.scopes), expires_at=token.expires_at)


@router.get("/me", response_model=Me, summary="The caller: person, organization, role and token")
def me(principal: Caller, ledger: Ledger) -> Me:
    """Needs no scope. The organization is the one the token (or session) acts in; `token` is null
    for a browser session."""
    org = ledger.get_organization(principal.org_id, principal.actor)
    user = ledger.get_user(principal.user_id)
    if user is None:
        raise NotFoundError(f"There is no user with id {principal.user_id}.")
    settings = org.settings
    return Me(
        user=MeUser(id=user.id, email=user.email, display_name=user.display_name),
        organization=MeOrganization(
            id=org.id,
            name=org.name,
            timezone=settings.timezone,
            currency=settings.currency,
            week_start=settings.week_start,
        ),
        role=principal.role,
        token=_token(ledger, principal),
    )
