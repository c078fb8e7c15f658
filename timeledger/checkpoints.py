"""Signed audit checkpoints: `<TIMELEDGER_HOME>/audit-checkpoints.jsonl`, one JSON object a line.

Each line records a store, a position and the log hash up to it, when it was taken, and an
HMAC-SHA256 signature with a key derived from the installation's secret key. The file is
only ever appended to; a later `audit verify` checks every signature and recomputes the
log hash at every checkpoint of the same store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

FILE_NAME = "audit-checkpoints.jsonl"
FIELDS = ("store", "position", "log_hash", "created_at", "signature")


class CheckpointFileError(Exception):
    """Raised when the checkpoint file has a line that does not parse or whose signature is wrong."""


@dataclass(frozen=True)
class Checkpoint:
    store: str
    position: int
    log_hash: str
    created_at: str
    signature: str = ""


def signing_key(secret_key: str) -> bytes:
    """A key for checkpoints only, derived from the installation secret (not the secret itself)."""
    return hmac.new(secret_key.encode(), b"timeledger audit checkpoint v1", hashlib.sha256).digest()


def _signature(key: bytes, checkpoint: Checkpoint) -> str:
    body = {k: v for k, v in asdict(checkpoint).items() if k != "signature"}
    message = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def new_checkpoint(key: bytes, store: str, position: int, log_hash: str, now: datetime) -> Checkpoint:
    unsigned = Checkpoint(store, position, log_hash, now.astimezone(UTC).isoformat())
    return Checkpoint(**{**asdict(unsigned), "signature": _signature(key, unsigned)})


def _parse(line: str, number: int, path: Path) -> Checkpoint:
    try:
        fields = json.loads(line)
        if not isinstance(fields, dict) or sorted(fields) != sorted(FIELDS):
            raise ValueError("wrong fields")
        checkpoint = Checkpoint(**fields)
        if not isinstance(checkpoint.position, int) or not all(
            isinstance(getattr(checkpoint, name), str) for name in FIELDS if name != "position"
        ):
            raise ValueError("wrong types")
    except (ValueError, TypeError) as error:
        raise CheckpointFileError(f"line {number} of {path} is not a checkpoint ({error})") from error
    return checkpoint


def load(path: Path, key: bytes, store: str) -> list[Checkpoint]:
    """The checkpoints of `store`, after checking every line's signature (of any store)."""
    if not path.exists():
        return []
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        checkpoint = _parse(line, number, path)
        if not hmac.compare_digest(checkpoint.signature, _signature(key, checkpoint)):
            raise CheckpointFileError(
                f"the checkpoint on line {number} of {path} has a bad signature "
                "(the file was edited, or the secret key changed)"
            )
        if checkpoint.store == store:
            found.append(checkpoint)
    return found


def append(path: Path, checkpoint: Checkpoint) -> None:
    """Add one line to the file and flush it to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(checkpoint), sort_keys=True, separators=(",", ":")) + "\n"
    with path.open("a", encoding="utf-8") as file:
        file.write(line)
        file.flush()
        os.fsync(file.fileno())
