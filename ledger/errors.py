"""The ledger's exception tree: every rule that refuses a command raises one of these.

The API maps each class to one problem+json type (`api/problems.py`), so the
class, not the message, is the contract. Messages are written for people.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    code = "ledger-error"


class NotFoundError(LedgerError):
    """Raised when a named organization, member, project, task, entry or token does not exist."""

    code = "not-found"


class ForbiddenError(LedgerError):
    """Raised when the actor's role does not allow the command."""

    code = "forbidden"


class InvalidInputError(LedgerError):
    """Raised when a command's input breaks a rule regardless of the ledger's state."""

    code = "invalid-input"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConflictError(LedgerError):
    """Raised when the ledger's current state does not allow the command."""

    code = "conflict"


class StaleVersionError(ConflictError):
    """Raised when a command names a version that is no longer the current one."""

    code = "stale-version"

    def __init__(self, message: str, expected: int, actual: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class ArchivedError(ConflictError):
    """Raised when a command uses an archived client, project or task."""

    code = "archived"


class EntryStateError(ConflictError):
    """Raised when an entry is not in a state that allows the command (running, stopped, deleted)."""

    code = "entry-state"


class NoRunningTimerError(EntryStateError):
    """Raised when a timer command needs a running timer and the member has none."""

    code = "no-running-timer"


class OverlapError(ConflictError):
    """Raised when an entry would overlap another and the organization forbids overlaps."""

    code = "overlap"


class LockedError(ConflictError):
    """Raised when entries are locked by a submitted or approved timesheet, or an issued invoice."""

    code = "locked"


class WorkflowError(ConflictError):
    """Raised when a timesheet or invoice is not in a state that allows the command."""

    code = "workflow-state"


class DuplicateError(ConflictError):
    """Raised when something that must be unique (an email, a membership) already exists."""

    code = "duplicate"


class IdempotencyKeyReusedError(ConflictError):
    """Raised when a command id is repeated with a different command or different input."""

    code = "idempotency-key-reused"


class ConcurrencyError(ConflictError):
    """Raised when a command kept losing races and gave up after its retries."""

    code = "concurrency"


class BudgetAlreadyAlertedError(ConflictError):
    """Raised when a project's budget alert for a threshold was already recorded."""

    code = "budget-already-alerted"


class TamperedLogError(LedgerError):
    """Raised when a stored event's hash chain does not verify."""

    code = "tampered"
