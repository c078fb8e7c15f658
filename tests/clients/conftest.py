"""A real `timeledger serve` for the SDK and `tl` tests, plus a loopback proxy that can break links."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PG_URL, drop_pg_schema, new_pg_schema, require_postgres
from tests.test_cli import ROOT, WAIT_SECONDS, cli_env, free_port, init, wait_for_health


class Server:
    """`timeledger serve` on one fixed loopback port, so it can be stopped and started again."""

    def __init__(self, home: Path, database_url: str | None = None) -> None:
        self.home = home
        self.database_url = database_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = init(home, "Acme", "olive@acme.test", database_url=database_url)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = home.parent / f"serve-{self.port}.log"

    def start(self) -> Server:
        env = {
            **cli_env(self.home, self.database_url),
            "TIMELEDGER_API_RATE_LIMIT": "0",
            "TIMELEDGER_EMBEDDED_PROJECTIONS": "on",
        }
        with self.log.open("a", encoding="utf-8") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "timeledger.cli", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for_health(self.base, self.log)
        self.wait_for_token(self.token)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        # A stream handler notices a closed socket only at its next heartbeat (15 s), and uvicorn's
        # graceful shutdown waits for it: after a moment, a second signal makes uvicorn quit at once.
        self.process.terminate()
        for signal_number in (signal.SIGINT, signal.SIGKILL):
            try:
                self.process.wait(timeout=2)
                break
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal_number)
        self.process.wait(timeout=WAIT_SECONDS)
        self.process = None

    def wait_for_token(self, token: str) -> None:
        """The read models learn of a token from the log: wait until it is accepted."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            answer = httpx.get(f"{self.base}/api/v1/me", headers=bearer(token), timeout=5)
            if answer.status_code == 200:
                return
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.1)

    def head(self) -> int:
        return int(httpx.get(f"{self.base}/healthz", timeout=5).json()["head_position"])

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = httpx.request(
            method, f"{self.base}/api/v1{path}", headers=bearer(self.token), timeout=10, **kwargs
        )
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None

    def member(self, name: str) -> str:
        """A new member of the organization and an API token of theirs."""
        email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@acme.test"
        person = self.admin("POST", "/members", json={"email": email, "name": name, "role": "member"})
        scopes = ["read:entries", "write:entries", "read:catalog", "read:reports"]
        issued = self.admin(
            "POST", "/tokens", json={"name": "laptop", "scopes": scopes, "user_id": person["user_id"]}
        )
        token = str(issued["token"])
        self.wait_for_token(token)
        return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One SQLite-backed server per test module, with the projects Website, Webshop and Backoffice."""
    running = Server(tmp_path_factory.mktemp("server") / "home").start()
    try:
        for name in ("Website", "Webshop", "Backoffice"):
            project = running.admin("POST", "/projects", json={"name": name})
            running.admin("POST", "/tasks", json={"project_id": project["id"], "name": "Design"})
        yield running
    finally:
        running.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_postgres()
    schema = new_pg_schema()
    try:
        yield f"{PG_URL}?schema={schema}"
    finally:
        drop_pg_schema(schema)


class Proxy:
    """A loopback TCP proxy: `cut()` drops every open link; `swallow_next_answer()` lets the server
    answer the next request but closes the link before the client hears it."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.links: list[socket.socket] = []
        self.accepted = 0
        self.to_swallow = 0
        self.swallowed = 0
        self.sent_upstream = bytearray()
        self.lock = threading.Lock()
        self.running = True
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def idempotency_keys(self) -> list[str]:
        with self.lock:
            return re.findall(r"(?im)^idempotency-key: (\S+)\r$", self.sent_upstream.decode("latin-1"))

    def swallow_next_answer(self) -> None:
        with self.lock:
            self.to_swallow += 1

    def cut(self) -> None:
        with self.lock:
            links, self.links = self.links, []
        for link in links:
            _close(link)

    def close(self) -> None:
        self.running = False
        self.cut()
        for thread in list(self.threads):
            thread.join(timeout=5)
        self.listener.close()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.accepted += 1
                self.links += [client, upstream]
            for source, sink, up in ((client, upstream, True), (upstream, client, False)):
                thread = threading.Thread(target=self._pump, args=(source, sink, up), daemon=True)
                self.threads.append(thread)
                thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                with self.lock:
                    swallow = not upstream and self.to_swallow > 0
                    if swallow:
                        self.to_swallow -= 1
                        self.swallowed += 1
                    if upstream:
                        self.sent_upstream += data
                if swallow:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(link: socket.socket) -> None:
    with contextlib.suppress(OSError):
        link.shutdown(socket.SHUT_RDWR)
    link.close()


@pytest.fixture
def proxy(server: Server) -> Iterator[Proxy]:
    front = Proxy(server.port)
    try:
        yield front
    finally:
        front.close()


Tl = Callable[..., tuple[int, str, str]]


@pytest.fixture
def tl(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Tl:
    """Run `tl …` in this process with its own config folder; answer (exit code, stdout, stderr)."""
    from clients.tl import main

    monkeypatch.setenv("TL_CONFIG_DIR", str(tmp_path / "tl-config"))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
