"""A client too slow for the stream is closed with a `resume` frame and loses nothing.

This needs a real server and real sockets: only TCP back-pressure (the client stops
reading, its receive window fills, the server's sends wait) makes a subscriber's
queue fill up the way it does in production. The slow client speaks WebSocket
through the `websockets` sans-I/O protocol over a plain socket, so nothing reads
on its behalf while it is idle.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
import uvicorn
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.sync.client import connect
from websockets.uri import parse_uri

from tests.api.conftest import Api
from tests.conftest import NOW

EVENTS = 600
QUEUE = 20  # frames a subscriber may have waiting before it is told to resume


@pytest.fixture
def served(api: Api) -> Iterator[str]:
    app: Any = api.client.app
    app.state.stream_queue = QUEUE
    app.state.stream_heartbeat = 0.2
    # Accepted sockets inherit the listener's small send buffer: little hides in the kernel.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"ws://127.0.0.1:{port}/api/v1/stream"
    server.should_exit = True
    thread.join(20)
    listener.close()


class IdleClient:
    """A WebSocket client that reads only when told to."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.protocol = ClientProtocol(parse_uri(url))
        host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((host, int(port)))
        self.sock.settimeout(30)
        request = self.protocol.connect()
        for name, value in headers.items():
            request.headers[name] = value
        self.protocol.send_request(request)
        self._flush()
        while not any(isinstance(e, Response) for e in self._receive()):
            pass

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def _receive(self) -> list[Any]:
        data = self.sock.recv(65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        self._flush()  # answers pings and the closing handshake
        return self.protocol.events_received()

    def read_until_closed(self) -> tuple[list[dict[str, Any]], int | None]:
        frames: list[dict[str, Any]] = []
        while self.protocol.close_rcvd is None:
            for event in self._receive():
                if event.opcode is Opcode.TEXT:
                    frames.append(json.loads(event.data))
        self.sock.close()
        return frames, self.protocol.close_rcvd.code


def test_a_slow_client_is_told_where_to_resume_and_resuming_loses_and_doubles_nothing(
    api: Api, served: str
) -> None:
    world = api.world
    headers = api.as_("owner")
    written: list[UUID] = []
    slow = IdleClient(served, headers)
    for i in range(EVENTS):  # while the client reads nothing
        written.append(
            world.ledger.record_entry(
                org_id=world.org_id,
                project_id=world.project_id,
                start=NOW - timedelta(days=90) + timedelta(minutes=15 * i),
                duration_seconds=600,
                actor=world.owner,
            ).id
        )
    first, code = slow.read_until_closed()
    assert code == 1013  # "try again later"
    resume = first[-1]
    assert resume["type"] == "resume", first[-3:]
    before = [f for f in first if f["type"] == "event"]
    assert before, "the slow client got nothing before it was closed"
    assert len(before) < EVENTS, "the server buffered everything: no back-pressure was tested"
    assert resume["after"] == before[-1]["position"]

    head = world.ledger.head_position()
    rest: list[dict[str, Any]] = []
    with connect(f"{served}?after={resume['after']}", additional_headers=headers) as ws:
        while True:
            frame = json.loads(ws.recv(timeout=30))
            rest.append(frame)
            if frame["type"] == "heartbeat" and frame["head"] >= head:
                break
    after = [f for f in rest if f["type"] == "event"]
    positions = [f["position"] for f in before + after]
    assert positions == sorted(set(positions)), "a duplicate or a step back across the resume"
    recorded = [f["aggregate_id"] for f in before + after if f["event_type"] == "TimeEntry.Recorded"]
    assert recorded == [str(i) for i in written]
