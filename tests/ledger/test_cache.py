"""The aggregate cache: never stale across ledgers, never corrupted by a refused command."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from ledger.application import TimeLedger
from ledger.errors import OverlapError
from tests.conftest import NOW, World


def test_a_second_ledger_on_the_same_store_sees_changes_made_by_the_first(
    world: World, make_ledger: Callable[..., TimeLedger]
) -> None:
    other = make_ledger(world.clock)
    entry = world.ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=NOW - timedelta(hours=2),
        duration_seconds=600,
        actor=world.member,
    )
    assert other.get_entry(entry.id, world.member).description == ""  # now cached in `other`
    world.ledger.edit_entry(entry_id=entry.id, description="changed elsewhere", actor=world.member)
    seen = other.get_entry(entry.id, world.member)
    assert seen.description == "changed elsewhere"
    assert seen.version == 2
    other.edit_entry(entry_id=entry.id, expected_version=2, description="and back", actor=world.member)
    assert world.ledger.get_entry(entry.id, world.member).description == "and back"


def test_a_refused_command_leaves_no_trace_in_the_cached_state(world: World) -> None:
    ledger = world.ledger
    ledger.change_settings(org_id=world.org_id, changes={"overlap_allowed": False}, actor=world.owner)
    blocker = ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=NOW - timedelta(hours=3),
        end=NOW - timedelta(hours=2),
        actor=world.member,
    )
    entry = ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=NOW - timedelta(hours=5),
        end=NOW - timedelta(hours=4),
        actor=world.member,
    )
    # The edit changes the entry's times in memory, then the overlap check refuses it.
    with pytest.raises(OverlapError):
        ledger.edit_entry(entry_id=entry.id, end=NOW - timedelta(hours=2, minutes=30), actor=world.member)
    unchanged = ledger.get_entry(entry.id, world.member)
    assert (unchanged.end, unchanged.version) == (NOW - timedelta(hours=4), entry.version)
    assert ledger.get_entry(blocker.id, world.member).version == blocker.version
