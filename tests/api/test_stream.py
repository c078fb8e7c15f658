"""The live stream over a real WebSocket to the app, on both stores."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from starlette.websockets import WebSocketDisconnect

from api.stream_hub import Item, Owner, Subscriber
from ledger.actors import Actor
from tests.api.conftest import Api
from tests.conftest import NOW

STREAM = "/api/v1/stream"


@pytest.fixture
def fast(api: Api) -> Api:
    api.client.app.state.stream_heartbeat = 0.1  # type: ignore[attr-defined]
    return api


def frames(ws: Any, until: Any, seconds: float = 10.0) -> list[dict[str, Any]]:
    """Read frames (events and control) until `until(frames)` holds; heartbeats keep it moving."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while not until(seen):
        assert time.monotonic() < deadline, f"stream stalled after {len(seen)} frames: {seen[-3:]}"
        seen.append(ws.receive_json())
    return seen


def events(seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in seen if f["type"] == "event"]


def heartbeat_after(position: int) -> Any:
    """Done once a heartbeat says everything up to `position` was considered."""
    return lambda seen: any(f["type"] == "heartbeat" and f["head"] >= position for f in seen)


def record(api: Api, who: str = "owner", hours_ago: int = 3) -> UUID:
    actor: Actor = getattr(api.world, who)
    return api.world.ledger.record_entry(
        org_id=api.world.org_id,
        project_id=api.world.project_id,
        start=NOW - timedelta(hours=hours_ago),
        duration_seconds=600,
        actor=actor,
    ).id


def test_replay_then_live_events_in_log_order_once(fast: Api) -> None:
    api = fast
    first = record(api, hours_ago=5)
    head = api.world.ledger.head_position()
    with api.client.websocket_connect(f"{STREAM}?after=0", headers=api.as_("owner")) as ws:
        seen = frames(ws, heartbeat_after(head))
        second = record(api, hours_ago=4)
        seen += frames(ws, lambda s: any(f.get("aggregate_id") == str(second) for f in s))
    got = events(seen)
    positions = [f["position"] for f in got]
    assert positions == sorted(set(positions)), "out of order or doubled"
    assert {f["event_type"] for f in got} >= {"Organization.Created", "Client.Created", "TimeEntry.Recorded"}
    recorded = [f for f in got if f["event_type"] == "TimeEntry.Recorded"]
    assert [f["aggregate_id"] for f in recorded] == [str(first), str(second)]
    entry = recorded[0]
    assert entry["v"] == 1
    assert entry["version"] == 1
    assert entry["actor"]["user_id"] == str(api.world.owner.user_id)
    assert entry["data"]["project_id"] == str(api.world.project_id)
    # Bookkeeping and private aggregates never leave the server.
    assert not any(
        f["event_type"].split(".")[0]
        in ("User", "ApiToken", "MemberTimer", "MemberWeek", "CommandRecord", "EmailIndex")
        for f in got
    )


def test_resuming_after_a_position_gives_exactly_what_followed(fast: Api) -> None:
    api = fast
    ids = [record(api, hours_ago=10 + i) for i in range(3)]
    middle = api.world.ledger.get_entry(ids[1], api.world.owner)
    with api.client.websocket_connect(f"{STREAM}?after=0", headers=api.as_("owner")) as ws:
        everything = events(frames(ws, heartbeat_after(api.world.ledger.head_position())))
    cut = next(f["position"] for f in everything if f["aggregate_id"] == str(middle.id))
    later = record(api, hours_ago=20)  # written while the client was away
    with api.client.websocket_connect(f"{STREAM}?after={cut}", headers=api.as_("owner")) as ws:
        resumed = events(frames(ws, heartbeat_after(api.world.ledger.head_position())))
    expected = [f for f in everything if f["position"] > cut]
    assert resumed[: len(expected)] == expected
    assert [
        f["aggregate_id"] for f in resumed[len(expected) :] if f["event_type"] == "TimeEntry.Recorded"
    ] == [str(later)]


