"""OpenID Connect login: authorization code flow with PKCE (S256) and a nonce, via authlib.

Nothing about a login in progress lives in server memory: `state`, `nonce`,
the PKCE verifier, the redirect URI and where to go afterwards travel in a
short-lived cookie signed with the session key, so any API process can finish
a login another one started. The provider's discovery document and keys are
cached per process (keys are fetched again when a token names an unknown key).
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit
from uuid import UUID

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from fastapi import Request, Response
from httpx2 import Client, HTTPError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import Engine
from starlette.datastructures import QueryParams

from api.problems import ApiProblem
from api.readside import ReadSide
from api.sessions import SessionCodec, organizations_of
from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.organization import Organization

__all__ = [
    "LoginFlow",
    "OidcConfig",
    "begin_login",
    "clear_flow",
    "finish_login",
    "safe_next",
    "write_flow",
]

log = logging.getLogger(__name__)

FLOW_COOKIE = "tl_oidc"
FLOW_PATH = "/api/v1/auth/oidc"
FLOW_MAX_AGE = 600  # seconds a person has to log in at the provider
SCOPE = "openid email profile"
HTTP_TIMEOUT = 10.0
METADATA_TTL = 3600.0
LEEWAY = 60  # seconds of clock difference tolerated on exp/iat
# Signatures with the provider's published keys only: no "none", no HMAC.
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
DENIED = ("access_denied", "login_required", "consent_required", "interaction_required")
ERROR_CODE = re.compile(r"[a-z_]{1,64}")
LOOPBACK = ("127.0.0.1", "localhost", "::1")

_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks: dict[str, dict[str, Any]] = {}


class OidcConfig(Protocol):
    """What the client needs of `api.app.OidcSettings` (imported structurally: app imports us)."""

    @property
    def issuer(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...
    @property
    def join_org_id(self) -> UUID | None: ...


@dataclass(frozen=True)
class LoginFlow:
    """What the browser carries (signed) from the login redirect to the callback."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    next: str


def safe_next(value: str | None) -> str:
    """`value` when it is a path on this site, else `/` (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//") or len(value) > 2000:
        return "/"
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


# --- the flow cookie -------------------------------------------------------------------


def _serializer(codec: SessionCodec) -> URLSafeTimedSerializer:
    # Same key material as the session cookie, another salt: neither cookie passes as the other.
    return codec.serializer("timeledger-oidc-flow")


def write_flow(response: Response, codec: SessionCodec, flow: LoginFlow) -> None:
    response.set_cookie(
        FLOW_COOKIE,
        _serializer(codec).dumps(asdict(flow)),
        max_age=FLOW_MAX_AGE,
        httponly=True,
        secure=codec.secure,
        samesite="lax",  # sent on the provider's top-level redirect back to us
        path=FLOW_PATH,
    )


def clear_flow(response: Response, codec: SessionCodec) -> None:
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, secure=codec.secure, httponly=True, samesite="lax")


def _clear_flow_header(codec: SessionCodec) -> str:
    scratch = Response()
    clear_flow(scratch, codec)
    return scratch.headers["set-cookie"]


def _read_flow(request: Request, codec: SessionCodec) -> LoginFlow:
    text = request.cookies.get(FLOW_COOKIE)
    if not text:
        raise ApiProblem(
            400,
            "invalid-state",
            "This browser has no login in progress (or it took longer than 10 minutes). "
            "Start the login again.",
        )
    try:
        return LoginFlow(**_serializer(codec).loads(text, max_age=FLOW_MAX_AGE))
    except (BadSignature, TypeError, ValueError):
        raise ApiProblem(
            400, "invalid-state", "The login in progress has expired or was altered. Start it again."
        ) from None


# --- the provider ----------------------------------------------------------------------


def _require_secure(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        raise ApiProblem(
            502,
            "oidc-provider-misconfigured",
            f"The OpenID provider's {what} must use https (plain http is allowed on loopback only).",
        )


def _unavailable(what: str, error: Exception) -> ApiProblem:
    log.warning("OpenID provider: %s failed: %s", what, type(error).__name__)
    return ApiProblem(
        502,
        "oidc-provider-unavailable",
        f"The OpenID provider did not answer the {what} properly; try again later.",
    )


def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        with Client(timeout=HTTP_TIMEOUT) as http:
            response = http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
    except (HTTPError, ValueError) as error:
        raise _unavailable(what, error) from None
    if not isinstance(body, dict):
        raise _unavailable(what, TypeError("not a JSON object"))
    return body


def provider_metadata(issuer: str) -> dict[str, Any]:
    """The provider's discovery document, checked and cached for an hour."""
    cached = _metadata.get(issuer)
    if cached is not None and time.monotonic() - cached[0] < METADATA_TTL:
        return cached[1]
    _require_secure(issuer, "issuer")
    metadata = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery request")
    if str(metadata.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise ApiProblem(
            502,
            "oidc-provider-misconfigured",
            "The OpenID provider's discovery document names another issuer than the configured one.",
        )
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise ApiProblem(
                502, "oidc-provider-misconfigured", f"The OpenID provider's discovery document lacks {key}."
            )
        _require_secure(metadata[key], key)
    _metadata[issuer] = (time.monotonic(), metadata)
    return metadata


def _key_set(metadata: dict[str, Any], refresh: bool = False) -> KeySet:
    uri = metadata["jwks_uri"]
    if refresh or uri not in _jwks:
        _jwks[uri] = _get_json(uri, "request for its signing keys")
    try:
        return KeySet.import_key_set(_jwks[uri])  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError) as error:
        raise _unavailable("request for its signing keys", error) from None


