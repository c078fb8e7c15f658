"""What every write shares: `Idempotency-Key`, `If-Match`, and the read-your-writes wait."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header, Request, Response

from api.problems import ApiProblem
from api.readside import ReadSide
from ledger.application import TimeLedger
from ledger.core import Receipt

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
ETAG_PATTERN = re.compile(r'^(?:W/)?"?(\d+)"?$')

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Any unique text (a UUID is good): the same key again returns the first result "
        "and changes nothing.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="The entry's ETag as read; a stale one answers 412."),
]


def command_id(key: str | None) -> str | None:
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise ApiProblem(
            400,
            "invalid-idempotency-key",
            "Idempotency-Key must be 1 to 200 visible ASCII characters.",
            field="Idempotency-Key",
        )
    return key


def expected_version(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    found = ETAG_PATTERN.match(if_match.strip())
    if found is None:
        raise ApiProblem(
            400, "invalid-if-match", 'If-Match must be an ETag this API gave out, like "3".', field="If-Match"
        )
    return int(found.group(1))


def etag(version: int) -> str:
    return f'"{version}"'


def read_side(request: Request) -> ReadSide:
    found: ReadSide = request.app.state.read_side
    return found


def settle(request: Request, response: Response, ledger: TimeLedger, receipt: Receipt) -> None:
    """After a command: wait until lists show it, and tell the client where the log stands."""
    read_side(request).wait_for(ledger, receipt.position)
    response.headers["X-Ledger-Position"] = str(receipt.position)
    if receipt.repeated:
        response.headers["Idempotent-Replayed"] = "true"
