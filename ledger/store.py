"""Event-store wiring: the one module that knows whether SQLite or PostgreSQL is in use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ledger.errors import InvalidInputError


@dataclass(frozen=True)
class StoreConfig:
    """Where events live: a SQLite file in the data folder, or a PostgreSQL database."""

    kind: str
    env: dict[str, str]
    description: str


def store_config(database_url: str | None, home: Path) -> StoreConfig:
    """Translate `DATABASE_URL` (or its absence) into the library's environment."""
    if not database_url:
        home.mkdir(parents=True, exist_ok=True)
        path = home / "timeledger.db"
        return StoreConfig(
            kind="sqlite",
            env={
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": "30",
            },
            description=f"sqlite:{path}",
        )
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/or/absolute.db and sqlite:///:memory:
        name = unquote(parts.path.lstrip("/")) if parts.path != "/:memory:" else ":memory:"
        if name != ":memory:" and parts.path.startswith("//"):
            name = "/" + name.lstrip("/")
        return StoreConfig(
            kind="sqlite",
            env={
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": name or ":memory:",
                "SQLITE_LOCK_TIMEOUT": "30",
            },
            description=f"sqlite:{name}",
        )
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise InvalidInputError(
            f"DATABASE_URL must start with postgresql:// (or be unset for SQLite); got {parts.scheme}://."
        )
    query = parse_qs(parts.query)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "timeledger",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": query.get("pool_size", ["10"])[0],
        "POSTGRES_MAX_OVERFLOW": query.get("max_overflow", ["20"])[0],
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_LOCK_TIMEOUT": "10",
    }
    if "schema" in query:
        env["POSTGRES_SCHEMA"] = query["schema"][0]
    shown = f"postgresql://{parts.hostname or '127.0.0.1'}:{parts.port or 5432}/{env['POSTGRES_DBNAME']}"
    if "schema" in query:
        shown += f"?schema={query['schema'][0]}"
    return StoreConfig(kind="postgresql", env=env, description=shown)


# Concurrent `CREATE OR REPLACE FUNCTION` (the library's insert function) fails with
# "tuple concurrently updated" when several processes start at once, so schema setup
# on PostgreSQL runs one process at a time, per schema.
SCHEMA_SETUP_LOCK = "SELECT pg_advisory_xact_lock(hashtext('timeledger schema ' || current_schema()))"


@contextmanager
def serialised_schema_setup(factory: Any) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock while the block creates tables; no-op on SQLite."""
    from eventsourcing.postgres import PostgresDatastore  # only loaded when configured

    datastore = getattr(factory, "datastore", None)
    if not isinstance(datastore, PostgresDatastore):
        yield
        return
    with datastore.transaction(commit=True) as curs:
        curs.execute(SCHEMA_SETUP_LOCK)
        yield
