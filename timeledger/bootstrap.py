"""The composition root: builds the ledger (and later the app) from settings."""

from __future__ import annotations

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
