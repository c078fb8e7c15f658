"""`audit verify` on a log whose order was broken: a removed event, an altered one, a reordered one."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from ledger.audit import verify_log
from tests.conftest import NOW, PG_URL, StoreHandle, World
from tests.ledger.test_audit import Row, all_rows, rewrite, row_of, run_audit


def execute(store: StoreHandle, sqlite_sql: str, pg_sql: str, values: tuple[object, ...]) -> None:
    """Run one statement directly on the test's event store, as someone with database access could."""
    if store.kind == "sqlite":
        with sqlite3.connect(store.env["SQLITE_DBNAME"]) as conn:
            assert conn.execute(sqlite_sql, values).rowcount == 1
        conn.close()
        return
    with psycopg.connect(PG_URL, autocommit=True) as pg:
        pg.execute(f'SET search_path TO "{store.env["POSTGRES_SCHEMA"]}"')
        assert pg.execute(pg_sql, values).rowcount == 1


def delete_row(store: StoreHandle, table: str, position: int) -> None:
    execute(
        store,
        f"DELETE FROM {table} WHERE rowid = ?",
        f"DELETE FROM {table} WHERE notification_id = %s",
        (position,),
    )


def put_row(store: StoreHandle, table: str, position: int, row: Row) -> None:
    """Store `row`'s aggregate, version, topic and state at `position`."""
    originator = row.aggregate_id.hex if store.kind == "sqlite" else row.aggregate_id
    columns = "originator_id = {0}, originator_version = {0}, topic = {0}, state = {0}"
    execute(
        store,
        f"UPDATE {table} SET {columns.format('?')} WHERE rowid = ?",
        f"UPDATE {table} SET {columns.format('%s')} WHERE notification_id = %s",
        (originator, row.version, row.topic, row.state, position),
    )


def swap_rows(store: StoreHandle, table: str, first: Row, second: Row) -> None:
    """Exchange two stored events' places in the log (via a free version, for the unique index)."""
    put_row(store, table, first.position, replace(first, version=1_000_000))
    put_row(store, table, second.position, first)
    put_row(store, table, first.position, second)


def three_event_entry(world: World) -> UUID:
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
    return receipt.id


@pytest.fixture
def entry_id(world: World) -> UUID:
    """An entry with three events, followed in the log by another entry's event."""
    entry_id = three_event_entry(world)
    world.ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=NOW.replace(hour=12),
        end=NOW.replace(hour=13),
        description="Later work",
        actor=world.member,
    )
    return entry_id


def test_a_removed_event_leaves_a_gap_in_the_positions(
    store: StoreHandle, world: World, entry_id: UUID, tmp_path: Path
) -> None:
    """The entry's last event is removed: its chain still verifies, the log's positions do not."""
    removed = row_of(world.ledger, entry_id, 3)
    assert removed.position < world.ledger.head_position()
    delete_row(store, world.ledger.recorder.events_table_name, removed.position)

    result = verify_log(world.ledger)
    assert result.first_break is not None
    assert result.first_break.position == removed.position + 1
    assert result.first_break.reason == (
        f"position {removed.position} before it is missing from the log (an event was removed)"
    )

    done = run_audit(store, tmp_path / "home")
    if store.kind == "sqlite":
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"position {removed.position} before it is missing from the log" in done.stdout
    else:
        # PostgreSQL's sequence skips the positions of rolled-back appends too, so the CLI
        # counts a skipped position there; a checkpoint taken before the removal catches it.
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 positions hold no event" in done.stdout


def test_an_altered_event_is_reported_at_its_position(
    store: StoreHandle, world: World, entry_id: UUID, tmp_path: Path
) -> None:
    row = row_of(world.ledger, entry_id, 2)
    rewrite(store, world.ledger, replace(row, state=row.state.replace(b"Second", b"Forged")))

    result = verify_log(world.ledger)
    assert result.first_break is not None
    assert (result.first_break.position, result.first_break.version) == (row.position, 2)
    assert result.first_break.reason == "its content does not match its hash (it was altered)"

    done = run_audit(store, tmp_path / "home")
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == f"Audit FAILED at {result.first_break.describe()}."


def test_a_reordered_event_is_reported_where_a_later_version_comes_first(
    store: StoreHandle, world: World, entry_id: UUID, tmp_path: Path
) -> None:
    """Two events of one entry swap places: version 3 now comes before version 2 in the log."""
    second, third = row_of(world.ledger, entry_id, 2), row_of(world.ledger, entry_id, 3)
    swap_rows(store, world.ledger.recorder.events_table_name, second, third)

    result = verify_log(world.ledger)
    assert result.first_break is not None
    assert (result.first_break.position, result.first_break.version) == (second.position, 3)
    assert result.first_break.reason == (
        f"expected version 2, which comes later in the log, at position {third.position} "
        "(the log was reordered)"
    )

    done = run_audit(store, tmp_path / "home")
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == f"Audit FAILED at {result.first_break.describe()}."


def test_events_of_two_aggregates_swapped_keep_their_chains_but_change_the_log_hash(
    store: StoreHandle, world: World, entry_id: UUID
) -> None:
    """Only a checkpoint can see this reordering: each aggregate's own order is intact."""
    before = verify_log(world.ledger)
    rows = all_rows(world.ledger)
    last_of_entry = row_of(world.ledger, entry_id, 3)
    # A later event of another aggregate whose other events all come before the entry's last.
    [later, *_] = [
        r
        for r in rows
        if r.position > last_of_entry.position
        and all(
            o.position < last_of_entry.position for o in rows if o.aggregate_id == r.aggregate_id and o != r
        )
    ]
    swap_rows(store, world.ledger.recorder.events_table_name, last_of_entry, later)

    after = verify_log(world.ledger, expect=[(before.head, before.log_hash)])
    assert after.first_break is None
    assert after.mismatch is not None
    assert after.mismatch.position == before.head
    assert "history before the checkpoint was rewritten" in after.mismatch.describe()
