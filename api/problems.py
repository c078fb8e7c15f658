"""Errors as RFC 9457 `application/problem+json`, one stable `type` per kind of error.

The ledger's exception classes are the contract: each maps to a status and a
type URI here; the message is written for people and may change.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ledger import errors

TYPE_BASE = "https://timeledger.dev/problems/"
MEDIA_TYPE = "application/problem+json"

STATUS = {
    errors.NotFoundError: 404,
    errors.ForbiddenError: 403,
    errors.InvalidInputError: 422,
    errors.StaleVersionError: 412,
    errors.IdempotencyKeyReusedError: 422,
    errors.ConcurrencyError: 503,
    errors.ConflictError: 409,
    errors.TamperedLogError: 500,
}
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal error",
    503: "Try again",
}


class ApiProblem(Exception):
    """An error the API itself raises (authentication, scopes, headers, rate limits)."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": TYPE_BASE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(error: errors.LedgerError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def _field_of(location: tuple[Any, ...]) -> str:
    # ("body", "tags", 0) -> "tags[0]"; ("query", "from") -> "from"
    parts = [p for p in location if p not in ("body", "query", "path", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.LedgerError)
    async def ledger_error(_request: Request, error: errors.LedgerError) -> JSONResponse:
        field = getattr(error, "field", None)
        extra: dict[str, Any] = {"field": field}
        if isinstance(error, errors.StaleVersionError):
            extra.update(expected_version=error.expected, current_version=error.actual)
        return problem(status_of(error), error.code, str(error), **extra)

    @app.exception_handler(ApiProblem)
    async def api_problem(_request: Request, error: ApiProblem) -> JSONResponse:
        return problem(error.status, error.code, error.detail, error.headers, **error.extra)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        found = [
            {"field": _field_of(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
            for e in error.errors()
        ]
        first = found[0] if found else {"field": "body", "message": "invalid"}
        return problem(
            422,
            "invalid-input",
            f"{first['field']}: {first['message']}",
            field=first["field"],
            errors=found,
        )

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
        return problem(error.status_code, code, str(error.detail), dict(error.headers or {}))
