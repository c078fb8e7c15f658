"""The read models as the API sees them, and read-your-writes after a command."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine

from ledger.application import TimeLedger
from projections.models import ALL
from projections.operations import status
from projections.service import ProjectionService

POLL_SECONDS = 0.02


@dataclass
class ReadSide:
    """Where queries go; `service` is set when the runners live in this process."""

    engine: Engine
    service: ProjectionService | None = None
    # How long a write waits for the read models to show it before answering anyway.
    wait_seconds: float = 5.0

    def wait_for(self, ledger: TimeLedger, position: int) -> bool:
        """Block until every read model has applied `position` (or the wait runs out)."""
        if position <= 0:
            return True
        if self.service is not None:
            return self.service.wait_for(position, self.wait_seconds)
        # Runners in other processes: watch their tracking positions.
        deadline = time.monotonic() + self.wait_seconds
        while True:
            if all(s.position >= position for s in status(ledger, self.engine, ALL)):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)
