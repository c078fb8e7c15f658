"""Creating, finding and switching the generations of read-model tables."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, MetaData, Table, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from projections.base import REGISTRY, ReadModel, rm_live, rm_tracking

# Two processes creating the same tables at once race between "does it exist" and
# "create" on PostgreSQL; one at a time per schema avoids it.
SCHEMA_SETUP_LOCK = "SELECT pg_advisory_xact_lock(hashtext('timeledger read models ' || current_schema()))"


def create_tables(engine: Engine, metadata: MetaData) -> None:
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text(SCHEMA_SETUP_LOCK))
        metadata.create_all(conn, checkfirst=True)


def ensure_registry(engine: Engine) -> None:
    create_tables(engine, REGISTRY)


def live_generation(conn: Connection, model: type[ReadModel]) -> int | None:
    found = conn.execute(select(rm_live.c.generation).where(rm_live.c.projection == model.name)).scalar()
    return int(found) if found is not None else None


def create_generation(engine: Engine, model: type[ReadModel], generation: int) -> None:
    """Create (empty) tables of one generation with its tracking row at position 0."""
    tables = model.tables(generation)
    create_tables(engine, next(iter(tables.values())).metadata)
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(
            delete(rm_tracking).where(
                (rm_tracking.c.projection == model.name) & (rm_tracking.c.generation == generation)
            )
        )
        conn.execute(insert(rm_tracking).values(projection=model.name, generation=generation, position=0))


def ensure_live(engine: Engine, model: type[ReadModel]) -> int:
    """The live generation of a read model, creating generation 1 on first use."""
    ensure_registry(engine)
    with engine.connect() as conn:
        generation = live_generation(conn, model)
    if generation is not None:
        return generation
    create_tables(engine, next(iter(model.tables(1).values())).metadata)
    try:
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(insert(rm_tracking).values(projection=model.name, generation=1, position=0))
            conn.execute(insert(rm_live).values(projection=model.name, generation=1))
    except IntegrityError:
        pass  # another process created it first
    with engine.connect() as conn:
        found = live_generation(conn, model)
    assert found is not None  # noqa: S101 - inserted above or by the other process
    return found


def next_generation(engine: Engine, model: type[ReadModel]) -> int:
    with engine.connect() as conn:
        highest = conn.execute(
            select(rm_tracking.c.generation)
            .where(rm_tracking.c.projection == model.name)
            .order_by(rm_tracking.c.generation.desc())
            .limit(1)
        ).scalar()
    return int(highest or 0) + 1


def switch_live(conn: Connection, model: type[ReadModel], generation: int) -> int | None:
    """Point readers at `generation` (inside the caller's transaction); returns the old one."""
    old = live_generation(conn, model)
    conn.execute(update(rm_live).where(rm_live.c.projection == model.name).values(generation=generation))
    return old


def drop_generation(engine: Engine, model: type[ReadModel], generation: int) -> None:
    tables = model.tables(generation)
    next(iter(tables.values())).metadata.drop_all(engine, checkfirst=True)
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(
            delete(rm_tracking).where(
                (rm_tracking.c.projection == model.name) & (rm_tracking.c.generation == generation)
            )
        )


def live_tables(conn: Connection, model: type[ReadModel]) -> dict[str, Table]:
    """The tables readers should use now (empty generation 1 if nothing was built yet)."""
    generation = live_generation(conn, model)
    return model.tables(generation or 1)
