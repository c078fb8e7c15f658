"""Rejected input raises a typed domain error with a message a person understands, and
appends nothing to the log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger.actors import Actor
from ledger.core import Receipt
from ledger.errors import (
    ArchivedError,
    ConflictError,
    EntryStateError,
    ForbiddenError,
    InvalidInputError,
    LedgerError,
    NotFoundError,
    OverlapError,
    StaleVersionError,
)
from tests.conftest import NOW, World

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def refused(world: World, error: type[LedgerError], words: str, call: Callable[[], object]) -> Any:
    """Run `call`, expecting exactly `error` with a readable message holding `words`."""
    head = world.ledger.head_position()
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error
    message = str(info.value)
    assert words.lower() in message.lower(), message
    assert message.endswith("."), message
    assert len(message.split()) >= 4, message
    assert " object at 0x" not in message
    assert world.ledger.head_position() == head
    return info.value


def record(
    w: World,
    start: datetime = NOW - 3 * HOUR,
    end: datetime | None = NOW - 2 * HOUR,
    actor: Actor | None = None,
    **more: Any,
) -> Receipt:
    more.setdefault("project_id", w.project_id)
    return w.ledger.record_entry(org_id=w.org_id, start=start, end=end, actor=actor or w.member, **more)


def start(w: World, at: datetime | None = None, **more: Any) -> Receipt:
    more.setdefault("project_id", w.project_id)
    return w.ledger.start_timer(org_id=w.org_id, at=at, actor=w.member, **more)


@dataclass(frozen=True)
class Other:
    org_id: UUID
    owner: Actor
    project_id: UUID
    task_id: UUID


def other_org(w: World) -> Other:
    created = w.ledger.create_organization(
        name="Initech", owner_email="peter@initech.test", owner_name="Peter", owner_password="peter-password"
    )
    owner = Actor.user(created.related[0])
    project = w.ledger.create_project(org_id=created.id, name="TPS", actor=owner).id
    task = w.ledger.create_task(project_id=project, name="Reports", actor=owner).id
    return Other(created.id, owner, project, task)


def _nothing(w: World) -> None:
    return None


def _settings(**changes: Any) -> Callable[[World], None]:
    def setup(w: World) -> None:
        w.ledger.change_settings(org_id=w.org_id, changes=changes, actor=w.owner)

    return setup


def _archived(kind: str) -> Callable[[World], None]:
    def setup(w: World) -> None:
        item = {"client": w.client_id, "project": w.project_id, "task": w.task_id}[kind]
        w.ledger.archive(kind=kind, item_id=item, actor=w.manager)

    return setup


def _entry(w: World) -> UUID:
    return record(w).id


def _deleted_entry(w: World) -> UUID:
    entry_id = _entry(w)
    w.ledger.delete_entry(entry_id=entry_id, actor=w.member)
    return entry_id


def _entry_then_project_archived(w: World) -> UUID:
    entry_id = _entry(w)
    _archived("project")(w)
    return entry_id


def _managers_entry(w: World) -> UUID:
    return record(w, actor=w.manager).id


def _entry_and_outsider(w: World) -> tuple[UUID, Other]:
    return _entry(w), other_org(w)


def _admin(w: World) -> Actor:
    return Actor.user(
        w.ledger.add_member(
            org_id=w.org_id, email="ada@acme.test", name="Ada", role="admin", actor=w.owner
        ).id
    )


def _second_project(w: World) -> UUID:
    return w.ledger.create_project(org_id=w.org_id, name="App", actor=w.owner).id


@dataclass(frozen=True)
class Case:
    id: str
    error: type[LedgerError]
    words: str
    call: Callable[[World, Any], object]
    setup: Callable[[World], Any] = _nothing


CASES = [
    # --- times -------------------------------------------------------------------------
    Case(
        "end-before-start",
        InvalidInputError,
        "must come after the start",
        lambda w, _: record(w, start=NOW - 2 * HOUR, end=NOW - 3 * HOUR),
    ),
    Case(
        "end-equals-start",
        InvalidInputError,
        "must come after the start",
        lambda w, _: record(w, start=NOW - 2 * HOUR, end=NOW - 2 * HOUR),
    ),
    Case(
        "end-and-duration",
        InvalidInputError,
        "either an end or a duration",
        lambda w, _: record(w, duration_seconds=600),
    ),
    Case(
        "neither-end-nor-duration",
        InvalidInputError,
        "either an end or a duration",
        lambda w, _: record(w, end=None),
    ),
    Case(
        "negative-duration",
        InvalidInputError,
        "positive whole number of seconds",
        lambda w, _: record(w, end=None, duration_seconds=-600),
    ),
    Case(
        "zero-duration",
        InvalidInputError,
        "positive whole number of seconds",
        lambda w, _: record(w, end=None, duration_seconds=0),
    ),
    Case(
        "negative-break",
        InvalidInputError,
        "break must be a whole number of minutes",
        lambda w, _: record(w, break_minutes=-5),
    ),
    Case(
        "break-as-long-as-the-work",
        InvalidInputError,
        "break is as long as the work",
        lambda w, _: record(w, break_minutes=60),
    ),
    Case(
        "longer-than-the-maximum",
        InvalidInputError,
        "longer than the 24 hours",
        lambda w, _: record(w, start=NOW - 26 * HOUR, end=NOW - HOUR),
    ),
    Case(
        "longer-than-a-lowered-maximum",
        InvalidInputError,
        "longer than the 1 hours",
        lambda w, _: record(w, start=NOW - 3 * HOUR, end=NOW - HOUR),
        _settings(max_entry_seconds=3600),
    ),
    Case(
        "edit-longer-than-the-maximum",
        InvalidInputError,
        "longer than the 24 hours",
        lambda w, e: w.ledger.edit_entry(entry_id=e, start=NOW - 30 * HOUR, actor=w.member),
        _entry,
    ),
    Case(
        "timer-started-in-the-future",
        InvalidInputError,
        "in the future",
        lambda w, _: start(w, at=NOW + 20 * MINUTE),
    ),
    Case(
        "entry-ending-in-the-future",
        InvalidInputError,
        "allows at most 15 minutes ahead",
        lambda w, _: record(w, start=NOW - HOUR, end=NOW + 20 * MINUTE),
    ),
    Case(
        "entry-starting-in-the-future",
        InvalidInputError,
        "in the future",
        lambda w, _: record(w, start=NOW + 2 * HOUR, end=NOW + 3 * HOUR),
    ),
    Case(
        "future-with-no-allowance",
        InvalidInputError,
        "allows at most 0 minutes ahead",
        lambda w, _: record(w, start=NOW - HOUR, end=NOW + MINUTE),
        _settings(future_allowance_seconds=0),
    ),
    Case(
        "edit-end-into-the-future",
        InvalidInputError,
        "in the future",
        lambda w, e: w.ledger.edit_entry(entry_id=e, end=NOW + HOUR, actor=w.member),
        _entry,
    ),
    Case(
        "naive-start",
        InvalidInputError,
        "has no timezone offset",
        lambda w, _: record(w, start=datetime(2026, 11, 20, 9), end=None, duration_seconds=60),
    ),
    Case(
        "naive-end",
        InvalidInputError,
        "has no timezone offset",
        lambda w, _: record(w, end=datetime(2026, 11, 20, 14)),
    ),
    Case(
        "naive-timer-start",
        InvalidInputError,
        "has no timezone offset",
        lambda w, _: start(w, at=datetime(2026, 11, 20, 14)),
    ),
    Case(
        "naive-edit",
        InvalidInputError,
        "has no timezone offset",
        lambda w, e: w.ledger.edit_entry(entry_id=e, end=datetime(2026, 11, 20, 14), actor=w.member),
        _entry,
    ),
    # --- what the time is tracked against -------------------------------------------------
    Case("unknown-project", NotFoundError, "no project with id", lambda w, _: record(w, project_id=uuid4())),
    Case(
        "unknown-project-timer",
        NotFoundError,
        "no project with id",
        lambda w, _: start(w, project_id=uuid4()),
    ),
    Case(
        "project-of-another-org",
        NotFoundError,
        "no project with id",
        lambda w, other: record(w, project_id=other.project_id),
        other_org,
    ),
    Case(
        "timer-on-project-of-another-org",
        NotFoundError,
        "no project with id",
        lambda w, other: start(w, project_id=other.project_id),
        other_org,
    ),
    Case(
        "task-of-another-org",
        NotFoundError,
        "no task with id",
        lambda w, other: record(w, task_id=other.task_id),
        other_org,
    ),
    Case(
        "task-of-another-project",
        NotFoundError,
        "no task with id",
        lambda w, project: record(w, project_id=project, task_id=w.task_id),
        _second_project,
    ),
    Case(
        "archived-project",
        ArchivedError,
        "'Website' is archived",
        lambda w, _: record(w),
        _archived("project"),
    ),
    Case(
        "timer-on-archived-project",
        ArchivedError,
        "unarchive it",
        lambda w, _: start(w),
        _archived("project"),
    ),
    Case(
        "archived-task",
        ArchivedError,
        "'Design' is archived",
        lambda w, _: record(w, task_id=w.task_id),
        _archived("task"),
    ),
    Case(
        "project-of-archived-client",
        ArchivedError,
        "'Globex' is archived",
        lambda w, _: record(w),
        _archived("client"),
    ),
    Case(
        "edit-onto-archived-task",
        ArchivedError,
        "is archived",
        lambda w, e: w.ledger.edit_entry(
            entry_id=e, project_id=w.project_id, task_id=w.task_id, actor=w.member
        ),
        lambda w: (_entry(w), _archived("task")(w))[0],
    ),
    Case(
        "continue-entry-of-archived-project",
        ArchivedError,
        "is archived",
        lambda w, e: w.ledger.continue_entry(entry_id=e, actor=w.member),
        _entry_then_project_archived,
    ),
    # --- members and roles ----------------------------------------------------------------
    Case(
        "add-member-unknown-role",
        InvalidInputError,
        "There is no role 'boss'",
        lambda w, _: w.ledger.add_member(
            org_id=w.org_id, email="b@acme.test", name="Bo", role="boss", actor=w.owner
        ),
    ),
    Case(
        "change-role-unknown-role",
        InvalidInputError,
        "There is no role 'boss'",
        lambda w, _: w.ledger.change_role(
            org_id=w.org_id, user_id=w.member.user_id, role="boss", actor=w.owner
        ),
    ),
    Case(
        "remove-last-owner",
        ConflictError,
        "would have no owner left",
        lambda w, _: w.ledger.remove_member(org_id=w.org_id, user_id=w.owner.user_id, actor=w.owner),
    ),
    Case(
        "demote-last-owner",
        ConflictError,
        "would have no owner left",
        lambda w, _: w.ledger.change_role(
            org_id=w.org_id, user_id=w.owner.user_id, role="admin", actor=w.owner
        ),
    ),
    Case(
        "member-creates-project",
        ForbiddenError,
        "Your role (member) may not create projects",
        lambda w, _: w.ledger.create_project(org_id=w.org_id, name="Mine", actor=w.member),
    ),
    Case(
        "member-changes-settings",
        ForbiddenError,
        "may not change the organization's settings",
        lambda w, _: w.ledger.change_settings(org_id=w.org_id, changes={"currency": "USD"}, actor=w.member),
    ),
    Case(
        "manager-adds-a-member",
        ForbiddenError,
        "Your role (manager) may not add members",
        lambda w, _: w.ledger.add_member(
            org_id=w.org_id, email="b@acme.test", name="Bo", role="member", actor=w.manager
        ),
    ),
    Case(
        "admin-makes-an-owner",
        ForbiddenError,
        "Only an owner may make someone an owner",
        lambda w, admin: w.ledger.add_member(
            org_id=w.org_id, email="b@acme.test", name="Bo", role="owner", actor=admin
        ),
        _admin,
    ),
    Case(
        "member-edits-anothers-entry",
        ForbiddenError,
        "may not change other members' entries",
        lambda w, e: w.ledger.edit_entry(entry_id=e, description="mine now", actor=w.member),
        _managers_entry,
    ),
    Case(
        "member-deletes-anothers-entry",
        ForbiddenError,
        "other members' entries",
        lambda w, e: w.ledger.delete_entry(entry_id=e, actor=w.member),
        _managers_entry,
    ),
    Case(
        "outsider-reads-entry",
        NotFoundError,
        "no time entry with id",
        lambda w, ctx: w.ledger.get_entry(ctx[0], ctx[1].owner),
        _entry_and_outsider,
    ),
    Case(
        "outsider-edits-entry",
        NotFoundError,
        "no time entry with id",
        lambda w, ctx: w.ledger.edit_entry(entry_id=ctx[0], description="x", actor=ctx[1].owner),
        _entry_and_outsider,
    ),
    Case(
        "outsider-deletes-entry",
        NotFoundError,
        "no time entry with id",
        lambda w, ctx: w.ledger.delete_entry(entry_id=ctx[0], actor=ctx[1].owner),
        _entry_and_outsider,
    ),
    Case(
        "outsider-records-in-org",
        NotFoundError,
        "no organization with id",
        lambda w, other: record(w, actor=other.owner),
        other_org,
    ),
    # --- entry states -------------------------------------------------------------------------
    Case(
        "edit-deleted-entry",
        EntryStateError,
        "was deleted; restore it first",
        lambda w, e: w.ledger.edit_entry(entry_id=e, description="x", actor=w.member),
        _deleted_entry,
    ),
    Case(
        "delete-deleted-entry",
        EntryStateError,
        "already deleted",
        lambda w, e: w.ledger.delete_entry(entry_id=e, actor=w.member),
        _deleted_entry,
    ),
    Case(
        "restore-entry-not-deleted",
        EntryStateError,
        "not deleted",
        lambda w, e: w.ledger.restore_entry(entry_id=e, actor=w.member),
        _entry,
    ),
    Case(
        "unknown-entry",
        NotFoundError,
        "no time entry with id",
        lambda w, _: w.ledger.delete_entry(entry_id=uuid4(), actor=w.member),
    ),
    # --- settings and tokens -------------------------------------------------------------------
    Case(
        "unknown-setting",
        InvalidInputError,
        "Unknown setting 'colour'",
        lambda w, _: w.ledger.change_settings(org_id=w.org_id, changes={"colour": "red"}, actor=w.owner),
    ),
    Case(
        "bad-timezone",
        InvalidInputError,
        "Unknown timezone 'Mars/Olympus'",
        lambda w, _: w.ledger.change_settings(
            org_id=w.org_id, changes={"timezone": "Mars/Olympus"}, actor=w.owner
        ),
    ),
    Case(
        "bad-currency",
        InvalidInputError,
        "not a three-letter ISO 4217 code",
        lambda w, _: w.ledger.change_settings(org_id=w.org_id, changes={"currency": "euro"}, actor=w.owner),
    ),
    Case(
        "bad-rounding-mode",
        InvalidInputError,
        "rounding_mode must be one of",
        lambda w, _: w.ledger.change_settings(
            org_id=w.org_id, changes={"rounding_mode": "sideways"}, actor=w.owner
        ),
    ),
    Case(
        "bad-rounding-minutes",
        InvalidInputError,
        "rounding_minutes must be one of",
        lambda w, _: w.ledger.change_settings(
            org_id=w.org_id, changes={"rounding_minutes": 7}, actor=w.owner
        ),
    ),
    Case(
        "max-entry-too-short",
        InvalidInputError,
        "max_entry_seconds must be a whole number",
        lambda w, _: w.ledger.change_settings(
            org_id=w.org_id, changes={"max_entry_seconds": 0}, actor=w.owner
        ),
    ),
    Case(
        "overlap-allowed-not-a-bool",
        InvalidInputError,
        "must be true or false",
        lambda w, _: w.ledger.change_settings(
            org_id=w.org_id, changes={"overlap_allowed": "no"}, actor=w.owner
        ),
    ),
    Case(
        "new-org-with-unknown-setting",
        InvalidInputError,
        "Unknown setting 'colour'",
        lambda w, _: w.ledger.create_organization(
            name="B",
            owner_email="b@b.test",
            owner_name="B",
            owner_password="b-password",
            settings={"colour": "red"},
        ),
    ),
    Case(
        "unknown-token-scope",
        InvalidInputError,
        "Unknown scope 'write:everything'",
        lambda w, _: w.ledger.issue_token(
            org_id=w.org_id, name="t", scopes=["read:entries", "write:everything"], actor=w.member
        ),
    ),
    Case(
        "token-without-scopes",
        InvalidInputError,
        "at least one scope",
        lambda w, _: w.ledger.issue_token(org_id=w.org_id, name="t", scopes=[], actor=w.member),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rejected_input_raises_a_typed_error_and_appends_nothing(world: World, case: Case) -> None:
    needed = case.setup(world)
    refused(world, case.error, case.words, lambda: case.call(world, needed))


@pytest.mark.parametrize("command", ["edit_entry", "delete_entry"])
def test_a_stale_version_is_refused_with_both_versions(world: World, command: str) -> None:
    entry_id = _entry(world)
    world.ledger.edit_entry(entry_id=entry_id, expected_version=1, description="first", actor=world.member)
    run: Callable[[], Receipt] = {
        "edit_entry": lambda: world.ledger.edit_entry(
            entry_id=entry_id, expected_version=1, description="second", actor=world.member
        ),
        "delete_entry": lambda: world.ledger.delete_entry(
            entry_id=entry_id, expected_version=1, actor=world.member
        ),
    }[command]
    error = refused(world, StaleVersionError, "changed since you read it", run)
    assert (error.expected, error.actual) == (1, 2)
    assert "version 1" in str(error)
    assert "version 2" in str(error)
    entry = world.ledger.get_entry(entry_id, world.member)
    assert (entry.description, entry.status, entry.version) == ("first", "stopped", 2)


def test_the_current_version_is_accepted(world: World) -> None:
    entry_id = _entry(world)
    done = world.ledger.edit_entry(
        entry_id=entry_id, expected_version=1, description="ok", actor=world.member
    )
    assert done.version == 2
    assert world.ledger.delete_entry(entry_id=entry_id, expected_version=2, actor=world.member).version == 3


# scenario: (what is already there, the command that would overlap it)
OVERLAPS: dict[str, tuple[Callable[[World], object], Callable[[World], Receipt]]] = {
    "manual-vs-manual": (
        lambda w: record(w, start=NOW - 6 * HOUR, end=NOW - 4 * HOUR),
        lambda w: record(w, start=NOW - 5 * HOUR, end=NOW - 3 * HOUR),
    ),
    "manual-vs-running-timer": (
        lambda w: start(w, at=NOW - 5 * HOUR),
        lambda w: record(w, start=NOW - 2 * HOUR, end=NOW - HOUR),
    ),
    "timer-started-inside-a-recorded-entry": (
        lambda w: record(w, start=NOW - 6 * HOUR, end=NOW - 4 * HOUR),
        lambda w: start(w, at=NOW - 5 * HOUR),
    ),
}


@pytest.mark.parametrize("scenario", sorted(OVERLAPS))
def test_overlaps_are_refused_when_the_organization_forbids_them(world: World, scenario: str) -> None:
    _settings(overlap_allowed=False)(world)
    existing, overlapping = OVERLAPS[scenario]
    existing(world)
    running = world.ledger.running_entry(world.org_id, world.member)
    error = refused(world, OverlapError, "does not allow overlapping entries", lambda: overlapping(world))
    assert "overlaps entry" in str(error)
    still = world.ledger.running_entry(world.org_id, world.member)
    assert (still.id if still else None) == (running.id if running else None)


@pytest.mark.parametrize("scenario", sorted(OVERLAPS))
def test_overlaps_are_accepted_when_the_organization_allows_them(world: World, scenario: str) -> None:
    assert world.ledger.get_organization(world.org_id, world.owner).settings.overlap_allowed
    existing, overlapping = OVERLAPS[scenario]
    existing(world)
    done = overlapping(world)
    assert world.ledger.get_entry(done.id, world.member).status in ("stopped", "running")


def test_entries_that_only_touch_do_not_overlap(world: World) -> None:
    _settings(overlap_allowed=False)(world)
    record(world, start=NOW - 6 * HOUR, end=NOW - 5 * HOUR)
    record(world, start=NOW - 5 * HOUR, end=NOW - 4 * HOUR)
    record(world, start=NOW - 8 * HOUR, end=NOW - 6 * HOUR)
    start(world, at=NOW - 4 * HOUR)
    # Other members' time never overlaps mine.
    record(world, start=NOW - 3 * HOUR, end=NOW - 2 * HOUR, actor=world.manager)
    with pytest.raises(OverlapError):
        record(world, start=NOW - 3 * HOUR, end=NOW - 2 * HOUR)


def test_limits_are_inclusive(world: World) -> None:
    longest = record(world, start=NOW - 25 * HOUR, end=NOW - HOUR)
    assert world.ledger.get_entry(longest.id, world.member).duration_seconds == 24 * 3600
    ahead = record(world, start=NOW - HOUR, end=NOW + 15 * MINUTE)
    assert world.ledger.get_entry(ahead.id, world.member).end == NOW + 15 * MINUTE


@pytest.mark.parametrize("timezone", [5, None])
def test_a_timezone_that_is_not_text_is_refused_as_invalid_input(world: World, timezone: object) -> None:
    refused(
        world,
        InvalidInputError,
        "Unknown timezone",
        lambda: world.ledger.change_settings(
            org_id=world.org_id, changes={"timezone": timezone}, actor=world.owner
        ),
    )


# --- values no store or read model could hold -------------------------------------------


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("name", lambda w: w.ledger.create_client(org_id=w.org_id, name="Glo\x00bex", actor=w.owner)),
        (
            "tags",
            lambda w: w.ledger.start_timer(
                org_id=w.org_id, project_id=w.project_id, tags=["a\x00b"], actor=w.member
            ),
        ),
        (
            "description",
            lambda w: w.ledger.start_timer(
                org_id=w.org_id, project_id=w.project_id, description="bell\x07", actor=w.member
            ),
        ),
        (
            "email",
            lambda w: w.ledger.add_member(
                org_id=w.org_id, email="a\x00b@acme.test", name="A", role="member", actor=w.owner
            ),
        ),
        (
            "budget_minor",
            lambda w: w.ledger.create_project(org_id=w.org_id, name="Big", budget_minor=2**63, actor=w.owner),
        ),
        (
            "amount_minor",
            lambda w: w.ledger.set_rate(
                org_id=w.org_id, level="organization", amount_minor=2**70, actor=w.owner
            ),
        ),
    ],
)
def test_control_characters_and_huge_numbers_are_refused(
    world: World, field: str, call: Callable[[World], object]
) -> None:
    head = world.ledger.head_position()
    with pytest.raises(InvalidInputError) as caught:
        call(world)
    assert caught.value.field == field
    assert world.ledger.head_position() == head


def test_a_description_may_span_lines(world: World) -> None:
    receipt = world.ledger.start_timer(
        org_id=world.org_id, project_id=world.project_id, description="one\n\ttwo", actor=world.member
    )
    assert world.ledger.get_entry(receipt.id, world.member).description == "one\n\ttwo"


def test_an_outsider_is_told_the_item_is_missing_not_which_organization_owns_it(world: World) -> None:
    other = world.ledger.create_organization(
        name="Other", owner_email="o@other.test", owner_name="O", owner_password="other-password"
    )
    outsider = Actor.token(other.related[0], uuid4(), other.id)
    with pytest.raises(NotFoundError) as caught:
        world.ledger.rename_client(client_id=world.client_id, name="Mine", actor=outsider)
    assert str(caught.value) == f"There is no client with id {world.client_id}."
    assert str(world.org_id) not in str(caught.value)
