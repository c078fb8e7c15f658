"""`audit verify`: passes on an untouched store, fails naming the event whose bytes changed."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from eventsourcing.utils import get_topic

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.audit import verify_log
from ledger.chain import GENESIS_HASH, event_hash
from tests.conftest import NOW, PG_URL, StoreHandle, World

ROOT = Path(__file__).resolve().parents[2]
EDITED = "ledger.time_entry:TimeEntry.Edited"


@dataclass(frozen=True)
class Row:
    """One stored event, as the database holds it."""

    position: int
    aggregate_id: UUID
    version: int
    topic: str
    state: bytes


def all_rows(ledger: TimeLedger) -> list[Row]:
    rows = ledger.recorder.select_notifications(start=1, limit=100_000)
    return [
        Row(n.id, UUID(str(n.originator_id)), n.originator_version, n.topic, bytes(n.state)) for n in rows
    ]


def row_of(ledger: TimeLedger, aggregate_id: UUID, version: int) -> Row:
    [row] = [r for r in all_rows(ledger) if (r.aggregate_id, r.version) == (aggregate_id, version)]
    return row


def rewrite(store: StoreHandle, ledger: TimeLedger, row: Row) -> None:
    """Store `row`'s topic and state at its position, directly in the database."""
    table = ledger.recorder.events_table_name
    values = (row.topic, row.state, row.position)
    if store.kind == "sqlite":
        with sqlite3.connect(store.env["SQLITE_DBNAME"]) as conn:
            cursor = conn.execute(f"UPDATE {table} SET topic = ?, state = ? WHERE rowid = ?", values)
            assert cursor.rowcount == 1
        conn.close()
        return
    with psycopg.connect(PG_URL, autocommit=True) as pg:
        pg.execute(f'SET search_path TO "{store.env["POSTGRES_SCHEMA"]}"')
        cursor = pg.execute(f"UPDATE {table} SET topic = %s, state = %s WHERE notification_id = %s", values)
        assert cursor.rowcount == 1


def run_audit(store: StoreHandle, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": store.url, "TIMELEDGER_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "timeledger.cli", "audit", "verify"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def entry_id(world: World) -> UUID:
    """An entry with three events, whose descriptions are easy to find in the stored bytes."""
    receipt = world.ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=NOW.replace(hour=9),
        end=NOW.replace(hour=11),
        description="First wording",
        actor=world.member,
    )
    for text in ("Second wording", "Third wording"):
        world.ledger.edit_entry(entry_id=receipt.id, description=text, actor=world.member)
    assert world.ledger.get_entry(receipt.id, world.member).version == 3
    return receipt.id


# --- an untouched store ---------------------------------------------------------


def test_verify_passes_on_an_untouched_store(
    store: StoreHandle, world: World, entry_id: UUID, tmp_path: Path
) -> None:
    rows = all_rows(world.ledger)
    aggregates = {r.aggregate_id for r in rows}
    result = verify_log(world.ledger)
    assert result.ok
    assert (result.events, result.aggregates, result.head) == (
        len(rows),
        len(aggregates),
        world.ledger.head_position(),
    )

    done = run_audit(store, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    first, *rest = done.stdout.strip().splitlines()
    assert first == (
        f"Audit passed: {len(rows)} events in {len(aggregates)} aggregates verified "
        f"(head position {world.ledger.head_position()})."
    )
    assert rest[-1].startswith(
        f"0 signed checkpoints compared; checkpoint written at position {world.ledger.head_position()} "
    )


def test_every_event_links_to_the_hash_of_its_predecessor(world: World, entry_id: UUID) -> None:
    aggregate_ids = dict.fromkeys(r.aggregate_id for r in all_rows(world.ledger))
    assert entry_id in aggregate_ids
    for aggregate_id in aggregate_ids:
        events = list(world.ledger.events.get(aggregate_id))
        previous = GENESIS_HASH
        for event in events:
            state = vars(event)
            assert re.fullmatch(r"[0-9a-f]{64}", state["hash"])
            assert state["prev_hash"] == previous
            assert state["hash"] == event_hash(
                topic=get_topic(type(event)),
                originator_id=aggregate_id,
                originator_version=state["originator_version"],
                state=state,
            )
            previous = state["hash"]
        assert len({vars(e)["hash"] for e in events}) == len(events)


def test_events_carry_actor_device_command_id_and_timestamp(world: World) -> None:
    assert world.member.user_id is not None
    laptop = Actor.user(world.member.user_id, device_id="laptop-1")
    receipt = world.ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=NOW.replace(hour=8),
        duration_seconds=1800,
        description="Standup",
        actor=laptop,
        command_id="cmd-standup-1",
    )
    expected = {
        "actor_kind": "user",
        "actor_user_id": world.member.user_id,
        "actor_token_id": None,
        "device_id": "laptop-1",
        "command_id": "cmd-standup-1",
        "timestamp": NOW,
    }
    [event] = world.ledger.events.get(receipt.id)
    assert {k: vars(event)[k] for k in expected} == expected

    [stored] = world.ledger.recorder.select_events(receipt.id)
    raw = world.ledger.mapper.transcoder.decode(stored.state)
    assert {k: raw[k] for k in expected} == expected
    assert raw["description"] == "Standup"
    assert raw["prev_hash"] == GENESIS_HASH
    assert raw["hash"] == vars(event)["hash"]

    [item] = world.ledger.entry_history(receipt.id, world.member)
    seen = (item.actor_kind, item.actor_user_id, item.device_id, item.command_id, item.recorded_at)
    assert seen == ("user", world.member.user_id, "laptop-1", "cmd-standup-1", NOW)