# --- login and callback ----------------------------------------------------------------


def begin_login(settings: OidcConfig, redirect_uri: str, next_path: str | None) -> tuple[str, LoginFlow]:
    """The provider's authorization URL, and the flow to keep in the browser until the callback."""
    metadata = provider_metadata(settings.issuer)
    flow = LoginFlow(
        state=generate_token(32),
        nonce=generate_token(32),
        code_verifier=generate_token(64),
        redirect_uri=redirect_uri,
        next=safe_next(next_path),
    )
    client = OAuth2Client(client_id=settings.client_id, scope=SCOPE, code_challenge_method="S256")
    with client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=flow.state,
            code_verifier=flow.code_verifier,
            nonce=flow.nonce,
            redirect_uri=redirect_uri,
        )
    return url, flow


def _check_callback(flow: LoginFlow, params: QueryParams, issuer: str) -> str:
    """The authorization code, once the callback is shown to answer this browser's login."""
    state = params.get("state") or ""
    if not hmac.compare_digest(state.encode(), flow.state.encode()):
        raise ApiProblem(
            400, "invalid-state", "The login answer does not belong to this browser's login. Start again."
        )
    error = params.get("error")
    if error:
        code = error if ERROR_CODE.fullmatch(error) else "invalid"
        if code in DENIED:
            raise ApiProblem(
                401, "oidc-login-denied", "The OpenID provider did not log you in.", provider_error=code
            )
        raise ApiProblem(
            502, "oidc-provider-error", "The OpenID provider answered with an error.", provider_error=code
        )
    # RFC 9207: a provider that names itself must be the one we sent the person to.
    named = params.get("iss")
    if named is not None and named.rstrip("/") != issuer.rstrip("/"):
        raise ApiProblem(400, "invalid-state", "The login answer comes from another OpenID provider.")
    given = params.get("code")
    if not given:
        raise ApiProblem(400, "invalid-callback", "The login answer carries no authorization code.")
    return given


def _auth_method(metadata: dict[str, Any]) -> str:
    supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return "client_secret_basic" if "client_secret_basic" in supported else "client_secret_post"


def _exchange(settings: OidcConfig, metadata: dict[str, Any], flow: LoginFlow, code: str) -> dict[str, Any]:
    client = OAuth2Client(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        token_endpoint_auth_method=_auth_method(metadata),
        timeout=HTTP_TIMEOUT,
    )
    try:
        with client:
            token = client.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                redirect_uri=flow.redirect_uri,
                code_verifier=flow.code_verifier,
            )
    except OAuthError as error:
        log.warning("OpenID provider refused the code exchange: %s", error.error)
        raise ApiProblem(
            502,
            "oidc-token-exchange-failed",
            "The OpenID provider refused to exchange the login code. Start the login again.",
        ) from None
    except (HTTPError, ValueError) as error:
        raise _unavailable("token request", error) from None
    if not isinstance(token.get("id_token"), str):
        raise ApiProblem(502, "oidc-token-exchange-failed", "The OpenID provider sent no ID token.")
    return dict(token)


def _invalid_token(reason: str) -> ApiProblem:
    log.warning("Rejected an ID token: %s", reason)
    return ApiProblem(
        401, "invalid-id-token", f"The OpenID provider's ID token was rejected ({reason}).", reason=reason
    )


def _decode(metadata: dict[str, Any], id_token: str) -> jwt.Token:
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in offered if a in ASYMMETRIC] or ["RS256"]
    try:
        try:
            return jwt.decode(id_token, _key_set(metadata), algorithms=algorithms)
        except InvalidKeyIdError:  # the provider rotated its keys since we fetched them
            return jwt.decode(id_token, _key_set(metadata, refresh=True), algorithms=algorithms)
    except (JoseError, ValueError):
        raise _invalid_token("bad signature or unknown key") from None


