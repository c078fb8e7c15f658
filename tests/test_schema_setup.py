"""Several processes starting at once on an empty store all come up, with one schema."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from ledger.application import TimeLedger
from ledger.passwords import Passwords
from ledger.store import store_config
from projections.database import readmodel_engine
from projections.models import ALL
from projections.registry import ensure_live
from tests.conftest import StoreHandle

PROCESSES = 6


def _start_up(url: str, home: str, go: Any, out: Any) -> None:
    config = store_config(url, Path(home))
    go.wait()
    try:
        ledger = TimeLedger(dict(config.env), passwords=Passwords.fast_for_tests())
        engine = readmodel_engine(config)
        generations = [ensure_live(engine, model) for model in ALL]
        ledger.close()
        engine.dispose()
        out.put(("ok", generations))
    except Exception as error:
        out.put(("failed", repr(error)))


def test_processes_starting_together_on_an_empty_store_all_succeed(
    store: StoreHandle, tmp_path: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    out = context.Queue()
    workers = [
        context.Process(target=_start_up, args=(store.url, str(tmp_path), go, out)) for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    go.set()
    results = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert [status for status, _ in results] == ["ok"] * PROCESSES, results
    assert {tuple(generations) for _, generations in results} == {tuple(1 for _ in ALL)}
