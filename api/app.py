"""The FastAPI application: REST v1 under /api/v1, OpenAPI at /api/openapi.json, docs at /api/docs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import FastAPI

from api import docs, openapi, problems
from api.jobs import JobQueue, NoJobs
from api.ratelimit import RateLimiter
from api.readside import ReadSide
from api.routes import audit, catalog, entries, me, reports, session, stream, templates, tokens
from api.routes import invoices as invoice_routes
from api.routes import oidc as oidc_routes
from api.routes import timesheets as timesheet_routes
from api.routes import webhooks as webhook_routes
from api.sessions import SessionCodec
from api.stream_hub import StreamHub
from ledger.application import TimeLedger

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class OidcSettings:
    """An OpenID provider to log in with (discovery at `<issuer>/.well-known/openid-configuration`)."""

    issuer: str
    client_id: str
    client_secret: str
    # People the provider vouches for but no organization invited join this one as members.
    join_org_id: UUID | None = None


def create_app(
    ledger: TimeLedger,
    read_side: ReadSide,
    store_kind: str,
    rate_limiter: RateLimiter | None = None,
    *,
    sessions: SessionCodec | None = None,
    oidc: OidcSettings | None = None,
    jobs: JobQueue | None = None,
) -> FastAPI:
    app = FastAPI(
        title="TimeLedger",
        version="0.1.0",
        summary="An event-sourced time ledger for teams that bill their time.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below from our own copy of Swagger UI, not a CDN
        redoc_url=None,
    )
    app.state.ledger = ledger
    app.state.read_side = read_side
    app.state.rate_limiter = rate_limiter
    # Without a configured key (tests), sessions last as long as this process.
    app.state.sessions = sessions or SessionCodec(secrets.token_urlsafe(32), secure=False)
    # Encrypts two-factor secrets (api/totp.py); the same key every process of a deployment has.
    app.state.secret_key = app.state.sessions.secret_key
    app.state.oidc = oidc
    app.state.stream_hub = StreamHub(ledger, store_kind)
    app.state.stream_heartbeat = 15.0
    app.state.stream_queue = 10_000
    # Background work the API asks for (invoice PDFs); without a job runtime, nothing runs.
    app.state.jobs = jobs or NoJobs()
    app.state.pdf_wait_seconds = 15.0
    problems.install(app)
    openapi.install(app)
    docs.install(app)
    for module in (me, entries, templates, catalog, reports, tokens, session, oidc_routes, stream):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(webhook_routes.router, prefix=API_PREFIX)
    app.include_router(invoice_routes.router, prefix=API_PREFIX)
    app.include_router(timesheet_routes.router, prefix=API_PREFIX)
    app.include_router(audit.router, prefix=API_PREFIX)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        """Liveness plus the store in use and the head position of the log."""
        head = ledger.head_position()
        body: dict[str, Any] = {"status": "ok", "store": store_kind, "head_position": head}
        service = read_side.service
        if service is not None:
            body["projections"] = {
                name: {"position": r.position, "lag": max(0, head - r.position)}
                for name, r in service.runners.items()
            }
        return body

    return app
