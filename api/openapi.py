"""The published OpenAPI document: scopes per operation and problem+json error responses.

Each operation that needs a scope carries `x-required-scope` (read from its
`require(scope)` dependency, so the document cannot drift from the code), and
every operation lists the problem+json answers it can give, so clients and
contract tests know the shape of errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from api.problems import MEDIA_TYPE, TITLES
from schemas.common import Problem

ERROR_STATUSES = ("400", "401", "403", "404", "409", "412", "422", "429", "503")


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


def required_scope(route: APIRoute) -> str | None:
    for dependant in _dependants(route.dependant):
        scope = getattr(dependant.call, "required_scope", None)
        if isinstance(scope, str):
            return scope
    return None


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            scope = required_scope(route)
            path = document["paths"].get(context.path_format or "", {})
            for method in context.methods or ():
                operation = path.get(method.lower())
                if operation is None:
                    continue
                if scope is not None:
                    operation["x-required-scope"] = scope
                    operation["description"] = (
                        f"Requires scope `{scope}` (or `admin`).\n\n" + operation.get("description", "")
                    ).strip()
                responses = operation.setdefault("responses", {})
                for status in ERROR_STATUSES:
                    responses[status] = {
                        "description": TITLES.get(int(status), "Error"),
                        "content": {MEDIA_TYPE: {"schema": problem_ref}},
                    }
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
