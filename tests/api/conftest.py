"""API fixtures: the real app over the test's store, with read models following in threads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ratelimit import RateLimiter
from api.readside import ReadSide
from ledger.actors import Actor
from ledger.store import store_config
from ledger.tokens import SCOPES
from projections.database import readmodel_engine
from projections.service import ProjectionService
from tests.conftest import StoreHandle, World


@dataclass
class Api:
    """A test client plus tokens for each person of the world (each with every scope)."""

    client: TestClient
    world: World
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, who: str = "owner", scopes: tuple[str, ...] | None = None, org_id: Any = None) -> str:
        """A token of `who`; by default the owner's holds `admin`, others' every other scope."""
        actor: Actor = getattr(self.world, who)
        if scopes is None:
            scopes = ("admin",) if who == "owner" else tuple(s for s in SCOPES if s != "admin")
        receipt = self.world.ledger.issue_token(
            org_id=org_id or self.world.org_id,
            name=f"{who} test token",
            scopes=list(scopes),
            user_id=actor.user_id,
            actor=self.world.owner if org_id is None else actor,
        )
        assert receipt.secret is not None
        return receipt.secret

    def as_(self, who: str = "owner", scopes: tuple[str, ...] | None = None) -> dict[str, str]:
        """Authorization headers of a (cached) token of `who` with `scopes` (see `token`)."""
        key = f"{who}:{','.join(scopes or ())}"
        if key not in self.tokens:
            self.tokens[key] = self.token(who, scopes)
        return {"Authorization": f"Bearer {self.tokens[key]}"}

    def request(self, method: str, path: str, who: str = "owner", **kwargs: Any) -> Any:
        headers = {**self.as_(who), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture
def make_api(store: StoreHandle, world: World, tmp_path: Path) -> Iterator[Callable[..., Api]]:
    made: list[tuple[TestClient, ProjectionService]] = []

    def make(rate_limit: int | None = None) -> Api:
        config = store_config(store.url, tmp_path)
        engine = readmodel_engine(config)
        service = ProjectionService(world.ledger, engine, config)
        service.start()
        limiter = RateLimiter(rate_limit) if rate_limit else None
        app = create_app(world.ledger, ReadSide(engine, service), config.kind, limiter)
        client = TestClient(app)
        made.append((client, service))
        # The world was written before the read models started: a test's first query
        # must not race them (on a loaded machine they can take a moment to catch up).
        assert service.wait_for(world.ledger.head_position(), 30), "read models did not catch up"
        return Api(client, world)

    yield make
    for client, service in made:
        client.close()
        client.app.state.stream_hub.stop()  # type: ignore[attr-defined]
        service.stop()
        service.engine.dispose()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
