"""The `timeledger` admin command line, run as a subprocess the way an operator runs it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.store import store_config
from projections.models import ALL
from tests.conftest import StoreHandle

ROOT = Path(__file__).resolve().parents[1]
TOKEN = re.compile(r"tl_[0-9a-f]{32}_[A-Za-z0-9_-]{20,}")
CREATED = re.compile(r"Created organization '(.+)' \(([0-9a-f-]{36})\) owned by (\S+) \(([0-9a-f-]{36})\)\.")
DEMO_LOGIN = re.compile(r"Log in as demo@timeledger\.local with password (\S+)")
WAIT_SECONDS = 15.0


def cli_env(home: Path, database_url: str | None = None) -> dict[str, str]:
    """The parent's environment without any TimeLedger setting, plus the data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELEDGER_") and k != "DATABASE_URL"}
    env["TIMELEDGER_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


def timeledger(home: Path, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "timeledger.cli", *args],
        cwd=ROOT,
        env=cli_env(home, database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def init(home: Path, org: str, email: str, *extra: str, database_url: str | None = None) -> str:
    """Run a successful `init --print-token`; return the token."""
    done = timeledger(
        home,
        "init",
        "--org",
        org,
        "--email",
        email,
        "--password",
        "correct-horse",
        "--print-token",
        *extra,
        database_url=database_url,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert CREATED.fullmatch(lines[0])
    assert TOKEN.fullmatch(lines[-1]), lines[-1]
    return lines[-1]


@contextmanager
def open_ledger(home: Path, database_url: str | None = None) -> Iterator[TimeLedger]:
    ledger = TimeLedger(store_config(database_url, home).env)
    try:
        yield ledger
    finally:
        ledger.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(home: Path, *args: str) -> Iterator[tuple[str, Path]]:
    """Run `timeledger serve`; yield its base URL and the file collecting its output."""
    port = free_port()
    log = home.parent / f"serve-{port}.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "timeledger.cli", "serve", "--port", str(port), *args],
            cwd=ROOT,
            env=cli_env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{port}", log
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_health(base: str, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{base}/healthz", timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body
    pytest.fail(f"the server did not answer /healthz within {WAIT_SECONDS} s:\n{log.read_text()}")


# --- init -----------------------------------------------------------------------


def test_init_creates_the_sqlite_store_and_prints_an_admin_token_last(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = timeledger(
        home,
        "init",
        "--org",
        "Acme GmbH",
        "--email",
        "Olive@Acme.test",
        "--password",
        "correct-horse",
        "--name",
        "Olive Owner",
        "--timezone",
        "Europe/Berlin",
        "--print-token",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    token = lines[-1]
    assert TOKEN.fullmatch(token)
    created = CREATED.fullmatch(lines[0])
    assert created is not None
    assert created.group(1, 3) == ("Acme GmbH", "Olive@Acme.test")
    org_id, owner_id = UUID(created.group(2)), UUID(created.group(4))
    assert (home / "timeledger.db").is_file()

    with open_ledger(home) as ledger:
        principal = ledger.authenticate_token(token)
        assert principal is not None
        assert "admin" in principal.scopes
        assert (principal.org_id, principal.user_id) == (org_id, owner_id)
        assert ledger.authenticate_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert ledger.authenticate_password("olive@acme.test", "correct-horse") == owner_id
        org = ledger.get_organization(org_id, Actor.system())
        assert (org.name, org.members, org.settings.timezone) == (
            "Acme GmbH",
            {owner_id: "owner"},
            "Europe/Berlin",
        )
        owner = ledger.get_user(owner_id)
        assert owner is not None
        assert owner.display_name == "Olive Owner"


def test_init_without_print_token_prints_no_token(tmp_path: Path) -> None:
    done = timeledger(
        tmp_path / "home", "init", "--org", "Acme", "--email", "o@acme.test", "--password", "correct-horse"
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert "tl_" not in done.stdout


def test_a_second_init_adds_a_second_organization(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = init(home, "Acme", "olive@acme.test")
    second = init(home, "Globex", "hank@globex.test", "--timezone", "America/New_York")
    with open_ledger(home) as ledger:
        one, two = ledger.authenticate_token(first), ledger.authenticate_token(second)
        assert one is not None
        assert two is not None
        assert one.org_id != two.org_id
        assert one.user_id != two.user_id
        globex = ledger.get_organization(two.org_id, Actor.system())
        assert (globex.name, globex.members) == ("Globex", {two.user_id: "owner"})
        assert globex.settings.timezone == "America/New_York"
        acme = ledger.get_organization(one.org_id, Actor.system())
        assert acme.members == {one.user_id: "owner"}


@pytest.mark.parametrize(
    ("option", "value", "sentence"),
    [
        ("--email", "not-an-email", "'not-an-email' is not an email address."),
        ("--password", "short", "A password needs at least 8 characters."),
        ("--timezone", "Mars/Olympus_Mons", "Unknown timezone 'Mars/Olympus_Mons'"),
        ("--org", "   ", "The organization needs a name."),
    ],
)
def test_init_refuses_bad_input_with_a_sentence_and_appends_nothing(
    tmp_path: Path, option: str, value: str, sentence: str
) -> None:
    home = tmp_path / "home"
    init(home, "Acme", "olive@acme.test")
    with open_ledger(home) as ledger:
        head = ledger.head_position()
    arguments = {"--org": "Initech", "--email": "bill@initech.test", "--password": "correct-horse"}
    arguments[option] = value
    flat = [part for pair in arguments.items() for part in pair]
    done = timeledger(home, "init", *flat, "--print-token")
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.startswith("timeledger: ")
    assert sentence in done.stderr
    assert "Traceback" not in done.stderr
    with open_ledger(home) as ledger:
        assert ledger.head_position() == head
        assert ledger.user_by_email("bill@initech.test") is None


def test_a_database_url_that_is_not_postgres_is_refused(tmp_path: Path) -> None:
    done = timeledger(tmp_path / "home", "audit", "verify", database_url="mysql://db/timeledger")
    assert done.returncode == 2
    assert "DATABASE_URL must start with postgresql://" in done.stderr


def test_init_and_audit_on_the_store_named_by_database_url(store: StoreHandle, tmp_path: Path) -> None:
    home = tmp_path / "home"
    token = init(home, "Acme", "olive@acme.test", database_url=store.url)
    assert not (home / "timeledger.db").exists()  # the events went to DATABASE_URL
    with open_ledger(home, store.url) as ledger:
        principal = ledger.authenticate_token(token)
        assert principal is not None
        assert "admin" in principal.scopes
        head = ledger.head_position()
    assert head == 5  # organization created + owner added, user, email index, token
    audit = timeledger(home, "audit", "verify", database_url=store.url)
    assert audit.returncode == 0, audit.stderr
    assert audit.stdout.startswith(f"Audit passed: {head} events in 4 aggregates verified")


# --- serve ----------------------------------------------------------------------


def test_serve_answers_healthz_with_the_store_and_head_position(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init(home, "Acme", "olive@acme.test")
    with open_ledger(home) as ledger:
        head = ledger.head_position()
    assert head > 0
    with serving(home) as (base, log):
        health = wait_for_health(base, log)
        # The embedded read models catch up with the log on their own.
        deadline = time.monotonic() + 15
        while any(p["lag"] for p in health["projections"].values()) and time.monotonic() < deadline:
            time.sleep(0.2)
            health = httpx.get(f"{base}/healthz", timeout=5).json()
    projections = health.pop("projections")
    assert health == {"status": "ok", "store": "sqlite", "head_position": head}
    assert set(projections) == {model.name for model in ALL}
    assert all(p == {"position": head, "lag": 0} for p in projections.values())
    assert f"TimeLedger on {base} (store: sqlite:{home / 'timeledger.db'})" in log.read_text()


def test_serve_demo_prints_a_login_that_works(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with serving(home, "--demo") as (base, log):
        health = wait_for_health(base, log)
        login = DEMO_LOGIN.search(log.read_text())
    assert login is not None, log.read_text()
    assert health["head_position"] > 0
    password = login.group(1)
    assert (home / "demo-login.txt").read_text(encoding="utf-8").strip() == login.group(0)
    with open_ledger(home) as ledger:
        user_id = ledger.authenticate_password("demo@timeledger.local", password)
        assert user_id is not None
        assert ledger.authenticate_password("demo@timeledger.local", password + "x") is None
        head = ledger.head_position()

    # A second run finds the data, creates nothing and repeats the same login.
    with serving(home, "--demo") as (base, log):
        again = wait_for_health(base, log)
        assert login.group(0) in log.read_text()
    assert again["head_position"] == head


# --- settings -------------------------------------------------------------------


def test_settings_lists_the_environment_variables(tmp_path: Path) -> None:
    done = timeledger(tmp_path / "home", "settings")
    assert done.returncode == 0, done.stderr
    for name in ("TIMELEDGER_HOME", "DATABASE_URL", "TIMELEDGER_HOST", "TIMELEDGER_PORT"):
        assert f"`{name}`" in done.stdout
    assert not (tmp_path / "home").exists()  # listing settings touches no store


def test_init_demo_prints_a_token_that_lists_the_demo_entries_over_http(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with serving(home, "--demo") as (base, log):
        wait_for_health(base, log)
        # The command the README gives: without an owner to create, init means the demo.
        done = timeledger(home, "init", "--print-token")
        assert done.returncode == 0, done.stderr
        token = done.stdout.strip().splitlines()[-1]
        assert token.startswith("tl_")
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            answer = httpx.get(f"{base}/api/v1/time-entries", headers=headers, timeout=5)
            if (answer.status_code == 200 and answer.json()["items"]) or time.monotonic() > deadline:
                break
            time.sleep(0.2)  # the server's read models are still catching up with the demo
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
    assert len(items) == 6
    assert {item["description"] for item in items} == {"Wireframes for the new landing page", "Team meeting"}
    assert token not in log.read_text()


def test_init_without_the_owner_or_demo_says_what_is_missing(tmp_path: Path) -> None:
    done = timeledger(tmp_path / "home", "init", "--org", "Acme")
    assert done.returncode == 2
    assert "init needs --email, --password (or --demo)." in done.stderr
