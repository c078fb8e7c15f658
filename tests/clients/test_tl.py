"""`tl` end to end against a real server: login, the timer, manual entries, listing, editing, watching."""

from __future__ import annotations

import os
import re
import signal
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clients import TimeLedgerClient
from clients.config import config_dir
from tests.clients.conftest import Server, Tl

CLOCK = r"\d\d:\d\d"


def one_sentence(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tl: ")
    assert "Traceback" not in err
    return lines[0]


def test_login_start_status_stop_log_ls_and_edit(server: Server, tl: Tl, tmp_path: Path) -> None:
    token = server.member("Eve")
    code, out, err = tl("login", server.base, "--token", token)
    assert (code, err) == (0, "")
    assert out == f"Logged in to {server.base} as Eve <" + out.split("<", 1)[1]
    assert token not in out
    folder = tmp_path / "tl-config"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "config.json").stat().st_mode) == 0o600

    code, out, err = tl("start", "website", "-t", "des", "-m", "Wireframes", "--tag", "ux")
    assert (code, err) == (0, "")
    assert re.fullmatch(rf"Started Website / Design — Wireframes at {CLOCK}\.\n", out)
    code, out, _ = tl("status")
    assert code == 0
    assert re.fullmatch(
        rf"Website / Design — Wireframes: running since {CLOCK} \(0:00:\d\d so far\)\.\n", out
    )
    code, out, _ = tl("stop")
    assert code == 0
    assert re.fullmatch(rf"Stopped Website / Design — Wireframes at {CLOCK} after 0:00:\d\d\.\n", out)
    assert tl("status")[1] == "No timer is running.\n"

    code, out, err = tl("log", "Backoffice", "00:00", "00:01", "-m", "Invoices")
    assert (code, err) == (0, "")
    assert out == "Logged 0:01:00 on Backoffice — Invoices, 00:00-00:01.\n"
    yesterday = (datetime.now().astimezone() - timedelta(days=1)).date().isoformat()
    code, out, _ = tl("log", "Webshop", f"{yesterday}T08:00", f"{yesterday}T09:30:00")
    assert code == 0
    assert "Logged" in out

    with TimeLedgerClient(server.base, token) as client:
        entries = {e.description: e for e in client.entries()}
    assert set(entries) == {"Wireframes", "Invoices", ""}
    invoices = entries["Invoices"]
    assert (
        invoices.start
        == datetime.combine(datetime.now().astimezone().date(), datetime.min.time()).astimezone()
    )
    assert invoices.end is not None
    assert invoices.end - invoices.start == timedelta(minutes=1)
    assert entries[""].end == datetime.fromisoformat(f"{yesterday}T09:30:00").astimezone()

    code, out, _ = tl("ls", "--today")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "START", "DURATION", "PROJECT", "NOTE"]
    assert any(
        line.startswith(str(invoices.id)[:8]) and "Backoffice" in line and "Invoices" in line
        for line in lines
    )
    assert any("Website / Design" in line and "Wireframes" in line for line in lines)
    assert lines[-1].startswith("Total: 0:01:")

    prefix = str(invoices.id)[:6]
    code, out, err = tl("edit", prefix, "--project", "websh", "-m", "Checkout", "--end", "00:10")
    assert (code, err) == (0, "")
    assert out == f"Edited {str(invoices.id)[:8]}: Webshop — Checkout, 00:00-00:10, 0:10:00.\n"
    with TimeLedgerClient(server.base, token) as client:
        edited = client.entry(invoices.id)
    assert (edited.description, edited.version) == ("Checkout", invoices.version + 1)
    assert edited.end == invoices.start + timedelta(minutes=10)
    assert tl("edit", prefix)[0] == 2


def test_unknown_and_ambiguous_names_are_refused_with_one_sentence(server: Server, tl: Tl) -> None:
    assert tl("login", server.base, "--token", server.member("Ian"))[0] == 0
    code, out, err = tl("start", "web")
    assert (code, out) == (2, "")
    assert one_sentence(err) == "tl: Project 'web' is ambiguous: it matches Webshop, Website."
    code, _, err = tl("log", "Nope", "00:00", "00:01")
    assert code == 2
    assert one_sentence(err) == "tl: There is no project named 'Nope' (known: Backoffice, Webshop, Website)."
    code, _, err = tl("start", "Website", "-t", "Build")
    assert code == 2
    assert one_sentence(err) == "tl: There is no task named 'Build' in Website (known: Design)."
    code, _, err = tl("edit", "zzz", "-m", "x")
    assert code == 2
    assert "is not an entry id" in one_sentence(err)
    assert tl("status")[1] == "No timer is running.\n"
    assert tl("ls")[1] == "No entries this week.\n"


def test_errors_before_login_bad_tokens_and_bad_usage_are_one_sentence(
    server: Server, tl: Tl, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = tl("status")
    assert code == 1
    assert one_sentence(err) == "tl: This device is not logged in; run `tl login URL` first."
    code, _, err = tl("start")
    assert code == 2
    assert one_sentence(err).startswith("tl: The following arguments are required: project")
    code, _, err = tl("login", server.base, "--token", "tl_wrong")
    assert code == 1
    assert one_sentence(err).startswith("tl: The server refused this token: ")
    code, _, err = tl("login", "ftp://example.invalid")
    assert code == 2
    assert "is not a server URL" in one_sentence(err)

    token = server.member("Gus")
    monkeypatch.setattr("getpass.getpass", lambda prompt: token)  # the prompt, as a person would answer it
    code, out, _ = tl("login", server.base)
    assert code == 0
    assert token not in out
    code, _, err = tl("log", "Website", "10:00", "09:00")
    assert code == 2
    assert one_sentence(err) == "tl: The end (09:00) must come after the start (10:00)."
    code, _, err = tl("log", "Website", "25:00", "26:00")
    assert code == 2
    assert "is not a time of day" in one_sentence(err)
    code, _, err = tl("stop")
    assert code == 1
    assert one_sentence(err) == "tl: No timer is running."


def test_watch_prints_one_line_per_event_and_ctrl_c_exits_cleanly(server: Server, tl: Tl) -> None:
    assert tl("login", server.base, "--token", server.member("Wes"))[0] == 0
    head = server.head()
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    for hour, note in ((8, "first"), (10, "second")):
        start = two_days_ago.replace(hour=hour, minute=0, second=0).isoformat()
        end = two_days_ago.replace(hour=hour, minute=30, second=0).isoformat()
        assert tl("log", "Website", start, end, "-m", note)[0] == 0
    code, out, err = tl("watch", "--after", str(head), "--count", "2")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 2
    for line, note in zip(lines, ("first", "second"), strict=True):
        assert re.match(
            r"#\d+  .+  TimeEntry\.Recorded  [0-9a-f]{8}  Website  'NOTE'$".replace("NOTE", note), line
        )

    # Ctrl-C while it waits for the next event: exit 0, nothing on stderr.
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        code, out, err = tl("watch", "--after", str(server.head()))
    finally:
        timer.cancel()
    assert (code, out, err) == (0, "", "")


def test_the_config_folder_follows_tl_config_dir_then_xdg_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TL_CONFIG_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert config_dir() == tmp_path / "home" / ".config" / "timeledger"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "timeledger"
    monkeypatch.setenv("TL_CONFIG_DIR", str(tmp_path / "explicit"))
    assert config_dir() == tmp_path / "explicit"
