"""Login throttling: too many failed logins for one email, or from one address, answer 429.

The rule: after `per_email` (5) failed logins for one email within `window`
(15 minutes), or `per_address` (20) from one client address, every further
login attempt for that email (or from that address) answers 429 with
`Retry-After` until the oldest counted failure leaves the window, even when
the password is right, so guessing gains nothing from the answer. A failure is
a wrong email or password, a wrong or spent second factor at login, or a wrong
code when turning two-factor login off; being asked for the second factor (a
right password without a code) is not one. A successful login
forgets the failures of its email (not of its address). Answers of 429 are not
failures themselves, so a throttled attacker cannot extend the lock forever.

Counts live in this process's memory: with several API processes each counts
the attempts it sees, and a restart forgets them. The address is the socket's
peer, so behind a proxy run uvicorn with `--proxy-headers` (trusting only the
proxy) or every user shares the proxy's count.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request

from api.problems import ApiProblem

PER_EMAIL = 5
PER_ADDRESS = 20
WINDOW_SECONDS = 15 * 60
# Sweep stale keys now and then, so a spray of made-up emails cannot grow memory for ever.
_SWEEP_EVERY = 1000


class LoginThrottle:
    """Counts failed logins per email and per client address over a sliding window."""

    def __init__(
        self,
        per_email: int = PER_EMAIL,
        per_address: int = PER_ADDRESS,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_email = per_email
        self.per_address = per_address
        self.window = window
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def wait(self, email: str, address: str | None) -> float:
        """Seconds until a login for `email` from `address` may be tried; 0 when it may now."""
        now = self._clock()
        with self._lock:
            self._maybe_sweep(now)
            waits = [self._wait_of(("email", _email_key(email)), self.per_email, now)]
            if address:
                waits.append(self._wait_of(("address", address), self.per_address, now))
        return max(waits)

    def failed(self, email: str, address: str | None) -> None:
        """Count one failed login."""
        now = self._clock()
        with self._lock:
            keys = [("email", _email_key(email))] + ([("address", address)] if address else [])
            for key in keys:
                found = self._failures.setdefault(key, deque())
                self._prune(found, now)
                found.append(now)

    def succeeded(self, email: str) -> None:
        """Forget the failures of an email that just logged in."""
        with self._lock:
            self._failures.pop(("email", _email_key(email)), None)

    def _wait_of(self, key: tuple[str, str], limit: int, now: float) -> float:
        found = self._failures.get(key)
        if not found:
            return 0.0
        self._prune(found, now)
        if len(found) < limit:
            return 0.0
        # Allowed again once enough failures have left the window to drop below the limit.
        return max(0.0, found[len(found) - limit] + self.window - now)

    def _prune(self, found: deque[float], now: float) -> None:
        while found and found[0] <= now - self.window:
            found.popleft()

    def _maybe_sweep(self, now: float) -> None:
        self._calls += 1
        if self._calls % _SWEEP_EVERY:
            return
        for key in list(self._failures):
            self._prune(self._failures[key], now)
            if not self._failures[key]:
                del self._failures[key]


def _email_key(email: str) -> str:
    return email.strip().lower()


def retry_after(seconds: float) -> str:
    """A `Retry-After` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def refuse_if_throttled(throttle: LoginThrottle, email: str, address: str | None) -> None:
    """Answer 429 with `Retry-After` while this email or address has failed too often."""
    wait = throttle.wait(email, address)
    if wait > 0:
        raise ApiProblem(
            429,
            "too-many-logins",
            f"Too many failed logins; try again in {retry_after(wait)} s.",
            headers={"Retry-After": retry_after(wait)},
        )


_created = threading.Lock()


def throttle_of(request: Request) -> LoginThrottle:
    """The app's login throttle, made on first use (tests may put their own in `app.state`)."""
    state = request.app.state
    with _created:
        found: LoginThrottle | None = getattr(state, "login_throttle", None)
        if found is None:
            found = state.login_throttle = LoginThrottle()
    return found
