"""Property: read models built live, batch by batch, equal a replay from zero.

Each example makes its own organization in the test's store, runs a random sequence
of commands against it (commands the ledger refuses are skipped), catches the live
runners up at random points and to random positions, and finally checks every read
model in `ALL` with `verify` (a replay from position 0 into scratch tables).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.catalog import Archivable
from ledger.clock import FixedClock
from ledger.errors import LedgerError
from ledger.rates import LEVELS
from ledger.store import store_config
from ledger.time_entry import TimeEntry
from projections.database import readmodel_engine
from projections.models import ALL
from projections.operations import rebuild, verify
from projections.runner import Runner
from tests.conftest import StoreHandle

# Just before the 2026 spring DST change in Europe (29 March), three weeks after America's.
T0 = datetime(2026, 3, 28, 18, 0, tzinfo=UTC)
TIMEZONES = ("Europe/Berlin", "America/New_York", "UTC")
TAGS = ("dev", "ops", "meeting", "Bug")
BATCH_SIZES = (1, 2, 3, 7, 1000)

Command = tuple[Any, ...]


# --- commands, as plain data hypothesis can shrink ------------------------------------

minutes_back = st.integers(0, 600)
maybe_at = st.none() | minutes_back
member = st.integers(0, 2)
project = st.integers(0, 1)
entry = st.integers(0, 1000)  # an index into the entries made so far (modulo their number)
tags = st.lists(st.sampled_from(TAGS), max_size=3)
description = st.sampled_from(("", "design", "fix the thing", "  padded  "))

record = st.tuples(
    st.just("record"),
    member,
    project,
    st.booleans(),
    st.integers(0, 3000),  # ends this many minutes before now
    st.integers(1, 900),  # lasts this many minutes
    st.booleans(),  # given as a duration (else as an end)
    st.integers(0, 90),  # break minutes
    tags,
    st.none() | st.booleans(),
)
edit = st.tuples(
    st.just("edit"),
    entry,
    st.none() | description,
    st.none() | tags,
    st.none() | st.booleans(),
    st.none() | st.integers(-600, 600),  # move the start by minutes
    st.none() | st.integers(-600, 600),  # move the end by minutes
    st.none() | project,
    st.none() | st.booleans(),  # with the task
    st.none() | st.integers(0, 90),
)
start = st.tuples(st.just("start"), member, project, st.booleans(), maybe_at, tags, st.none() | st.booleans())

# The live runners apply what has been appended so far (for one model or all, to the head or
# part of the way there); a restart replaces runners by new ones without their cached rows.
catch_up = st.tuples(st.just("catch_up"), st.none() | st.integers(0, 2), st.none() | st.floats(0, 1))
restart = st.tuples(st.just("restart"), st.none() | st.integers(0, 2))

# Each kind of command with its weight; hypothesis shrinks towards the first ones.
WEIGHTED: list[tuple[st.SearchStrategy[Command], int]] = [
    (record, 4),
    (start, 3),
    (edit, 4),
    (st.tuples(st.just("advance"), st.integers(1, 900)), 2),
    (st.tuples(st.just("stop"), member, maybe_at), 2),
    (st.tuples(st.just("pause"), member, maybe_at), 1),
    (st.tuples(st.just("resume"), member, maybe_at), 1),
    (st.tuples(st.just("delete"), entry), 2),
    (st.tuples(st.just("restore"), entry), 1),
    (st.tuples(st.just("continue"), entry, maybe_at), 1),
    (catch_up, 4),
    (restart, 2),
    (st.tuples(st.just("timezone"), st.sampled_from(TIMEZONES)), 1),
    (
        st.tuples(
            st.just("rate"),
            st.sampled_from(LEVELS),
            st.none() | st.integers(0, 20_000),
            st.none() | st.integers(-6, 3),  # effective from T0's date plus days
            member,
            project,
        ),
        2,
    ),
    (st.tuples(st.just("client_of"), project, st.none() | st.integers(0, 1)), 2),
    (st.tuples(st.just("budget"), project, st.none() | st.integers(0, 100)), 1),
    (st.tuples(st.just("archive"), st.sampled_from(("client", "project", "task")), st.integers(0, 1)), 1),
    (st.tuples(st.just("rename_client"), st.integers(0, 1), st.sampled_from(("Globex", "Initech"))), 1),
    (st.tuples(st.just("role"), st.integers(1, 2), st.sampled_from(("admin", "manager", "member"))), 1),
    (st.tuples(st.just("rename_task"), st.sampled_from(("Design", "Build", "Review"))), 1),
]
commands: st.SearchStrategy[Command] = st.sampled_from(
    [strategy for strategy, weight in WEIGHTED for _ in range(weight)]
).flatmap(lambda strategy: strategy)


# --- the world of one example ---------------------------------------------------------


@dataclass
class Harness:
    """One ledger and read-model engine for every example of a test run."""

    ledger: TimeLedger
    clock: FixedClock
    engine: Engine
    clean: bool = True  # False while an example runs, and after one fails


@pytest.fixture
def harness(store: StoreHandle, make_ledger: Callable[..., TimeLedger], tmp_path: Path) -> Iterator[Harness]:
    clock = FixedClock(T0)
    engine = readmodel_engine(store_config(store.url, tmp_path))
    yield Harness(make_ledger(clock), clock, engine)
    engine.dispose()


@dataclass
class World:
    ledger: TimeLedger
    clock: FixedClock
    runners: list[Runner]
    org_id: UUID
    owner: Actor
    members: list[UUID]
    clients: list[UUID]
    projects: list[UUID]  # the first has a client and a task, the second neither
    task: UUID
    entries: list[UUID] = field(default_factory=list)
    applied: int = 0
    refused: int = 0
    kinds: set[str] = field(default_factory=set)  # commands the ledger accepted at least once
    refusals: set[str] = field(default_factory=set)  # ... and refused at least once

    @classmethod
    def make(cls, h: Harness, runners: list[Runner], timezone: str, members: int) -> World:
        ledger, tag = h.ledger, uuid4().hex[:10]
        org = ledger.create_organization(
            name=f"Prop {tag}",
            owner_email=f"owner-{tag}@prop.test",
            owner_name="Olive Owner",
            owner_password=None,
            settings={"timezone": timezone},
        )
        owner = Actor.user(org.related[0])
        ids = [org.related[0]]
        for n, role in enumerate(("manager", "member")[: members - 1]):
            ids.append(
                ledger.add_member(
                    org_id=org.id, email=f"m{n}-{tag}@prop.test", name=f"M {n}", role=role, actor=owner
                ).id
            )
        clients = [ledger.create_client(org_id=org.id, name=f"Client {n}", actor=owner).id for n in range(2)]
        projects = [
            ledger.create_project(org_id=org.id, name="Website", client_id=clients[0], actor=owner).id,
            ledger.create_project(org_id=org.id, name="Internal", billable=False, actor=owner).id,
        ]
        task = ledger.create_task(project_id=projects[0], name="Design", actor=owner).id
        return cls(ledger, h.clock, runners, org.id, owner, ids, clients, projects, task)

    def now(self) -> datetime:
        return self.clock.now()

    def ago(self, minutes: int | None) -> datetime | None:
        return None if minutes is None else self.now() - timedelta(minutes=minutes)

    def member(self, n: int) -> tuple[Actor, dict[str, Any]]:
        """Who acts for member n: themselves or, for other members, the owner on their behalf."""
        chosen = self.members[n % len(self.members)]
        if n % 2:
            return Actor.user(chosen), {}
        return self.owner, {"member_id": chosen}

    def timer_of(self, n: int) -> tuple[Actor, dict[str, Any]]:
        """Like `member`, but preferring members whose timer runs (so timer commands mostly apply)."""
        running = [
            i
            for i, m in enumerate(self.members)
            if self.ledger.running_entry(self.org_id, self.owner, member_id=m) is not None
        ]
        return self.member(running[n % len(running)] if running else n)

    def entry(self, n: int) -> TimeEntry | None:
        if not self.entries:
            return None
        found = self.ledger.aggregate(self.entries[n % len(self.entries)])
        assert isinstance(found, TimeEntry)
        return found

    def run(self, command: Command) -> None:
        try:
            getattr(self, f"do_{command[0]}")(*command[1:])
        except LedgerError:
            self.refused += 1
            self.refusals.add(command[0])
        else:
            self.applied += 1
            self.kinds.add(command[0])

    # --- the commands ---

    def do_advance(self, minutes: int) -> None:
        self.clock.advance(minutes * 60)

    def do_start(
        self, who: int, p: int, with_task: bool, at: int | None, tags: list[str], billable: bool | None
    ) -> None:
        actor, on_behalf = self.member(who)
        receipt = self.ledger.start_timer(
            org_id=self.org_id,
            project_id=self.projects[p],
            task_id=self.task if with_task and p == 0 else None,
            description=f"timer {len(self.entries)}",
            tags=tags,
            billable=billable,
            at=self.ago(at),
            actor=actor,
            **on_behalf,
        )
        self.entries.append(receipt.id)

    def do_stop(self, who: int, at: int | None) -> None:
        actor, on_behalf = self.timer_of(who)
        self.ledger.stop_timer(org_id=self.org_id, at=self.ago(at), actor=actor, **on_behalf)

    def do_pause(self, who: int, at: int | None) -> None:
        actor, on_behalf = self.timer_of(who)
        self.ledger.pause_timer(org_id=self.org_id, at=self.ago(at), actor=actor, **on_behalf)

    def do_resume(self, who: int, at: int | None) -> None:
        actor, on_behalf = self.timer_of(who)
        self.ledger.resume_timer(org_id=self.org_id, at=self.ago(at), actor=actor, **on_behalf)

    def do_record(
        self,
        who: int,
        p: int,
        with_task: bool,
        ended: int,
        length: int,
        as_duration: bool,
        break_minutes: int,
        tags: list[str],
        billable: bool | None,
    ) -> None:
        actor, on_behalf = self.member(who)
        start = self.now() - timedelta(minutes=ended + length)
        span: dict[str, Any] = (
            {"duration_seconds": length * 60} if as_duration else {"end": start + timedelta(minutes=length)}
        )
        receipt = self.ledger.record_entry(
            org_id=self.org_id,
            project_id=self.projects[p],
            task_id=self.task if with_task and p == 0 else None,
            start=start,
            break_minutes=break_minutes,
            description=f"recorded {len(self.entries)}",
            tags=tags,
            billable=billable,
            actor=actor,
            **span,
            **on_behalf,
        )
        self.entries.append(receipt.id)

    def do_edit(
        self,
        n: int,
        text: str | None,
        tags: list[str] | None,
        billable: bool | None,
        move_start: int | None,
        move_end: int | None,
        p: int | None,
        with_task: bool | None,
        break_minutes: int | None,
    ) -> None:
        found = self.entry(n)
        if found is None:
            return
        changes: dict[str, Any] = {}
        if text is not None:
            changes["description"] = text
        if tags is not None:
            changes["tags"] = tags
        if billable is not None:
            changes["billable"] = billable
        if move_start is not None:
            changes["start"] = found.start + timedelta(minutes=move_start)
        if move_end is not None and found.end is not None:
            changes["end"] = found.end + timedelta(minutes=move_end)
        if p is not None:
            changes["project_id"] = self.projects[p]
        if with_task is not None:
            changes["task_id"] = self.task if with_task else None
        if break_minutes is not None:
            changes["break_minutes"] = break_minutes
        self.ledger.edit_entry(entry_id=found.id, actor=self.owner, **changes)

    def do_delete(self, n: int) -> None:
        found = self.entry(n)
        if found is not None:
            self.ledger.delete_entry(entry_id=found.id, actor=self.owner)

    def do_restore(self, n: int) -> None:
        found = self.entry(n)
        if found is not None:
            self.ledger.restore_entry(entry_id=found.id, actor=self.owner)

    def do_continue(self, n: int, at: int | None) -> None:
        found = self.entry(n)
        if found is not None:
            receipt = self.ledger.continue_entry(entry_id=found.id, at=self.ago(at), actor=self.owner)
            self.entries.append(receipt.id)

    def do_timezone(self, timezone: str) -> None:
        self.ledger.change_settings(org_id=self.org_id, changes={"timezone": timezone}, actor=self.owner)

    def do_rate(self, level: str, amount: int | None, days: int | None, who: int, p: int) -> None:
        targets: dict[str, Any] = {}
        if "project" in level:
            targets["project_id"] = self.projects[p]
        if "member" in level:
            targets["member_id"] = self.members[who % len(self.members)]
        if level == "client":
            targets["client_id"] = self.clients[p]
        self.ledger.set_rate(
            org_id=self.org_id,
            level=level,
            amount_minor=amount,
            effective_from=None if days is None else T0.date() + timedelta(days=days),
            actor=self.owner,
            **targets,
        )

    def do_client_of(self, p: int, client: int | None) -> None:
        self.ledger.update_project(
            project_id=self.projects[p],
            client_id=None if client is None else self.clients[client],
            actor=self.owner,
        )

    def do_budget(self, p: int, hours: int | None) -> None:
        self.ledger.update_project(
            project_id=self.projects[p],
            budget_seconds=None if hours is None else hours * 3600,
            budget_minor=None if hours is None else hours * 10_000,
            actor=self.owner,
        )

    def _item(self, kind: str, n: int) -> UUID:
        return {"client": self.clients[n], "project": self.projects[n], "task": self.task}[kind]

    def do_archive(self, kind: str, n: int) -> None:
        """Archive the item, or unarchive it when it is archived already."""
        item = self._item(kind, n)
        found = self.ledger.aggregate(item)
        assert isinstance(found, Archivable)
        change = self.ledger.unarchive if found.archived else self.ledger.archive
        change(kind=kind, item_id=item, actor=self.owner)

    def do_rename_client(self, n: int, name: str) -> None:
        self.ledger.rename_client(client_id=self.clients[n], name=name, actor=self.owner)

    def do_role(self, n: int, role: str) -> None:
        user = self.members[1 + n % (len(self.members) - 1)]
        self.ledger.change_role(org_id=self.org_id, user_id=user, role=role, actor=self.owner)

    def do_rename_task(self, name: str) -> None:
        self.ledger.rename_task(task_id=self.task, name=name, actor=self.owner)

    def do_restart(self, which: int | None) -> None:
        """A new runner (as after a restart of the process) has none of the old one's cached rows."""
        for n, runner in enumerate(self.runners):
            if which is None or which % len(self.runners) == n:
                self.runners[n] = Runner(
                    runner.ledger, runner.engine, runner.model_class, batch_size=runner.batch_size
                )

    def do_catch_up(self, which: int | None, fraction: float | None) -> None:
        head = self.ledger.head_position()
        for runner in self.runners if which is None else [self.runners[which % len(self.runners)]]:
            until = None
            if fraction is not None:
                until = runner.position + int((head - runner.position) * fraction)
            runner.catch_up(until)


