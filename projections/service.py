"""Running every read model: threads in the server (embedded) or a projector process."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable

import psycopg
from sqlalchemy import Engine

from ledger.application import TimeLedger
from ledger.store import StoreConfig
from projections.base import ReadModel
from projections.models import ALL
from projections.runner import Runner

log = logging.getLogger("timeledger.projections")
POLL_SECONDS = 1.0


class ProjectionService:
    """One runner thread per read model, woken by appends (in-process) or LISTEN/NOTIFY."""

    def __init__(
        self, ledger: TimeLedger, engine: Engine, store: StoreConfig, models: Iterable[type[ReadModel]] = ALL
    ) -> None:
        self.ledger = ledger
        self.engine = engine
        self.store = store
        self.runners = {model.name: Runner(ledger, engine, model) for model in models}
        self._wakes = {name: threading.Event() for name in self.runners}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def wake(self, _position: int = 0) -> None:
        for event in self._wakes.values():
            event.set()

    def start(self) -> None:
        self.ledger.after_append.append(self.wake)
        for runner in self.runners.values():
            thread = threading.Thread(
                target=self._follow, args=(runner,), name=f"projection-{runner.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        if self.store.kind == "postgresql":
            listener = threading.Thread(target=self._listen, name="projection-listen", daemon=True)
            listener.start()
            self._threads.append(listener)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.wake()
        if self.store.kind == "postgresql":
            self._notify()  # so the listener wakes now rather than at its next poll
        with contextlib.suppress(ValueError):
            self.ledger.after_append.remove(self.wake)
        for thread in self._threads:
            thread.join(timeout)

    def _follow(self, runner: Runner) -> None:
        while not self._stop.is_set():
            try:
                runner.catch_up()
            except Exception as error:  # a bad batch must not kill the thread
                log.exception("projection %s failed; retrying", runner.name)
                self.errors.append(error)
                self._stop.wait(POLL_SECONDS)
                continue
            wake = self._wakes[runner.name]
            wake.wait(POLL_SECONDS)
            wake.clear()

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        env = self.store.env
        return psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env.get("POSTGRES_PASSWORD") or None,
            autocommit=True,
            connect_timeout=5,
        )

    def _notify(self) -> None:
        channel = getattr(self.ledger.recorder, "channel_name", "")
        with contextlib.suppress(psycopg.Error), self._connect() as conn:
            conn.execute(f'NOTIFY "{channel}"')

    def _listen(self) -> None:
        """Wake the runners when another process appends (PostgreSQL NOTIFY)."""
        channel = getattr(self.ledger.recorder, "channel_name", "")
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(f'LISTEN "{channel}"')
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=POLL_SECONDS, stop_after=1):
                            self.wake()
            except psycopg.Error:
                log.warning("lost the LISTEN connection; reconnecting", exc_info=True)
                self._stop.wait(POLL_SECONDS)

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Read-your-writes: wait until every read model has applied `position`."""
        return all(r.wait_for(position, timeout) for r in self.runners.values())
