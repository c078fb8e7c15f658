"""`TimeLedgerClient`: the synchronous Python SDK of the REST API v1 (over httpx)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

import httpx

from clients import calls
from clients.calls import Call
from clients.errors import ServerUnreachable
from clients.retry import RetryPolicy
from clients.stream import StreamOptions, iterate
from schemas.catalog import Project, Task
from schemas.common import Page
from schemas.entries import EditEntry, RecordEntry, StartTimer, Template, TimeEntry
from schemas.me import Me
from schemas.reports import Summary
from schemas.stream import StreamEvent

__all__ = ["TimeLedgerClient"]

T = TypeVar("T")
USER_AGENT = "timeledger-sdk/0.1"


def base_url(url: str) -> str:
    """The server's root URL, whether given with or without `/api/v1`."""
    url = url.rstrip("/")
    return url.removesuffix(calls.API_PREFIX)


def client_headers(token: str, device_id: str | None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "User-Agent": USER_AGENT}
    if device_id:
        headers["X-Device-Id"] = device_id
    return headers


class TimeLedgerClient:
    """A TimeLedger server, as one token sees it. Writes are idempotent and retried with the same key."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float | httpx.Timeout = 10.0,
        retry: RetryPolicy | None = None,
        device_id: str | None = None,
        transport: httpx.BaseTransport | None = None,
        trust_env: bool = True,
    ) -> None:
        self.url = base_url(url)
        self.retry = retry or RetryPolicy()
        self._token = token
        self._device_id = device_id
        self._trust_env = trust_env
        self._http = httpx.Client(
            base_url=self.url + calls.API_PREFIX,
            headers=client_headers(token, device_id),
            timeout=timeout,
            transport=transport,
            trust_env=trust_env,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TimeLedgerClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def send(self, call: Call[T]) -> T:
        """Send one call, retrying connection errors and 429/502/503/504 (same key each time)."""
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method, call.path, params=call.params, json=call.body, headers=call.headers()
                )
            except httpx.TransportError as error:
                if isinstance(error, httpx.UnsupportedProtocol) or attempt >= self.retry.retries:
                    raise ServerUnreachable(
                        f"The server at {self.url} cannot be reached: {error}."
                    ) from error
                time.sleep(self.retry.delay(attempt))
            else:
                if not (self.retry.retry_status(response) and attempt < self.retry.retries):
                    return call.result(response)
                time.sleep(self.retry.delay(attempt, response))
            attempt += 1

    def _pages(self, build: Callable[[dict[str, str]], Call[Page[T]]], params: dict[str, str]) -> Iterator[T]:
        while True:
            page = self.send(build(params))
            yield from page.items
            if page.next_cursor is None:
                return
            params = {**params, "cursor": page.next_cursor}

    # --- who, the timer ----------------------------------------------------------------

    def me(self) -> Me:
        return self.send(calls.me())

    def timer(self) -> TimeEntry | None:
        """The running (or paused) entry, or None."""
        return self.send(calls.timer())

    def start_timer(
        self,
        project_id: UUID | str,
        *,
        task_id: UUID | str | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
        billable: bool | None = None,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> TimeEntry:
        body = StartTimer.model_validate(
            {
                "project_id": project_id,
                "task_id": task_id,
                "description": description,
                "tags": tags,
                "billable": billable,
                "at": at,
            }
        )
        return self.send(calls.start_timer(body, idempotency_key))

    def stop_timer(self, at: datetime | None = None, *, idempotency_key: str | None = None) -> TimeEntry:
        return self.send(calls.timer_at("stop", at, idempotency_key))

    def pause_timer(self, at: datetime | None = None, *, idempotency_key: str | None = None) -> TimeEntry:
        return self.send(calls.timer_at("pause", at, idempotency_key))

    def resume_timer(self, at: datetime | None = None, *, idempotency_key: str | None = None) -> TimeEntry:
        return self.send(calls.timer_at("resume", at, idempotency_key))

    # --- entries -----------------------------------------------------------------------

    def entries(self, *, page_size: int = 100, **filters: Any) -> Iterator[TimeEntry]:
        """Every entry matching the filters (member, project, client, task, tag, billable, from_, to),
        newest first, page after page."""
        return self._pages(calls.entry_page, calls.query(limit=page_size, **filters))

    def entry(self, entry_id: UUID | str) -> TimeEntry:
        return self.send(calls.get_entry(entry_id))

    def create_entry(
        self,
        project_id: UUID | str,
        start: datetime,
        end: datetime | None = None,
        *,
        duration_seconds: int | None = None,
        idempotency_key: str | None = None,
        **details: Any,
    ) -> TimeEntry:
        """Record a manual entry: `start` plus `end` or `duration_seconds`; details as in RecordEntry."""
        body = RecordEntry.model_validate(
            {
                "project_id": project_id,
                "start": start,
                "end": end,
                "duration_seconds": duration_seconds,
                **details,
            }
        )
        return self.send(calls.record_entry(body, idempotency_key))

    def edit_entry(
        self,
        entry_id: UUID | str,
        *,
        if_match: int | None = None,
        idempotency_key: str | None = None,
        **changes: Any,
    ) -> TimeEntry:
        """Change the fields given (as in EditEntry; `task_id=None` clears the task). With `if_match`
        (the version read), a stale version raises ApiError 412 and changes nothing."""
        body = EditEntry.model_validate(changes)
        return self.send(calls.edit_entry(entry_id, body, if_match, idempotency_key))

    def delete_entry(
        self, entry_id: UUID | str, *, if_match: int | None = None, idempotency_key: str | None = None
    ) -> TimeEntry:
        return self.send(calls.delete_entry(entry_id, if_match, idempotency_key))

    def restore_entry(
        self, entry_id: UUID | str, *, if_match: int | None = None, idempotency_key: str | None = None
    ) -> TimeEntry:
        return self.send(calls.restore_entry(entry_id, if_match, idempotency_key))

    def continue_entry(
        self, entry_id: UUID | str, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> TimeEntry:
        return self.send(calls.continue_entry(entry_id, at, idempotency_key))

    # --- catalog, templates, reports ---------------------------------------------------

    def projects(self, *, archived: bool | None = None, q: str | None = None) -> Iterator[Project]:
        return self._pages(calls.project_page, calls.query(limit=500, archived=archived, q=q))

    def tasks(
        self, *, project: UUID | str | None = None, archived: bool | None = None, q: str | None = None
    ) -> Iterator[Task]:
        return self._pages(calls.task_page, calls.query(limit=500, project=project, archived=archived, q=q))

    def templates(self) -> list[Template]:
        return self.send(calls.templates()).items

    def start_template(self, template_id: UUID | str, *, idempotency_key: str | None = None) -> TimeEntry:
        return self.send(calls.start_template(template_id, idempotency_key))

    def summary(self, day_from: date, day_to: date, group_by: str | list[str] = "project") -> Summary:
        return self.send(calls.summary(day_from, day_to, group_by))

    # --- the live stream ---------------------------------------------------------------

    def stream(
        self, after: int | None = None, *, options: StreamOptions | None = None
    ) -> Iterator[StreamEvent]:
        """The live events after position `after` (None: from now on), reconnecting by itself from the
        last position seen; no position is yielded twice. Stop by leaving the loop."""
        opts = options or StreamOptions()
        headers = client_headers(self._token, self._device_id)
        return iterate(self.url, headers, after, opts, trust_env=self._trust_env)
