"""`timeledger replay --until`: read models as of a past position or time, in a scratch database."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import NOW, StoreHandle, World
from timeledger.cli import main


@pytest.fixture
def cli_store(store: StoreHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoreHandle:
    monkeypatch.setenv("DATABASE_URL", store.url)
    monkeypatch.setenv("TIMELEDGER_HOME", str(tmp_path))
    return store


def description_in(path: Path, entry_id: object) -> str:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT description FROM rm_entries_g1 WHERE id = ?", (str(entry_id),)).fetchone()
        if row is None:  # UUIDs may be stored as 32 hex digits
            row = conn.execute(
                "SELECT description FROM rm_entries_g1 WHERE id = ?", (str(entry_id).replace("-", ""),)
            ).fetchone()
    return str(row[0])


def test_a_replay_until_a_position_shows_the_values_as_of_then(
    world: World, cli_store: StoreHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = world.ledger
    entry = ledger.record_entry(
        org_id=world.org_id,
        project_id=world.project_id,
        start=NOW - timedelta(hours=2),
        end=NOW - timedelta(hours=1),
        description="Old words",
        actor=world.owner,
    )
    before = ledger.head_position()
    world.clock.advance(3600)
    ledger.edit_entry(entry_id=entry.id, description="New words", actor=world.owner)
    assert ledger.head_position() > before
    scratch = tmp_path / "as-of-position.db"
    assert main(["replay", "--until", str(before), "--into", str(scratch)]) == 0
    out = capsys.readouterr().out
    assert f"to position {before}" in out
    assert "rm_entries_g1" in out
    assert description_in(scratch, entry.id) == "Old words"
    by_time = tmp_path / "as-of-time.db"
    assert main(["replay", "--until", (NOW + timedelta(minutes=30)).isoformat(), "--into", str(by_time)]) == 0
    assert description_in(by_time, entry.id) == "Old words"
    latest = tmp_path / "latest.db"
    assert main(["replay", "--until", str(ledger.head_position()), "--into", str(latest)]) == 0
    assert description_in(latest, entry.id) == "New words"
    assert not (tmp_path / "timeledger.readmodels.db").exists(), "the live read models were touched"


def test_bad_input_exits_2_with_a_sentence(
    world: World, cli_store: StoreHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = world.ledger.head_position()
    scratch = tmp_path / "scratch.db"
    assert main(["replay", "--until", str(head + 1), "--into", str(scratch)]) == 2
    assert "beyond the head of the log" in capsys.readouterr().err
    assert main(["replay", "--until", "yesterday", "--into", str(scratch)]) == 2
    assert "neither a position nor a time" in capsys.readouterr().err
    assert main(["replay", "--until", "2026-11-20T10:00:00", "--into", str(scratch)]) == 2
    assert "needs an offset" in capsys.readouterr().err
    assert main(["replay", "--until", "1", "--into", str(scratch)]) == 0
    capsys.readouterr()
    assert main(["replay", "--until", "1", "--into", str(scratch)]) == 2
    assert "already holds read models" in capsys.readouterr().err
