"""The FastAPI application. Until the REST issue lands it serves health only."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ledger.application import TimeLedger


def create_app(ledger: TimeLedger, store_kind: str) -> FastAPI:
    app = FastAPI(
        title="TimeLedger",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
    )
    app.state.ledger = ledger

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Liveness plus the store in use and the head position of the log."""
        return {"status": "ok", "store": store_kind, "head_position": ledger.head_position()}

    return app
