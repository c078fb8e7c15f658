"""Commands per second through the application layer (no HTTP): the append-path baseline.

Timer start/stop pairs and manual entries, from 1 and 8 threads (each thread is
its own member, as on a real team), on SQLite and PostgreSQL, with p50/p99
latency per command. Results go to stdout and docs/performance.md.

    python bench/append.py [--commands N] [--threads 1,8] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench.machine import describe
from bench.report import write_section
from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.passwords import Passwords
from ledger.store import store_config

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Result:
    store: str
    workload: str
    threads: int
    commands: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.commands / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def setup(ledger: TimeLedger, members: int) -> tuple[uuid.UUID, list[Actor], uuid.UUID]:
    org = ledger.create_organization(
        name="Bench",
        owner_email=f"owner-{uuid.uuid4().hex[:6]}@bench.test",
        owner_name="Owner",
        owner_password="bench-password",
    )
    owner = Actor.user(org.related[0])
    actors = [owner]
    for i in range(members - 1):
        added = ledger.add_member(
            org_id=org.id,
            email=f"m{i}-{uuid.uuid4().hex[:6]}@bench.test",
            name=f"Member {i}",
            role="member",
            actor=owner,
        )
        actors.append(Actor.user(added.id))
    project = ledger.create_project(org_id=org.id, name="Bench", actor=owner)
    return org.id, actors, project.id


def run(
    ledger: TimeLedger,
    threads: int,
    per_thread: int,
    command: Callable[[TimeLedger, uuid.UUID, Actor, uuid.UUID, int], None],
    store: str,
    workload: str,
) -> Result:
    org_id, actors, project_id = setup(ledger, threads)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            began = time.perf_counter()
            command(ledger, org_id, actors[n], project_id, i)
            latencies[n].append(time.perf_counter() - began)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - began
    flat = [x for xs in latencies for x in xs]
    return Result(store, workload, threads, len(flat), elapsed, flat)


def timer_command(ledger: TimeLedger, org_id: uuid.UUID, actor: Actor, project_id: uuid.UUID, i: int) -> None:
    if i % 2 == 0:
        ledger.start_timer(org_id=org_id, project_id=project_id, actor=actor)
    else:
        ledger.stop_timer(org_id=org_id, actor=actor)


BASE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def manual_command(
    ledger: TimeLedger, org_id: uuid.UUID, actor: Actor, project_id: uuid.UUID, i: int
) -> None:
    start = BASE + timedelta(hours=2 * i)
    ledger.record_entry(
        org_id=org_id,
        project_id=project_id,
        start=start,
        duration_seconds=3600,
        description="bench",
        actor=actor,
    )


def open_store(kind: str, tmp: Path) -> tuple[dict[str, str], Callable[[], None], str | None]:
    if kind == "sqlite":
        return store_config(f"sqlite:///{tmp / 'bench.db'}", tmp).env, lambda: None, None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]

    def drop() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    return store_config(f"{PG_URL}?schema={schema}", tmp).env, drop, version


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=400, help="commands per configuration")
    parser.add_argument("--threads", default="1,8")
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    results: list[Result] = []
    pg_version = None
    for kind in args.stores.split(","):
        for threads in (int(t) for t in args.threads.split(",")):
            for workload, command in (("timer start/stop", timer_command), ("manual entry", manual_command)):
                with tempfile.TemporaryDirectory() as tmp:
                    env, drop, version = open_store(kind, Path(tmp))
                    pg_version = version or pg_version
                    ledger = TimeLedger(env, passwords=Passwords.fast_for_tests())
                    try:
                        per_thread = max(2, args.commands // threads // 2 * 2)
                        result = run(ledger, threads, per_thread, command, kind, workload)
                    finally:
                        ledger.close()
                        drop()
                results.append(result)
                print(
                    f"{kind:9} {workload:17} {threads:2} threads: {result.rate:7.0f} commands/s, "
                    f"p50 {result.percentile(0.5):6.1f} ms, p99 {result.percentile(0.99):6.1f} ms "
                    f"({result.commands} commands)",
                    flush=True,
                )
    machine = describe(pg_version)
    rows = "\n".join(
        f"| {r.store} | {r.workload} | {r.threads} | {r.rate:,.0f} | {r.percentile(0.5):.1f} | "
        f"{r.percentile(0.99):.1f} | {r.commands} |"
        for r in results
    )
    body = f"""## Append path through the application layer (`bench/append.py`)

Measured {datetime.now(UTC):%Y-%m-%d} on: {machine}.
Each thread is a different member of one organization; a timer command is a start or a stop.

| store | workload | threads | commands/s | p50 ms | p99 ms | commands |
|---|---|---:|---:|---:|---:|---:|
{rows}
"""
    write_section("append", body)
    print("\nWritten to docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