# --- the property -----------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    timezone=st.sampled_from(TIMEZONES),
    members=st.integers(2, 3),
    batch_sizes=st.lists(st.sampled_from(BATCH_SIZES), min_size=len(ALL), max_size=len(ALL)),
    script=st.lists(commands, min_size=15, max_size=60),
)
def test_live_read_models_equal_a_replay_from_zero(
    harness: Harness, timezone: str, members: int, batch_sizes: list[int], script: list[Command]
) -> None:
    ledger, engine = harness.ledger, harness.engine
    if not harness.clean:
        # An earlier example failed (or stopped half-way): start again from a replay, so
        # this example is judged on its own commands.
        for model in ALL:
            rebuild(ledger, engine, model)
    harness.clean = False
    harness.clock.set(T0)
    runners = [
        Runner(ledger, engine, model, batch_size=size) for model, size in zip(ALL, batch_sizes, strict=True)
    ]
    world = World.make(harness, runners, timezone, members)
    for command in script:
        world.run(command)
    for kind in sorted(world.kinds):
        event(f"applied: {kind}")
    for kind in sorted(world.refusals):
        event(f"refused: {kind}")
    for runner in runners:
        runner.catch_up()
    reports = [verify(ledger, engine, model) for model in ALL]
    differences = [r.difference.describe() for r in reports if r.difference is not None]
    assert not differences, "\n".join(differences)
    harness.clean = True


