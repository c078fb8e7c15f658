"""Password login into a browser session, logout, and two-factor (TOTP) enrolment: `/session/*`.

`POST /session` checks email and password (and, when the user has two-factor
login on, a TOTP code or an unused recovery code), then sets the signed
`tl_session` cookie; the answer carries the CSRF token that cookie-authenticated
writes must echo in `X-CSRF-Token`. Failed logins are throttled per email and
per client address (`api/throttle.py`). When the organization requires
two-factor login of owners and admins and the person has none, the session is
incomplete: only the enrolment routes answer until they enrol, which makes the
session complete. No API route exchanges a password for an API token, so no
password path goes around two-factor login: tokens are issued only to callers
already authenticated (`/tokens`), and OpenID Connect logins (`api/routes/oidc.py`)
leave second factors to the identity provider.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from api.auth import Principal, authenticate, authenticate_enrolling, ledger_of
from api.commands import IdempotencyKey, command_id, read_side, settle
from api.problems import ApiProblem
from api.sessions import SessionData, codec_of, organizations_of
from api.throttle import LoginThrottle, client_address, refuse_if_throttled, throttle_of
from api.totp import (
    box_of,
    clock_of,
    code_matches,
    hash_recovery_code,
    new_recovery_codes,
    new_secret,
    provisioning_uri,
    used_steps_of,
)
from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.errors import ConflictError
from ledger.organization import ADMIN_ROLES, Organization
from ledger.users import User
from schemas.session import (
    DisableTwoFactor,
    EnableTwoFactor,
    Login,
    RecoveryCodes,
    Session,
    SessionOrganization,
    TwoFactorSecret,
)

router = APIRouter(tags=["session"])
Ledger = Annotated[TimeLedger, Depends(ledger_of)]
Caller = Annotated[Principal, Depends(authenticate)]
Enrolling = Annotated[Principal, Depends(authenticate_enrolling)]
Throttle = Annotated[LoginThrottle, Depends(throttle_of)]

INVALID_CREDENTIALS = "The email or the password is wrong."


def _failed(throttle: LoginThrottle, email: str, address: str | None, code: str, detail: str) -> ApiProblem:
    throttle.failed(email, address)
    return ApiProblem(401, code, detail)


def _check_second_factor(request: Request, ledger: TimeLedger, user: User, body: Login) -> None:
    """A user with two-factor login on must add a current TOTP code or an unused recovery code."""
    if not user.two_factor_enabled or user.two_factor_secret is None:
        return
    throttle, address = throttle_of(request), client_address(request)
    if body.totp_code:
        secret = box_of(request).open(user.two_factor_secret)
        if not used_steps_of(request).accept(user.id, secret, body.totp_code, clock_of(request)()):
            raise _failed(throttle, body.email, address, "invalid-two-factor-code", "The code is wrong.")
        return
    if body.recovery_code:
        try:
            ledger.use_recovery_code(
                user_id=user.id, code_hash=hash_recovery_code(body.recovery_code), actor=Actor.user(user.id)
            )
        except ConflictError:
            raise _failed(
                throttle,
                body.email,
                address,
                "invalid-two-factor-code",
                "The recovery code is wrong or used.",
            ) from None
        return
    raise ApiProblem(
        401,
        "two-factor-required",
        "Two-factor login is on for this account: send totp_code (or a recovery_code) as well.",
    )


def _memberships(
    request: Request, ledger: TimeLedger, user_id: UUID, wanted: UUID | None = None
) -> list[tuple[UUID, str]]:
    """The user's organizations (oldest membership first) with their role as the ledger has it now."""
    engine = read_side(request).engine
    found = _confirmed(ledger, user_id, organizations_of(engine, user_id))
    if not found or (wanted is not None and wanted not in dict(found)):
        # Added a moment ago? Let the read models catch up with the log once, then look again.
        read_side(request).wait_for(ledger, ledger.head_position())
        found = _confirmed(ledger, user_id, organizations_of(engine, user_id))
    return found


def _confirmed(ledger: TimeLedger, user_id: UUID, listed: list[tuple[UUID, str]]) -> list[tuple[UUID, str]]:
    # The read model may lag a role change or a removal: the organization aggregate decides.
    confirmed = []
    for org_id, _ in listed:
        org = ledger.aggregate(org_id)
        role = org.role_of(user_id) if isinstance(org, Organization) else None
        if role is not None:
            confirmed.append((org_id, role))
    return confirmed


def _session_out(user: User, session: SessionData, memberships: list[tuple[UUID, str]]) -> Session:
    roles = dict(memberships)
    if session.org not in roles:
        raise ApiProblem(
            401, "invalid-session", "You are no longer a member of this organization; log in again."
        )
    return Session(
        user_id=user.id,
        org_id=session.org,
        role=roles[session.org],
        csrf_token=session.csrf,
        organizations=[SessionOrganization(id=org, role=role) for org, role in memberships],
        two_factor_enabled=user.two_factor_enabled,
        two_factor_enrolment_required=not session.complete,
    )


def _session_only(principal: Principal) -> None:
    # A token (even one limited to reading) could otherwise turn on two-factor login for its
    # person and lock them out of their password login; it takes a logged-in browser.
    if principal.token_id is not None:
        raise ApiProblem(
            403,
            "session-required",
            "Two-factor login is set up and turned off from a logged-in session, not with an API token.",
        )


def _user(ledger: TimeLedger, user_id: UUID) -> User:
    user = ledger.get_user(user_id)
    if user is None:  # a session or token always names a registered user
        raise ApiProblem(401, "invalid-session", "The session's user does not exist; log in again.")
    return user


