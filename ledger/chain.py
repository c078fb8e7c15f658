"""The hash chain: each event carries the hash of the previous event of its aggregate.

An event's hash covers its aggregate id, version, topic and every stored field
except the hash itself, chained to the previous event's hash. Altering any
stored byte that changes a value breaks the chain at that event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64


def normalise(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items()}
    return value


def event_hash(*, topic: str, originator_id: UUID, originator_version: int, state: Mapping[str, Any]) -> str:
    """Hash of one event, given its decoded state (which includes `prev_hash`)."""
    body = {k: v for k, v in state.items() if k not in ("hash", "originator_id", "originator_version")}
    document = {
        "topic": topic,
        "originator_id": str(originator_id),
        "originator_version": originator_version,
        "state": normalise(body),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
