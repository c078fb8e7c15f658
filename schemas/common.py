"""Shapes shared by every part of the public contract."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time needs an offset, as in RFC 3339 (2026-11-20T09:00:00+01:00 or …Z)")
    if not 1900 <= value.year <= 2999:
        raise ValueError("a time must fall in the years 1900 to 2999")
    return value


# Every time value the API accepts carries its offset; naive times are refused.
Instant = Annotated[datetime, AfterValidator(_aware)]

T = TypeVar("T")


class Strict(BaseModel):
    """A request body: unknown fields are errors, so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` as `cursor` to get the next one (null at the end)."""

    items: list[T]
    next_cursor: str | None = None


class Problem(BaseModel):
    """An error, as RFC 9457 `application/problem+json`; `type` is stable per kind of error."""

    type: str
    title: str
    status: int
    detail: str
    field: str | None = Field(default=None, description="The request field at fault, when there is one.")
    errors: list[dict[str, object]] | None = Field(
        default=None, description="Every invalid field, for validation errors."
    )