def test_another_organization_and_missing_scopes_see_nothing_of_it(fast: Api) -> None:
    api = fast
    ledger = api.world.ledger
    other = ledger.create_organization(
        name="Other", owner_email="o@other.test", owner_name="O", owner_password="other-password"
    )
    boss = Actor.user(other.related[0])
    outsider = ledger.issue_token(
        org_id=other.id, name="b", scopes=["admin"], user_id=boss.user_id, actor=boss
    ).secret
    catalog_only = api.token("owner", ("read:catalog",))
    record(api)
    head = ledger.head_position()
    with api.client.websocket_connect(f"{STREAM}?after=0&token={outsider}") as ws:
        theirs = events(frames(ws, heartbeat_after(head)))
    assert "Organization.Created" in {f["event_type"] for f in theirs}
    assert all(f["aggregate_id"] == str(other.id) for f in theirs)
    with api.client.websocket_connect(f"{STREAM}?after=0", headers={"X-API-Key": catalog_only}) as ws:
        catalog = events(frames(ws, heartbeat_after(head)))
    assert catalog
    assert not any(f["event_type"].startswith("TimeEntry.") for f in catalog)


def test_a_member_sees_only_their_own_entries(fast: Api) -> None:
    api = fast
    mine = record(api, who="member")
    record(api, who="manager")
    with api.client.websocket_connect(f"{STREAM}?after=0", headers=api.as_("member")) as ws:
        got = events(frames(ws, heartbeat_after(api.world.ledger.head_position())))
    entries = {f["aggregate_id"] for f in got if f["event_type"].startswith("TimeEntry.")}
    assert entries == {str(mine)}


def test_without_credentials_the_socket_is_closed(api: Api) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, api.client.websocket_connect(STREAM) as ws:
        ws.receive_json()
    assert closed.value.code == 1008
    with (
        pytest.raises(WebSocketDisconnect) as bad,
        api.client.websocket_connect(f"{STREAM}?token=tl_x_y") as ws,
    ):
        ws.receive_json()
    assert bad.value.code == 1008


def test_heartbeats_carry_the_head_position(fast: Api) -> None:
    api = fast
    with api.client.websocket_connect(STREAM, headers=api.as_("owner")) as ws:
        beat = next(
            f
            for f in frames(ws, lambda s: any(f["type"] == "heartbeat" for f in s))
            if f["type"] == "heartbeat"
        )
    assert beat["head"] == api.world.ledger.head_position()
    assert beat["v"] == 1


def test_a_subscriber_whose_queue_fills_up_is_marked_to_resume() -> None:
    async def scenario() -> Subscriber:
        org = UUID(int=1)
        subscriber = Subscriber(
            org, frozenset({"read:entries"}), None, asyncio.get_running_loop(), max_queue=2
        )
        for position in range(1, 5):
            subscriber.offer(Item(position, "TimeEntry", Owner(org, None), "{}"))
        return subscriber

    subscriber = asyncio.run(scenario())
    assert subscriber.overflowed
    assert subscriber.queue.qsize() == 2


def test_random_disconnects_while_thousands_of_events_arrive_lose_and_double_nothing(fast: Api) -> None:
    api = fast
    ledger, world = api.world.ledger, api.world
    total = 1500
    written: list[UUID] = []

    def write() -> None:
        for i in range(total):
            written.append(
                ledger.record_entry(
                    org_id=world.org_id,
                    project_id=world.project_id,
                    start=NOW - timedelta(days=60) + timedelta(minutes=15 * i),
                    duration_seconds=600,
                    actor=world.owner,
                ).id
            )

    import random
    import threading

    writer = threading.Thread(target=write)
    writer.start()
    rng = random.Random(5)
    received: list[dict[str, Any]] = []
    after = 0
    headers = api.as_("owner")
    reconnects = 0
    while True:
        with api.client.websocket_connect(f"{STREAM}?after={after}", headers=headers) as ws:
            reconnects += 1
            budget = rng.randint(1, 400)
            while budget > 0:
                frame = ws.receive_json()
                if frame["type"] == "heartbeat":
                    if (
                        not writer.is_alive()
                        and frame["head"] == ledger.head_position()
                        and frame["position"] >= after
                    ):
                        budget = -1  # caught up with a finished writer
                    continue
                assert frame["position"] > after, "a duplicate or a step back"
                after = frame["position"]
                received.append(frame)
                budget -= 1
        if budget < 0:
            break
    writer.join()
    recorded = [f["aggregate_id"] for f in received if f["event_type"] == "TimeEntry.Recorded"]
    assert recorded == [str(i) for i in written]
    assert reconnects > 5
