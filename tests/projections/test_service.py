"""Embedded mode: runner threads follow appends at once, and a reader can wait for its write."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.clock import SystemClock
from ledger.store import store_config
from projections.database import readmodel_engine
from projections.entry_queries import get_entry, running_timers
from projections.service import ProjectionService
from tests.conftest import StoreHandle


def test_a_query_after_a_command_can_wait_for_its_position(
    store: StoreHandle,
    make_ledger: Callable[..., TimeLedger],
    tmp_path: object,
) -> None:
    ledger = make_ledger(SystemClock())
    config = store_config(store.url, tmp_path)  # type: ignore[arg-type]
    engine = readmodel_engine(config)
    service = ProjectionService(ledger, engine, config)
    service.start()
    try:
        created = ledger.create_organization(
            name="Live", owner_email="live@x.test", owner_name="Liv", owner_password="live-password"
        )
        owner = Actor.user(created.related[0])
        project = ledger.create_project(org_id=created.id, name="P", actor=owner)
        began = time.monotonic()
        started = ledger.start_timer(org_id=created.id, project_id=project.id, actor=owner)
        assert service.wait_for(started.position, timeout=5)
        waited = time.monotonic() - began
        assert [t.entry_id for t in running_timers(engine, created.id)] == [started.id]
        # Woken by the append itself, not by the one-second poll.
        assert waited < 0.9
        now = ledger.clock.now()
        recorded = ledger.record_entry(
            org_id=created.id,
            project_id=project.id,
            start=now - timedelta(hours=1),
            duration_seconds=60,
            actor=owner,
        )
        assert service.wait_for(recorded.position, timeout=5)
        assert get_entry(engine, created.id, recorded.id) is not None
        assert service.errors == []
    finally:
        service.stop()
        engine.dispose()


def test_a_second_ledger_process_appending_wakes_the_service(
    store: StoreHandle,
    make_ledger: Callable[..., TimeLedger],
    tmp_path: object,
) -> None:
    """Another process's appends reach the runners (LISTEN/NOTIFY on PostgreSQL, polling on SQLite)."""
    server_ledger = make_ledger(SystemClock())
    other_ledger = make_ledger(SystemClock())  # stands for another process: no in-process wake-up
    config = store_config(store.url, tmp_path)  # type: ignore[arg-type]
    engine = readmodel_engine(config)
    service = ProjectionService(server_ledger, engine, config)
    service.start()
    try:
        created = other_ledger.create_organization(
            name="Other", owner_email="o@x.test", owner_name="Oz", owner_password="other-password"
        )
        assert service.wait_for(created.position, timeout=5)
    finally:
        service.stop()
        engine.dispose()
