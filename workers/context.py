"""What jobs work with: the ledger, the read models and the outside services.

The composition root (`timeledger serve` or `timeledger worker`) builds a
`WorkerContext` and calls `install_context`; actors call `context()`. Jobs never
read environment variables themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from ledger.application import TimeLedger


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "timeledger@localhost"
    starttls: bool = False


@dataclass
class WorkerContext:
    ledger: TimeLedger
    engine: Engine  # the read models' database
    mail: MailSettings | None = None
    # Where generated files (invoice PDFs) are kept: `<TIMELEDGER_HOME>/files`.
    files_dir: str = "var/files"
    extras: dict[str, Any] = field(default_factory=dict)


_CONTEXT: WorkerContext | None = None


def install_context(ctx: WorkerContext | None) -> None:
    global _CONTEXT  # one context per process, set by the composition root
    _CONTEXT = ctx


def context() -> WorkerContext:
    if _CONTEXT is None:
        raise RuntimeError("No worker context: the composition root must call install_context first.")
    return _CONTEXT
