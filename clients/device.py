"""This device as `tl` sees it: its login, its client, its offline queue and its catalog cache."""

from __future__ import annotations

import json
import socket
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from clients import times
from clients.calls import Call, model
from clients.config import CliError, Config, config_dir, ensure_dir
from clients.errors import ApiError, ServerUnreachable
from clients.names import Catalog
from clients.offline import OfflineQueue, Queued
from clients.retry import RetryPolicy
from clients.sdk import TimeLedgerClient
from schemas.entries import TimeEntry

# A command line should find out quickly that it is offline: two quick retries, then the queue.
CLI_RETRY = RetryPolicy(retries=2, backoff=0.2, max_backoff=1.0, max_retry_after=10.0)
CLI_TIMEOUT = httpx.Timeout(15.0, connect=3.0)
PATHS = {"start": "/timer/start", "stop": "/timer/stop", "log": "/time-entries"}
TIMER_FILE = "timer.json"


def new_client(url: str, token: str) -> TimeLedgerClient:
    device = f"tl@{socket.gethostname()}".encode("ascii", "replace").decode()[:100]
    return TimeLedgerClient(url, token, timeout=CLI_TIMEOUT, retry=CLI_RETRY, device_id=device)


def rejectable(error: ApiError) -> bool:
    """A refusal of the command itself (kept as rejected), not of the token or the moment."""
    return 400 <= error.status < 500 and error.status not in (401, 408, 429)


def explain(error: ApiError) -> str:
    if error.status == 401:
        return f"The server refused the token ({error.detail.rstrip('.')}); run `tl login URL` again."
    return error.detail


@dataclass
class SyncReport:
    sent: list[Queued] = field(default_factory=list)
    rejected: list[Queued] = field(default_factory=list)
    left: int = 0


class Device:
    """The logged-in device; `online` is None until the server answered or failed to."""

    def __init__(self, folder: Path, config: Config) -> None:
        self.folder = folder
        self.config = config
        self.client = new_client(config.url, config.token)
        self.queue = OfflineQueue(folder)
        self.online: bool | None = None

    @classmethod
    def open(cls) -> Device:
        folder = ensure_dir(config_dir())
        return cls(folder, Config.load(folder))

    def close(self) -> None:
        self.client.close()

    def require_online(self, what: str) -> None:
        if self.online is False:
            raise CliError(f"The server at {self.config.url} cannot be reached, and {what} needs it.")

    # --- the queue ---------------------------------------------------------------------

    def replay(self, item: Queued) -> TimeEntry:
        call = Call("POST", PATHS[item.kind], model(TimeEntry), body=item.body, idempotency_key=item.id)
        return self.client.send(call)

    def sync(self) -> SyncReport:
        """Replay the pending commands in order; a refused one is kept as rejected, never dropped.

        A queued stop that followed a refused start is not sent: it was meant for the timer
        that start would have made, and sending it would stop whatever runs on the server
        now (say, a timer started on another device meanwhile).
        """
        report = SyncReport()
        refused_start: Queued | None = None
        for item in self.queue.pending():
            if item.kind == "start":
                refused_start = None
            elif item.kind == "stop" and refused_start is not None:
                problem = (
                    f"Not sent: it stops the timer of queued start {refused_start.short}, "
                    "which the server refused."
                )
                self.queue.reject(item.id, problem)
                report.rejected.append(item)
                print(
                    f"tl: queued command {item.short} ({item.summary}) {problem[0].lower()}{problem[1:]}",
                    file=sys.stderr,
                )
                continue
            try:
                self.replay(item)
            except ServerUnreachable:
                self.online = False
                break
            except ApiError as error:
                if not rejectable(error):
                    raise CliError(f"Syncing stopped: {explain(error)}") from None
                self.online = True
                self.queue.reject(item.id, error.detail)
                report.rejected.append(item)
                if item.kind == "start":
                    refused_start = item
                print(
                    f"tl: the server refused queued command {item.short} ({item.summary}): {error.detail} "
                    f"It is kept; see `tl status`.{self._server_timer_note(item)}",
                    file=sys.stderr,
                )
                continue
            self.online = True
            self.queue.done(item.id)
            report.sent.append(item)
        report.left = len(self.queue.pending())
        return report

    def _server_timer_note(self, item: Queued) -> str:
        """For a refused start or stop: what runs on the server now, which explains most refusals."""
        if item.kind not in ("start", "stop"):
            return ""
        try:
            running = self.client.timer()
        except (ServerUnreachable, ApiError):
            return ""
        if running is None:
            return " No timer runs on the server now."
        catalog = Catalog.load(self.folder)
        return (
            f" On the server, a timer on {catalog.project_name(running.project_id)} runs since "
            f"{times.clock(running.start)}."
        )

    # --- the last timer the server showed ---------------------------------------------------

    def remember_timer(self, running: TimeEntry | None) -> None:
        """Keep what the server said about the timer, for `tl status` while it is out of reach."""
        known = {
            "as_of": times.now().isoformat(),
            "entry": running.model_dump(mode="json") if running else None,
        }
        (self.folder / TIMER_FILE).write_text(json.dumps(known), encoding="utf-8")

    def last_known_timer(self) -> tuple[datetime, TimeEntry | None] | None:
        try:
            known = json.loads((self.folder / TIMER_FILE).read_text(encoding="utf-8"))
            entry = TimeEntry.model_validate(known["entry"]) if known["entry"] else None
            return datetime.fromisoformat(known["as_of"]), entry
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def sync_first(self) -> SyncReport:
        """What every command does first: send what was queued, when there is something."""
        report = self.sync()
        if report.sent:
            count = len(report.sent)
            print(f"Sent {count} queued command{'s' if count != 1 else ''} to the server.")
        return report

    def submit(self, kind: str, body: dict[str, Any], summary: str) -> TimeEntry | Queued:
        """Send a command, or queue it when the server is out of reach (or older commands still wait)."""
        command_id = str(uuid.uuid4())
        if self.online is False or self.queue.pending():
            return self.queue.add(kind, body, summary, command_id)
        try:
            entry = self.replay(Queued(command_id, kind, body, summary, ""))
        except ServerUnreachable:
            self.online = False
            return self.queue.add(kind, body, summary, command_id)
        self.online = True
        return entry

    # --- names -------------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """Projects and tasks: fresh from the server when it answers, else the cache."""
        if self.online is not False:
            try:
                found = Catalog.fetch(self.client, self.folder)
            except ServerUnreachable:
                self.online = False
            except ApiError as error:
                if error.status == 401:
                    raise CliError(explain(error)) from None
                self.online = True  # it answered, only not with the catalog (a token without read:catalog)
            else:
                self.online = True
                return found
        return Catalog.load(self.folder)
