"""Rendered invoice documents (PDFs), one per invoice version, beside the read models.

Not a read model: the render job writes these rows, and no replay of the log makes
them, so a rebuild neither drops nor fills `invoice_documents` (its table is created
here, outside every read model's generations). A document is what one version of an
invoice looks like, so it never changes once written; rendering the same version
again (a retried job) writes the same row again.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, Engine, Integer, LargeBinary, MetaData, String, Table, Uuid, select
from sqlalchemy.dialects import postgresql, sqlite

from projections.columns import Instant
from projections.registry import create_tables

PDF = "application/pdf"

metadata = MetaData()
invoice_documents = Table(
    "invoice_documents",
    metadata,
    Column("invoice_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("content_type", String(100), nullable=False),
    Column("bytes", LargeBinary, nullable=False),
    Column("rendered_at", Instant, nullable=False),
)

_ready: weakref.WeakSet[Engine] = weakref.WeakSet()


@dataclass(frozen=True)
class Document:
    invoice_id: UUID
    version: int
    content_type: str
    data: bytes
    rendered_at: datetime


def ensure_tables(engine: Engine) -> None:
    """Create `invoice_documents` once per engine and process."""
    if engine in _ready:
        return
    create_tables(engine, metadata)
    _ready.add(engine)


def get_document(engine: Engine, invoice_id: UUID, version: int) -> Document | None:
    ensure_tables(engine)
    d = invoice_documents.c
    with engine.connect() as conn:
        row = conn.execute(
            select(invoice_documents).where(d.invoice_id == invoice_id, d.version == version)
        ).first()
    if row is None:
        return None
    return Document(row.invoice_id, row.version, row.content_type, bytes(row.bytes), row.rendered_at)


def save_document(
    engine: Engine, invoice_id: UUID, version: int, content_type: str, data: bytes, rendered_at: datetime
) -> None:
    """Write (or write again) the document of one invoice version."""
    ensure_tables(engine)
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(invoice_documents).values(
        invoice_id=invoice_id, version=version, content_type=content_type, bytes=data, rendered_at=rendered_at
    )
    statement = statement.on_conflict_do_update(
        index_elements=[invoice_documents.c.invoice_id, invoice_documents.c.version],
        set_={
            "content_type": statement.excluded.content_type,
            "bytes": statement.excluded.bytes,
            "rendered_at": statement.excluded.rendered_at,
        },
    )
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        conn.execute(statement)
