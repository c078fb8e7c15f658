"""The FastAPI application. Until the REST issue lands it serves health only."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ledger.application import TimeLedger
from projections.service import ProjectionService


def create_app(ledger: TimeLedger, store_kind: str, projections: ProjectionService | None = None) -> FastAPI:
    app = FastAPI(
        title="TimeLedger",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
    )
    app.state.ledger = ledger
    app.state.projections = projections

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Liveness plus the store in use and the head position of the log."""
        head = ledger.head_position()
        body: dict[str, Any] = {"status": "ok", "store": store_kind, "head_position": head}
        if projections is not None:
            body["projections"] = {
                name: {"position": r.position, "lag": max(0, head - r.position)}
                for name, r in projections.runners.items()
            }
        return body

    return app
