"""The read-model database: PostgreSQL next to the events, or a SQLite file beside them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

from ledger.store import StoreConfig


def readmodel_engine(store: StoreConfig) -> Engine:
    """An engine for the read models of the given event store."""
    env = store.env
    if store.kind == "postgresql":
        url = URL.create(
            "postgresql+psycopg",
            username=env["POSTGRES_USER"],
            password=env.get("POSTGRES_PASSWORD") or None,
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            database=env["POSTGRES_DBNAME"],
        )
        connect_args: dict[str, Any] = {"connect_timeout": 5}
        schema = env.get("POSTGRES_SCHEMA")
        if schema:
            connect_args["options"] = f"-csearch_path={schema}"
        return create_engine(url, connect_args=connect_args, pool_size=5, max_overflow=10, pool_pre_ping=True)
    name = env["SQLITE_DBNAME"]
    if name == ":memory:" or "mode=memory" in name:
        engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        events_file = Path(name)
        return sqlite_readmodel_engine(events_file.with_name(events_file.stem + ".readmodels.db"))
    _sqlite_transactions(engine)
    return engine


def sqlite_readmodel_engine(path: Path) -> Engine:
    """An engine for read models in the SQLite file at `path`."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30})
    _sqlite_transactions(engine)
    return engine


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.

    The sqlite3 module otherwise defers BEGIN until the first write, which lets two
    writers read the same tracking position before either locks it.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        writing = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
