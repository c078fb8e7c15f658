"""Rebuild every read model from a large log: events per second and peak memory.

Generates a year of a 200-person company's time (500 projects, entries with
edits, deletions and timers) as real events through the domain model, saved in
large appends, then rebuilds all read models from position 0 in a fresh
process and measures it. Results go to stdout and docs/performance.md.

    python bench/projection_replay.py [--events 1000000] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench.machine import describe
from bench.report import write_section
from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.base import CommandContext
from ledger.passwords import Passwords
from ledger.store import store_config
from ledger.time_entry import EntryDetails, TimeEntry

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
YEAR_START = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)


def generate(ledger: TimeLedger, events: int, seed: int = 7) -> int:
    """Append about `events` events: a catalogue through commands, entries in bulk appends."""
    rng = random.Random(seed)
    created = ledger.create_organization(
        name="Bench Co",
        owner_email="owner@bench.test",
        owner_name="Owner",
        owner_password="bench-password",
        settings={"timezone": "Europe/Berlin"},
    )
    org_id, owner = created.id, Actor.user(created.related[0])
    members = [created.related[0]]
    for i in range(199):
        members.append(
            ledger.add_member(
                org_id=org_id, email=f"m{i}@bench.test", name=f"Member {i}", role="member", actor=owner
            ).id
        )
    clients = [ledger.create_client(org_id=org_id, name=f"Client {i}", actor=owner).id for i in range(50)]
    projects = [
        ledger.create_project(
            org_id=org_id,
            name=f"Project {i}",
            client_id=clients[i % 50],
            budget_seconds=2000 * 3600,
            actor=owner,
        ).id
        for i in range(500)
    ]
    ledger.set_rate(org_id=org_id, level="organization", amount_minor=9000, actor=owner)
    for i in range(0, 500, 10):
        ledger.set_rate(
            org_id=org_id, level="project", project_id=projects[i], amount_minor=12000, actor=owner
        )
    pending: list[TimeEntry] = []
    count = ledger.head_position()
    day = 0
    while count < events:
        for member in members:
            actor = Actor.user(member)
            for slot in range(3):
                start = YEAR_START + timedelta(days=day, hours=slot * 3, minutes=rng.randrange(30))
                ctx = CommandContext(actor=actor, command_id=None, recorded_at=start + timedelta(hours=3))
                details = EntryDetails(
                    rng.choice(projects), None, f"work {day}/{slot}", ("bench",), rng.random() < 0.8
                )
                if rng.random() < 0.5:
                    entry = TimeEntry.start_timer(
                        ctx, org_id=org_id, member_id=member, details=details, at=start
                    )
                    if rng.random() < 0.2:
                        entry.pause(ctx, start + timedelta(minutes=40))
                        entry.resume(ctx, start + timedelta(minutes=50))
                    entry.stop(ctx, start + timedelta(hours=2, minutes=rng.randrange(50)), 86400)
                else:
                    entry = TimeEntry.record(
                        ctx,
                        org_id=org_id,
                        member_id=member,
                        details=details,
                        start=start,
                        end=start + timedelta(hours=2),
                        break_seconds=0,
                    )
                roll = rng.random()
                if roll < 0.3:
                    entry.edit(
                        ctx,
                        details=EntryDetails(
                            details.project_id, None, "corrected", ("bench", "fix"), details.billable
                        ),
                        start=entry.start,
                        end=entry.end,
                        break_seconds=600,
                        max_seconds=86400,
                    )
                elif roll < 0.35:
                    entry.delete(ctx)
                count += len(entry.pending_events)
                pending.append(entry)
            if len(pending) >= 600:
                ledger.save(*pending)
                pending.clear()
        day += 1
    if pending:
        ledger.save(*pending)
    return ledger.head_position()


REBUILD_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from ledger.application import TimeLedger
from ledger.store import StoreConfig
from projections.database import readmodel_engine
from projections.models import ALL
from projections.operations import rebuild, rebuild_many
env = json.loads({env!r})
store = StoreConfig(kind={kind!r}, env=env, description="bench")
ledger = TimeLedger(env)
engine = readmodel_engine(store)
times = {{}}
for model in ALL:
    began = time.perf_counter()
    rebuild(ledger, engine, model)
    times[model.name] = time.perf_counter() - began
began = time.perf_counter()
rebuild_many(ledger, engine, ALL)
together = time.perf_counter() - began
print(json.dumps({{"times": times, "together": together,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def measure(kind: str, events: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if kind == "sqlite":
            config = store_config(f"sqlite:///{tmp}/bench.db", Path(tmp))
        else:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            config = store_config(f"{PG_URL}?schema={schema}", Path(tmp))
        try:
            ledger = TimeLedger(config.env, passwords=Passwords.fast_for_tests())
            began = time.perf_counter()
            head = generate(ledger, events)
            generated_in = time.perf_counter() - began
            ledger.close()
            print(f"{kind}: generated {head:,} events in {generated_in:.0f} s", flush=True)
            child = REBUILD_CHILD.format(
                root=str(Path(__file__).resolve().parent.parent), env=json.dumps(config.env), kind=config.kind
            )
            out = subprocess.run(
                [sys.executable, "-c", child],
                capture_output=True,
                text=True,
                check=True,
                env=dict(os.environ),
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            if schema:
                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    result.update(kind=kind, head=head)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    rows = []
    pg_version = None
    for kind in args.stores.split(","):
        result = measure(kind, args.events)
        times: dict[str, float] = result["times"]  # type: ignore[assignment]
        head = int(result["head"])  # type: ignore[call-overload]
        total = float(result["together"])  # type: ignore[arg-type]
        peak = int(result["peak_kib"]) / 1024  # type: ignore[call-overload]
        for name, seconds in times.items():
            print(f"{kind:9} {name:10} {head / seconds:9,.0f} events/s ({seconds:.1f} s)")
        print(
            f"{kind:9} {'all':10} {head / total:9,.0f} events/s, all read models in one pass, "
            f"peak memory {peak:.0f} MiB",
            flush=True,
        )
        rows.append((kind, head, times, total, peak))
        if kind == "postgresql" or kind == "postgres":
            with psycopg.connect(PG_URL) as conn:
                pg_version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    table = "\n".join(
        f"| {kind} | {head:,} | "
        + " | ".join(f"{head / times[n]:,.0f}" for n in times)
        + f" | {head / total:,.0f} | {total:.0f} | {peak:.0f} |"
        for kind, head, times, total, peak in rows
    )
    names = list(rows[0][2]) if rows else []
    body = f"""## Read-model rebuild from position 0 (`bench/projection_replay.py`)

Measured {datetime.now(UTC):%Y-%m-%d} on: {describe(pg_version)}.
A year of a 200-member company: 500 projects, timers (some paused), manual entries,
30 % edited, 5 % deleted. Each read model is rebuilt from position 0 into new tables
(batches of 5,000 events, one transaction each) in a fresh process: first each
read model alone, then all of them in one pass over the log (`projections rebuild --all`),
which decodes each event once. Events/s = events in the log / seconds.

| store | events | {" | ".join(names)} | all in one pass, events/s | all, s | peak MiB |
|---|---:|{"---:|" * len(names)}---:|---:|---:|
{table}
"""
    write_section("projection-replay", body)
    print("\nWritten to docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