def _claims(
    settings: OidcConfig, metadata: dict[str, Any], token: dict[str, Any], nonce: str
) -> dict[str, Any]:
    """The ID token's claims once signature, iss, aud, exp, iat, nonce and at_hash check out."""
    decoded = _decode(metadata, token["id_token"])
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": settings.client_id},
        },
        {"nonce": nonce, "client_id": settings.client_id, "access_token": token.get("access_token")},
    )
    try:
        claims.validate(leeway=LEEWAY)
    except JoseError as error:
        raise _invalid_token(error.description or error.error) from None
    return dict(claims)


def _email_of(metadata: dict[str, Any], token: dict[str, Any], claims: dict[str, Any]) -> tuple[str, Any]:
    """The email and its verified flag: from the ID token, else from the userinfo endpoint."""
    if claims.get("email") or not metadata.get("userinfo_endpoint") or not token.get("access_token"):
        return str(claims.get("email") or ""), claims.get("email_verified")
    _require_secure(metadata["userinfo_endpoint"], "userinfo_endpoint")
    try:
        with Client(timeout=HTTP_TIMEOUT) as http:
            response = http.get(
                metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}
            )
            response.raise_for_status()
            info = response.json()
    except (HTTPError, ValueError) as error:
        raise _unavailable("userinfo request", error) from None
    if not isinstance(info, dict) or info.get("sub") != claims.get("sub"):
        raise _invalid_token("userinfo names another subject")
    return str(info.get("email") or ""), info.get("email_verified")


def _organizations(ledger: TimeLedger, engine: Engine, user_id: UUID) -> list[UUID]:
    # The read model may lag a removal: the organization aggregate has the last word.
    found = []
    for org_id, _ in organizations_of(engine, user_id):
        org = ledger.aggregate(org_id)
        if isinstance(org, Organization) and org.role_of(user_id) is not None:
            found.append(org_id)
    return found


def _member_for(
    ledger: TimeLedger, read_side: ReadSide, settings: OidcConfig, email: str, claims: dict[str, Any]
) -> tuple[UUID, UUID]:
    """The user with this email and their first organization.

    People no organization invited get in only when the operator named an organization to
    join (`TIMELEDGER_OIDC_JOIN_ORG`): they are created there as members on first login.
    """
    user = ledger.user_by_email(email)
    organizations = _organizations(ledger, read_side.engine, user.id) if user is not None else []
    if user is not None and not organizations:
        # Invited a moment ago? Let the read models catch up with the log once, then look again.
        read_side.wait_for(ledger, ledger.head_position())
        organizations = _organizations(ledger, read_side.engine, user.id)
    if organizations and user is not None:
        return user.id, organizations[0]
    if settings.join_org_id is not None:
        return _join(ledger, read_side, settings, email, claims), settings.join_org_id
    raise ApiProblem(
        403,
        "not-a-member",
        "No organization has invited this email address. Ask an admin of your organization "
        "to add it as a member, then log in again.",
    )


def _join(
    ledger: TimeLedger, read_side: ReadSide, settings: OidcConfig, email: str, claims: dict[str, Any]
) -> UUID:
    """Add a person the provider vouches for to the configured organization, as a member."""
    assert settings.join_org_id is not None  # noqa: S101 - checked by the caller
    name = str(claims.get("name") or claims.get("preferred_username") or email.split("@")[0])[:200]
    receipt = ledger.add_member(
        org_id=settings.join_org_id,
        email=email,
        name=name.strip() or email.split("@")[0],
        role="member",
        password=None,
        actor=Actor.system(),
        # One provider subject joins once, however often the callback is replayed or raced.
        command_id=f"oidc-join:{settings.issuer}:{claims.get('sub')}",
    )
    read_side.wait_for(ledger, receipt.position)
    return receipt.id


def _verified_email(email: str, verified: Any) -> str:
    if not email:
        raise ApiProblem(
            403,
            "email-not-verified",
            "The OpenID provider did not share an email address; allow the 'email' scope for TimeLedger.",
        )
    if verified is not True and verified != "true":  # some providers send the string
        raise ApiProblem(
            403,
            "email-not-verified",
            "The OpenID provider has not verified this email address. Verify it there, then log in again.",
        )
    return email


def finish_login(
    request: Request, settings: OidcConfig, ledger: TimeLedger, read_side: ReadSide, codec: SessionCodec
) -> tuple[UUID, UUID, str]:
    """The user the provider logged in, their organization, and where to send them next."""
    flow = _read_flow(request, codec)
    code = _check_callback(flow, request.query_params, settings.issuer)
    try:
        metadata = provider_metadata(settings.issuer)
        token = _exchange(settings, metadata, flow, code)
        claims = _claims(settings, metadata, token, flow.nonce)
        email = _verified_email(*_email_of(metadata, token, claims))
        user_id, org_id = _member_for(ledger, read_side, settings, email, claims)
    except ApiProblem as problem:
        # The code is spent either way: drop this login's cookie so it is not replayed.
        problem.headers.setdefault("set-cookie", _clear_flow_header(codec))
        raise
    return user_id, org_id, safe_next(flow.next)