# --- tampering ------------------------------------------------------------------


def _replace(old: str, new: str) -> Callable[[Row], Row]:
    def change(row: Row) -> Row:
        assert row.state.count(old.encode()) == 1
        return replace(row, state=row.state.replace(old.encode(), new.encode()))

    return change


def _other_prev_hash(row: Row) -> Row:
    match = re.search(rb'"prev_hash":"([0-9a-f]{64})"', row.state)
    assert match is not None
    assert match.group(1) != GENESIS_HASH.encode()
    return replace(row, state=row.state.replace(match.group(1), GENESIS_HASH.encode()))


TAMPERINGS: dict[str, tuple[int, Callable[[Row], Row], str]] = {
    # name: (version of the entry's event to alter, the alteration, the reason audit gives)
    "value_in_middle_event": (2, _replace("Second wording", "Forged wording"), "was altered"),
    "value_in_last_event": (3, _replace("Third wording", "Forged wording"), "was altered"),
    "undecodable_bytes": (2, lambda row: replace(row, state=b"\xff\xfe\x00 not json"), "do not decode"),
    "truncated_bytes": (3, lambda row: replace(row, state=row.state[:-5]), "do not decode"),
    "topic_swapped": (
        2,
        lambda row: replace(row, topic="ledger.time_entry:TimeEntry.Deleted"),
        "was altered",
    ),
    "prev_hash_changed": (2, _other_prev_hash, "does not link"),
    "field_added": (3, lambda row: replace(row, state=row.state[:-1] + b',"billed":true}'), "was altered"),
    "billable_flipped": (1, _replace('"billable":true', '"billable":false'), "was altered"),
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_audit_fails_at_the_altered_event(
    store: StoreHandle, world: World, entry_id: UUID, tmp_path: Path, name: str
) -> None:
    version, alteration, reason = TAMPERINGS[name]
    row = row_of(world.ledger, entry_id, version)
    rewrite(store, world.ledger, alteration(row))

    result = verify_log(world.ledger)
    assert not result.ok
    assert result.first_break is not None
    assert (result.first_break.position, result.first_break.aggregate_id, result.first_break.version) == (
        row.position,
        entry_id,
        version,
    )
    assert reason in result.first_break.reason
    assert result.events == len([r for r in all_rows(world.ledger) if r.position <= row.position])

    done = run_audit(store, tmp_path / "home")
    assert done.returncode == 1, done.stdout + done.stderr
    first_line = done.stdout.splitlines()[0]
    assert first_line.startswith(f"Audit FAILED at event at position {row.position} (")
    assert str(entry_id) in first_line
    assert f"version {version}" in first_line
    assert reason in first_line
    assert f"{result.events - 1} events before it verified." in done.stdout


def test_a_forged_hash_breaks_the_chain_at_the_next_event(
    store: StoreHandle, world: World, entry_id: UUID, tmp_path: Path
) -> None:
    """Recomputing the altered event's own hash is not enough: its successor no longer links."""
    row = row_of(world.ledger, entry_id, 2)
    transcoder = world.ledger.mapper.transcoder
    state = transcoder.decode(row.state)
    state["description"] = "Forged wording"
    state["hash"] = event_hash(topic=row.topic, originator_id=entry_id, originator_version=2, state=state)
    rewrite(store, world.ledger, replace(row, state=transcoder.encode(state)))

    result = verify_log(world.ledger)
    assert result.first_break is not None
    following = row_of(world.ledger, entry_id, 3)
    assert (result.first_break.position, result.first_break.version) == (following.position, 3)
    assert "does not link" in result.first_break.reason

    done = run_audit(store, tmp_path / "home")
    assert done.returncode == 1
    assert f"position {following.position} ({EDITED}, aggregate {entry_id}, version 3)" in done.stdout


def test_a_deleted_middle_event_is_a_version_gap(store: StoreHandle, world: World, entry_id: UUID) -> None:
    row = row_of(world.ledger, entry_id, 2)
    table = world.ledger.recorder.events_table_name
    if store.kind == "sqlite":
        with sqlite3.connect(store.env["SQLITE_DBNAME"]) as conn:
            conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (row.position,))
        conn.close()
    else:
        with psycopg.connect(PG_URL, autocommit=True) as pg:
            pg.execute(f'SET search_path TO "{store.env["POSTGRES_SCHEMA"]}"')
            pg.execute(f"DELETE FROM {table} WHERE notification_id = %s", (row.position,))
    result = verify_log(world.ledger)
    assert result.first_break is not None
    assert (result.first_break.aggregate_id, result.first_break.version) == (entry_id, 3)
    assert "expected version 2" in result.first_break.reason
