"""Read-model fixtures: runners over the test's store, driven by hand for determinism."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from ledger.application import TimeLedger
from ledger.store import store_config
from projections.database import readmodel_engine
from projections.models import ALL
from projections.runner import Runner
from tests.conftest import StoreHandle, World


@dataclass
class ReadSide:
    engine: Engine
    runners: dict[str, Runner]

    def catch_up(self) -> None:
        for runner in self.runners.values():
            runner.catch_up()


@pytest.fixture
def read_side(store: StoreHandle, ledger: TimeLedger, tmp_path: object) -> Iterator[ReadSide]:
    engine = readmodel_engine(store_config(store.url, tmp_path))  # type: ignore[arg-type]
    runners = {model.name: Runner(ledger, engine, model) for model in ALL}
    yield ReadSide(engine, runners)
    engine.dispose()


@pytest.fixture
def rw(world: World, read_side: ReadSide) -> tuple[World, ReadSide]:
    return world, read_side