@router.post(
    "/session",
    response_model=Session,
    summary="Log in with email and password; sets the session cookie",
    responses={
        401: {"description": "invalid-credentials, two-factor-required or invalid-two-factor-code"},
        403: {"description": "The person belongs to no organization (no-organization)"},
        429: {"description": "Too many failed logins (too-many-logins); see Retry-After"},
    },
)
def log_in(body: Login, ledger: Ledger, throttle: Throttle, request: Request, response: Response) -> Session:
    """Wrong email and wrong password answer alike. Acts in `org_id` if you belong to it, else in
    the first organization you joined."""
    address = client_address(request)
    refuse_if_throttled(throttle, body.email, address)
    user_id = ledger.authenticate_password(body.email, body.password)
    if user_id is None:
        raise _failed(throttle, body.email, address, "invalid-credentials", INVALID_CREDENTIALS)
    user = _user(ledger, user_id)
    _check_second_factor(request, ledger, user, body)
    throttle.succeeded(body.email)
    memberships = _memberships(request, ledger, user_id, body.org_id)
    if not memberships:
        raise ApiProblem(403, "no-organization", "You are not a member of any organization.")
    roles = dict(memberships)
    org_id = body.org_id if body.org_id in roles else memberships[0][0]
    org = ledger.get_organization(org_id, Actor.user(user_id))
    enrol = (
        org.settings.require_two_factor_for_admins
        and roles[org_id] in ADMIN_ROLES
        and not user.two_factor_enabled
    )
    codec = codec_of(request)
    session = codec.new(user_id, org_id, complete=not enrol)
    codec.write(response, session)
    return _session_out(user, session, memberships)


@router.get("/session", response_model=Session, summary="The current browser session")
def get_session(principal: Caller, ledger: Ledger, request: Request) -> Session:
    if principal.session is None:
        raise ApiProblem(401, "not-authenticated", "There is no session: log in with POST /api/v1/session.")
    user = _user(ledger, principal.user_id)
    return _session_out(user, principal.session, _memberships(request, ledger, user.id))


@router.delete("/session", status_code=204, response_class=Response, summary="Log out (clears the cookie)")
def log_out(request: Request, response: Response) -> Response:
    codec_of(request).clear(response)
    response.status_code = 204
    return response


@router.post(
    "/session/two-factor/secret",
    response_model=TwoFactorSecret,
    summary="A fresh TOTP secret to set up an authenticator app (not stored yet)",
)
def new_two_factor_secret(principal: Enrolling, ledger: Ledger) -> TwoFactorSecret:
    _session_only(principal)
    secret = new_secret()
    email = _user(ledger, principal.user_id).email
    return TwoFactorSecret(secret=secret, otpauth_uri=provisioning_uri(secret, email))


@router.post(
    "/session/two-factor",
    response_model=RecoveryCodes,
    status_code=201,
    summary="Turn on two-factor login; answers the recovery codes, this once only",
    responses={
        409: {"description": "Already on, or the Idempotency-Key was used (recovery-codes-shown)"},
        422: {"description": "The code does not match the secret (invalid-two-factor-code)"},
    },
)
def enable_two_factor(
    body: EnableTwoFactor,
    principal: Enrolling,
    ledger: Ledger,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RecoveryCodes:
    """Send the secret from `/session/two-factor/secret` with the app's current code for it. An
    incomplete session becomes complete."""
    _session_only(principal)
    if not code_matches(body.secret, body.code, clock_of(request)()):
        raise ApiProblem(
            422, "invalid-two-factor-code", "The code does not match the secret; check the app.", field="code"
        )
    codes = new_recovery_codes()
    receipt = ledger.enable_two_factor(
        user_id=principal.user_id,
        secret_ciphertext=box_of(request).seal(body.secret),
        recovery_code_hashes=[hash_recovery_code(code) for code in codes],
        actor=principal.actor,
        command_id=command_id(idempotency_key),
    )
    settle(request, response, ledger, receipt)
    if receipt.repeated:
        raise ApiProblem(
            409,
            "recovery-codes-shown",
            "This Idempotency-Key already turned on two-factor login, and its recovery codes are "
            "shown only once. Turn it off and on again if they were lost.",
            headers={"Idempotent-Replayed": "true"},
        )
    if principal.session is not None and not principal.session.complete:
        codec_of(request).write(response, replace(principal.session, complete=True))
    return RecoveryCodes(recovery_codes=codes)


@router.delete(
    "/session/two-factor",
    status_code=204,
    response_class=Response,
    summary="Turn off two-factor login (needs a current code)",
    responses={
        409: {"description": "Two-factor login is off"},
        422: {"description": "The code is wrong (invalid-two-factor-code)"},
        429: {"description": "Too many wrong codes (too-many-logins)"},
    },
)
def disable_two_factor(
    body: DisableTwoFactor,
    principal: Caller,
    ledger: Ledger,
    throttle: Throttle,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Wrong codes count as failed logins of your email, so they cannot be guessed here either."""
    _session_only(principal)
    user = _user(ledger, principal.user_id)
    if user.two_factor_secret is not None:
        refuse_if_throttled(throttle, user.email, client_address(request))
        secret = box_of(request).open(user.two_factor_secret)
        if not used_steps_of(request).accept(user.id, secret, body.code, clock_of(request)()):
            throttle.failed(user.email, client_address(request))
            raise ApiProblem(422, "invalid-two-factor-code", "The code is wrong.", field="code")
    # When it is off already, the ledger refuses with a 409.
    receipt = ledger.disable_two_factor(
        user_id=principal.user_id, actor=principal.actor, command_id=command_id(idempotency_key)
    )
    settle(request, response, ledger, receipt)
    response.status_code = 204
    return response
