"""When to retry a request and how long to wait: shared by the sync and the async client."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on connection errors and 429/502/503/504; every retry of a write reuses its key."""

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0

    def retry_status(self, response: httpx.Response) -> bool:
        return response.status_code in RETRY_STATUSES

    def delay(self, attempt: int, response: httpx.Response | None = None) -> float:
        """Seconds to wait before retry number `attempt + 1`: the server's Retry-After, capped, or backoff."""
        if response is not None:
            asked = retry_after(response.headers.get("retry-after"))
            if asked is not None:
                return min(asked, self.max_retry_after)
        base = min(self.backoff * 2.0**attempt, self.max_backoff)
        return base * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret


def retry_after(value: str | None) -> float | None:
    """Parse `Retry-After`: delta seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
