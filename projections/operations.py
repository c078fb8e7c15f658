"""Operating read models: status and lag, rebuild with an atomic switch, verify against a replay."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from itertools import zip_longest
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, Table, select

from ledger.application import TimeLedger
from projections.base import ReadModel, TrackingView
from projections.registry import (
    create_generation,
    drop_generation,
    ensure_live,
    live_generation,
    next_generation,
    switch_live,
)
from projections.runner import REBUILD_MAX_CACHED_ROWS, Runner, catch_up_together

REBUILD_BATCH = 5000


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    generation: int
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)


def status(ledger: TimeLedger, engine: Engine, models: tuple[type[ReadModel], ...]) -> list[ProjectionStatus]:
    head = ledger.head_position()
    found = []
    for model in models:
        generation = ensure_live(engine, model)
        position = TrackingView(engine, model.name, generation).position()
        found.append(ProjectionStatus(model.name, generation, position, head))
    return found


def build_generation(
    ledger: TimeLedger, engine: Engine, model: type[ReadModel], until: int | None = None
) -> Runner:
    """Build a new generation from position 0 (to `until`, default the head); not yet live."""
    return build_generations(ledger, engine, (model,), until)[0]


def build_generations(
    ledger: TimeLedger, engine: Engine, models: Sequence[type[ReadModel]], until: int | None = None
) -> list[Runner]:
    """Build new generations of several read models in one pass over the log; not yet live."""
    runners = []
    for model in models:
        generation = next_generation(engine, model)
        create_generation(engine, model, generation)
        runner = Runner(ledger, engine, model, generation=generation, batch_size=REBUILD_BATCH)
        runner.known_empty = True
        runner.max_cached_rows = REBUILD_MAX_CACHED_ROWS
        runners.append(runner)
    catch_up_together(ledger, engine, runners, until, REBUILD_BATCH)
    return runners


def rebuild(ledger: TimeLedger, engine: Engine, model: type[ReadModel]) -> ProjectionStatus:
    """Rebuild a read model from position 0 into new tables, then switch readers to them at once."""
    return rebuild_many(ledger, engine, (model,))[0]


def rebuild_many(
    ledger: TimeLedger, engine: Engine, models: Sequence[type[ReadModel]]
) -> list[ProjectionStatus]:
    """Rebuild read models (in one pass over the log), then switch each one's readers at once."""
    for model in models:
        ensure_live(engine, model)
    runners = build_generations(ledger, engine, models)
    done = []
    for model, runner in zip(models, runners, strict=True):
        runner.catch_up()  # what arrived during the build
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            old = live_generation(conn, model)
            if old is not None:
                # Hold the live runners still while readers are switched over.
                TrackingView(engine, model.name, old).lock_position(conn)
            switch_live(conn, model, runner.view.generation)
        if old is not None and old != runner.view.generation:
            drop_generation(engine, model, old)
        done.append(
            ProjectionStatus(
                model.name, runner.view.generation, runner.view.position(), ledger.head_position()
            )
        )
    return done


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple[Any, ...]
    live: dict[str, Any] | None
    replayed: dict[str, Any] | None

    def describe(self) -> str:
        return f"{self.table} row {self.key}: live {self.live} but a replay gives {self.replayed}"


@dataclass(frozen=True)
class VerifyReport:
    name: str
    position: int
    rows: int
    difference: Difference | None

    @property
    def ok(self) -> bool:
        return self.difference is None


def verify(ledger: TimeLedger, engine: Engine, model: type[ReadModel], attempts: int = 5) -> VerifyReport:
    """Replay from zero into scratch tables and compare every row with the live tables."""
    generation = ensure_live(engine, model)
    live = TrackingView(engine, model.name, generation)
    scratch = build_generation(ledger, engine, model, until=live.position())
    try:
        for _ in range(attempts):
            with engine.connect().execution_options(write=True) as conn, conn.begin():
                current = live_generation(conn, model) or generation
                live = TrackingView(engine, model.name, current)
                position = live.lock_position(conn)  # live runners wait while we compare
                if position == scratch.view.position():
                    return _compare(conn, model, current, scratch.view.generation, position)
            scratch.catch_up(until=live.position())
        raise RuntimeError(f"{model.name} kept moving; could not verify it at one position")
    finally:
        drop_generation(engine, model, scratch.view.generation)


def _compare(
    conn: Connection, model: type[ReadModel], live_generation_: int, scratch_generation: int, position: int
) -> VerifyReport:
    scratch_tables = model.tables(scratch_generation)
    rows = 0
    for name, live_table in model.tables(live_generation_).items():
        label = live_table.name.rsplit("_g", 1)[0]
        with closing(_rows(conn, live_table)) as left, closing(_rows(conn, scratch_tables[name])) as right:
            for a, b in zip_longest(left, right):
                rows += 1
                if a is None or b is None or a[0] != b[0] or a[1] != b[1]:
                    # The first row where the two builds part: show what each side holds there.
                    key = a[0] if a is not None else b[0]
                    return VerifyReport(
                        model.name,
                        position,
                        rows,
                        Difference(
                            label, key, a[2] if a is not None else None, b[2] if b is not None else None
                        ),
                    )
    return VerifyReport(model.name, position, rows, None)


def _rows(
    conn: Connection, table: Table
) -> Generator[tuple[tuple[Any, ...], str, dict[str, Any]], None, None]:
    """Rows in key order as (key, checksum, row)."""
    key_columns = list(table.primary_key.columns)
    result = conn.execution_options(yield_per=2000).execute(select(table).order_by(*key_columns))
    try:
        for row in result.mappings():
            values = {k: _plain(v) for k, v in row.items()}
            key = tuple(_plain(row[c.name]) for c in key_columns)
            digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()
            yield key, digest, values
    finally:
        result.close()


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
