"""A projector killed with SIGKILL at random points, again and again, loses and doubles nothing.

A writer thread keeps appending real commands while `timeledger projections run`
is started and killed (SIGKILL) at random moments at least `KILLS` times. Between
kills the read models' positions must never go backwards. Then the projector runs
to the head once more, is stopped with SIGTERM, and `timeledger projections verify`
must find every read model equal to a replay from zero.

The seed is printed; set TIMELEDGER_CRASH_SEED to run the same kill schedule again.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.clock import SystemClock
from ledger.errors import LedgerError
from ledger.store import store_config
from ledger.time_entry import TimeEntry
from projections.database import readmodel_engine
from projections.entry_queries import EntryFilter, list_entries
from projections.models import ALL
from projections.operations import status
from tests.conftest import StoreHandle

ROOT = Path(__file__).resolve().parents[2]
KILLS = 25
RUN_SECONDS = (0.1, 1.0)
# Most kills count the random run time from when the projector says it follows the log
# (its runner threads are working by then); the others count it from the launch, so
# some land while it starts up. Python alone takes most of a second to start it.
FROM_LAUNCH = 0.25
READY_SECONDS = 20.0
READY = b"Following the log"
CATCH_UP_SECONDS = 60.0
STOP_SECONDS = 15.0
EVERYTHING = 1_000_000


# --- the writer -------------------------------------------------------------------------


@dataclass
class Member:
    id: UUID
    cursor: datetime  # this member's "now" in the past; only moves forward
    running: UUID | None = None
    running_since: datetime | None = None
    paused: bool = False


@dataclass
class Writer:
    """Appends a random mix of real commands through its own ledger until told to stop."""

    ledger: TimeLedger
    rng: random.Random
    org_id: UUID
    owner: Actor
    members: list[Member]
    client_ids: list[UUID]
    project_ids: list[UUID]
    task_id: UUID
    created: list[UUID] = field(default_factory=list)
    deleted: set[UUID] = field(default_factory=set)
    commands: int = 0
    refused: int = 0
    errors: list[BaseException] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def set_up(cls, ledger: TimeLedger, rng: random.Random) -> Writer:
        tag = uuid4().hex[:8]
        org = ledger.create_organization(
            name=f"Crash {tag}",
            owner_email=f"owner-{tag}@crash.test",
            owner_name="Olive Owner",
            owner_password="owner-password",
        )
        owner = Actor.user(org.related[0])
        member_ids = [org.related[0]]
        for n in range(2):
            member_ids.append(
                ledger.add_member(
                    org_id=org.id,
                    email=f"m{n}-{tag}@crash.test",
                    name=f"Member {n}",
                    role="member",
                    actor=owner,
                ).id
            )
        clients = [ledger.create_client(org_id=org.id, name=f"Client {n}", actor=owner).id for n in range(2)]
        projects = [
            ledger.create_project(org_id=org.id, name="Website", client_id=clients[0], actor=owner).id,
            ledger.create_project(org_id=org.id, name="Internal", billable=False, actor=owner).id,
        ]
        task = ledger.create_task(project_id=projects[0], name="Design", actor=owner).id
        # Far enough back that a few thousand steps of a few minutes stay in the past.
        begin = datetime.now(tz=UTC).replace(microsecond=0) - timedelta(days=400)
        members = [Member(m, begin + timedelta(minutes=7 * i)) for i, m in enumerate(member_ids)]
        return cls(ledger, rng, org.id, owner, members, clients, projects, task)

    # Each step returns normally when the ledger refused the command (LedgerError).

    def run(self) -> None:
        steps: list[tuple[Callable[[Member], None], int]] = [
            (self.record, 30),
            (self.start, 14),
            (self.stop_timer, 10),
            (self.pause, 8),
            (self.resume, 8),
            (self.edit, 15),
            (self.delete, 7),
            (self.restore, 5),
            (self.rename_client, 2),
        ]
        actions = [s for s, _ in steps]
        weights = [w for _, w in steps]
        try:
            while not self.stop.is_set():
                member = self.rng.choice(self.members)
                self._limit_running(member)
                action = self.rng.choices(actions, weights)[0]
                try:
                    action(member)
                except LedgerError:
                    self.refused += 1
                self.commands += 1
                member.cursor += timedelta(seconds=self.rng.randint(60, 1800))
                self.stop.wait(self.rng.uniform(0.0, 0.01))
        except BaseException as error:  # reported by the test, not lost in the thread
            self.errors.append(error)

    def _limit_running(self, member: Member) -> None:
        """Stop (or, if that is refused, delete) a timer that has run for many hours."""
        if member.running is None or member.running_since is None:
            return
        if member.cursor - member.running_since < timedelta(hours=10):
            return
        try:
            self.stop_timer(member)
        except LedgerError:
            with suppress(LedgerError):
                self._delete(member.running)
            self._clear(member)

    @staticmethod
    def _clear(member: Member) -> None:
        member.running, member.running_since, member.paused = None, None, False

    def record(self, member: Member) -> None:
        minutes = self.rng.randint(5, 180)
        project = self.rng.choice(self.project_ids)
        receipt = self.ledger.record_entry(
            org_id=self.org_id,
            project_id=project,
            task_id=self.task_id if project == self.project_ids[0] and self.rng.random() < 0.5 else None,
            start=member.cursor,
            **(
                {"duration_seconds": minutes * 60}
                if self.rng.random() < 0.5
                else {"end": member.cursor + timedelta(minutes=minutes)}
            ),
            break_minutes=self.rng.randint(0, minutes // 3),
            description=f"work {self.commands}",
            tags=self.rng.sample(["a", "b", "c", "d"], self.rng.randint(0, 2)),
            member_id=member.id,
            actor=self.owner,
        )
        self.created.append(receipt.id)
        member.cursor += timedelta(minutes=minutes)

    def start(self, member: Member) -> None:
        receipt = self.ledger.start_timer(
            org_id=self.org_id,
            project_id=self.rng.choice(self.project_ids),
            description=f"timer {self.commands}",
            at=member.cursor,
            member_id=member.id,
            actor=self.owner,
        )
        self.created.append(receipt.id)
        member.running, member.running_since, member.paused = receipt.id, member.cursor, False

    def stop_timer(self, member: Member) -> None:
        if member.running is None:
            return
        self.ledger.stop_timer(org_id=self.org_id, at=member.cursor, member_id=member.id, actor=self.owner)
        self._clear(member)

    def pause(self, member: Member) -> None:
        if member.running is None or member.paused:
            return
        self.ledger.pause_timer(org_id=self.org_id, at=member.cursor, member_id=member.id, actor=self.owner)
        member.paused = True

    def resume(self, member: Member) -> None:
        if member.running is None or not member.paused:
            return
        self.ledger.resume_timer(org_id=self.org_id, at=member.cursor, member_id=member.id, actor=self.owner)
        member.paused = False

    def _pick(self, deleted: bool) -> UUID | None:
        pool = [e for e in self.created[-200:] if (e in self.deleted) == deleted]
        return self.rng.choice(pool) if pool else None

    def edit(self, _member: Member) -> None:
        entry = self._pick(deleted=False)
        if entry is None:
            return
        changes: dict[str, object] = {"description": f"edited {self.commands}"}
        if self.rng.random() < 0.5:
            changes["tags"] = self.rng.sample(["a", "b", "c", "x"], self.rng.randint(0, 3))
        if self.rng.random() < 0.3:
            changes["billable"] = self.rng.random() < 0.5
        if self.rng.random() < 0.2:
            changes["project_id"] = self.rng.choice(self.project_ids)
        self.ledger.edit_entry(entry_id=entry, actor=self.owner, **changes)  # type: ignore[arg-type]

    def _delete(self, entry: UUID) -> None:
        self.ledger.delete_entry(entry_id=entry, actor=self.owner)
        self.deleted.add(entry)

    def delete(self, _member: Member) -> None:
        entry = self._pick(deleted=False)
        if entry is None:
            return
        self._delete(entry)
        for member in self.members:
            if member.running == entry:
                self._clear(member)

    def restore(self, _member: Member) -> None:
        entry = self._pick(deleted=True)
        if entry is None:
            return
        self.ledger.restore_entry(entry_id=entry, actor=self.owner)
        self.deleted.discard(entry)
        restored = self.ledger.aggregate(entry)
        if isinstance(restored, TimeEntry) and restored.is_running:
            # A timer deleted while running runs again; it may be long, so stop it soon.
            owner = next(m for m in self.members if m.id == restored.member_id)
            owner.running, owner.running_since = entry, restored.start
            owner.paused = restored.is_paused

    def rename_client(self, _member: Member) -> None:
        client = self.rng.choice(self.client_ids)
        self.ledger.rename_client(client_id=client, name=f"Client {self.commands}", actor=self.owner)


@contextmanager
def writing(writer: Writer) -> Iterator[Writer]:
    thread = threading.Thread(target=writer.run, name="crash-writer", daemon=True)
    thread.start()
    try:
        yield writer
    finally:
        writer.stop.set()
        thread.join(30)
    assert not thread.is_alive(), "the writer did not stop"


# --- the projector process ------------------------------------------------------------


def cli_env(store: StoreHandle, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELEDGER_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=store.url, TIMELEDGER_HOME=str(home), PYTHONUNBUFFERED="1")
    return env


def start_projector(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "timeledger.cli", "projections", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_until_following(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while READY not in log.read_bytes():
        assert process.poll() is None, f"the projector exited while starting:\n{tail(log)}"
        assert time.monotonic() < deadline, f"the projector did not start in {READY_SECONDS} s:\n{tail(log)}"
        time.sleep(0.01)


def end(process: subprocess.Popen[bytes], sig: int) -> int:
    """Send `sig` (escalating to SIGKILL if it does not help) and reap the process."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def positions(ledger: TimeLedger, engine: Engine) -> dict[str, tuple[int, int]]:
    """Each read model's (generation, position)."""
    return {s.name: (s.generation, s.position) for s in status(ledger, engine, ALL)}


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- the test ---------------------------------------------------------------------------


