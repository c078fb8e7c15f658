"""`timeledger replay --until POSITION|TIME --into DATABASE`: read models as of then, for an auditor."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, text

from ledger.application import TimeLedger
from ledger.store import StoreConfig, store_config
from projections.database import readmodel_engine, sqlite_readmodel_engine
from projections.models import ALL
from projections.replay import holds_read_models, position_at, replay_into
from timeledger.bootstrap import open_ledger, open_store
from timeledger.settings import Settings


class ReplayInputError(Exception):
    """Raised when `--until` or `--into` cannot be used; its message is one sentence for the user."""


def add_command(commands: Any) -> None:
    parser = commands.add_parser(
        "replay", help="build every read model as of a past position or time into a scratch database"
    )
    parser.add_argument(
        "--until",
        required=True,
        metavar="POSITION|TIME",
        help="a log position, or a time with its offset (2026-11-20T15:00:00+01:00): the last event then",
    )
    parser.add_argument(
        "--into",
        required=True,
        metavar="DATABASE",
        help="a new SQLite file, or postgresql://…?schema=NAME (a schema without read models)",
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    ledger = open_ledger(settings)
    try:
        until = _position(ledger, args.until)
        engine = _scratch_engine(open_store(settings), args.into, settings.home)
    except ReplayInputError as error:
        print(f"timeledger: {error}", file=sys.stderr)
        return 2
    try:
        if holds_read_models(engine):
            print(f"timeledger: {args.into} already holds read models; give a new one.", file=sys.stderr)
            return 2
        result = replay_into(ledger, engine, ALL, until)
    finally:
        engine.dispose()
    print(f"Replayed the log to position {result.position} into {args.into}.")
    for table, count in result.rows.items():
        print(f"{table:32} {count:>10} rows")
    return 0


def _position(ledger: TimeLedger, until: str) -> int:
    head = ledger.head_position()
    if until.isdigit():
        position = int(until)
        if position > head:
            raise ReplayInputError(f"position {position} lies beyond the head of the log ({head})")
        return position
    try:
        instant = datetime.fromisoformat(until)
    except ValueError:
        raise ReplayInputError(
            f"--until {until!r} is neither a position nor a time like 2026-11-20T15:00:00+01:00"
        ) from None
    if instant.tzinfo is None:
        raise ReplayInputError(f"--until {until!r} needs an offset, as in 2026-11-20T15:00:00Z")
    return position_at(ledger, instant)


def _scratch_engine(live: StoreConfig, into: str, home: Path) -> Engine:
    """An engine on the scratch database, never on the live read models."""
    if urlsplit(into).scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        scratch = store_config(into, home)
        schema = scratch.env.get("POSTGRES_SCHEMA")
        if not schema:
            raise ReplayInputError("a PostgreSQL scratch database needs ?schema=NAME, a schema of its own")
        place = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DBNAME")
        same_database = live.kind == "postgresql" and all(live.env[k] == scratch.env[k] for k in place)
        if same_database and live.env.get("POSTGRES_SCHEMA", "public") == schema:
            raise ReplayInputError(f"schema {schema} holds the live read models; name another one")
        engine = readmodel_engine(scratch)
        with engine.connect() as conn, conn.begin():
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        return engine
    path = Path(into.removeprefix("sqlite:///")).resolve()
    if live.kind == "sqlite":
        events = Path(live.env["SQLITE_DBNAME"]).resolve()
        if path in (events, events.with_name(events.stem + ".readmodels.db")):
            raise ReplayInputError(f"{path} is the live store; give a new file")
    if not path.parent.is_dir():
        raise ReplayInputError(f"the folder {path.parent} does not exist")
    return sqlite_readmodel_engine(path)
