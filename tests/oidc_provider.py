"""A small OpenID provider on 127.0.0.1 for tests: discovery, keys, authorize, token, userinfo.

It logs in `provider.email` without asking, checks what a real provider
checks (client, redirect URI, one-time codes, PKCE S256, client secret) and
signs RS256 ID tokens with joserfc (authlib's JOSE library; `authlib.jose`
is deprecated in authlib 1.9 and warns on import). Switches on the instance
make it misbehave the ways the tests need.
"""

from __future__ import annotations

import base64
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

KEY_ID = "test-key-1"


@dataclass
class Grant:
    """An authorization code waiting to be exchanged."""

    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str
    email: str
    email_verified: bool


@dataclass
class OidcProvider:
    """Configuration and state of the provider; tests change the switches between logins."""

    client_id: str = "timeledger"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    email: str = "owner@acme.test"
    email_verified: bool = True
    sign_with_wrong_key: bool = False
    deny: bool = False  # answer the authorize request with error=access_denied
    email_in_id_token: bool = True  # False: only the userinfo endpoint tells the email
    claim_changes: dict[str, Any] = field(default_factory=dict)  # e.g. a wrong "aud" or "nonce"
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: _new_key(KEY_ID))
    # Same key id as the published key, so only the signature gives it away.
    wrong_key: RSAKey = field(default_factory=lambda: _new_key(KEY_ID))
    first_key: RSAKey | None = None
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def rotate_key(self, kid: str) -> None:
        """Publish (and sign with) a new key under a new key id, as providers do now and then."""
        self.key = _new_key(kid)

    def reset(self) -> None:
        self.first_key = self.first_key or self.key
        self.key = self.first_key
        self.email, self.email_verified = "owner@acme.test", True
        self.sign_with_wrong_key = self.deny = False
        self.email_in_id_token = True
        self.claim_changes = {}

    # --- endpoints ----------------------------------------------------------------

    def discovery(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "email", "profile"],
            }
        )

    def jwks(self, _request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id or not q.get("redirect_uri"):
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        redirect_uri, state = q["redirect_uri"], q.get("state", "")
        if self.deny:
            return _back(redirect_uri, error="access_denied", state=state)
        if (
            q.get("response_type") != "code"
            or "openid" not in q.get("scope", "").split()
            or q.get("code_challenge_method") != "S256"
            or not q.get("code_challenge")
        ):
            return _back(redirect_uri, error="invalid_request", state=state)
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            self.client_id, redirect_uri, q.get("nonce"), q["code_challenge"], self.email, self.email_verified
        )
        return _back(redirect_uri, code=code, state=state, iss=self.issuer)

    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        form = await request.form()
        client_id, secret = _client_credentials(request, form)
        if client_id != self.client_id or secret != self.client_secret:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.grants.pop(str(form.get("code", "")), None)  # a code works once
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.redirect_uri != form.get("redirect_uri")
            or create_s256_code_challenge(str(form.get("code_verifier", ""))) != grant.code_challenge
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access_token = secrets.token_urlsafe(24)
        profile = {"sub": f"sub-{grant.email}", "email": grant.email, "email_verified": grant.email_verified}
        self.access_tokens[access_token] = profile
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": profile["sub"],
            "iat": now,
            "exp": now + 300,
            "name": "Test Person",
        }
        if self.email_in_id_token:
            claims.update(email=grant.email, email_verified=grant.email_verified)
        if grant.nonce:
            claims["nonce"] = grant.nonce
        claims.update(self.claim_changes)
        key = self.wrong_key if self.sign_with_wrong_key else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)
        body = {"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def userinfo(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        profile = self.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if profile is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(profile)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/userinfo", self.userinfo),
            ]
        )


def _new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def _back(redirect_uri: str, **params: str) -> Response:
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", status_code=302)


def _client_credentials(request: Request, form: Any) -> tuple[str, str]:
    """client_secret_basic, else client_secret_post."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        return client_id, secret
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))


class ServedProvider:
    """`provider` served by uvicorn on 127.0.0.1 on a free port, in a background thread."""

    def __init__(self, provider: OidcProvider) -> None:
        self.provider = provider
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        port = self._socket.getsockname()[1]
        provider.issuer = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            provider.app(), log_level="warning", access_log=False, lifespan="off", ws="none"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> OidcProvider:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test OpenID provider did not start")
            time.sleep(0.01)
        return self.provider

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