@pytest.mark.slow
def test_sigkilled_projector_loses_and_doubles_nothing(
    store: StoreHandle, make_ledger: Callable[..., TimeLedger], tmp_path: Path
) -> None:
    seed = int(os.environ.get("TIMELEDGER_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"crash test seed: {seed} (store {store.kind})")
    rng = random.Random(seed)
    began = time.monotonic()
    ledger = make_ledger(SystemClock())
    engine = readmodel_engine(store_config(store.url, tmp_path))
    env = cli_env(store, tmp_path)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        writer = Writer.set_up(ledger, random.Random(rng.random()))
        # Create the read models' tables here, before any process that might be killed.
        last = positions(ledger, engine)
        first = dict(last)
        kills_with_progress = following = 0
        with writing(writer):
            for kill in range(KILLS):
                log = tmp_path / f"run-{kill}.log"
                process = start_projector(env, log)
                processes.append(process)
                from_launch = rng.random() < FROM_LAUNCH
                if not from_launch:
                    wait_until_following(process, log)
                    following += 1
                time.sleep(rng.uniform(*RUN_SECONDS))
                assert process.poll() is None, f"the projector exited early:\n{tail(log)}"
                assert end(process, signal.SIGKILL) == -signal.SIGKILL
                now = positions(ledger, engine)
                for name, (generation, position) in now.items():
                    before = last[name]
                    assert generation == before[0], f"{name} changed generation without a rebuild"
                    assert position >= before[1], f"{name} went back from {before[1]} to {position}"
                if any(now[name][1] > last[name][1] for name in now):
                    kills_with_progress += 1
                last = now
            time.sleep(0.2)  # let the writer append a little after the last kill too
        assert not writer.errors, writer.errors
        head = ledger.head_position()
        print(
            f"{KILLS} kills ({following} timed from following the log), {kills_with_progress} "
            f"after progress; writer: {writer.commands} commands "
            f"({writer.refused} refused), {len(writer.created)} entries, head {head}; "
            f"positions before the last run {last}"
        )
        assert kills_with_progress >= max(3, following // 3), (
            f"only {kills_with_progress} of {KILLS} kills came after progress"
        )
        assert all(last[name][1] > first[name][1] for name in last), (first, last)
        assert len(writer.created) > 20

        # Run to the head once more, then stop politely.
        log = tmp_path / "run-final.log"
        process = start_projector(env, log)
        processes.append(process)
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while True:
            lags = {s.name: s.lag for s in status(ledger, engine, ALL)}
            if not any(lags.values()):
                break
            assert process.poll() is None, f"the projector exited:\n{tail(log)}"
            assert time.monotonic() < deadline, f"still lagging after {CATCH_UP_SECONDS} s: {lags}"
            time.sleep(0.2)
        assert end(process, signal.SIGTERM) == 0, tail(log)

        done = subprocess.run(
            [sys.executable, "-m", "timeledger.cli", "projections", "verify"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        print(done.stdout)
        assert done.returncode == 0, done.stdout + done.stderr
        for model in ALL:
            line = re.search(
                rf"^{model.name}: (\d+) rows equal a replay to position (\d+)\.$", done.stdout, re.M
            )
            assert line is not None, f"{model.name} not reported equal:\n{done.stdout}"
            assert int(line.group(2)) == head

        # Independently: the entries read model holds every entry the writer created, once.
        rows = list_entries(engine, writer.org_id, EntryFilter(include_deleted=True), limit=EVERYTHING).items
        assert len(rows) == len({r.id for r in rows}) == len(writer.created)
        assert {r.id for r in rows} == set(writer.created)
        deleted_in_log = set()
        for entry_id in writer.created:
            entry = ledger.aggregate(entry_id)
            assert isinstance(entry, TimeEntry)
            if entry.deleted:
                deleted_in_log.add(entry_id)
        live_rows = [r for r in rows if r.status != "deleted"]
        assert len(live_rows) == len(writer.created) - len(deleted_in_log)
        assert {r.id for r in rows if r.status == "deleted"} == deleted_in_log
        print(f"took {time.monotonic() - began:.1f} s")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_SECONDS)
        engine.dispose()
