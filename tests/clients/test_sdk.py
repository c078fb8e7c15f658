"""The SDK against a real server: typed answers, problems as ApiError, retries that reuse the key."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest

from clients import (
    ApiError,
    AsyncTimeLedgerClient,
    RetryPolicy,
    ServerUnreachable,
    StreamOptions,
    TimeLedgerClient,
)
from schemas.catalog import Project
from schemas.entries import TimeEntry
from schemas.stream import StreamEvent
from tests.clients.conftest import Proxy, Server

FAST = RetryPolicy(retries=3, backoff=0.01, max_backoff=0.05)


def project_named(client: TimeLedgerClient, name: str) -> Project:
    return next(p for p in client.projects() if p.name == name)


def test_timer_and_entry_calls_answer_typed_models(server: Server) -> None:
    token = server.member("Tim")
    with TimeLedgerClient(server.base, token) as client:
        me = client.me()
        assert me.role == "member"
        assert me.organization.name == "Acme"
        assert client.timer() is None
        website = project_named(client, "Website")
        design = next(t for t in client.tasks(project=website.id) if t.name == "Design")

        started = client.start_timer(website.id, task_id=design.id, description="Wireframes", tags=["ux"])
        assert isinstance(started, TimeEntry)
        assert (started.status, started.task_id, started.tags) == ("running", design.id, ["ux"])
        assert client.timer() == client.entry(started.id)
        assert client.pause_timer().status == "paused"
        assert client.resume_timer().status == "running"
        stopped = client.stop_timer()
        assert (stopped.id, stopped.status) == (started.id, "stopped")
        assert client.timer() is None

        continued = client.continue_entry(started.id)
        assert (continued.description, continued.status) == ("Wireframes", "running")
        client.stop_timer()

        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1, hours=2)
        made = [
            client.create_entry(
                website.id, start + timedelta(minutes=20 * i), duration_seconds=600, description=f"n{i}"
            )
            for i in range(3)
        ]
        listed = list(client.entries(page_size=2))  # five entries over three pages
        assert [e.id for e in listed] == [e.id for e in sorted(listed, key=lambda e: e.start, reverse=True)]
        assert {e.id for e in made} | {started.id, continued.id} == {e.id for e in listed}

        edited = client.edit_entry(made[0].id, if_match=made[0].version, description="edited")
        assert (edited.description, edited.version) == ("edited", made[0].version + 1)
        with pytest.raises(ApiError) as stale:
            client.edit_entry(made[0].id, if_match=made[0].version, description="lost update")
        assert (stale.value.status, stale.value.code) == (412, "stale-version")
        assert client.entry(made[0].id).description == "edited"

        deleted = client.delete_entry(made[1].id, if_match=made[1].version)
        assert deleted.status == "deleted"
        assert client.restore_entry(made[1].id).status == "stopped"

        report = client.summary(start.date(), datetime.now(UTC).date() + timedelta(days=1), ["project"])
        assert report.total.seconds == sum(e.duration_seconds for e in client.entries())
        assert report.rows[0].keys == {"project_id": str(website.id)}
        assert client.templates() == []
        saved = httpx.post(
            f"{server.base}/api/v1/templates",
            headers={"Authorization": f"Bearer {token}"},
            json={"name": "Standup", "project_id": str(website.id), "description": "Daily standup"},
            timeout=10,
        )
        assert saved.status_code == 201, saved.text
        (template,) = client.templates()
        assert (template.name, template.project_id) == ("Standup", website.id)
        from_template = client.start_template(template.id)
        assert (from_template.description, from_template.status) == ("Daily standup", "running")
        assert client.timer() == client.entry(from_template.id)


def test_a_problem_answer_raises_api_error_with_its_type_detail_and_field(server: Server) -> None:
    with TimeLedgerClient(server.base, server.member("Pat")) as client:
        website = project_named(client, "Website")
        now = datetime.now(UTC)
        with pytest.raises(ApiError) as invalid:
            client.create_entry(website.id, now - timedelta(hours=1), now - timedelta(hours=2))
        assert invalid.value.status == 422
        assert invalid.value.type == "https://timeledger.dev/problems/invalid-input"
        assert invalid.value.field == "end"
        assert invalid.value.detail
        with pytest.raises(ApiError) as missing:
            client.entry(UUID(int=7))
        assert (missing.value.status, missing.value.code) == (404, "not-found")
        with pytest.raises(ApiError) as stopped:
            client.stop_timer()
        assert stopped.value.code == "no-running-timer"
        assert str(stopped.value) == stopped.value.detail


def test_a_write_whose_answer_is_lost_is_retried_with_the_same_key_and_applied_once(
    server: Server, proxy: Proxy
) -> None:
    token = server.member("Lou")
    with (
        TimeLedgerClient(proxy.base, token, retry=FAST) as client,
        TimeLedgerClient(server.base, token) as direct,
    ):
        website = project_named(client, "Website")
        head = server.head()
        proxy.swallow_next_answer()  # the server records the entry, the client never hears it
        start = datetime.now(UTC) - timedelta(hours=5)
        entry = client.create_entry(website.id, start, duration_seconds=900, description="once")
        assert proxy.swallowed == 1
        keys = proxy.idempotency_keys()
        assert len(keys) == 2
        assert keys[0] == keys[1]
        assert [e.id for e in direct.entries() if e.description == "once"] == [entry.id]
        recorded = server.head()
        assert recorded > head
        # The same key once more, on purpose: the first result, and nothing appended.
        again = direct.create_entry(
            website.id, start, duration_seconds=900, description="once", idempotency_key=keys[0]
        )
        assert again == entry
        assert server.head() == recorded


def _recorder(answers: list[httpx.Response]) -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    return seen, httpx.MockTransport(handle)


ENTRY: dict[str, object] = {
    "id": str(UUID(int=1)),
    "member_id": str(UUID(int=2)),
    "project_id": str(UUID(int=3)),
    "task_id": None,
    "description": "",
    "tags": [],
    "billable": True,
    "start": "2026-11-20T09:00:00Z",
    "end": None,
    "duration_seconds": 0,
    "status": "running",
    "version": 1,
}


def test_503_and_429_are_retried_with_the_same_key_honouring_retry_after() -> None:
    seen, transport = _recorder(
        [
            httpx.Response(
                503, json={"type": "x/try-again", "title": "Try again", "status": 503, "detail": "busy"}
            ),
            httpx.Response(429, headers={"Retry-After": "1"}, json={"detail": "slow down", "status": 429}),
            httpx.Response(201, json=ENTRY),
        ]
    )
    with TimeLedgerClient("http://127.0.0.1:9", "tl_x", transport=transport, retry=FAST) as client:
        began = time.monotonic()
        entry = client.start_timer(UUID(int=3))
        waited = time.monotonic() - began
    assert entry.id == UUID(int=1)
    assert waited >= 1.0
    keys = {request.headers["Idempotency-Key"] for request in seen}
    assert len(seen) == 3
    assert len(keys) == 1
    assert [json.loads(r.content) for r in seen] == [{"project_id": str(UUID(int=3))}] * 3


def test_retry_after_is_capped_and_retries_end_with_the_last_error() -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "3600"}, json={"detail": "later", "status": 429})
    ] * 4
    seen, transport = _recorder(list(answers))
    policy = RetryPolicy(retries=3, backoff=0.01, max_retry_after=0.05)
    with TimeLedgerClient("http://127.0.0.1:9", "tl_x", transport=transport, retry=policy) as client:
        began = time.monotonic()
        with pytest.raises(ApiError) as error:
            client.stop_timer(idempotency_key="mine-1")
        assert time.monotonic() - began < 2
    assert (error.value.status, error.value.detail) == (429, "later")
    assert [r.headers["Idempotency-Key"] for r in seen] == ["mine-1"] * 4


def test_connection_errors_are_retried_with_the_same_key_then_raise_server_unreachable() -> None:
    seen: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    transport = httpx.MockTransport(refuse)
    with TimeLedgerClient("http://127.0.0.1:9", "tl_x", transport=transport, retry=FAST) as client:
        with pytest.raises(ServerUnreachable):
            client.start_timer(UUID(int=3))
        with pytest.raises(ServerUnreachable):
            client.me()
    writes = [r for r in seen if r.method == "POST"]
    assert len(writes) == 4
    assert len({r.headers["Idempotency-Key"] for r in writes}) == 1
    assert all("Idempotency-Key" not in r.headers for r in seen if r.method == "GET")


def _until(events: list[StreamEvent], last: UUID) -> bool:
    return any(e.aggregate_id == last and e.event_type == "TimeEntry.Recorded" for e in events)


def _record(client: TimeLedgerClient, project: Project, count: int, days_ago: int) -> list[TimeEntry]:
    start = datetime.now(UTC) - timedelta(days=days_ago)
    return [
        client.create_entry(project.id, start + timedelta(minutes=15 * i), duration_seconds=300)
        for i in range(count)
    ]


def test_a_stream_cut_mid_way_resumes_from_its_last_position_without_gap_or_duplicate(
    server: Server, proxy: Proxy
) -> None:
    token = server.member("Sam")
    options = StreamOptions(backoff=0.05, max_failures=20)
    with TimeLedgerClient(proxy.base, token) as client, TimeLedgerClient(server.base, token) as direct:
        website = project_named(direct, "Website")
        first = _record(direct, website, 8, days_ago=3)
        seen: list[StreamEvent] = []
        later: list[TimeEntry] = []
        for event in client.stream(after=0, options=options):
            seen.append(event)
            if len(seen) == 3:
                proxy.cut()  # mid-replay: frames in flight are lost with the link
            if event.aggregate_id == first[-1].id and not later:
                proxy.cut()  # now live: more events come while the link is down
                later = _record(direct, website, 4, days_ago=4)
            if later and _until(seen, later[-1].id):
                break
        reference: list[StreamEvent] = []
        for event in direct.stream(after=0, options=options):
            reference.append(event)
            if _until(reference, later[-1].id):
                break
    assert proxy.accepted >= 2  # frames already received are still read before the reconnect
    positions = [e.position for e in seen]
    assert positions == sorted(set(positions))
    assert positions == [e.position for e in reference]
    recorded = [e.aggregate_id for e in seen if e.event_type == "TimeEntry.Recorded"]
    assert recorded == [e.id for e in first + later]


def test_a_stream_with_a_bad_token_raises_instead_of_reconnecting(server: Server) -> None:
    with TimeLedgerClient(server.base, "tl_not_a_token") as client, pytest.raises(ApiError) as refused:
        next(iter(client.stream(after=0)))
    assert refused.value.status in (401, 403)


def test_the_async_client_writes_lists_and_streams_through_a_cut(server: Server, proxy: Proxy) -> None:
    token = server.member("Ada")

    async def scenario() -> tuple[list[TimeEntry], list[StreamEvent]]:
        async with AsyncTimeLedgerClient(proxy.base, token, retry=FAST) as client:
            me = await client.me()
            assert me.role == "member"
            (website,) = [p async for p in client.projects() if p.name == "Website"]
            start = datetime.now(UTC) - timedelta(days=2)
            made = [
                await client.create_entry(website.id, start + timedelta(minutes=10 * i), duration_seconds=60)
                for i in range(3)
            ]
            edited = await client.edit_entry(made[0].id, if_match=made[0].version, description="async")
            assert edited.description == "async"
            assert [e.id async for e in client.entries(page_size=1)] == [e.id for e in reversed(made)]
            events: list[StreamEvent] = []
            # aclosing: leaving the loop early closes the socket here, not when the loop is gone.
            stream = client.stream(after=0, options=StreamOptions(backoff=0.05, max_failures=20))
            async with contextlib.aclosing(stream) as events_in:
                async for event in events_in:
                    events.append(event)
                    if len(events) == 2:
                        proxy.cut()
                    if event.event_type == "TimeEntry.Edited" or len(events) > 50:
                        break
            return made, events

    made, events = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert proxy.accepted >= 2
    positions = [e.position for e in events]
    assert positions == sorted(set(positions))
    assert [e.aggregate_id for e in events if e.event_type == "TimeEntry.Recorded"] == [e.id for e in made]
    assert events[-1].aggregate_id == made[0].id
