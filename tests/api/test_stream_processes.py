"""Two server processes on one PostgreSQL: a stream on one sees every event written through the other."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import NOW, PG_URL, drop_pg_schema, new_pg_schema, require_postgres
from tests.test_cli import ROOT, WAIT_SECONDS, cli_env, free_port, timeledger, wait_for_health


@contextmanager
def server(home: Path, url: str) -> Iterator[str]:
    port = free_port()
    env = {**cli_env(home, url), "TIMELEDGER_EMBEDDED_PROJECTIONS": "on", "TIMELEDGER_API_RATE_LIMIT": "0"}
    log = home.parent / f"serve-{port}.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "timeledger.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for_health(base, log)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema: several server processes share PostgreSQL, not SQLite."""
    require_postgres()
    schema = new_pg_schema()
    try:
        yield f"{PG_URL}?schema={schema}"
    finally:
        drop_pg_schema(schema)


def test_a_stream_on_one_process_gets_every_event_written_through_the_other(
    pg_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    done = timeledger(
        home,
        "init",
        "--org",
        "Acme",
        "--email",
        "o@acme.test",
        "--password",
        "owner-password",
        "--print-token",
        database_url=pg_url,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    with server(home, pg_url) as reader, server(home, pg_url) as writer:
        project = httpx.post(f"{writer}/api/v1/projects", headers=headers, json={"name": "Site"}, timeout=10)
        assert project.status_code == 201, project.text
        stream_url = reader.replace("http://", "ws://") + f"/api/v1/stream?after=0&token={token}"
        with connect(stream_url, open_timeout=10) as ws:
            created = []
            for i in range(20):
                answer = httpx.post(
                    f"{writer}/api/v1/time-entries",
                    headers=headers,
                    json={
                        "project_id": project.json()["id"],
                        "start": (NOW - timedelta(days=3, minutes=-15 * i)).isoformat(),
                        "duration_seconds": 600,
                    },
                    timeout=10,
                )
                assert answer.status_code == 201, answer.text
                created.append(answer.json()["id"])
            received = []
            deadline = time.monotonic() + 30
            while len([f for f in received if f["event_type"] == "TimeEntry.Recorded"]) < len(created):
                assert time.monotonic() < deadline, f"got {len(received)} events"
                frame = json.loads(ws.recv(timeout=10))
                if frame["type"] == "event":
                    received.append(frame)
    positions = [f["position"] for f in received]
    assert positions == sorted(set(positions))
    assert [f["aggregate_id"] for f in received if f["event_type"] == "TimeEntry.Recorded"] == created
