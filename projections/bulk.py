"""Writing many rows at once, below SQLAlchemy's per-row statement machinery.

A rebuild writes hundreds of thousands of rows; compiling and processing each
row's parameters through SQLAlchemy costs more than the database's own work.
Here each column's bind processor is looked up once per table, rows become
plain tuples, and the driver receives them in one call: `executemany` on
SQLite, and on PostgreSQL a `COPY` into a temporary staging table followed by
one `INSERT … SELECT … ON CONFLICT DO UPDATE`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table

# Below this many rows a plain executemany is cheaper than staging through COPY.
COPY_THRESHOLD = 200

Processor = Callable[[Any], Any] | None


class TableWriter:
    """Upserts rows of one table through the driver, with SQLAlchemy's value conversions."""

    def __init__(self, table: Table, dialect_name: str, dialect: Any) -> None:
        self.table = table
        self.dialect_name = dialect_name
        self.columns = [column.name for column in table.columns]
        self.keys = [column.name for column in table.primary_key.columns]
        self.processors: list[Processor] = [
            column.type._cached_bind_processor(dialect) for column in table.columns
        ]
        # One C-level call picks a row's values in column order; only the columns
        # with a conversion (JSON, instants, SQLite's UUIDs and dates) get a Python call.
        self.values_of: Callable[[dict[str, Any]], tuple[Any, ...]] = (
            itemgetter(*self.columns) if len(self.columns) > 1 else lambda row: (row[self.columns[0]],)
        )
        self.converted = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        names = ", ".join(_quote(name) for name in self.columns)
        others = [name for name in self.columns if name not in self.keys]
        conflict = ", ".join(_quote(name) for name in self.keys)
        update = (
            "DO UPDATE SET " + ", ".join(f"{_quote(n)} = excluded.{_quote(n)}" for n in others)
            if others
            else "DO NOTHING"
        )
        # Statements are built from our own table and column names (quoted), never from input;
        # values always travel as parameters or COPY rows.
        marker = "?" if dialect_name == "sqlite" else "%s"
        placeholders = ", ".join(marker for _ in self.columns)
        self.insert_values = (
            f"INSERT INTO {_quote(table.name)} ({names}) VALUES ({placeholders}) "  # noqa: S608
            f"ON CONFLICT ({conflict}) {update}"
        )
        self.stage = _quote(f"stage_{table.name}"[:63])
        self.create_stage = (
            f"CREATE TEMP TABLE IF NOT EXISTS {self.stage} "
            f"(LIKE {_quote(table.name)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        self.copy_stage = f"COPY {self.stage} ({names}) FROM STDIN"
        self.insert_staged = (
            f"INSERT INTO {_quote(table.name)} ({names}) SELECT {names} FROM {self.stage} "  # noqa: S608
            f"ON CONFLICT ({conflict}) {update}"
        )

    def tuples(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        if not self.converted:
            return [self.values_of(row) for row in rows]
        result = []
        for row in rows:
            values = list(self.values_of(row))
            for index, process in self.converted:
                values[index] = process(values[index])
            result.append(tuple(values))
        return result

    def upsert(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        values = self.tuples(rows)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if self.dialect_name != "postgresql" or len(values) < COPY_THRESHOLD:
                cursor.executemany(self.insert_values, values)
                return
            cursor.execute(self.create_stage)
            with cursor.copy(self.copy_stage) as copy:
                for value in values:
                    copy.write_row(value)
            cursor.execute(self.insert_staged)
            # ON COMMIT DELETE ROWS empties the stage at commit; a second flush in the
            # same transaction must not see these rows again.
            cursor.execute(f"TRUNCATE {self.stage}")
        finally:
            cursor.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Writers:
    """One `TableWriter` per table, made on first use."""

    def __init__(self) -> None:
        self._writers: dict[tuple[str, str], TableWriter] = {}

    def upsert(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        dialect = conn.dialect
        found = self._writers.get((dialect.name, table.name))
        if found is None or found.table is not table:
            found = self._writers[(dialect.name, table.name)] = TableWriter(table, dialect.name, dialect)
        found.upsert(conn, rows)


WRITERS = Writers()
