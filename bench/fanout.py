"""Live-stream fan-out: many WebSocket clients on one server process, events at a steady rate.

Starts `timeledger serve` (SQLite, one process), opens CLIENTS stream connections
with one token, then records entries through the REST API at RATE per second.
Each client notes when each entry's event arrives; latency is arrival minus the
event's `recorded_at` (the server's clock when the command ran, same machine).
Prints p50/p99 and the server's memory, and writes them to docs/performance.md.

    python bench/fanout.py [--clients 1000] [--rate 10] [--seconds 20] [--client-processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe
from bench.report import write_section

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def client(url: str, token: str, arrivals: list[float], connected: list[int]) -> None:
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, max_queue=None) as ws:
        connected[0] += 1
        async for text in ws:
            now = time.time()
            frame = json.loads(text)
            if frame["type"] == "event" and frame["event_type"] == "TimeEntry.Recorded":
                recorded = datetime.fromisoformat(frame["recorded_at"]).timestamp()
                arrivals.append(now - recorded)


async def listen(url: str, token: str, clients: int, ready: Any, sent: Any, done: Any) -> list[float]:
    """One client process: open `clients` streams, then collect arrivals until all are in."""
    arrivals: list[float] = []
    connected = [0]
    tasks = []
    for _ in range(clients):
        tasks.append(asyncio.create_task(client(url, token, arrivals, connected)))
        await asyncio.sleep(0.004)  # do not stampede the accept queue
    while connected[0] < clients:
        await asyncio.sleep(0.05)
    ready.release()
    deadline = None
    while True:
        await asyncio.sleep(0.2)
        if done.is_set():
            deadline = deadline or time.monotonic() + 30
            if len(arrivals) >= sent.value * clients or time.monotonic() > deadline:
                break
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return arrivals


def client_process(url: str, token: str, clients: int, ready: Any, sent: Any, done: Any, out: Any) -> None:
    out.put(asyncio.run(listen(url, token, clients, ready, sent, done)))


async def post_entries(base: str, token: str, project_id: str, rate: float, seconds: float) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    start = datetime.now(UTC) - timedelta(days=30)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        began = time.monotonic()
        sent = 0
        while time.monotonic() - began < seconds:
            body = {
                "project_id": project_id,
                "start": (start + timedelta(minutes=15 * sent)).isoformat(),
                "duration_seconds": 600,
            }
            answer = await http.post("/api/v1/time-entries", json=body)
            answer.raise_for_status()
            sent += 1
            await asyncio.sleep(max(0.0, began + sent / rate - time.monotonic()))
    return sent


def run(
    base: str, token: str, project_id: str, clients: int, processes: int, rate: float, seconds: float
) -> tuple[list[float], int]:
    """Clients spread over `processes` (as devices are spread over machines), entries from here."""
    url = base.replace("http://", "ws://") + "/api/v1/stream"
    ready = multiprocessing.Semaphore(0)
    sent = multiprocessing.Value("i", 0)
    done = multiprocessing.Event()
    out: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
    shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    workers = [
        multiprocessing.Process(target=client_process, args=(url, token, share, ready, sent, done, out))
        for share in shares
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        if not ready.acquire(timeout=180):
            raise SystemExit("the clients did not all connect")
    count = asyncio.run(post_entries(base, token, project_id, rate, seconds))
    sent.value = count
    done.set()
    arrivals = [a for _ in workers for a in out.get(timeout=120)]
    for worker in workers:
        worker.join(30)
    missing = count * clients - len(arrivals)
    if missing:
        print(f"warning: {missing} deliveries missing", flush=True)
    return arrivals, count


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="entries recorded per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--client-processes", type=int, default=2, help="processes the clients are spread over"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELEDGER_") and k != "DATABASE_URL"}
        env.update(TIMELEDGER_HOME=home, TIMELEDGER_API_RATE_LIMIT="0", TIMELEDGER_LOG_LEVEL="warning")
        cli = [sys.executable, "-m", "timeledger.cli"]
        init = subprocess.run(
            [*cli, "init", "--print-token"], env=env, cwd=ROOT, capture_output=True, text=True
        )
        token = init.stdout.strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            headers = {"Authorization": f"Bearer {token}"}
            project_id = httpx.get(f"{base}/api/v1/projects", headers=headers).json()["items"][0]["id"]
            idle = rss_mib(server.pid)
            arrivals, _ = run(
                base, token, project_id, args.clients, args.client_processes, args.rate, args.seconds
            )
            loaded = rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    latencies = sorted(a * 1000 for a in arrivals)
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"{args.clients} clients, {args.rate:g} entries/s for {args.seconds:g} s: "
        f"{len(latencies):,} deliveries, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms; "
        f"server memory {idle:.0f} MiB idle, {loaded:.0f} MiB with the clients",
        flush=True,
    )
    row = (
        f"| {args.clients} | {len(latencies):,} | {p50:.1f} ms | {p99:.1f} ms | {latencies[-1]:.1f} ms "
        f"| {idle:.0f} MiB | {loaded:.0f} MiB |"
    )
    body = f"""## Live-stream fan-out (`bench/fanout.py`)

Measured {datetime.now(UTC):%Y-%m-%d} on: {describe()}.
One `timeledger serve` process (SQLite), {args.clients} WebSocket clients spread over
{args.client_processes} asyncio processes on the same machine, entries recorded through the REST API at
{args.rate:g}/s for {args.seconds:g} s. Latency = arrival at a client minus the event's
`recorded_at`. Target: p99 under 100 ms.

| clients | deliveries | p50 | p99 | max | server memory idle | with clients |
|---|---|---|---|---|---|---|
{row}
"""
    write_section("fanout", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
