"""A batch: one transaction in which a projection applies many events, then writes once.

Handlers read and write rows by primary key through the batch; the batch keeps
them in memory and writes every changed row in bulk at the end, so a thousand
events touching one entry cost one upsert, not a thousand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, and_, delete, select, tuple_

from projections.bulk import WRITERS

Key = tuple[Any, ...]
_MISSING = object()


class Batch:
    """Rows of a projection's tables, read through and written back in bulk."""

    def __init__(
        self, conn: Connection, cache: dict[str, dict[Key, Any]] | None = None, known_empty: bool = False
    ) -> None:
        self.conn = conn
        # table name -> key -> row dict (or None when known absent)
        self._rows: dict[str, dict[Key, Any]] = cache if cache is not None else {}
        self._dirty: dict[str, set[Key]] = {}
        self._tables: dict[str, Table] = {}
        # During a rebuild into new tables, a row not in memory does not exist.
        self.known_empty = known_empty

    @staticmethod
    def _key_columns(table: Table) -> list[Any]:
        return list(table.primary_key.columns)

    def get(self, table: Table, key: Key) -> dict[str, Any] | None:
        rows = self._rows.setdefault(table.name, {})
        found = rows.get(key, _MISSING)
        if found is _MISSING:
            found = None if self.known_empty else self._load(table, key)
            rows[key] = found
        return dict(found) if found is not None else None

    def _load(self, table: Table, key: Key) -> dict[str, Any] | None:
        columns = self._key_columns(table)
        condition = and_(*(c == v for c, v in zip(columns, key, strict=True)))
        row = self.conn.execute(select(table).where(condition)).mappings().first()
        return dict(row) if row is not None else None

    def put(self, table: Table, key: Key, values: dict[str, Any]) -> None:
        self._tables[table.name] = table
        self._rows.setdefault(table.name, {})[key] = values
        self._dirty.setdefault(table.name, set()).add(key)

    def delete(self, table: Table, key: Key) -> None:
        self._tables[table.name] = table
        self._rows.setdefault(table.name, {})[key] = None
        self._dirty.setdefault(table.name, set()).add(key)

    def select(self, statement: Select[Any]) -> Sequence[Row[Any]]:
        """Run a query against the tables as this batch has changed them so far."""
        self.flush()
        return self.conn.execute(statement).all()

    def forget(self, table: Table) -> None:
        """Drop cached rows of a table (after writing it with plain SQL)."""
        self.flush()
        self._rows.pop(table.name, None)
        self.known_empty = False

    def flush(self) -> None:
        for name, keys in self._dirty.items():
            table = self._tables[name]
            rows = self._rows[name]
            gone = [k for k in keys if rows[k] is None]
            kept = [rows[k] for k in keys if rows[k] is not None]
            if gone:
                self._delete(table, gone)
            if kept:
                self._upsert(table, kept)
        self._dirty.clear()

    def _delete(self, table: Table, keys: Iterable[Key]) -> None:
        columns = self._key_columns(table)
        keys = list(keys)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            if len(columns) == 1:
                condition = columns[0].in_([k[0] for k in chunk])
            else:
                condition = tuple_(*columns).in_(chunk)
            self.conn.execute(delete(table).where(condition))

    def _upsert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        WRITERS.upsert(self.conn, table, rows)

    def cached_rows(self) -> int:
        return sum(len(rows) for rows in self._rows.values())
