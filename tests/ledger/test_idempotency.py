"""Idempotency: a repeat of any command with the same command id appends nothing and returns
the same result; a command id reused for other input or another command is refused."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.catalog import Client
from ledger.core import Receipt
from ledger.errors import (
    ArchivedError,
    IdempotencyKeyReusedError,
    InvalidInputError,
)
from tests.conftest import NOW, World

BERLIN = ZoneInfo("Europe/Berlin")
Setup = Callable[[World], Any]
Command = Callable[[World, Any, str], Receipt]


def _nothing(w: World) -> None:
    return None


def _recorded(w: World) -> UUID:
    return w.ledger.record_entry(
        org_id=w.org_id,
        project_id=w.project_id,
        start=NOW - timedelta(hours=6),
        end=NOW - timedelta(hours=5),
        actor=w.member,
    ).id


def _deleted(w: World) -> UUID:
    entry_id = _recorded(w)
    w.ledger.delete_entry(entry_id=entry_id, actor=w.member)
    return entry_id


def _running(w: World) -> UUID:
    return w.ledger.start_timer(
        org_id=w.org_id, project_id=w.project_id, at=NOW - timedelta(hours=1), actor=w.member
    ).id


def _paused(w: World) -> UUID:
    entry_id = _running(w)
    w.ledger.pause_timer(org_id=w.org_id, at=NOW - timedelta(minutes=30), actor=w.member)
    return entry_id


def _token(w: World) -> UUID:
    return w.ledger.issue_token(org_id=w.org_id, name="cli", scopes=["read:entries"], actor=w.member).id


def _budgeted(w: World) -> None:
    w.ledger.update_project(project_id=w.project_id, budget_seconds=36000, actor=w.manager)


def _template(w: World) -> UUID:
    return w.ledger.save_template(
        org_id=w.org_id, name="Design", project_id=w.project_id, actor=w.member
    ).related[0]


CODE_HASHES = [hashlib.sha256(f"code-{i}".encode()).hexdigest() for i in range(10)]


def _two_factor_on(w: World) -> UUID:
    assert w.member.user_id is not None
    w.ledger.enable_two_factor(
        user_id=w.member.user_id,
        secret_ciphertext="ciphertext",
        recovery_code_hashes=CODE_HASHES,
        actor=w.member,
    )
    return w.member.user_id


def _archived_task(w: World) -> None:
    w.ledger.archive(kind="task", item_id=w.task_id, actor=w.owner)


def _submitted(w: World) -> UUID:
    _recorded(w)
    return w.ledger.submit_timesheet(org_id=w.org_id, day=NOW.date(), actor=w.member).id


def _approved(w: World) -> UUID:
    sheet = _submitted(w)
    w.ledger.approve_timesheet(timesheet_id=sheet, actor=w.manager)
    return sheet


def _billable_week(w: World) -> None:
    w.ledger.change_settings(org_id=w.org_id, changes={"invoice_requires_approval": False}, actor=w.owner)
    w.ledger.set_rate(
        org_id=w.org_id,
        level="organization",
        amount_minor=9000,
        effective_from=date(2026, 1, 1),
        actor=w.owner,
    )
    _recorded(w)


def _draft(w: World) -> UUID:
    _billable_week(w)
    return w.ledger.draft_invoice(
        org_id=w.org_id, client_id=w.client_id, period_from=NOW.date(), period_to=NOW.date(), actor=w.owner
    ).id


def _issued(w: World) -> UUID:
    invoice = _draft(w)
    w.ledger.issue_invoice(invoice_id=invoice, actor=w.owner)
    return invoice


def _webhook(w: World) -> UUID:
    return w.ledger.create_webhook(
        org_id=w.org_id, url="https://example.test/hook", event_types=["*"], actor=w.owner
    ).id


# (command name, setup returning what the command needs, the command itself)
COMMANDS: list[tuple[str, Setup, Command]] = [
    (
        "create_organization",
        _nothing,
        lambda w, _, cid: w.ledger.create_organization(
            name="Initech",
            owner_email="peter@initech.test",
            owner_name="Peter",
            owner_password="peter-password",
            settings={"currency": "USD"},
            command_id=cid,
        ),
    ),
    (
        "rename_organization",
        _nothing,
        lambda w, _, cid: w.ledger.rename_organization(
            org_id=w.org_id, name="Acme Corp", actor=w.owner, command_id=cid
        ),
    ),
    (
        "change_settings",
        _nothing,
        lambda w, _, cid: w.ledger.change_settings(
            org_id=w.org_id, changes={"timezone": "Europe/Berlin"}, actor=w.owner, command_id=cid
        ),
    ),
    (
        "add_member",
        _nothing,
        lambda w, _, cid: w.ledger.add_member(
            org_id=w.org_id,
            email="new@acme.test",
            name="Ned New",
            role="member",
            password="new-password",
            actor=w.owner,
            command_id=cid,
        ),
    ),
    (
        "change_role",
        _nothing,
        lambda w, _, cid: w.ledger.change_role(
            org_id=w.org_id, user_id=w.member.user_id, role="manager", actor=w.owner, command_id=cid
        ),
    ),
    (
        "remove_member",
        _nothing,
        lambda w, _, cid: w.ledger.remove_member(
            org_id=w.org_id, user_id=w.member.user_id, actor=w.owner, command_id=cid
        ),
    ),
    (
        "rename_user",
        _nothing,
        lambda w, _, cid: w.ledger.rename_user(
            user_id=w.member.user_id, display_name="Mia M.", actor=w.member, command_id=cid
        ),
    ),
    (
        "change_password",
        _nothing,
        lambda w, _, cid: w.ledger.change_password(
            user_id=w.member.user_id, password="a-new-password", actor=w.member, command_id=cid
        ),
    ),
    (
        "issue_token",
        _nothing,
        lambda w, _, cid: w.ledger.issue_token(
            org_id=w.org_id,
            name="laptop",
            scopes=["read:entries", "write:entries"],
            expires_at=NOW + timedelta(days=30),
            actor=w.member,
            command_id=cid,
        ),
    ),
    (
        "revoke_token",
        _token,
        lambda w, token_id, cid: w.ledger.revoke_token(token_id=token_id, actor=w.member, command_id=cid),
    ),
    (
        "create_client",
        _nothing,
        lambda w, _, cid: w.ledger.create_client(
            org_id=w.org_id, name="Umbrella", actor=w.manager, command_id=cid
        ),
    ),
    (
        "rename_client",
        _nothing,
        lambda w, _, cid: w.ledger.rename_client(
            client_id=w.client_id, name="Globex Inc", actor=w.manager, command_id=cid
        ),
    ),
    (
        "create_project",
        _nothing,
        lambda w, _, cid: w.ledger.create_project(
            org_id=w.org_id,
            name="App",
            client_id=w.client_id,
            budget_seconds=36000,
            actor=w.manager,
            command_id=cid,
        ),
    ),
    (
        "update_project",
        _nothing,
        lambda w, _, cid: w.ledger.update_project(
            project_id=w.project_id,
            name="Website 2",
            billable=False,
            budget_minor=100_000,
            actor=w.manager,
            command_id=cid,
        ),
    ),
    (
        "record_budget_alert",
        _budgeted,
        lambda w, _, cid: w.ledger.record_budget_alert(
            project_id=w.project_id,
            threshold_percent=80,
            used_seconds=30_000,
            used_minor=None,
            actor=Actor.system(),
            command_id=cid,
        ),
    ),
    (
        "create_task",
        _nothing,
        lambda w, _, cid: w.ledger.create_task(
            project_id=w.project_id, name="Build", actor=w.manager, command_id=cid
        ),
    ),
    (
        "rename_task",
        _nothing,
        lambda w, _, cid: w.ledger.rename_task(
            task_id=w.task_id, name="Visual design", actor=w.manager, command_id=cid
        ),
    ),
    (
        "archive",
        _nothing,
        lambda w, _, cid: w.ledger.archive(kind="task", item_id=w.task_id, actor=w.manager, command_id=cid),
    ),
    (
        "unarchive",
        _archived_task,
        lambda w, _, cid: w.ledger.unarchive(kind="task", item_id=w.task_id, actor=w.manager, command_id=cid),
    ),
    (
        "set_rate",
        _nothing,
        lambda w, _, cid: w.ledger.set_rate(
            org_id=w.org_id,
            level="project",
            amount_minor=9000,
            effective_from=date(2026, 11, 1),
            project_id=w.project_id,
            actor=w.owner,
            command_id=cid,
        ),
    ),
    (
        "start_timer",
        _nothing,
        lambda w, _, cid: w.ledger.start_timer(
            org_id=w.org_id,
            project_id=w.project_id,
            task_id=w.task_id,
            description="Logo",
            tags=["ux"],
            actor=w.member,
            command_id=cid,
        ),
    ),
    (
        "continue_entry",
        _recorded,
        lambda w, entry_id, cid: w.ledger.continue_entry(entry_id=entry_id, actor=w.member, command_id=cid),
    ),
    (
        "stop_timer",
        _running,
        lambda w, _, cid: w.ledger.stop_timer(org_id=w.org_id, actor=w.member, command_id=cid),
    ),
    (
        "pause_timer",
        _running,
        lambda w, _, cid: w.ledger.pause_timer(org_id=w.org_id, actor=w.member, command_id=cid),
    ),
    (
        "resume_timer",
        _paused,
        lambda w, _, cid: w.ledger.resume_timer(org_id=w.org_id, actor=w.member, command_id=cid),
    ),
    (
        "record_entry",
        _nothing,
        lambda w, _, cid: w.ledger.record_entry(
            org_id=w.org_id,
            project_id=w.project_id,
            start=NOW - timedelta(hours=3),
            duration_seconds=5400,
            break_minutes=10,
            description="Review",
            tags=["qa"],
            actor=w.member,
            command_id=cid,
        ),
    ),
    (
        "edit_entry",
        _recorded,
        lambda w, entry_id, cid: w.ledger.edit_entry(
            entry_id=entry_id,
            expected_version=1,
            description="Fixed",
            end=NOW - timedelta(hours=4),
            actor=w.member,
            command_id=cid,
        ),
    ),
    (
        "delete_entry",
        _recorded,
        lambda w, entry_id, cid: w.ledger.delete_entry(
            entry_id=entry_id, expected_version=1, actor=w.member, command_id=cid
        ),
    ),
    (
        "restore_entry",
        _deleted,
        lambda w, entry_id, cid: w.ledger.restore_entry(entry_id=entry_id, actor=w.member, command_id=cid),
    ),
    (
        "bulk_update_entries",
        _recorded,
        lambda w, entry_id, cid: w.ledger.bulk_update_entries(
            org_id=w.org_id, entry_ids=[entry_id], action="add_tag", value="x", actor=w.member, command_id=cid
        ),
    ),
    (
        "save_template",
        _nothing,
        lambda w, _, cid: w.ledger.save_template(
            org_id=w.org_id, name="Design", project_id=w.project_id, actor=w.member, command_id=cid
        ),
    ),
    (
        "remove_template",
        _template,
        lambda w, template_id, cid: w.ledger.remove_template(
            org_id=w.org_id, template_id=template_id, actor=w.member, command_id=cid
        ),
    ),
    (
        "enable_two_factor",
        _nothing,
        lambda w, _, cid: w.ledger.enable_two_factor(
            user_id=w.member.user_id,
            secret_ciphertext="ciphertext",
            recovery_code_hashes=CODE_HASHES,
            actor=w.member,
            command_id=cid,
        ),
    ),
    (
        "disable_two_factor",
        _two_factor_on,
        lambda w, uid, cid: w.ledger.disable_two_factor(user_id=uid, actor=w.member, command_id=cid),
    ),
    (
        "use_recovery_code",
        _two_factor_on,
        lambda w, uid, cid: w.ledger.use_recovery_code(
            user_id=uid, code_hash=CODE_HASHES[0], actor=w.member, command_id=cid
        ),
    ),
    (
        "start_from_template",
        _template,
        lambda w, template_id, cid: w.ledger.start_from_template(
            org_id=w.org_id, template_id=template_id, actor=w.member, command_id=cid
        ),
    ),
    (
        "submit_timesheet",
        _recorded,
        lambda w, _, cid: w.ledger.submit_timesheet(
            org_id=w.org_id, day=NOW.date(), note="all there", actor=w.member, command_id=cid
        ),
    ),
    (
        "approve_timesheet",
        _submitted,
        lambda w, sheet, cid: w.ledger.approve_timesheet(timesheet_id=sheet, actor=w.manager, command_id=cid),
    ),
    (
        "reject_timesheet",
        _submitted,
        lambda w, sheet, cid: w.ledger.reject_timesheet(
            timesheet_id=sheet, reason="Tuesday is missing", actor=w.manager, command_id=cid
        ),
    ),
    (
        "reopen_timesheet",
        _approved,
        lambda w, sheet, cid: w.ledger.reopen_timesheet(timesheet_id=sheet, actor=w.owner, command_id=cid),
    ),
    (
        "draft_invoice",
        _billable_week,
        lambda w, _, cid: w.ledger.draft_invoice(
            org_id=w.org_id,
            client_id=w.client_id,
            period_from=NOW.date(),
            period_to=NOW.date(),
            taxes=[{"label": "VAT", "percent": "19"}],
            actor=w.owner,
            command_id=cid,
        ),
    ),
    (
        "revise_invoice",
        _draft,
        lambda w, invoice, cid: w.ledger.revise_invoice(
            invoice_id=invoice, notes="Thanks!", refresh=True, actor=w.owner, command_id=cid
        ),
    ),
    (
        "issue_invoice",
        _draft,
        lambda w, invoice, cid: w.ledger.issue_invoice(invoice_id=invoice, actor=w.owner, command_id=cid),
    ),
    (
        "mark_invoice_paid",
        _issued,
        lambda w, invoice, cid: w.ledger.mark_invoice_paid(invoice_id=invoice, actor=w.owner, command_id=cid),
    ),
    (
        "void_invoice",
        _issued,
        lambda w, invoice, cid: w.ledger.void_invoice(
            invoice_id=invoice, reason="wrong client", actor=w.owner, command_id=cid
        ),
    ),
    (
        "discard_invoice",
        _draft,
        lambda w, invoice, cid: w.ledger.discard_invoice(invoice_id=invoice, actor=w.owner, command_id=cid),
    ),
    (
        "create_webhook",
        _nothing,
        lambda w, _, cid: w.ledger.create_webhook(
            org_id=w.org_id, url="https://example.test/h", event_types=["*"], actor=w.owner, command_id=cid
        ),
    ),
    (
        "change_webhook",
        _webhook,
        lambda w, hook, cid: w.ledger.change_webhook(
            webhook_id=hook, active=False, actor=w.owner, command_id=cid
        ),
    ),
    (
        "rotate_webhook_secret",
        _webhook,
        lambda w, hook, cid: w.ledger.rotate_webhook_secret(webhook_id=hook, actor=w.owner, command_id=cid),
    ),
    (
        "delete_webhook",
        _webhook,
        lambda w, hook, cid: w.ledger.delete_webhook(webhook_id=hook, actor=w.owner, command_id=cid),
    ),
    (
        "ping_webhook",
        _webhook,
        lambda w, hook, cid: w.ledger.ping_webhook(webhook_id=hook, actor=w.owner, command_id=cid),
    ),
]


def test_the_table_covers_every_command_that_takes_a_command_id() -> None:
    commands = {
        name
        for name, member in inspect.getmembers(TimeLedger, inspect.isfunction)
        if not name.startswith("_") and "command_id" in inspect.signature(member).parameters
    }
    assert {name for name, _, _ in COMMANDS} == commands
    assert len(COMMANDS) == len(commands) == 51


@pytest.mark.parametrize(("name", "setup", "command"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_repeat_appends_nothing_and_returns_the_first_result(
    world: World, name: str, setup: Setup, command: Command
) -> None:
    needed = setup(world)
    before = world.ledger.head_position()
    first = command(world, needed, f"{name}-1")
    head = world.ledger.head_position()
    assert head > before
    assert first.command == name
    assert first.repeated is False

    world.clock.advance(60)  # a late retry must not act again either
    second = command(world, needed, f"{name}-1")
    assert second == first
    assert (second.id, second.version, second.related) == (first.id, first.version, first.related)
    assert second.repeated is True
    assert second.position >= first.position
    assert world.ledger.head_position() == head

    third = command(world, needed, f"{name}-1")
    assert third == first
    assert third.repeated is True
    assert world.ledger.head_position() == head


def test_a_repeated_token_issue_returns_the_same_token_but_never_its_secret_again(world: World) -> None:
    first = world.ledger.issue_token(
        org_id=world.org_id, name="cli", scopes=["read:entries"], actor=world.member, command_id="tok"
    )
    second = world.ledger.issue_token(
        org_id=world.org_id, name="cli", scopes=["read:entries"], actor=world.member, command_id="tok"
    )
    assert first.secret is not None
    assert second.secret is None
    assert second.id == first.id
    principal = world.ledger.authenticate_token(first.secret)
    assert principal is not None
    assert principal.token_id == first.id


def test_a_repeated_start_creates_no_second_entry(world: World) -> None:
    first = world.ledger.start_timer(
        org_id=world.org_id, project_id=world.project_id, actor=world.member, command_id="go"
    )
    world.clock.advance(60)
    again = world.ledger.start_timer(
        org_id=world.org_id, project_id=world.project_id, actor=world.member, command_id="go"
    )
    assert again == first
    assert again.related == ()  # it did not stop the first entry to start another
    running = world.ledger.running_entry(world.org_id, world.member)
    assert running is not None
    assert running.id == first.id
    assert running.start == NOW


def test_the_same_id_with_different_input_is_refused_and_appends_nothing(world: World) -> None:
    world.ledger.rename_client(
        client_id=world.client_id, name="Globex Inc", actor=world.manager, command_id="rename"
    )
    head = world.ledger.head_position()
    with pytest.raises(IdempotencyKeyReusedError, match="already used for a different input") as e:
        world.ledger.rename_client(
            client_id=world.client_id, name="Globex Ltd", actor=world.manager, command_id="rename"
        )
    assert "'rename'" in str(e.value)
    assert world.ledger.head_position() == head
    client = world.ledger.aggregate(world.client_id)
    assert isinstance(client, Client)
    assert client.name == "Globex Inc"


def test_the_same_id_with_a_different_entry_time_is_refused(world: World) -> None:
    def record(hours: int) -> Receipt:
        return world.ledger.record_entry(
            org_id=world.org_id,
            project_id=world.project_id,
            start=NOW - timedelta(hours=hours),
            duration_seconds=600,
            actor=world.member,
            command_id="rec",
        )

    record(3)
    head = world.ledger.head_position()
    with pytest.raises(IdempotencyKeyReusedError, match="different input"):
        record(2)
    assert world.ledger.head_position() == head


OTHER_COMMANDS: dict[str, Callable[[World], Receipt]] = {
    "rename_task": lambda w: w.ledger.rename_task(
        task_id=w.task_id, name="Other", actor=w.manager, command_id="k"
    ),
    "unarchive": lambda w: w.ledger.unarchive(
        kind="task", item_id=w.task_id, actor=w.manager, command_id="k"
    ),
}


@pytest.mark.parametrize("other", sorted(OTHER_COMMANDS))
def test_the_same_id_for_another_command_is_refused_and_appends_nothing(world: World, other: str) -> None:
    world.ledger.archive(kind="task", item_id=world.task_id, actor=world.manager, command_id="k")
    head = world.ledger.head_position()
    with pytest.raises(IdempotencyKeyReusedError, match="already used for a different command"):
        OTHER_COMMANDS[other](world)
    assert world.ledger.head_position() == head


def test_command_ids_are_scoped_per_actor(world: World) -> None:
    mine = world.ledger.start_timer(
        org_id=world.org_id, project_id=world.project_id, actor=world.member, command_id="morning"
    )
    head = world.ledger.head_position()
    theirs = world.ledger.start_timer(
        org_id=world.org_id, project_id=world.project_id, actor=world.manager, command_id="morning"
    )
    assert theirs.repeated is False
    assert theirs.id != mine.id
    assert world.ledger.head_position() > head
    # Different input under the same id is fine too, for another person.
    world.ledger.rename_user(
        user_id=world.member.user_id, display_name="Mia", actor=world.member, command_id="name"
    )
    other = world.ledger.rename_user(
        user_id=world.manager.user_id, display_name="Max", actor=world.manager, command_id="name"
    )
    assert other.repeated is False
    assert other.id == world.manager.user_id
    for actor in (world.member, world.manager):
        running = world.ledger.running_entry(world.org_id, actor)
        assert running is not None
        assert running.member_id == actor.user_id


def test_a_repeat_after_the_timer_stopped_returns_the_original_and_starts_nothing(world: World) -> None:
    def start() -> Receipt:
        return world.ledger.start_timer(
            org_id=world.org_id, project_id=world.project_id, actor=world.member, command_id="start-1"
        )

    first = start()
    world.clock.advance(1800)
    world.ledger.stop_timer(org_id=world.org_id, actor=world.member)
    world.clock.advance(1800)
    head = world.ledger.head_position()
    again = start()
    assert again == first
    assert again.repeated is True
    assert world.ledger.head_position() == head
    assert world.ledger.running_entry(world.org_id, world.member) is None
    assert world.ledger.get_entry(first.id, world.member).status == "stopped"


def test_a_repeat_answers_even_when_the_command_would_now_be_refused(world: World) -> None:
    def record() -> Receipt:
        return world.ledger.record_entry(
            org_id=world.org_id,
            project_id=world.project_id,
            start=NOW - timedelta(hours=2),
            duration_seconds=3600,
            actor=world.member,
            command_id="rec",
        )

    first = record()
    world.ledger.archive(kind="project", item_id=world.project_id, actor=world.manager)
    head = world.ledger.head_position()
    assert record() == first
    assert world.ledger.head_position() == head


def test_a_refused_command_can_be_retried_with_its_id_once_the_state_allows_it(world: World) -> None:
    world.ledger.change_settings(org_id=world.org_id, changes={"max_entry_seconds": 3600}, actor=world.owner)

    def record() -> Receipt:
        return world.ledger.record_entry(
            org_id=world.org_id,
            project_id=world.project_id,
            start=NOW - timedelta(hours=3),
            duration_seconds=7200,
            actor=world.member,
            command_id="long-one",
        )

    head = world.ledger.head_position()
    with pytest.raises(InvalidInputError, match="longer than"):
        record()
    assert world.ledger.head_position() == head
    world.ledger.change_settings(
        org_id=world.org_id, changes={"max_entry_seconds": 8 * 3600}, actor=world.owner
    )
    done = record()
    assert done.repeated is False
    assert world.ledger.get_entry(done.id, world.member).duration_seconds == 7200
    assert record() == done


def test_a_timer_refused_on_an_archived_project_can_be_retried_after_unarchiving(world: World) -> None:
    world.ledger.archive(kind="project", item_id=world.project_id, actor=world.manager)

    def start() -> Receipt:
        return world.ledger.start_timer(
            org_id=world.org_id, project_id=world.project_id, actor=world.member, command_id="retry-me"
        )

    with pytest.raises(ArchivedError):
        start()
    world.ledger.unarchive(kind="project", item_id=world.project_id, actor=world.manager)
    started = start()
    assert started.repeated is False
    assert world.ledger.get_entry(started.id, world.member).status == "running"


def test_a_repeat_is_recognised_by_another_ledger_over_the_same_store(
    world: World, make_ledger: Callable[..., TimeLedger]
) -> None:
    first = world.ledger.create_client(
        org_id=world.org_id, name="Umbrella", actor=world.manager, command_id="client-1"
    )
    other = make_ledger(world.clock)
    head = other.head_position()
    again = other.create_client(
        org_id=world.org_id, name="Umbrella", actor=world.manager, command_id="client-1"
    )
    assert again == first
    assert again.repeated is True
    assert other.head_position() == head


@pytest.mark.parametrize("command_id", ["", "x" * 201])
def test_a_command_id_must_be_1_to_200_characters(world: World, command_id: str) -> None:
    head = world.ledger.head_position()
    with pytest.raises(InvalidInputError, match="command id is 1 to 200 characters"):
        world.ledger.create_client(
            org_id=world.org_id, name="Umbrella", actor=world.manager, command_id=command_id
        )
    assert world.ledger.head_position() == head


def test_a_repeat_racing_its_twin_still_returns_the_first_result(
    world: World, make_ledger: Callable[..., TimeLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_id = _recorded(world)
    twin = make_ledger(world.clock)
    look_up = world.ledger._earlier_result
    twin_receipts: list[Receipt] = []

    def look_up_while_the_twin_commits(*args: Any) -> Receipt | None:
        found = look_up(*args)
        if found is None and not twin_receipts:  # the twin wins the race right here
            twin_receipts.append(twin.delete_entry(entry_id=entry_id, actor=world.member, command_id="del"))
        return found

    monkeypatch.setattr(world.ledger, "_earlier_result", look_up_while_the_twin_commits)
    mine = world.ledger.delete_entry(entry_id=entry_id, actor=world.member, command_id="del")
    assert mine == twin_receipts[0]
    assert mine.repeated is True


def test_an_edit_repeated_with_the_same_instant_in_another_offset_is_a_repeat(world: World) -> None:
    entry_id = _recorded(world)
    end = NOW - timedelta(hours=4)
    first = world.ledger.edit_entry(entry_id=entry_id, end=end, actor=world.member, command_id="edit")
    again = world.ledger.edit_entry(
        entry_id=entry_id, end=end.astimezone(BERLIN), actor=world.member, command_id="edit"
    )
    assert again == first
