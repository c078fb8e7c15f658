"""`AsyncTimeLedgerClient`: the asyncio twin of `TimeLedgerClient` (over httpx.AsyncClient)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

import httpx

from clients import calls
from clients.calls import Call
from clients.errors import ServerUnreachable
from clients.retry import RetryPolicy
from clients.sdk import base_url, client_headers
from clients.stream import StreamOptions, aiterate
from schemas.catalog import Project, Task
from schemas.common import Page
from schemas.entries import EditEntry, RecordEntry, StartTimer, Template, TimeEntry
from schemas.me import Me
from schemas.reports import Summary
from schemas.stream import StreamEvent

__all__ = ["AsyncTimeLedgerClient"]

T = TypeVar("T")


class AsyncTimeLedgerClient:
    """A TimeLedger server, as one token sees it, for asyncio code; the same methods, awaited."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float | httpx.Timeout = 10.0,
        retry: RetryPolicy | None = None,
        device_id: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        trust_env: bool = True,
    ) -> None:
        self.url = base_url(url)
        self.retry = retry or RetryPolicy()
        self._headers = client_headers(token, device_id)
        self._trust_env = trust_env
        self._http = httpx.AsyncClient(
            base_url=self.url + calls.API_PREFIX,
            headers=self._headers,
            timeout=timeout,
            transport=transport,
            trust_env=trust_env,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncTimeLedgerClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def send(self, call: Call[T]) -> T:
        """Send one call, retrying connection errors and 429/502/503/504 (same key each time)."""
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method, call.path, params=call.params, json=call.body, headers=call.headers()
                )
            except httpx.TransportError as error:
                if isinstance(error, httpx.UnsupportedProtocol) or attempt >= self.retry.retries:
                    raise ServerUnreachable(
                        f"The server at {self.url} cannot be reached: {error}."
                    ) from error
                await asyncio.sleep(self.retry.delay(attempt))
            else:
                if not (self.retry.retry_status(response) and attempt < self.retry.retries):
                    return call.result(response)
                await asyncio.sleep(self.retry.delay(attempt, response))
            attempt += 1

    async def _pages(
        self, build: Callable[[dict[str, str]], Call[Page[T]]], params: dict[str, str]
    ) -> AsyncIterator[T]:
        while True:
            page = await self.send(build(params))
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            params = {**params, "cursor": page.next_cursor}

    async def me(self) -> Me:
        return await self.send(calls.me())

    async def timer(self) -> TimeEntry | None:
        return await self.send(calls.timer())

    async def start_timer(
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
        return await self.send(calls.start_timer(body, idempotency_key))

    async def stop_timer(
        self, at: datetime | None = None, *, idempotency_key: str | None = None
    ) -> TimeEntry:
        return await self.send(calls.timer_at("stop", at, idempotency_key))

    async def pause_timer(
        self, at: datetime | None = None, *, idempotency_key: str | None = None
    ) -> TimeEntry:
        return await self.send(calls.timer_at("pause", at, idempotency_key))

    async def resume_timer(
        self, at: datetime | None = None, *, idempotency_key: str | None = None
    ) -> TimeEntry:
        return await self.send(calls.timer_at("resume", at, idempotency_key))

    def entries(self, *, page_size: int = 100, **filters: Any) -> AsyncIterator[TimeEntry]:
        """Every entry matching the filters, newest first (`async for`)."""
        return self._pages(calls.entry_page, calls.query(limit=page_size, **filters))

    async def entry(self, entry_id: UUID | str) -> TimeEntry:
        return await self.send(calls.get_entry(entry_id))

    async def create_entry(
        self,
        project_id: UUID | str,
        start: datetime,
        end: datetime | None = None,
        *,
        duration_seconds: int | None = None,
        idempotency_key: str | None = None,
        **details: Any,
    ) -> TimeEntry:
        body = RecordEntry.model_validate(
            {
                "project_id": project_id,
                "start": start,
                "end": end,
                "duration_seconds": duration_seconds,
                **details,
            }
        )
        return await self.send(calls.record_entry(body, idempotency_key))

    async def edit_entry(
        self,
        entry_id: UUID | str,
        *,
        if_match: int | None = None,
        idempotency_key: str | None = None,
        **changes: Any,
    ) -> TimeEntry:
        body = EditEntry.model_validate(changes)
        return await self.send(calls.edit_entry(entry_id, body, if_match, idempotency_key))

    async def delete_entry(
        self, entry_id: UUID | str, *, if_match: int | None = None, idempotency_key: str | None = None
    ) -> TimeEntry:
        return await self.send(calls.delete_entry(entry_id, if_match, idempotency_key))

    async def restore_entry(
        self, entry_id: UUID | str, *, if_match: int | None = None, idempotency_key: str | None = None
    ) -> TimeEntry:
        return await self.send(calls.restore_entry(entry_id, if_match, idempotency_key))

    async def continue_entry(
        self, entry_id: UUID | str, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> TimeEntry:
        return await self.send(calls.continue_entry(entry_id, at, idempotency_key))

    def projects(self, *, archived: bool | None = None, q: str | None = None) -> AsyncIterator[Project]:
        return self._pages(calls.project_page, calls.query(limit=500, archived=archived, q=q))

    def tasks(
        self, *, project: UUID | str | None = None, archived: bool | None = None, q: str | None = None
    ) -> AsyncIterator[Task]:
        return self._pages(calls.task_page, calls.query(limit=500, project=project, archived=archived, q=q))

    async def templates(self) -> list[Template]:
        return (await self.send(calls.templates())).items

    async def start_template(
        self, template_id: UUID | str, *, idempotency_key: str | None = None
    ) -> TimeEntry:
        return await self.send(calls.start_template(template_id, idempotency_key))

    async def summary(self, day_from: date, day_to: date, group_by: str | list[str] = "project") -> Summary:
        return await self.send(calls.summary(day_from, day_to, group_by))

    def stream(
        self, after: int | None = None, *, options: StreamOptions | None = None
    ) -> AsyncIterator[StreamEvent]:
        """`async for event in client.stream(after=N)`: live events, reconnecting from the last position."""
        return aiterate(self.url, self._headers, after, options or StreamOptions(), trust_env=self._trust_env)
