"""Signed audit checkpoints: written after a clean verify, compared by every later one."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ledger.audit import verify_log
from ledger.chain import event_hash
from tests.conftest import NOW, StoreHandle, World
from tests.ledger.test_audit import rewrite, row_of, run_audit
from tests.ledger.test_audit_order import delete_row, three_event_entry
from timeledger.checkpoints import FILE_NAME


def checkpoint_lines(home: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (home / FILE_NAME).read_text().splitlines()]


def test_a_clean_verify_writes_a_signed_checkpoint_that_the_next_one_compares(
    store: StoreHandle, world: World, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    three_event_entry(world)
    head = world.ledger.head_position()

    first = run_audit(store, home)
    assert first.returncode == 0, first.stdout + first.stderr
    [line] = checkpoint_lines(home)
    assert (line["position"], line["log_hash"]) == (head, verify_log(world.ledger).log_hash)
    assert sorted(line) == ["created_at", "log_hash", "position", "signature", "store"]
    assert f"checkpoint written at position {head}" in first.stdout

    again = run_audit(store, home)
    assert again.returncode == 0
    assert "1 signed checkpoints compared; no new checkpoint (the log has not grown)." in again.stdout

    three_event_entry(world)
    grown = run_audit(store, home)
    assert grown.returncode == 0, grown.stdout
    assert (
        f"1 signed checkpoints compared; checkpoint written at position {world.ledger.head_position()}"
        in (grown.stdout)
    )
    assert [c["position"] for c in checkpoint_lines(home)] == [head, world.ledger.head_position()]


def test_history_rewritten_with_recomputed_hashes_fails_against_the_checkpoint(
    store: StoreHandle, world: World, tmp_path: Path
) -> None:
    """An entry's newest event forged with a valid hash: its chain verifies, the log hash does not."""
    home = tmp_path / "home"
    entry_id = three_event_entry(world)
    assert run_audit(store, home).returncode == 0
    row = row_of(world.ledger, entry_id, 3)
    transcoder = world.ledger.mapper.transcoder
    state = transcoder.decode(row.state)
    state["description"] = "Forged wording"
    state["hash"] = event_hash(topic=row.topic, originator_id=entry_id, originator_version=3, state=state)
    rewrite(store, world.ledger, replace(row, state=transcoder.encode(state)))
    assert verify_log(world.ledger).ok

    done = run_audit(store, home)
    assert done.returncode == 1, done.stdout
    head = world.ledger.head_position()
    assert done.stdout.splitlines()[0].startswith(f"Audit FAILED: the log up to position {head} hashes to ")
    assert "history before the checkpoint was rewritten." in done.stdout


def test_events_removed_from_the_end_fail_against_the_checkpoint(
    store: StoreHandle, world: World, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    entry_id = three_event_entry(world)
    assert run_audit(store, home).returncode == 0
    head = world.ledger.head_position()
    assert row_of(world.ledger, entry_id, 3).position == head
    delete_row(store, world.ledger.recorder.events_table_name, head)

    done = run_audit(store, home)
    assert done.returncode == 1, done.stdout
    assert done.stdout.splitlines()[0] == (
        f"Audit FAILED: the log ends at position {head - 1}, before checkpoint position {head}: "
        "events were removed from its end."
    )


def test_a_tampered_checkpoint_fails_on_its_signature(
    store: StoreHandle, world: World, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    assert run_audit(store, home).returncode == 0
    world.ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=NOW.replace(hour=9),
        duration_seconds=600,
        description="After the checkpoint",
        actor=world.member,
    )
    # Someone moves the checkpoint forward to hide what came after it.
    [line] = checkpoint_lines(home)
    line.update(position=world.ledger.head_position(), log_hash=verify_log(world.ledger).log_hash)
    (home / FILE_NAME).write_text(json.dumps(line) + "\n")

    done = run_audit(store, home)
    assert done.returncode == 1, done.stdout
    assert done.stdout.strip() == (
        f"Audit FAILED: the checkpoint on line 1 of {home / FILE_NAME} has a bad signature "
        "(the file was edited, or the secret key changed)."
    )


def test_an_unreadable_checkpoint_line_fails(store: StoreHandle, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / FILE_NAME).write_text("not json\n")
    done = run_audit(store, home)
    assert done.returncode == 1
    assert done.stdout.startswith(f"Audit FAILED: line 1 of {home / FILE_NAME} is not a checkpoint (")
