"""What every read model shares: generations of tables, the tracking position, dispatch.

A read model's tables exist in generations (`rm_entries_g1`, `rm_entries_g2`, …).
`rm_live` names the generation readers use; a rebuild fills the next generation
from position 0 and then switches `rm_live` in one transaction, so readers never
see a half-built model. `rm_tracking` holds each generation's position, written
in the same transaction as the rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import resolve_topic
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    select,
    update,
)

from projections.batch import Batch

REGISTRY = MetaData()
rm_live = Table(
    "rm_live",
    REGISTRY,
    Column("projection", String(64), primary_key=True),
    Column("generation", Integer, nullable=False),
)
rm_tracking = Table(
    "rm_tracking",
    REGISTRY,
    Column("projection", String(64), primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
)


class TrackingView(TrackingRecorder):
    """The library's tracking-recorder interface over `rm_tracking`, for one generation."""

    def __init__(self, engine: Engine, projection: str, generation: int) -> None:
        self.engine = engine
        self.projection = projection
        self.generation = generation

    def _condition(self) -> Any:
        return (rm_tracking.c.projection == self.projection) & (rm_tracking.c.generation == self.generation)

    def position(self, conn: Connection | None = None) -> int:
        query = select(rm_tracking.c.position).where(self._condition())
        if conn is not None:
            return int(conn.execute(query).scalar() or 0)
        with self.engine.connect() as own:
            return int(own.execute(query).scalar() or 0)

    def lock_position(self, conn: Connection) -> int:
        """Read the position inside a write transaction, locking it against other runners."""
        query = select(rm_tracking.c.position).where(self._condition()).with_for_update()
        return int(conn.execute(query).scalar_one())

    def set_position(self, conn: Connection, position: int) -> None:
        conn.execute(update(rm_tracking).where(self._condition()).values(position=position))

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            self.set_position(conn, tracking.notification_id)

    def max_tracking_id(self, application_name: str) -> int | None:
        return self.position() or None


def _dispatcher(cls: type) -> Any:
    for klass in cls.__mro__:
        method = klass.__dict__.get("apply")
        if method is not None:
            return method.dispatcher
    raise TypeError(f"{cls.__name__} has no apply method")


class ReadModel(Projection[TrackingView]):
    """A projection whose handlers write rows through a `Batch`.

    Subclasses name themselves, define their tables for a table-name suffix, and
    register handlers on `apply` for the event classes they read. Handlers are
    pure with respect to the write model: they read only their own tables.
    """

    name: str = ""
    _tables_cache: ClassVar[dict[tuple[str, int], dict[str, Table]]] = {}
    _tables_lock: ClassVar[threading.Lock] = threading.Lock()
    _handlers: ClassVar[dict[str, Callable[[Any, Any, Batch], None] | None]]

    def __init__(self, view: TrackingView) -> None:
        super().__init__(view)
        self.t = self.tables(view.generation)

    @classmethod
    def define_tables(cls, metadata: MetaData, suffix: str) -> dict[str, Table]:
        raise NotImplementedError

    @classmethod
    def tables(cls, generation: int) -> dict[str, Table]:
        """This read model's tables in one generation (Table objects are made once)."""
        key = (cls.name, generation)
        with cls._tables_lock:
            if key not in cls._tables_cache:
                cls._tables_cache[key] = cls.define_tables(MetaData(), f"_g{generation}")
            return cls._tables_cache[key]

    @singledispatchmethod
    def apply(self, event: object, batch: Batch) -> None:
        """Events a read model does not register a handler for change nothing."""

    @classmethod
    def handler_for(cls, topic: str) -> Callable[[Any, Any, Batch], None] | None:
        """The handler for events of `topic`, or None when this read model ignores them.

        Looked up once per topic, so a rebuild neither decodes the events a read model
        ignores nor pays for single dispatch on every event.
        """
        handlers = cls.__dict__.get("_handlers")
        if handlers is None:
            handlers = {}
            cls._handlers = handlers
        if topic not in handlers:
            dispatcher = _dispatcher(cls)
            event_class = resolve_topic(topic)
            found = dispatcher.dispatch(event_class)
            handlers[topic] = None if found is dispatcher.registry[object] else found
        handler: Callable[[Any, Any, Batch], None] | None = handlers[topic]
        return handler

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """The library's one-event interface: rows and position in one transaction."""
        with self.view.engine.connect().execution_options(write=True) as conn, conn.begin():
            if self.view.lock_position(conn) >= tracking.notification_id:
                return
            batch = Batch(conn)
            self.apply(domain_event, batch)
            batch.flush()
            self.view.set_position(conn, tracking.notification_id)
