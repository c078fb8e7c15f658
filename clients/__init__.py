"""The Python SDK of TimeLedger and the `tl` device command line (with its offline queue)."""

from clients.aio import AsyncTimeLedgerClient
from clients.errors import ApiError, ServerUnreachable, TimeLedgerError
from clients.retry import RetryPolicy
from clients.sdk import TimeLedgerClient
from clients.stream import StreamOptions

__all__ = [
    "ApiError",
    "AsyncTimeLedgerClient",
    "RetryPolicy",
    "ServerUnreachable",
    "StreamOptions",
    "TimeLedgerClient",
    "TimeLedgerError",
]
