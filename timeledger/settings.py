"""Every setting of TimeLedger, read from environment variables in this one place.

| variable | default | meaning |
|---|---|---|
| `TIMELEDGER_HOME` | `./var` | data folder: the SQLite store `timeledger.db`, the demo login |
| `DATABASE_URL` | unset (SQLite in the data folder) | `postgresql://user:pass@host:port/db[?schema=s]` |
| `TIMELEDGER_HOST` | `127.0.0.1` | address `timeledger serve` binds |
| `TIMELEDGER_PORT` | `8000` | port `timeledger serve` binds |
| `TIMELEDGER_LOG_LEVEL` | `info` | log level of the server |
| `TIMELEDGER_EMBEDDED_PROJECTIONS` | `auto` | read models inside `serve`: `auto` (SQLite only), `on`, `off` |
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

    def embedded_projections(self, store_kind: str) -> bool:
        """Whether `serve` follows the log itself (always on SQLite unless turned off)."""
        if self.embedded == "auto":
            return store_kind == "sqlite"
        return self.embedded == "on"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        port_text = env.get("TIMELEDGER_PORT", "8000")
        try:
            port = int(port_text)
        except ValueError:
            raise SystemExit(f"TIMELEDGER_PORT must be a port number, not {port_text!r}.") from None
        return cls(
            home=Path(env.get("TIMELEDGER_HOME", "./var")).expanduser(),
            database_url=env.get("DATABASE_URL") or None,
            host=env.get("TIMELEDGER_HOST", "127.0.0.1"),
            port=port,
            log_level=env.get("TIMELEDGER_LOG_LEVEL", "info"),
            embedded=_choice(env, "TIMELEDGER_EMBEDDED_PROJECTIONS", ("auto", "on", "off")),
        )


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, allowed[0]).lower()
    if value not in allowed:
        raise SystemExit(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")
    return value
