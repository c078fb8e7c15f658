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
| `TIMELEDGER_SECRET_KEY` | `<home>/secret.key` | signs sessions, encrypts 2FA secrets |
| `TIMELEDGER_COOKIE_SECURE` | `auto` | HTTPS-only cookies: `auto` (unless loopback), `on`, `off` |
| `TIMELEDGER_OIDC_ISSUER` | unset (OpenID Connect off) | issuer URL of your OpenID provider |
| `TIMELEDGER_OIDC_CLIENT_ID` | unset | client id registered at the provider |
| `TIMELEDGER_OIDC_CLIENT_SECRET` | unset | client secret registered at the provider |
| `TIMELEDGER_OIDC_JOIN_ORG` | unset | organization that new OpenID users join as members |
| `REDIS_URL` | unset (jobs run in `serve`) | `redis://host:port/db`: jobs run in `timeledger worker` |
| `TIMELEDGER_REDIS_NAMESPACE` | `timeledger` | prefix of the job queues; one per installation on a Redis |
| `TIMELEDGER_SMTP_HOST` | unset (no e-mail) | SMTP server for summaries, reminders, budget alerts |
| `TIMELEDGER_SMTP_PORT` | `25` | SMTP port |
| `TIMELEDGER_SMTP_USERNAME` | unset (no login) | SMTP login name |
| `TIMELEDGER_SMTP_PASSWORD` | unset | SMTP password (never logged or printed) |
| `TIMELEDGER_SMTP_FROM` | `timeledger@localhost` | sender address of the e-mails |
| `TIMELEDGER_SMTP_STARTTLS` | `off` | `on`: upgrade the SMTP connection with STARTTLS before logging in |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    secret_key: str | None = None
    cookie_secure: str = "auto"
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_join_org: str | None = None
    redis_url: str | None = None
    redis_namespace: str = "timeledger"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "timeledger@localhost"
    smtp_starttls: bool = False

    def secure_cookies(self) -> bool:
        if self.cookie_secure == "auto":
            return self.host not in ("127.0.0.1", "localhost", "::1")
        return self.cookie_secure == "on"

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
            secret_key=env.get("TIMELEDGER_SECRET_KEY") or None,
            cookie_secure=_choice(env, "TIMELEDGER_COOKIE_SECURE", ("auto", "on", "off")),
            oidc_issuer=env.get("TIMELEDGER_OIDC_ISSUER") or None,
            oidc_client_id=env.get("TIMELEDGER_OIDC_CLIENT_ID") or None,
            oidc_client_secret=env.get("TIMELEDGER_OIDC_CLIENT_SECRET") or None,
            oidc_join_org=env.get("TIMELEDGER_OIDC_JOIN_ORG") or None,
            redis_url=env.get("REDIS_URL") or None,
            redis_namespace=env.get("TIMELEDGER_REDIS_NAMESPACE") or "timeledger",
            smtp_host=env.get("TIMELEDGER_SMTP_HOST") or None,
            smtp_port=_whole(env, "TIMELEDGER_SMTP_PORT", 25),
            smtp_username=env.get("TIMELEDGER_SMTP_USERNAME") or None,
            smtp_password=env.get("TIMELEDGER_SMTP_PASSWORD") or None,
            smtp_from=env.get("TIMELEDGER_SMTP_FROM") or "timeledger@localhost",
            smtp_starttls=_choice(env, "TIMELEDGER_SMTP_STARTTLS", ("off", "on")) == "on",
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
