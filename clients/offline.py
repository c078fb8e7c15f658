"""The offline queue: commands made while the server was out of reach, replayed in order later.

Each command keeps its id, sent as `Idempotency-Key` on every replay, so a command that reached the
server before the answer was lost is not applied twice.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

QUEUE_FILE = "queue.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS commands (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    summary TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    problem TEXT
)
"""


@dataclass(frozen=True)
class Queued:
    """One command waiting for the server (`pending`) or refused by it (`rejected`, with its reason)."""

    id: str
    kind: str
    body: dict[str, Any]
    summary: str
    queued_at: str
    state: str = "pending"
    problem: str | None = None

    @property
    def short(self) -> str:
        return self.id[:8]


class OfflineQueue:
    """Commands in `queue.db` of the config folder, in the order they were made."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / QUEUE_FILE

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        fresh = not self.path.exists()
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            if fresh:
                self.path.chmod(0o600)
            db.execute(SCHEMA)
            yield db

    def add(self, kind: str, body: dict[str, Any], summary: str, command_id: str | None = None) -> Queued:
        item = Queued(command_id or str(uuid.uuid4()), kind, body, summary, datetime.now(UTC).isoformat())
        with self._db() as db:
            db.execute(
                "INSERT INTO commands (id, kind, body, summary, queued_at) VALUES (?, ?, ?, ?, ?)",
                (item.id, kind, json.dumps(body), summary, item.queued_at),
            )
        return item

    def items(self, state: str | None = None) -> list[Queued]:
        if not self.path.exists():
            return []
        sql = "SELECT id, kind, body, summary, queued_at, state, problem FROM commands"
        with self._db() as db:
            rows = db.execute(
                sql + (" WHERE state = ?" if state else "") + " ORDER BY seq", (state,) if state else ()
            )
            return [Queued(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def pending(self) -> list[Queued]:
        return self.items("pending")

    def rejected(self) -> list[Queued]:
        return self.items("rejected")

    def done(self, command_id: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM commands WHERE id = ?", (command_id,))

    def reject(self, command_id: str, problem: str) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE commands SET state = 'rejected', problem = ? WHERE id = ?", (problem, command_id)
            )

    def retry(self, command_id: str) -> None:
        with self._db() as db:
            db.execute("UPDATE commands SET state = 'pending', problem = NULL WHERE id = ?", (command_id,))

    def find(self, prefix: str) -> Queued | None:
        """The one queued command whose id starts with `prefix`; None if none or several."""
        found = [item for item in self.items() if item.id.startswith(prefix.strip().lower())]
        return found[0] if len(found) == 1 and prefix.strip() else None
