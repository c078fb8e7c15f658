"""The composition root: builds the ledger (and later the app) from settings."""

from __future__ import annotations

import os
import secrets

from ledger.application import TimeLedger
from ledger.clock import Clock
from ledger.passwords import Passwords
from ledger.store import StoreConfig, store_config
from timeledger.settings import Settings


def open_store(settings: Settings) -> StoreConfig:
    return store_config(settings.database_url, settings.home)


def open_ledger(
    settings: Settings, *, clock: Clock | None = None, passwords: Passwords | None = None
) -> TimeLedger:
    config = open_store(settings)
    return TimeLedger(config.env, clock=clock, passwords=passwords)


def open_secret_key(settings: Settings) -> str:
    """The server's secret key: from the environment, else a random one kept in the data folder."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.home / "secret.key"
    if path.exists():
        return path.read_text().strip()
    settings.home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written whole to a private temporary file, then linked into place: two processes
    # starting at once both end up with the one key that won, never a half-written one.
    temporary = path.with_name(f".secret.key.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        temporary.unlink()
    return key
