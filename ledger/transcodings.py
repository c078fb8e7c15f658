"""How event fields are written to JSON: the library's transcodings, with cheaper UUID reads."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID

from eventsourcing.persistence import UUIDAsHex


@lru_cache(maxsize=200_000)
def _uuid(hex_text: str) -> UUID:
    return UUID(hex_text)


class CachedUUIDAsHex(UUIDAsHex):
    """Same stored form as the library's (`uuid_hex`); decoding reuses UUIDs already seen.

    Most ids in the log repeat (organization, members, projects), and building a
    UUID from text costs more than the rest of decoding an event's field.
    """

    def decode(self, data: str) -> UUID:
        return _uuid(data)
