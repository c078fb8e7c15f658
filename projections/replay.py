"""Replays for an auditor: every read model as of a past position, built into a scratch database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, inspect, select

from ledger.application import TimeLedger
from projections.base import ReadModel
from projections.registry import ensure_live
from projections.runner import Runner, catch_up_together

PAGE = 1000
BATCH = 5000


@dataclass(frozen=True)
class ReplayResult:
    position: int
    rows: dict[str, int]  # table name → row count


def position_at(ledger: TimeLedger, instant: datetime) -> int:
    """The position of the last event before the first one recorded after `instant` (0 if none).

    Reading stops at the first later event, so the replay holds only events recorded
    at or before `instant` even where several processes' clocks disagree a little.
    """
    reached = 0
    while True:
        batch = ledger.recorder.select_notifications(start=reached + 1, limit=PAGE)
        for notification in batch:
            if TimeLedger.describe_event(ledger.mapper.to_domain_event(notification)).recorded_at > instant:
                return reached
            reached = notification.id
        if len(batch) < PAGE:
            return reached


def holds_read_models(engine: Engine) -> bool:
    return any(name.startswith("rm_") for name in inspect(engine).get_table_names())


def replay_into(
    ledger: TimeLedger, engine: Engine, models: tuple[type[ReadModel], ...], until: int
) -> ReplayResult:
    """Build every read model from position 0 to `until` in `engine` (an empty database)."""
    runners = []
    for model in models:
        runner = Runner(ledger, engine, model, generation=ensure_live(engine, model), batch_size=BATCH)
        runner.known_empty = True
        runners.append(runner)
    if until > 0:
        catch_up_together(ledger, engine, runners, until, BATCH)
    rows = {}
    with engine.connect() as conn:
        for runner in runners:
            for table in runner.model_class.tables(runner.view.generation).values():
                rows[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    return ReplayResult(min(r.view.position() for r in runners), rows)
