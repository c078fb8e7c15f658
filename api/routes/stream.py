"""`GET /api/v1/stream?after=POSITION` (WebSocket): the organization's events, live and gapless.

First the events after `after` are replayed from the store, then new ones follow as
they commit. Every frame is JSON text (see `schemas/stream.py`, docs/api.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from api.auth import authenticate_socket, sees_everyone
from api.problems import ApiProblem
from api.stream_hub import StreamHub, Subscriber
from schemas.stream import Heartbeat, Resume

router = APIRouter()
HEARTBEAT_SECONDS = 15.0
# Closing codes: 1008 policy (authentication), 1013 try again later (too slow).
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


async def _until_closed(websocket: WebSocket) -> None:
    """Return when the client closes (anything it sends meanwhile is ignored)."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


@router.websocket("/stream")
async def stream(
    websocket: WebSocket,
    after: Annotated[int | None, Query(ge=0, description="last position the client has")] = None,
) -> None:
    hub: StreamHub = websocket.app.state.stream_hub
    try:
        principal = await asyncio.to_thread(authenticate_socket, websocket)
        everyone = sees_everyone(principal)
    except ApiProblem as problem:
        await websocket.close(code=POLICY_VIOLATION, reason=f"{problem.code}: {problem.detail}"[:120])
        return
    await websocket.accept()
    subscriber = Subscriber(
        org_id=principal.org_id,
        scopes=frozenset(principal.scopes),
        only_member=None if everyone else principal.user_id,
        loop=asyncio.get_running_loop(),
        max_queue=websocket.app.state.stream_queue,
    )
    live_from = await asyncio.to_thread(hub.subscribe, subscriber)
    sent = live_from if after is None else min(after, live_from)
    try:
        # What the client missed, from the store, then what the hub queued meanwhile.
        while sent < live_from:
            items, sent = await asyncio.to_thread(hub.replay_page, sent, live_from)
            for item in items:
                if subscriber.sees(item):
                    await websocket.send_text(item.frame)
        sent = max(sent, after or 0)
        heartbeat = websocket.app.state.stream_heartbeat
        # Watch the client too: a closed socket ends the stream now, not at the next heartbeat.
        closed = asyncio.create_task(_until_closed(websocket))
        closed.add_done_callback(lambda _: subscriber.close())
        try:
            while not subscriber.closed:
                if subscriber.overflowed and subscriber.queue.empty():
                    reason = "the connection fell too far behind; reconnect with after"
                    await websocket.send_text(Resume(after=sent, reason=reason).model_dump_json())
                    await websocket.close(code=TRY_AGAIN_LATER, reason="too slow; resume")
                    return
                try:
                    async with asyncio.timeout(heartbeat):
                        live = await subscriber.queue.get()
                except TimeoutError:
                    beat = Heartbeat(head=hub.position, position=sent)
                    await websocket.send_text(beat.model_dump_json())
                    continue
                if live is None or live.position <= sent:
                    continue  # closed, or the client has it already (it asked for a later `after`)
                await websocket.send_text(live.frame)
                sent = live.position
        finally:
            closed.cancel()
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(subscriber)
        # The client may be gone already; closing is then nothing to report.
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()
