"""Shared fixtures: a ledger on SQLite and on the real PostgreSQL, fresh for every test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.clock import Clock, FixedClock
from ledger.passwords import Passwords
from ledger.store import store_config

PG_URL = os.environ.get("TIMELEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SESSION_TAG = f"s{os.getpid()}_{uuid.uuid4().hex[:6]}"


def _pg_problem() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return f"{PG_URL} unreachable: {error}".strip()


_PG_PROBLEM = _pg_problem()


def require_postgres() -> None:
    """Skip loudly without PostgreSQL; with CI=true, fail instead."""
    if _PG_PROBLEM is None:
        return
    message = f"PostgreSQL is required for this test and is not reachable: {_PG_PROBLEM}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service fails the run)", pytrace=False)
    pytest.skip("LOUD SKIP: " + message)


def new_pg_schema() -> str:
    """A fresh schema in the test database, so runs and tests never collide."""
    name = f"tl_{SESSION_TAG}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return name


def drop_pg_schema(name: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@dataclass
class StoreHandle:
    """Where one test's events live; `url` can be given to other processes as DATABASE_URL."""

    kind: str
    url: str
    env: dict[str, str]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreHandle]:
    """Each test that uses this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'timeledger.db'}"
        yield StoreHandle("sqlite", url, store_config(url, tmp_path).env)
        return
    require_postgres()
    schema = new_pg_schema()
    url = f"{PG_URL}?schema={schema}"
    try:
        yield StoreHandle("postgres", url, store_config(url, tmp_path).env)
    finally:
        drop_pg_schema(schema)


@pytest.fixture
def make_ledger(store: StoreHandle) -> Iterator[Callable[..., TimeLedger]]:
    """Factory of ledgers over the test's store (several may share it, like processes do)."""
    opened: list[TimeLedger] = []

    def make(clock: Clock | None = None) -> TimeLedger:
        ledger = TimeLedger(dict(store.env), clock=clock, passwords=Passwords.fast_for_tests())
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def ledger(make_ledger: Callable[..., TimeLedger], clock: FixedClock) -> TimeLedger:
    return make_ledger(clock)


@dataclass
class World:
    """An organization with an owner, a manager, a member, a client, a project and a task."""

    ledger: TimeLedger
    clock: FixedClock
    org_id: uuid.UUID
    owner: Actor
    manager: Actor
    member: Actor
    client_id: uuid.UUID
    project_id: uuid.UUID
    task_id: uuid.UUID


@pytest.fixture
def world(ledger: TimeLedger, clock: FixedClock) -> World:
    created = ledger.create_organization(
        name="Acme",
        owner_email="owner@acme.test",
        owner_name="Olive Owner",
        owner_password="owner-password",
    )
    owner = Actor.user(created.related[0])
    manager_id = ledger.add_member(
        org_id=created.id,
        email="manager@acme.test",
        name="Max Manager",
        role="manager",
        password="manager-password",
        actor=owner,
    ).id
    member_id = ledger.add_member(
        org_id=created.id,
        email="member@acme.test",
        name="Mia Member",
        role="member",
        password="member-password",
        actor=owner,
    ).id
    client = ledger.create_client(org_id=created.id, name="Globex", actor=owner)
    project = ledger.create_project(org_id=created.id, name="Website", client_id=client.id, actor=owner)
    task = ledger.create_task(project_id=project.id, name="Design", actor=owner)
    return World(
        ledger,
        clock,
        created.id,
        owner,
        Actor.user(manager_id),
        Actor.user(member_id),
        client.id,
        project.id,
        task.id,
    )
