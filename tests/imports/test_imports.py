"""Imports of each tracker's export: what is planned, what is recorded, and that twice is once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest

from ledger.actors import Actor
from ledger.catalog import Client, Project, Task
from ledger.errors import InvalidInputError
from ledger.imports import Importer, detect_format
from tests.conftest import StoreHandle, World
from tests.test_cli import timeledger

DATA = Path(__file__).resolve().parents[1] / "data"


@dataclass(frozen=True)
class Expected:
    file: str
    format: str
    durations: dict[int, int]  # line -> seconds
    members: dict[int, str]  # line -> e-mail
    projects: dict[int, str]  # line -> project name
    clients: set[str]  # clients the import creates
    new_projects: set[str]
    new_tasks: set[str]
    broken_line: int
    broken_reason: str


CASES = [
    Expected(
        "toggl.csv",
        "toggl",
        {2: 5400, 3: 2700, 4: 7200, 5: 1800},
        {2: "member@acme.test", 3: "member@acme.test", 4: "manager@acme.test", 5: "member@acme.test"},
        {2: "Website", 3: "Website", 4: "Migration", 5: "Internal"},
        {"Initech"},
        {"Migration", "Internal"},
        {"Review"},
        6,
        'Start time "9 o\'clock" is not a time of day.',
    ),
    Expected(
        "clockify.csv",
        "clockify",
        {2: 7200, 3: 4500, 4: 1200, 6: 3600},
        {2: "member@acme.test", 3: "manager@acme.test", 4: "owner@acme.test", 6: "owner@acme.test"},
        {2: "Website", 3: "Website", 4: "Support", 6: "Support"},
        {"Umbrella"},
        {"Support"},
        {"Hotline"},
        5,
        "The entry ends before it starts",
    ),
    Expected(
        "kimai.csv",
        "kimai",
        {2: 14400, 3: 5400, 4: 10800, 6: 2700},
        {2: "member@acme.test", 3: "manager@acme.test", 4: "owner@acme.test", 6: "member@acme.test"},
        {2: "Website", 3: "Website", 4: "Migration", 6: "Internal"},
        {"Initech"},
        {"Migration", "Internal"},
        {"Meetings", "Deployment", "Admin"},
        5,
        "Date '2026-13-45' is not a date.",
    ),
    Expected(
        "timetracker.csv",
        "timetracker",
        {2: 3600, 3: 9000, 4: 4500, 6: 2400},
        {2: "member@acme.test", 3: "manager@acme.test", 4: "owner@acme.test", 6: "member@acme.test"},
        {2: "Website", 3: "Website", 4: "Research", 6: "Research"},
        set(),
        {"Research"},
        set(),
        5,
        "'End Time' is empty.",
    ),
    Expected(
        "timeledger.json",
        "timeledger",
        {5: 5400, 16: 7200, 35: 3000, 43: 3600},
        {5: "member@acme.test", 16: "manager@acme.test", 35: "owner@acme.test", 43: "member@acme.test"},
        {5: "Website", 16: "Search", 35: "Internal", 43: "Search"},
        {"Hooli"},
        {"Search", "Internal"},
        {"Indexing"},
        27,
        "'project' is empty.",
    ),
]


def _text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.format for c in CASES])
def test_the_format_is_told_from_the_header(case: Expected) -> None:
    assert detect_format(_text(case.file)) == case.format


@pytest.mark.parametrize("case", CASES, ids=[c.format for c in CASES])
def test_a_dry_run_lists_what_would_be_created_and_appends_nothing(world: World, case: Expected) -> None:
    head = world.ledger.head_position()
    plan = Importer(world.ledger, world.org_id).plan(_text(case.file), timezone="Europe/Berlin")
    assert plan.format == case.format
    assert {name for name, _ in plan.new_clients.values()} == case.clients
    assert {name for name, _ in plan.new_projects.values()} == case.new_projects
    assert {name for name, _ in plan.new_tasks.values()} == case.new_tasks
    assert {e.row.line: e.row.duration_seconds for e in plan.new_entries} == case.durations
    assert set(plan.members) == set(case.members.values())
    assert [(e.line, case.broken_reason in e.reason) for e in plan.errors] == [(case.broken_line, True)]
    assert world.ledger.head_position() == head


@pytest.mark.parametrize("case", CASES, ids=[c.format for c in CASES])
def test_an_import_records_every_good_row_once_and_reports_the_broken_one(
    world: World, case: Expected
) -> None:
    ledger, system = world.ledger, Actor.system()
    importer = Importer(ledger, world.org_id)
    outcome = importer.apply(importer.plan(_text(case.file), timezone="Europe/Berlin"))

    assert outcome.recorded == len(case.durations)
    assert [(e.line, case.broken_reason in e.reason) for e in outcome.errors] == [(case.broken_line, True)]
    assert set(outcome.clients) == case.clients
    assert set(outcome.projects) == case.new_projects
    assert set(outcome.tasks) == case.new_tasks
    emails = {
        user_id: _email(world, user_id) for user_id in ledger.get_organization(world.org_id, system).members
    }
    for line, entry_id in outcome.entry_ids.items():
        entry = ledger.get_entry(entry_id, system)
        assert entry.duration_seconds == case.durations[line]
        assert emails[entry.member_id] == case.members[line]
        project = ledger.aggregate(entry.project_id)
        assert isinstance(project, Project)
        assert project.name == case.projects[line]
        assert project.org_id == world.org_id

    head = ledger.head_position()
    again = importer.plan(_text(case.file), timezone="Europe/Berlin")
    assert (again.new_clients, again.new_projects, again.new_tasks, again.new_entries) == ({}, {}, {}, ())
    second = importer.apply(again)
    assert (second.recorded, second.already_imported) == (0, len(case.durations))
    assert second.entry_ids == outcome.entry_ids
    assert ledger.head_position() == head


def _email(world: World, user_id: UUID) -> str:
    user = world.ledger.get_user(user_id)
    assert user is not None
    return user.email


def test_existing_items_are_matched_by_name_whatever_the_case(world: World) -> None:
    text = (
        "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,"
        "Duration,Tags\n"
        "Mia,MEMBER@acme.test,globex,WEBSITE,design,x,Yes,2026-11-02,09:00:00,2026-11-02,10:00:00,01:00:00,\n"
    )
    importer = Importer(world.ledger, world.org_id)
    plan = importer.plan(text, timezone="UTC")
    assert (plan.new_clients, plan.new_projects, plan.new_tasks) == ({}, {}, {})
    outcome = importer.apply(plan)
    entry = world.ledger.get_entry(outcome.entry_ids[2], Actor.system())
    assert (entry.project_id, entry.task_id, entry.member_id) == (
        world.project_id,
        world.task_id,
        world.member.user_id,
    )
    assert entry.tags == ()
    assert entry.billable is True
    assert isinstance(world.ledger.aggregate(world.client_id), Client)
    assert isinstance(world.ledger.aggregate(world.task_id), Task)


def test_unknown_emails_and_ledger_refusals_are_row_errors_and_the_rest_import(world: World) -> None:
    text = (
        "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,"
        "Duration,Tags\n"
        "X,stranger@elsewhere.test,,Internal,,a,No,2026-11-02,09:00:00,2026-11-02,10:00:00,01:00:00,\n"
        "Mia,member@acme.test,,Internal,,b,No,2026-12-24,09:00:00,2026-12-24,10:00:00,01:00:00,\n"
        "Mia,member@acme.test,,Internal,,c,No,2026-11-02,09:00:00,2026-11-02,10:00:00,01:00:00,\n"
    )
    importer = Importer(world.ledger, world.org_id)
    plan = importer.plan(text, timezone="UTC")
    assert [(e.line, e.reason) for e in plan.errors] == [
        (2, "No member of Acme has the e-mail stranger@elsewhere.test.")
    ]
    outcome = importer.apply(plan)
    assert outcome.recorded == 1
    assert [e.line for e in outcome.errors] == [2, 3]
    assert "in the future" in outcome.errors[1].reason
    assert list(outcome.entry_ids) == [4]


def test_a_different_timezone_on_a_second_run_does_not_import_twice(world: World) -> None:
    importer = Importer(world.ledger, world.org_id)
    importer.apply(importer.plan(_text("toggl.csv"), timezone="Europe/Berlin"))
    head = world.ledger.head_position()
    outcome = importer.apply(importer.plan(_text("toggl.csv"), timezone="America/New_York"))
    assert outcome.recorded == 0
    assert all("imported before with other values" in e.reason for e in outcome.errors if e.line != 6)
    assert world.ledger.head_position() == head


def test_an_unknown_format_or_timezone_is_refused(world: World) -> None:
    importer = Importer(world.ledger, world.org_id)
    with pytest.raises(InvalidInputError, match="Cannot tell the file's format"):
        importer.plan("a,b,c\n1,2,3\n")
    with pytest.raises(InvalidInputError, match="Unknown timezone"):
        importer.plan(_text("toggl.csv"), timezone="Mars/Olympus")


def test_the_cli_imports_a_file_then_finds_nothing_new(store: StoreHandle, tmp_path: Path) -> None:
    from tests.test_cli import CREATED, open_ledger

    home = tmp_path / "home"
    done = timeledger(
        home,
        "init",
        "--org",
        "Acme",
        "--email",
        "member@acme.test",
        "--password",
        "correct-horse",
        database_url=store.url,
    )
    created = CREATED.fullmatch(done.stdout.splitlines()[0])
    assert created is not None
    org = created.group(2)
    data = str(DATA / "timeledger.json")

    dry = timeledger(home, "import", data, "--org", org, "--dry-run", database_url=store.url)
    assert dry.returncode == 1, dry.stderr
    assert "Would create clients: Globex, Hooli" in dry.stdout
    assert "line 16: No member of Acme has the e-mail manager@acme.test." in dry.stdout
    assert "line 27: 'project' is empty." in dry.stdout
    with open_ledger(home, store.url) as ledger:
        head = ledger.head_position()

    run = timeledger(home, "import", data, "--org", org, "--format", "timeledger", database_url=store.url)
    assert run.returncode == 1, run.stderr
    assert "Recorded 2 entries (0 already imported)." in run.stdout
    again = timeledger(home, "import", data, "--org", org, database_url=store.url)
    assert "Recorded 0 entries (2 already imported)." in again.stdout
    with open_ledger(home, store.url) as ledger:
        assert ledger.head_position() > head
        after = ledger.head_position()
    bad = timeledger(home, "import", data, "--org", "not-an-id", database_url=store.url)
    assert bad.returncode == 2
    assert "is not an organization id" in bad.stderr
    with open_ledger(home, store.url) as ledger:
        assert ledger.head_position() == after
