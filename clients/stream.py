"""The live stream over WebSocket: iterate events, reconnecting from the last position seen."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from websockets.asyncio.client import connect as aconnect
from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException
from websockets.sync.client import connect

from clients.errors import ApiError, ServerUnreachable
from schemas.stream import StreamEvent

STREAM_PATH = "/api/v1/stream"


@dataclass(frozen=True)
class StreamOptions:
    """How patient the stream is: a silent connection is dropped after `idle_timeout` (the server
    sends a heartbeat every 15 s); reconnects back off up to `max_backoff`; after `max_failures`
    failed connects in a row (None: never) it raises ServerUnreachable."""

    idle_timeout: float = 45.0
    open_timeout: float = 10.0
    backoff: float = 0.2
    max_backoff: float = 5.0
    max_failures: int | None = None

    def delay(self, failures: int) -> float:
        return 0.0 if failures == 0 else min(self.backoff * 2.0 ** (failures - 1), self.max_backoff)


class Tracker:
    """Where the stream stands: the last position seen, so a reconnect neither skips nor repeats."""

    def __init__(self, base_url: str, after: int | None) -> None:
        self.base = base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + STREAM_PATH
        self.after = after

    def url(self) -> str:
        return self.base if self.after is None else f"{self.base}?after={self.after}"

    def take(self, text: str | bytes) -> tuple[StreamEvent | None, bool]:
        """Read one frame: the new event it carries (if any), and whether the server asks to reconnect."""
        frame: Any = json.loads(text)
        if not isinstance(frame, dict):
            return None, False
        kind = frame.get("type")
        if kind == "event":
            event = StreamEvent.model_validate(frame)
            if self.after is not None and event.position <= self.after:
                return None, False
            self.after = event.position
            return event, False
        if kind == "heartbeat":
            self._advance(frame.get("position"))
        elif kind == "resume":
            self._advance(frame.get("after"))
            return None, True
        return None, False

    def _advance(self, position: object) -> None:
        if isinstance(position, int) and (self.after is None or position > self.after):
            self.after = position


def refused(error: InvalidStatus) -> ApiError | None:
    """A handshake the server refused for good (401, 403, 404): no point in reconnecting."""
    status = error.response.status_code
    if 400 <= status < 500 and status not in (408, 429):
        detail = error.response.body.decode("utf-8", "replace").strip() if error.response.body else ""
        return ApiError(status, "stream-refused", detail or f"The server refused the stream ({status}).")
    return None


def _give_up(options: StreamOptions, failures: int, url: str, error: Exception | None) -> None:
    if options.max_failures is not None and failures >= options.max_failures:
        raise ServerUnreachable(f"The stream at {url} cannot be reached: {error}.") from error


def iterate(
    base_url: str,
    headers: dict[str, str],
    after: int | None,
    options: StreamOptions,
    *,
    trust_env: bool = True,
) -> Iterator[StreamEvent]:
    tracker = Tracker(base_url, after)
    failures = 0
    proxy: Literal[True] | None = True if trust_env else None
    while True:
        time.sleep(options.delay(failures))
        error: Exception | None = None
        try:
            with connect(
                tracker.url(), additional_headers=headers, open_timeout=options.open_timeout, proxy=proxy
            ) as socket:
                while True:
                    event, resume = tracker.take(socket.recv(timeout=options.idle_timeout))
                    failures = 0
                    if resume:
                        break
                    if event is not None:
                        yield event
        except InvalidStatus as status:
            error = refused(status) or status
            if isinstance(error, ApiError):
                raise error from status
        except InvalidURI:
            raise
        except (OSError, TimeoutError, WebSocketException) as lost:
            error = lost
        failures += 1
        _give_up(options, failures, base_url, error)


async def aiterate(
    base_url: str,
    headers: dict[str, str],
    after: int | None,
    options: StreamOptions,
    *,
    trust_env: bool = True,
) -> AsyncIterator[StreamEvent]:
    tracker = Tracker(base_url, after)
    failures = 0
    proxy: Literal[True] | None = True if trust_env else None
    while True:
        await asyncio.sleep(options.delay(failures))
        error: Exception | None = None
        try:
            async with aconnect(
                tracker.url(), additional_headers=headers, open_timeout=options.open_timeout, proxy=proxy
            ) as socket:
                while True:
                    text = await asyncio.wait_for(socket.recv(), options.idle_timeout)
                    event, resume = tracker.take(text)
                    failures = 0
                    if resume:
                        break
                    if event is not None:
                        yield event
        except InvalidStatus as status:
            error = refused(status) or status
            if isinstance(error, ApiError):
                raise error from status
        except InvalidURI:
            raise
        except (OSError, TimeoutError, WebSocketException) as lost:
            error = lost
        failures += 1
        _give_up(options, failures, base_url, error)
