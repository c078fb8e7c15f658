"""The SDK's exceptions: one base, `TimeLedgerError`, and what each subclass means."""

from __future__ import annotations

import json
from typing import Any

import httpx

__all__ = ["ApiError", "ServerUnreachable", "TimeLedgerError"]


class TimeLedgerError(Exception):
    """Base of every error the SDK raises on purpose."""


class ApiError(TimeLedgerError):
    """Raised when the server answers with an error (a `problem+json` body, or a bare error status)."""

    def __init__(
        self,
        status: int,
        type: str,
        detail: str,
        *,
        title: str = "",
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.field = field
        self.errors = errors

    @property
    def code(self) -> str:
        """The last part of `type`, e.g. `archived` or `no-running-timer`."""
        return self.type.rstrip("/").rsplit("/", 1)[-1]

    def __repr__(self) -> str:
        return f"ApiError(status={self.status}, type={self.type!r}, detail={self.detail!r})"

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        body: Any = None
        if "json" in response.headers.get("content-type", ""):
            try:
                body = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
        if not isinstance(body, dict):
            reason = response.reason_phrase or "error"
            return cls(
                response.status_code, "about:blank", f"The server answered {response.status_code} {reason}."
            )
        detail = body.get("detail")
        if not isinstance(detail, str) or not detail:
            detail = f"The server answered {response.status_code} {body.get('title') or 'error'}."
        field = body.get("field")
        errors = body.get("errors")
        return cls(
            int(body.get("status") or response.status_code),
            str(body.get("type") or "about:blank"),
            detail,
            title=str(body.get("title") or ""),
            field=field if isinstance(field, str) else None,
            errors=errors if isinstance(errors, list) else None,
        )


class ServerUnreachable(TimeLedgerError):
    """Raised when the server cannot be reached (connection refused or lost, timeout) after the retries."""
