"""API tokens as their lists show them: the catalog's rows plus when each token was last used.

The last use is kept outside the ledger, in `api_token_usage` beside the read
models: an event per request would flood the log with facts nobody audits.
Each process writes a token's row at most once a minute (a memo skips the rest),
so `last_used_at` is accurate to about a minute. The table is not a read model:
a rebuild from the log neither needs nor touches it.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Engine, MetaData, Table, Uuid, and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from ledger.tokens import ApiToken
from projections.catalog import CatalogProjection
from projections.columns import Instant
from projections.registry import create_tables, live_tables

log = logging.getLogger(__name__)

WRITE_EVERY = timedelta(minutes=1)
MEMO_LIMIT = 100_000

metadata = MetaData()
usage = Table(
    "api_token_usage",
    metadata,
    Column("token_id", Uuid, primary_key=True),
    Column("last_used_at", Instant, nullable=False),
)

_lock = threading.Lock()
_ready: weakref.WeakSet[Engine] = weakref.WeakSet()
# token id -> the last use this process wrote
_written: dict[UUID, datetime] = {}


@dataclass(frozen=True)
class TokenRow:
    """A token without its secret."""

    id: UUID
    org_id: UUID
    user_id: UUID
    name: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    created_at: datetime
    revoked: bool
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken, last_used_at: datetime | None) -> TokenRow:
        """A token as the write model holds it (right after a command, before the read model)."""
        return cls(
            id=token.id,
            org_id=token.org_id,
            user_id=token.user_id,
            name=token.name,
            scopes=tuple(token.scopes),
            expires_at=token.expires_at,
            created_at=token.created_on,
            revoked=token.revoked,
            last_used_at=last_used_at,
        )


@dataclass(frozen=True)
class TokenPage:
    items: tuple[TokenRow, ...]
    next_cursor: str | None


def ensure_table(engine: Engine) -> None:
    """Create `api_token_usage` once per engine and process."""
    if engine in _ready:
        return
    create_tables(engine, metadata)
    _ready.add(engine)


def touch(engine: Engine, token_id: UUID, now: datetime) -> bool:
    """Note that the token was used at `now`; writes at most once a minute per token. True if it wrote."""
    with _lock:
        written = _written.get(token_id)
        if written is not None and written <= now < written + WRITE_EVERY:
            return False
        if len(_written) >= MEMO_LIMIT:
            _written.clear()
        _written[token_id] = now
    try:
        ensure_table(engine)
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(_upsert(engine.dialect.name, token_id, now))
    except OperationalError:
        # Bookkeeping must not fail the request it notes (a busy SQLite file, say): try next time.
        with _lock:
            _written.pop(token_id, None)
        log.warning("could not record the last use of token %s", token_id, exc_info=True)
        return False
    return True


def _upsert(dialect: str, token_id: UUID, now: datetime) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(usage).values(token_id=token_id, last_used_at=now)
    # Several processes write the same row: keep the latest use, whoever writes last.
    return statement.on_conflict_do_update(
        index_elements=[usage.c.token_id],
        set_={"last_used_at": statement.excluded.last_used_at},
        where=usage.c.last_used_at < statement.excluded.last_used_at,
    )


def last_used(engine: Engine, token_ids: Iterable[UUID]) -> dict[UUID, datetime]:
    """When each of these tokens was last used; tokens never used are left out."""
    wanted = list(token_ids)
    if not wanted:
        return {}
    ensure_table(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(usage).where(usage.c.token_id.in_(wanted))).all()
    return {r.token_id: r.last_used_at for r in rows}


# --- lists ---------------------------------------------------------------------------


def list_tokens(
    engine: Engine,
    org_id: UUID,
    user_id: UUID | None = None,
    include_revoked: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> TokenPage:
    """An organization's tokens (or one member's), newest first, a page at a time."""
    ensure_table(engine)
    with engine.connect() as conn:
        t = live_tables(conn, CatalogProjection)["tokens"]
        query = (
            select(t, usage.c.last_used_at)
            .select_from(t.outerjoin(usage, usage.c.token_id == t.c.id))
            .where(t.c.org_id == org_id)
        )
        if user_id is not None:
            query = query.where(t.c.user_id == user_id)
        if not include_revoked:
            query = query.where(t.c.revoked.is_(False))
        if cursor is not None:
            after_at, after_id = _decode_cursor(cursor)
            query = query.where(
                or_(t.c.created_at < after_at, and_(t.c.created_at == after_at, t.c.id < after_id))
            )
        rows = conn.execute(query.order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit + 1)).all()
    items = tuple(_row(r) for r in rows[:limit])
    next_cursor = _encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return TokenPage(items, next_cursor)


def _row(r: Any) -> TokenRow:
    return TokenRow(
        id=r.id,
        org_id=r.org_id,
        user_id=r.user_id,
        name=r.name,
        scopes=tuple(r.scopes),
        expires_at=r.expires_at,
        created_at=r.created_at,
        revoked=r.revoked,
        last_used_at=r.last_used_at,
    )


def _encode_cursor(created_at: datetime, token_id: UUID) -> str:
    raw = json.dumps(["tokens", created_at.isoformat(), str(token_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, created_at, token_id = json.loads(raw)
        if kind != "tokens":
            raise ValueError(kind)
        return datetime.fromisoformat(created_at).astimezone(UTC), UUID(token_id)
    except (ValueError, TypeError, OverflowError) as error:
        raise ValueError("The cursor is not one this server gave out for this list.") from error
