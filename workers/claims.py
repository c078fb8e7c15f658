"""Claims: the one row that decides which process does a scheduled thing.

A claim is a row keyed by (name, key) in `job_claims`, a table in the read-model
database that is not a read model (nothing rebuilds it from the log). Inserting it is
the decision: of several processes inserting the same claim, exactly one succeeds (the
primary key), and only that one goes on. Scheduled firings claim (schedule, fire time);
the planners claim (org, week) or (org, day); the e-mail jobs claim each recipient, so
a retried job does not send twice.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from projections.columns import Instant
from projections.registry import create_tables

CLAIMS = MetaData()
job_claims = Table(
    "job_claims",
    CLAIMS,
    Column("name", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("claimed_at", Instant, nullable=False),
    Column("claimed_by", String(200), nullable=False),
    # Set by the job the claim started, when it finished (scheduled firings only).
    Column("finished_at", Instant, nullable=True),
    Column("runs", Integer, nullable=False, default=0),
    Index("ix_job_claims_claimed_at", "claimed_at"),
)
# Claims older than this are deleted; every key that is claimed again later is younger.
KEEP_CLAIMS = timedelta(days=40)


def process_label() -> str:
    """Who claimed: host and process id, for people reading the table."""
    return f"{socket.gethostname()}:{os.getpid()}"


def ensure_claims_table(engine: Engine) -> None:
    create_tables(engine, CLAIMS)


def claim(engine: Engine, name: str, key: str, *, by: str | None = None) -> bool:
    """Insert the claim (name, key); True for the one caller whose insert succeeded."""
    row = {
        "name": name,
        "key": key,
        "claimed_at": datetime.now(tz=UTC),
        "claimed_by": by or process_label(),
        "runs": 0,
    }
    try:
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(insert(job_claims).values(**row))
    except IntegrityError:
        return False
    return True


def release(engine: Engine, name: str, key: str) -> None:
    """Give a claim back (its work failed), so a retry can claim it again."""
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(delete(job_claims).where(job_claims.c.name == name, job_claims.c.key == key))


def finish(engine: Engine, name: str, key: str) -> None:
    """Note that the job a claim started has run (counts runs: a re-delivered message shows as 2)."""
    c = job_claims.c
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(
            update(job_claims)
            .where(c.name == name, c.key == key)
            .values(finished_at=datetime.now(tz=UTC), runs=c.runs + 1)
        )


def prune(engine: Engine, now: datetime) -> None:
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(delete(job_claims).where(job_claims.c.claimed_at < now - KEEP_CLAIMS))


def claims_of(engine: Engine, name: str) -> list[dict[str, object]]:
    """Every claim of one name, oldest key first (for operators and tests)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(job_claims).where(job_claims.c.name == name).order_by(job_claims.c.key)
        ).all()
    return [dict(r._mapping) for r in rows]
