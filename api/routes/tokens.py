"""API tokens: `/tokens`. Issue (the secret is shown once), list, read and revoke.

Managing your own tokens needs any valid token and no extra scope; a token
never grants scopes it does not hold. Other members' tokens are visible and
revocable only with the `admin` scope and the owner or admin role; to everyone
else they do not exist (404).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth import Principal, authenticate, ledger_of
from api.commands import IdempotencyKey, command_id, read_side, settle
from api.problems import ApiProblem
from api.token_usage import TokenRow, last_used, list_tokens
from ledger.application import TimeLedger
from ledger.errors import NotFoundError
from ledger.organization import ADMIN_ROLES
from ledger.tokens import ApiToken, check_scopes
from schemas.common import Page
from schemas.tokens import CreateToken, IssuedToken, Token

router = APIRouter(tags=["tokens"])
Caller = Annotated[Principal, Depends(authenticate)]
Ledger = Annotated[TimeLedger, Depends(ledger_of)]


def token_out(row: TokenRow) -> Token:
    return Token(
        id=row.id,
        name=row.name,
        user_id=row.user_id,
        scopes=list(row.scopes),
        expires_at=row.expires_at,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked=row.revoked,
    )


def manages_all(ledger: TimeLedger, principal: Principal) -> bool:
    """Whether the caller sees and revokes every token of the organization, not just their own."""
    return principal.has("admin") and principal.role in ADMIN_ROLES


def check_grant(ledger: TimeLedger, principal: Principal, body: CreateToken) -> None:
    """Refuse a token with more power than the calling token, or one for someone else without admin."""
    wanted = check_scopes(body.scopes)
    if body.expires_at is not None and body.expires_at <= ledger.clock.now():
        raise ApiProblem(422, "invalid-input", "expires_at lies in the past.", field="expires_at")
    beyond = [scope for scope in wanted if not principal.has(scope)]
    if beyond:
        raise ApiProblem(
            403,
            "scope-escalation",
            f"A token can grant only scopes it holds; this one lacks {', '.join(beyond)}.",
            field="scopes",
            scopes=beyond,
        )
    if body.user_id not in (None, principal.user_id) and not principal.has("admin"):
        raise ApiProblem(
            403,
            "missing-scope",
            "Issuing a token for another member needs the 'admin' scope.",
            required_scope="admin",
        )


def visible_token(ledger: TimeLedger, principal: Principal, token_id: UUID) -> ApiToken:
    """The token, if the caller may see it (from the write model, so fresh after a command)."""
    token = ledger.aggregate(token_id)
    if (
        not isinstance(token, ApiToken)
        or token.org_id != principal.org_id
        or (token.user_id != principal.user_id and not manages_all(ledger, principal))
    ):
        raise NotFoundError(f"There is no token with id {token_id}.")
    return token


@router.post(
    "/tokens",
    response_model=IssuedToken,
    status_code=201,
    summary="Issue a token; its secret is in this response only",
    responses={
        403: {"description": "Scopes beyond the calling token's (scope-escalation), or a role too low"},
        409: {"description": "Idempotency-Key repeated: the secret was shown once (token-secret-shown)"},
    },
)
def create_token(
    body: CreateToken,
    principal: Caller,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> IssuedToken:
    """The same `Idempotency-Key` again mints nothing and answers 409 with the token's id (revoke it
    and issue a new one if the first answer was lost): the log keeps only the secret's hash."""
    check_grant(ledger, principal, body)
    receipt = ledger.issue_token(
        org_id=principal.org_id,
        name=body.name,
        scopes=body.scopes,
        user_id=body.user_id,
        expires_at=body.expires_at,
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    settle(request, response, ledger, receipt)
    if receipt.secret is None:
        raise ApiProblem(
            409,
            "token-secret-shown",
            "This Idempotency-Key already issued a token, and its secret is shown only once. "
            "Revoke that token and issue a new one if the secret was lost.",
            headers={"Idempotent-Replayed": "true"},
            token_id=str(receipt.id),
        )
    token = visible_token(ledger, principal, receipt.id)
    return IssuedToken(token=receipt.secret, **token_out(TokenRow.of(token, None)).model_dump())


@router.get("/tokens", response_model=Page[Token], summary="List tokens (never their secrets), newest first")
def list_all(
    principal: Caller,
    ledger: Ledger,
    request: Request,
    include_revoked: bool = False,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[Token]:
    """Your own tokens; with the `admin` scope and the owner or admin role, everyone's."""
    user = None if manages_all(ledger, principal) else principal.user_id
    try:
        page = list_tokens(read_side(request).engine, principal.org_id, user, include_revoked, cursor, limit)
    except ValueError as error:
        raise ApiProblem(400, "invalid-cursor", str(error), field="cursor") from None
    return Page[Token](items=[token_out(row) for row in page.items], next_cursor=page.next_cursor)


@router.get("/tokens/{token_id}", response_model=Token, summary="One token (never its secret)")
def get_token(token_id: UUID, principal: Caller, ledger: Ledger, request: Request) -> Token:
    token = visible_token(ledger, principal, token_id)
    used = last_used(read_side(request).engine, [token.id]).get(token.id)
    return token_out(TokenRow.of(token, used))


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke a token; it answers 401 from then on",
)
def revoke_token(
    token_id: UUID,
    principal: Caller,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Revoking an already revoked token is a 409 (unless it repeats the same Idempotency-Key)."""
    visible_token(ledger, principal, token_id)
    receipt = ledger.revoke_token(
        token_id=token_id, actor=principal.actor, command_id=command_id(idempotency_key)
    )
    settle(request, response, ledger, receipt)
    response.status_code = 204
    return response
