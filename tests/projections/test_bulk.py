"""Bulk writes through the driver store exactly what SQLAlchemy reads back, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Engine,
    MetaData,
    String,
    Table,
    Uuid,
    select,
)

from ledger.store import store_config
from projections.bulk import COPY_THRESHOLD, WRITERS
from projections.columns import Instant
from projections.database import readmodel_engine
from projections.registry import create_tables
from tests.conftest import StoreHandle

metadata = MetaData()
sample = Table(
    "rm_bulk_sample",
    metadata,
    Column("org_id", Uuid, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("name", String(50), nullable=True),
    Column("flag", Boolean, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("at", Instant, nullable=True),
    Column("doc", JSON, nullable=False),
)
only_keys = Table("rm_bulk_keys", metadata, Column("id", Uuid, primary_key=True))


@pytest.fixture
def engine(store: StoreHandle, tmp_path: Path) -> Iterator[Engine]:
    engine = readmodel_engine(store_config(store.url, tmp_path))
    create_tables(engine, metadata)
    yield engine
    engine.dispose()


def rows(count: int, org_id: UUID, version: int) -> list[dict[str, Any]]:
    base = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    return [
        {
            "org_id": org_id,
            "day": date(2026, 1, 1) + timedelta(days=i),
            "name": None if i % 3 == 0 else f"row {i} 'quoted' \\ tab\there\nline {version}",
            "flag": i % 2 == 0,
            "amount": 2**40 + i * version,
            "at": None if i % 5 == 0 else base + timedelta(minutes=i),
            "doc": {"n": i, "v": version, "text": 'ü\\"', "list": [1, None, "x"]},
        }
        for i in range(count)
    ]


def read_all(engine: Engine) -> dict[tuple[Any, ...], dict[str, Any]]:
    with engine.connect() as conn:
        found = conn.execute(select(sample)).mappings().all()
    return {(row["org_id"], row["day"]): dict(row) for row in found}


@pytest.mark.parametrize("count", [5, COPY_THRESHOLD + 50])
def test_rows_written_in_bulk_read_back_equal_and_updates_replace_them(engine: Engine, count: int) -> None:
    org_id = uuid4()
    first = rows(count, org_id, version=1)
    with engine.begin() as conn:
        WRITERS.upsert(conn, sample, first)
    assert read_all(engine) == {(r["org_id"], r["day"]): r for r in first}

    # The same keys again (an update), and more rows flushed twice in one transaction.
    second = rows(count, org_id, version=2)
    other = rows(count, uuid4(), version=3)
    with engine.begin() as conn:
        WRITERS.upsert(conn, sample, second)
        WRITERS.upsert(conn, sample, other)
        WRITERS.upsert(conn, sample, other[: count // 2])
    expected = {(r["org_id"], r["day"]): r for r in second + other}
    assert read_all(engine) == expected


def test_a_rolled_back_bulk_write_leaves_nothing(engine: Engine) -> None:
    with engine.connect() as conn:
        transaction = conn.begin()
        WRITERS.upsert(conn, sample, rows(COPY_THRESHOLD + 1, uuid4(), version=1))
        transaction.rollback()
    assert read_all(engine) == {}


def test_a_table_of_only_keys_is_written_once_per_key(engine: Engine) -> None:
    ids = [uuid4() for _ in range(COPY_THRESHOLD + 10)]
    with engine.begin() as conn:
        WRITERS.upsert(conn, only_keys, [{"id": i} for i in ids])
        WRITERS.upsert(conn, only_keys, [{"id": i} for i in ids[:3]])
    with engine.connect() as conn:
        found = conn.execute(select(only_keys.c.id)).scalars().all()
    assert sorted(found) == sorted(ids)