def test_a_fixed_script_applies_and_equals_a_replay(harness: Harness) -> None:
    """A sanity check of the generator's world: a fixed script of commands the ledger accepts."""
    runners = [Runner(harness.ledger, harness.engine, model) for model in ALL]
    world = World.make(harness, runners, "Europe/Berlin", 3)
    script: list[Command] = [
        ("record", 0, 0, True, 600, 90, True, 15, ["dev"], None),
        ("start", 1, 1, False, 30, ["ops"], None),
        ("pause", 1, 20),
        ("resume", 1, 10),
        ("stop", 1, None),
        ("edit", 0, "changed", ["ops", "dev"], False, -30, 10, 1, None, 5),
        ("rate", "organization", 9000, -3, 0, 0),
        ("rate", "project_member", 12000, 0, 1, 0),
        ("timezone", "America/New_York"),
        ("client_of", 1, 1),
        ("delete", 0),
        ("restore", 0),
        ("continue", 1, None),
        ("catch_up", 0, 0.5),
        ("archive", "task", 0),
        ("archive", "task", 0),
        ("budget", 0, 10),
        ("rename_client", 1, "Initech"),
        ("role", 1, "admin"),
        ("rename_task", "Build"),
    ]
    for command in script:
        world.run(command)
    assert world.refused == 0
    for runner in runners:
        runner.catch_up()
    for model in ALL:
        report = verify(harness.ledger, harness.engine, model)
        assert report.ok, report.difference
