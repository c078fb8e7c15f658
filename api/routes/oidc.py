"""Routes of the REST API (being written; see issue 4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
