"""Log in with an OpenID provider: `/auth/oidc/login` and `/auth/oidc/callback` (see docs/oidc.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from api import oidc
from api.auth import ledger_of
from api.commands import read_side
from api.problems import MEDIA_TYPE, ApiProblem
from api.sessions import codec_of
from ledger.application import TimeLedger

router = APIRouter(tags=["session"])
Ledger = Annotated[TimeLedger, Depends(ledger_of)]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    502: {
        "description": "The provider is unreachable, misconfigured or refused the code exchange",
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
}


def settings_of(request: Request) -> oidc.OidcConfig:
    settings: oidc.OidcConfig | None = request.app.state.oidc
    if settings is None:
        raise ApiProblem(
            404,
            "oidc-not-configured",
            "OpenID Connect login is not configured on this server; log in with a password instead.",
        )
    return settings


Settings = Annotated[oidc.OidcConfig, Depends(settings_of)]


@router.get(
    "/auth/oidc/login",
    status_code=302,
    response_class=RedirectResponse,
    responses=PROBLEMS,
    summary="Start logging in at the OpenID provider",
)
def oidc_login(
    request: Request,
    settings: Settings,
    next_path: Annotated[str, Query(alias="next")] = "/",
) -> RedirectResponse:
    """Redirects (302) to the provider's login page; `next` is where to land afterwards (a path on
    this site, else `/`). 404 `oidc-not-configured` when no provider is set up."""
    redirect_uri = str(request.url_for("oidc_callback"))
    url, flow = oidc.begin_login(settings, redirect_uri, next_path)
    response = RedirectResponse(url, status_code=302)
    oidc.write_flow(response, codec_of(request), flow)
    return response


@router.get(
    "/auth/oidc/callback",
    name="oidc_callback",
    status_code=302,
    response_class=RedirectResponse,
    responses=PROBLEMS,
    summary="Where the OpenID provider sends the person back (register this URL there)",
)
def oidc_callback(request: Request, settings: Settings, ledger: Ledger) -> RedirectResponse:
    """Sets the session cookie and redirects (302) to `next`. Refusals, as problem+json:
    400 `invalid-state` (not this browser's login, expired, replayed), 401 `oidc-login-denied`
    or `invalid-id-token`, 403 `email-not-verified` or `not-a-member` (an admin must add the
    email as a member first), 502 when the provider fails."""
    codec = codec_of(request)
    user_id, org_id, next_path = oidc.finish_login(request, settings, ledger, read_side(request), codec)
    response = RedirectResponse(next_path, status_code=302)
    codec.write(response, codec.new(user_id, org_id))
    oidc.clear_flow(response, codec)
    return response
