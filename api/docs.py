"""The interactive API reference at /api/docs, with Swagger UI's files served by the app.

Self-hosted installations may have no way out to a CDN, so the page's script and
stylesheet come from the `swagger-ui-py` package's copy of Swagger UI 5.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(swagger_ui.__file__).resolve().parent / "static"
DOCS_URL = "/api/docs"
ASSETS_URL = "/api/docs/assets"


def install(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=STATIC), name="swagger-ui-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/api/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
        )
