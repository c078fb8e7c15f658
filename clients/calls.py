"""Requests as data: each SDK operation builds a `Call`; the sync and async clients send it.

Building a write here fixes its `Idempotency-Key` once, so every retry of it sends the same key.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel

from clients.errors import ApiError
from schemas.catalog import Project, Task
from schemas.common import Page
from schemas.entries import (
    ContinueEntry,
    EditEntry,
    RecordEntry,
    StartTimer,
    Template,
    TimeEntry,
    TimerAt,
)
from schemas.me import Me
from schemas.reports import Summary

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how to read its answer; a write carries its idempotency key."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    idempotency_key: str | None = None
    if_match: int | None = None

    def headers(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if self.idempotency_key is not None:
            found["Idempotency-Key"] = self.idempotency_key
        if self.if_match is not None:
            found["If-Match"] = f'"{self.if_match}"'
        return found

    def result(self, response: httpx.Response) -> T:
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        return self.parse(response)


def model(cls: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: cls.model_validate_json(response.content)


def maybe(cls: type[M]) -> Callable[[httpx.Response], M | None]:
    def parse(response: httpx.Response) -> M | None:
        return (
            None if response.content.strip() in (b"", b"null") else cls.model_validate_json(response.content)
        )

    return parse


def write(
    method: str,
    path: str,
    parse: Callable[[httpx.Response], T],
    body: BaseModel | None,
    key: str | None,
    *,
    if_match: int | None = None,
    exclude_unset: bool = False,
) -> Call[T]:
    payload = None
    if body is not None:
        payload = body.model_dump(mode="json", exclude_unset=exclude_unset, exclude_none=not exclude_unset)
    return Call(
        method, path, parse, body=payload, idempotency_key=key or str(uuid.uuid4()), if_match=if_match
    )


def query(**values: object) -> dict[str, str]:
    """Query parameters: None left out, booleans as true/false, times in RFC 3339."""
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        key = name.rstrip("_")
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, datetime | date):
            out[key] = value.isoformat()
        else:
            out[key] = str(value)
    return out


# --- who, the timer ------------------------------------------------------------------


def me() -> Call[Me]:
    return Call("GET", "/me", model(Me))


def timer() -> Call[TimeEntry | None]:
    return Call("GET", "/timer", maybe(TimeEntry))


def start_timer(body: StartTimer, key: str | None) -> Call[TimeEntry]:
    return write("POST", "/timer/start", model(TimeEntry), body, key)


def timer_at(action: str, at: datetime | None, key: str | None) -> Call[TimeEntry]:
    return write("POST", f"/timer/{action}", model(TimeEntry), TimerAt(at=at), key)


# --- entries -------------------------------------------------------------------------


def entry_page(params: dict[str, str]) -> Call[Page[TimeEntry]]:
    return Call("GET", "/time-entries", model(Page[TimeEntry]), params=params)


def get_entry(entry_id: UUID | str) -> Call[TimeEntry]:
    return Call("GET", f"/time-entries/{entry_id}", model(TimeEntry))


def record_entry(body: RecordEntry, key: str | None) -> Call[TimeEntry]:
    return write("POST", "/time-entries", model(TimeEntry), body, key)


def edit_entry(
    entry_id: UUID | str, body: EditEntry, if_match: int | None, key: str | None
) -> Call[TimeEntry]:
    path = f"/time-entries/{entry_id}"
    return write("PATCH", path, model(TimeEntry), body, key, if_match=if_match, exclude_unset=True)


def delete_entry(entry_id: UUID | str, if_match: int | None, key: str | None) -> Call[TimeEntry]:
    return write("DELETE", f"/time-entries/{entry_id}", model(TimeEntry), None, key, if_match=if_match)


def restore_entry(entry_id: UUID | str, if_match: int | None, key: str | None) -> Call[TimeEntry]:
    path = f"/time-entries/{entry_id}/restore"
    return write("POST", path, model(TimeEntry), None, key, if_match=if_match)


def continue_entry(entry_id: UUID | str, at: datetime | None, key: str | None) -> Call[TimeEntry]:
    path = f"/time-entries/{entry_id}/continue"
    return write("POST", path, model(TimeEntry), ContinueEntry(at=at), key)


# --- catalog, templates, reports ------------------------------------------------------


def project_page(params: dict[str, str]) -> Call[Page[Project]]:
    return Call("GET", "/projects", model(Page[Project]), params=params)


def task_page(params: dict[str, str]) -> Call[Page[Task]]:
    return Call("GET", "/tasks", model(Page[Task]), params=params)


def templates() -> Call[Page[Template]]:
    return Call("GET", "/templates", model(Page[Template]))


def start_template(template_id: UUID | str, key: str | None) -> Call[TimeEntry]:
    return write("POST", f"/templates/{template_id}/start", model(TimeEntry), None, key)


def summary(day_from: date, day_to: date, group_by: str | list[str]) -> Call[Summary]:
    groups = group_by if isinstance(group_by, str) else ",".join(group_by)
    params = {"from": day_from.isoformat(), "to": day_to.isoformat(), "group_by": groups}
    return Call("GET", "/reports/summary", model(Summary), params=params)
