"""The demo organization `make run` creates on an empty store, so there is something to see."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.timezones import local_midnight

DEMO_EMAIL = "demo@timeledger.local"
LOGIN_FILE = "demo-login.txt"
IDS_FILE = "demo.json"


@dataclass(frozen=True)
class Demo:
    org_id: UUID
    owner_id: UUID


def find_demo(home: Path) -> Demo | None:
    """The demo organization this data folder holds, if `ensure_demo` made one."""
    path = home / IDS_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Demo(UUID(data["org_id"]), UUID(data["owner_id"]))


def ensure_demo(ledger: TimeLedger, home: Path) -> str:
    """Create the demo organization when the store is empty; return how to log in."""
    login_file = home / LOGIN_FILE
    if ledger.head_position() > 0:
        if login_file.exists():
            return login_file.read_text(encoding="utf-8").strip()
        return "The store already holds data; log in with the account you created."
    password = secrets.token_urlsafe(12)
    created = ledger.create_organization(
        name="Demo Company",
        owner_email=DEMO_EMAIL,
        owner_name="Demo Owner",
        owner_password=password,
        settings={"timezone": "Europe/Berlin"},
    )
    owner = Actor.user(created.related[0])
    org_id = created.id
    client = ledger.create_client(org_id=org_id, name="Acme Corp", actor=owner)
    website = ledger.create_project(
        org_id=org_id, name="Website relaunch", client_id=client.id, budget_seconds=80 * 3600, actor=owner
    )
    internal = ledger.create_project(org_id=org_id, name="Internal", billable=False, actor=owner)
    design = ledger.create_task(project_id=website.id, name="Design", actor=owner)
    ledger.set_rate(org_id=org_id, level="organization", amount_minor=9500, actor=owner)
    today = ledger.clock.now().astimezone(ZoneInfo("Europe/Berlin")).date()
    for days_ago in (3, 2, 1):
        morning = local_midnight(today - timedelta(days=days_ago), ZoneInfo("Europe/Berlin"))
        ledger.record_entry(
            org_id=org_id,
            project_id=website.id,
            task_id=design.id,
            start=morning + timedelta(hours=9),
            end=morning + timedelta(hours=12, minutes=30),
            description="Wireframes for the new landing page",
            tags=["design"],
            actor=owner,
        )
        ledger.record_entry(
            org_id=org_id,
            project_id=internal.id,
            start=morning + timedelta(hours=13),
            duration_seconds=45 * 60,
            description="Team meeting",
            actor=owner,
        )
    login = f"Log in as {DEMO_EMAIL} with password {password}"
    home.mkdir(parents=True, exist_ok=True)
    ids = {"org_id": str(org_id), "owner_id": str(owner.user_id)}
    (home / IDS_FILE).write_text(json.dumps(ids) + "\n", encoding="utf-8")
    login_file.write_text(login + "\n", encoding="utf-8")
    login_file.chmod(0o600)
    return login
