"""Status and lag, rebuild with a switch, and verify against a replay from zero."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from projections.catalog import CatalogProjection
from projections.entries import EntriesProjection
from projections.entry_queries import get_entry
from projections.models import ALL
from projections.operations import rebuild, status, verify
from projections.registry import live_tables
from tests.conftest import NOW, World
from tests.projections.conftest import ReadSide


def some_history(world: World) -> None:
    ledger = world.ledger
    for i in range(5):
        entry = ledger.record_entry(
            org_id=world.org_id,
            project_id=world.project_id,
            start=NOW - timedelta(hours=10 - i),
            duration_seconds=900,
            tags=[f"t{i}"],
            actor=world.member,
        )
        if i % 2:
            ledger.edit_entry(entry_id=entry.id, description=f"edited {i}", actor=world.member)
    # An invoice draft of those entries (every read model gets rows).
    ledger.change_settings(
        org_id=world.org_id, changes={"invoice_requires_approval": False}, actor=world.owner
    )
    ledger.set_rate(
        org_id=world.org_id,
        level="organization",
        amount_minor=9_000,
        effective_from=NOW.date(),
        actor=world.owner,
    )
    ledger.draft_invoice(
        org_id=world.org_id,
        client_id=world.client_id,
        period_from=NOW.date(),
        period_to=NOW.date(),
        actor=world.owner,
    )
    # A timesheet of the week before (this week's must stay open for the timer below).
    ledger.submit_timesheet(org_id=world.org_id, day=NOW.date() - timedelta(days=7), actor=world.member)
    ledger.start_timer(org_id=world.org_id, project_id=world.project_id, actor=world.member)
    ledger.rename_client(client_id=world.client_id, name="Globex Corp", actor=world.owner)


def test_status_shows_lag_and_catching_up_brings_it_to_zero(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    some_history(world)
    before = {s.name: s for s in status(world.ledger, rs.engine, ALL)}
    head = world.ledger.head_position()
    assert all(s.lag == head and s.position == 0 for s in before.values())
    rs.catch_up()
    after = status(world.ledger, rs.engine, ALL)
    assert [s.lag for s in after] == [0] * len(ALL)
    assert all(s.position == head for s in after)


def test_verify_passes_on_a_live_build_and_names_a_tampered_row(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    some_history(world)
    rs.catch_up()
    for model in ALL:
        report = verify(world.ledger, rs.engine, model)
        assert report.ok, report.difference
        assert report.rows > 0
    with rs.engine.connect() as conn:
        entries = live_tables(conn, EntriesProjection)["entries"]
    with rs.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.description == "edited 3").values(description="forged"))
    report = verify(world.ledger, rs.engine, EntriesProjection)
    assert not report.ok
    assert report.difference is not None
    assert report.difference.table == "rm_entries"
    assert report.difference.live is not None
    assert report.difference.live["description"] == "forged"
    assert report.difference.replayed is not None
    assert report.difference.replayed["description"] == "edited 3"


def test_rebuild_switches_readers_to_a_fresh_generation_with_the_same_rows(
    rw: tuple[World, ReadSide],
) -> None:
    world, rs = rw
    some_history(world)
    rs.catch_up()
    first = world.ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=NOW - timedelta(hours=20),
        duration_seconds=60,
        actor=world.member,
    )
    rs.catch_up()
    done = rebuild(world.ledger, rs.engine, EntriesProjection)
    assert done.generation == 2
    assert done.position == world.ledger.head_position()
    row = get_entry(rs.engine, world.org_id, first.id)
    assert row is not None
    assert row.duration_seconds == 60
    assert verify(world.ledger, rs.engine, EntriesProjection).ok
    # The runner that followed generation 1 moves over to generation 2 on its own.
    later = world.ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=NOW - timedelta(hours=22),
        duration_seconds=60,
        actor=world.member,
    )
    rs.catch_up()
    assert rs.runners["entries"].view.generation == 2
    assert get_entry(rs.engine, world.org_id, later.id) is not None
    assert rebuild(world.ledger, rs.engine, CatalogProjection).generation == 2
