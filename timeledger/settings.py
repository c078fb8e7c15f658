"""Every setting of TimeLedger, read from environment variables in this one place.

| variable | default | meaning |
|---|---|---|
| `TIMELEDGER_HOME` | `./var` | data folder: the SQLite store `timeledger.db`, the demo login |
| `DATABASE_URL` | unset (SQLite in the data folder) | `postgresql://user:pass@host:port/db[?schema=s]` |
| `TIMELEDGER_HOST` | `127.0.0.1` | address `timeledger serve` binds |
| `TIMELEDGER_PORT` | `8000` | port `timeledger serve` binds |
| `TIMELEDGER_LOG_LEVEL` | `info` | log level of the server |
| `TIMELEDGER_EMBEDDED_PROJECTIONS` | `auto` | read models inside `serve`: `auto` (SQLite only), `on`, `off` |
| `TIMELEDGER_API_RATE_LIMIT` | `600` | requests per minute per API token; `0` turns it off |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SETTINGS_DOC = __doc__ or ""


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str | None
    host: str
    port: int
    log_level: str
    embedded: str = "auto"
    api_rate_limit: int = 600

    def embedded_projections(self, store_kind: str) -> bool:
        """Whether `serve` follows the log itself (always on SQLite unless turned off)."""
        if self.embedded == "auto":
            return store_kind == "sqlite"
        return self.embedded == "on"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        port = _whole(env, "TIMELEDGER_PORT", 8000)
        return cls(
            home=Path(env.get("TIMELEDGER_HOME", "./var")).expanduser(),
            database_url=env.get("DATABASE_URL") or None,
            host=env.get("TIMELEDGER_HOST", "127.0.0.1"),
            port=port,
            log_level=env.get("TIMELEDGER_LOG_LEVEL", "info"),
            embedded=_choice(env, "TIMELEDGER_EMBEDDED_PROJECTIONS", ("auto", "on", "off")),
            api_rate_limit=_whole(env, "TIMELEDGER_API_RATE_LIMIT", 600),
        )


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, allowed[0]).lower()
    if value not in allowed:
        raise SystemExit(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")
    return value


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, str(default))
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise SystemExit(f"{name} must be a whole number, not {text!r}.")
    return value
