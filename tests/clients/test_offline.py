"""`tl` offline: commands queue while the server is away and reach it exactly once afterwards."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clients import TimeLedgerClient
from clients.offline import OfflineQueue
from tests.clients.conftest import Server, Tl

CLOCK = r"\d\d:\d\d"


def whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_start_and_stop_made_offline_reach_the_server_once_with_the_device_times(
    backend: str, tmp_path: Path, tl: Tl, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    server = Server(tmp_path / "home", url).start()
    try:
        server.admin("POST", "/projects", json={"name": "Website"})
        token = server.member("Max")
        assert tl("login", server.base, "--token", token)[0] == 0
        server.stop()

        code, out, err = tl("start", "web", "-m", "On the train")  # resolved from the cached names
        assert (code, err) == (0, "")
        assert re.fullmatch(rf"Queued: start Website at {CLOCK} \(.*`tl sync` sends it later\)\.\n", out)
        code, out, _ = tl("status")
        assert code == 0
        assert re.search(rf"^Website: running since {CLOCK} \(queued, not yet on the server\)\.$", out, re.M)
        code, out, err = tl("start", "Nope")
        assert (code, out) == (2, "")
        assert "There is no project named 'Nope'" in err
        code, out, _ = tl("stop")
        assert (code, bool(re.fullmatch(rf"Queued: stop at {CLOCK} .*\n", out))) == (0, True)
        code, out, _ = tl("status")
        assert re.search(rf"^Stopped at {CLOCK} \(queued, not yet on the server\)\.$", out, re.M)
        assert "Queued, not yet on the server (2):" in out

        code, _, err = tl("sync")
        assert code == 1
        assert err == f"tl: The server at {server.base} cannot be reached; 2 command(s) stay queued.\n"
        queued = OfflineQueue(tmp_path / "tl-config").pending()
        assert [item.kind for item in queued] == ["start", "stop"]
        started, stopped = (datetime.fromisoformat(item.body["at"]) for item in queued)

        server.start()
        before_sync = datetime.now(UTC)
        code, out, err = tl("sync")
        assert (code, err) == (0, "")
        assert out.splitlines() == [
            f"Sent {queued[0].short}: start Website at {started.strftime('%H:%M')}.",
            f"Sent {queued[1].short}: stop at {stopped.strftime('%H:%M')}.",
        ]
        with TimeLedgerClient(server.base, token) as client:
            entries = list(client.entries())
            assert len(entries) == 1
            entry = entries[0]
            assert (entry.description, entry.status) == ("On the train", "stopped")
            assert entry.end is not None
            assert whole_seconds(entry.start) == whole_seconds(started)
            assert whole_seconds(entry.end) == whole_seconds(stopped)
            assert entry.end < before_sync  # the device's time, not the time of the sync
            head = server.head()

            assert tl("sync")[1] == "Nothing to sync.\n"
            # The answers were lost, say, and both commands are sent again: their keys make it harmless.
            for item in queued:
                OfflineQueue(tmp_path / "tl-config").add(item.kind, item.body, item.summary, item.id)
            code, out, _ = tl("sync")
            assert (code, len(out.splitlines())) == (0, 2)
            assert [e.model_dump() for e in client.entries()] == [entry.model_dump()]
            assert server.head() == head
        assert tl("status")[1] == "No timer is running.\n"
    finally:
        server.stop()


def test_a_queued_command_the_server_refuses_is_kept_reported_and_discardable(tmp_path: Path, tl: Tl) -> None:
    server = Server(tmp_path / "home").start()
    try:
        website = server.admin("POST", "/projects", json={"name": "Website"})
        server.admin("POST", "/projects", json={"name": "Backoffice"})
        token = server.member("Rex")
        assert tl("login", server.base, "--token", token)[0] == 0
        server.stop()
        day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        assert tl("log", "Website", f"{day}T09:00Z", f"{day}T10:00Z", "-m", "Offline")[0] == 0
        assert tl("log", "Backoffice", f"{day}T11:00Z", f"{day}T11:45Z", "-m", "Later")[0] == 0
        assert tl("log", "Website", f"{day}T12:00Z", f"{day}T12:30Z", "-m", "Retried")[0] == 0
        first, _, last = (item.short for item in OfflineQueue(tmp_path / "tl-config").pending())

        server.start()
        server.admin("POST", f"/projects/{website['id']}/archive")
        # The first command that reaches the server sends the queue first, whatever the command.
        code, out, err = tl("status")
        assert code == 0
        assert out.startswith("Sent 1 queued command to the server.\nNo timer is running.\n")
        refusals = err.splitlines()
        assert len(refusals) == 2
        for short, line in zip((first, last), refusals, strict=True):
            assert line.startswith(f"tl: the server refused queued command {short} (log Website ")
            assert "archived" in line.lower()
            assert line.endswith("It is kept; see `tl status`.")
        assert "Rejected by the server, kept until you discard them (2):" in out
        assert f"(tl sync --discard {first})" in out
        assert tl("sync") == (0, "Nothing to sync.\n2 rejected command(s) kept; see `tl status`.\n", "")
        with TimeLedgerClient(server.base, token) as client:
            assert [e.description for e in client.entries()] == ["Later"]

            code, out, _ = tl("sync", "--discard", first)
            assert (code, out) == (0, f"Discarded {first}: log Website {out.split('log Website ')[1]}")
            assert first not in tl("status")[1]
            server.admin("POST", f"/projects/{website['id']}/unarchive")
            code, out, err = tl("sync", "--retry", last)
            assert (code, err) == (0, "")
            assert out.startswith(f"Sent {last}: log Website ")
            assert [e.description for e in client.entries()] == ["Retried", "Later"]
        assert OfflineQueue(tmp_path / "tl-config").items() == []
        assert "Rejected" not in tl("status")[1]
    finally:
        server.stop()


def test_a_timer_started_elsewhere_while_offline_is_shown_and_never_stopped_blindly(
    tmp_path: Path, tl: Tl
) -> None:
    server = Server(tmp_path / "home").start()
    try:
        website = server.admin("POST", "/projects", json={"name": "Website"})
        token = server.member("Ida")
        assert tl("login", server.base, "--token", token)[0] == 0
        assert tl("status")[1] == "No timer is running.\n"
        server.stop()

        code, out, _ = tl("status")
        assert code == 0
        assert re.search(rf"^Last seen on the server \({CLOCK}\): no timer running\.$", out, re.M)
        assert tl("start", "Website", "-m", "On the train")[0] == 0  # queued
        assert tl("stop")[0] == 0  # queued as well

        server.start()
        # Meanwhile the same person started a timer on another device, after the queued start.
        with TimeLedgerClient(server.base, token) as phone:
            phone.start_timer(website["id"], description="From the phone")
        code, out, err = tl("sync")
        assert code == 1
        start_refused, stop_held = err.splitlines()
        assert "the server refused queued command" in start_refused
        assert re.search(rf"On the server, a timer on Website runs since {CLOCK}\.$", start_refused)
        assert "not sent: it stops the timer of queued start" in stop_held
        with TimeLedgerClient(server.base, token) as phone:
            running = phone.timer()
            assert running is not None
            assert (running.description, running.status) == ("From the phone", "running")
        assert "Rejected by the server, kept until you discard them (2):" in tl("status")[1]
    finally:
        server.stop()


def test_tl_stop_refuses_to_stop_blindly_after_its_queued_start_was_refused(tmp_path: Path, tl: Tl) -> None:
    server = Server(tmp_path / "home").start()
    try:
        website = server.admin("POST", "/projects", json={"name": "Website"})
        token = server.member("Ola")
        assert tl("login", server.base, "--token", token)[0] == 0
        server.stop()
        assert tl("start", "Website")[0] == 0  # queued
        server.start()
        with TimeLedgerClient(server.base, token) as phone:
            phone.start_timer(website["id"], description="From the phone")
            code, _, err = tl("stop")  # sends the queue first: the start is refused
            assert code == 1
            assert "so this stop was not sent" in err
            running = phone.timer()
            assert running is not None
            assert running.description == "From the phone"
    finally:
        server.stop()
