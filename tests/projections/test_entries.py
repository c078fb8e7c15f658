"""The entries read model follows the ledger: lists, filters, running timers."""

from __future__ import annotations

from datetime import timedelta

from projections.entry_queries import EntryFilter, get_entry, list_entries, running_timers
from tests.conftest import NOW, World
from tests.projections.conftest import ReadSide


def test_recorded_and_running_entries_appear_with_their_state(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    ledger = world.ledger
    done = ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        task_id=world.task_id,
        start=NOW - timedelta(hours=3),
        end=NOW - timedelta(hours=1),
        break_minutes=15,
        tags=["ux"],
        actor=world.member,
    )
    running = ledger.start_timer(org_id=world.org_id, project_id=world.project_id, actor=world.member)
    rs.catch_up()
    row = get_entry(rs.engine, world.org_id, done.id)
    assert row is not None
    assert (row.status, row.duration_seconds, row.client_id, row.tags) == (
        "stopped",
        2 * 3600 - 15 * 60,
        world.client_id,
        ("ux",),
    )
    live = running_timers(rs.engine, world.org_id)
    assert [(t.member_id, t.entry_id) for t in live] == [(world.member.user_id, running.id)]
    world.clock.advance(600)
    ledger.pause_timer(org_id=world.org_id, actor=world.member)
    rs.catch_up()
    assert running_timers(rs.engine, world.org_id)[0].paused_at == NOW + timedelta(seconds=600)
    world.clock.advance(600)
    ledger.stop_timer(org_id=world.org_id, actor=world.member)
    rs.catch_up()
    assert running_timers(rs.engine, world.org_id) == []
    stopped = get_entry(rs.engine, world.org_id, running.id)
    assert stopped is not None
    assert (stopped.status, stopped.duration_seconds) == ("stopped", 600)


def test_filters_and_cursor_pages(rw: tuple[World, ReadSide]) -> None:
    world, rs = rw
    ledger = world.ledger
    ids = []
    for i in range(7):
        ids.append(
            ledger.record_entry(
                org_id=world.org_id,
                project_id=world.project_id,
                start=NOW - timedelta(hours=10 - i),
                duration_seconds=1800,
                tags=["odd"] if i % 2 else [],
                actor=world.member,
            ).id
        )
    ledger.delete_entry(entry_id=ids[0], actor=world.member)
    rs.catch_up()
    seen = []
    cursor = None
    while True:
        page = list_entries(rs.engine, world.org_id, cursor=cursor, limit=2)
        seen += [e.id for e in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(ids[1:]))
    odd = list_entries(rs.engine, world.org_id, EntryFilter(tag="odd"))
    assert {e.id for e in odd.items} == {ids[1], ids[3], ids[5]}
    with_deleted = list_entries(rs.engine, world.org_id, EntryFilter(include_deleted=True), limit=100)
    assert len(with_deleted.items) == 7
    window = list_entries(rs.engine, world.org_id, EntryFilter(start_from=NOW - timedelta(hours=6)))
    assert {e.id for e in window.items} == set(ids[4:])
