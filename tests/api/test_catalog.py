"""The catalog through HTTP: organization, members, clients, projects, tasks and rates."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from ledger.actors import Actor
from ledger.core import Receipt
from ledger.errors import NotFoundError
from tests.api.conftest import Api

PROBLEM = "application/problem+json"
DAY = "2026-01-01"


def problem(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(f"/{code}"), body
    assert body["status"] == status
    if field is not None:
        assert body.get("field") == field, body
    return body


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def settled(api: Api, receipt: Receipt) -> None:
    """Wait until the read models show a command run straight on the ledger."""
    assert api.client.app.state.read_side.wait_for(api.world.ledger, receipt.position)


def walk(api: Api, path: str, limit: int, who: str = "owner", **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, following cursors page by page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = api.request("GET", path, who=who, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ended")


@dataclass
class Other:
    """A second organization with its own catalog, and an admin token of its owner."""

    org_id: UUID
    owner_id: UUID
    client_id: UUID
    project_id: UUID
    task_id: UUID
    headers: dict[str, str]


@pytest.fixture
def other(api: Api) -> Other:
    ledger = api.world.ledger
    created = ledger.create_organization(
        name="Initech",
        owner_email="boss@initech.test",
        owner_name="Bill Boss",
        owner_password="boss-password",
    )
    owner = Actor.user(created.related[0])
    client = ledger.create_client(org_id=created.id, name="Secret client", actor=owner)
    project = ledger.create_project(
        org_id=created.id, name="Secret project", client_id=client.id, actor=owner
    )
    task = ledger.create_task(project_id=project.id, name="Secret task", actor=owner)
    token = ledger.issue_token(
        org_id=created.id, name="boss", scopes=["admin"], user_id=created.related[0], actor=owner
    )
    assert token.secret is not None
    settled(api, task)
    return Other(created.id, created.related[0], client.id, project.id, task.id, bearer(token.secret))


# --- the organization ----------------------------------------------------------------


def test_the_token_sees_its_own_organization(api: Api) -> None:
    listed = api.request("GET", "/api/v1/organizations")
    assert listed.status_code == 200
    page = listed.json()
    assert page["next_cursor"] is None
    assert [o["id"] for o in page["items"]] == [str(api.world.org_id)]
    org = api.request("GET", f"/api/v1/organizations/{api.world.org_id}").json()
    assert org == page["items"][0]
    assert org["name"] == "Acme"
    assert org["settings"]["currency"] == "EUR"
    assert org["settings"]["timezone"] == "UTC"
    assert org["created_at"].endswith(("Z", "+00:00"))


def test_patch_renames_and_changes_only_the_settings_given(api: Api) -> None:
    path = f"/api/v1/organizations/{api.world.org_id}"
    before = api.request("GET", path).json()
    changed = api.request(
        "PATCH",
        path,
        json={"name": "Acme GmbH", "settings": {"timezone": "Europe/Berlin", "currency": "USD"}},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["name"] == "Acme GmbH"
    assert body["settings"] == {**before["settings"], "timezone": "Europe/Berlin", "currency": "USD"}
    assert api.request("GET", path).json() == body
    # Project budgets are counted in the organization's currency.
    project = api.request("GET", f"/api/v1/projects/{api.world.project_id}").json()
    assert project["currency"] == "USD"
    only_name = api.request("PATCH", path, json={"name": "Acme AG"}).json()
    assert only_name["settings"] == body["settings"]


LOGO = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQG"
    "AhKmMIQAAAABJRU5ErkJggg=="
)


def test_timesheet_and_invoice_settings_round_trip_and_bad_ones_are_refused(api: Api) -> None:
    path = f"/api/v1/organizations/{api.world.org_id}"
    assert api.request("GET", path).json()["settings"]["invoice_number_format"] == "INV-{year}-{seq:04}"
    wanted = {
        "timesheet_period": "month",
        "working_days": ["monday", "wednesday"],
        "invoice_requires_approval": False,
        "invoice_number_format": "{year}/{seq:03}",
        "invoice_address": "Acme GmbH\nHauptstr. 1\n10115 Berlin",
        "invoice_logo": LOGO,
    }
    changed = api.request("PATCH", path, json={"settings": wanted})
    assert changed.status_code == 200, changed.text
    assert {k: changed.json()["settings"][k] for k in wanted} == wanted
    org = api.world.ledger.get_organization(api.world.org_id, api.world.owner)
    assert org.settings.working_days == ("monday", "wednesday")
    assert org.settings.invoice_number(2026, 7) == "2026/007"
    for bad, field in (
        ({"invoice_number_format": "INV-{year}"}, "invoice_number_format"),
        ({"invoice_logo": "https://example.com/logo.png"}, "invoice_logo"),
        ({"working_days": ["funday"]}, None),
        ({"timesheet_period": "fortnight"}, None),
    ):
        problem(api.request("PATCH", path, json={"settings": bad}), 422, "invalid-input", field)
    assert {k: api.request("GET", path).json()["settings"][k] for k in wanted} == wanted


def test_patch_organization_twice_with_one_key_changes_it_once(api: Api) -> None:
    path = f"/api/v1/organizations/{api.world.org_id}"
    patch = {"name": "Acme Ltd", "settings": {"week_start": "sunday"}}
    first = api.request("PATCH", path, json=patch, headers={"Idempotency-Key": "org-1"})
    head = api.world.ledger.head_position()
    again = api.request("PATCH", path, json=patch, headers={"Idempotency-Key": "org-1"})
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.world.ledger.head_position() == head


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"settings": {"week_start": "someday"}}, "settings.week_start"),
        ({"settings": {"timezone": "Mars/Olympus"}}, "settings.timezone"),
        ({"settings": {"currency": "euro"}}, "settings.currency"),
        ({"settings": {"rounding_minutes": 7}}, "settings.rounding_minutes"),
        ({"settings": {"colour": "blue"}}, "settings.colour"),
        ({"name": ""}, "name"),
        ({"nickname": "A"}, "nickname"),
    ],
)
def test_invalid_organization_changes_are_422(api: Api, patch: dict[str, Any], field: str) -> None:
    path = f"/api/v1/organizations/{api.world.org_id}"
    before = api.request("GET", path).json()
    problem(api.request("PATCH", path, json=patch), 422, "invalid-input", field)
    assert api.request("GET", path).json() == before


@pytest.mark.parametrize("who", ["manager", "member"])
def test_only_owners_and_admins_change_the_organization(api: Api, who: str) -> None:
    path = f"/api/v1/organizations/{api.world.org_id}"
    # A member's token holds write:catalog but the member role does not grant it; a manager's
    # role grants the scope and the ledger refuses the change itself.
    refused = "missing-scope" if who == "member" else "forbidden"
    problem(api.request("PATCH", path, who=who, json={"name": "Mine now"}), 403, refused)
    assert api.request("GET", path, who=who).json()["name"] == "Acme"


# --- members -------------------------------------------------------------------------


def test_members_list_by_name_with_filters(api: Api) -> None:
    names = [m["display_name"] for m in api.request("GET", "/api/v1/members").json()["items"]]
    assert names == ["Max Manager", "Mia Member", "Olive Owner"]
    managers = api.request("GET", "/api/v1/members", params={"role": "manager"}).json()["items"]
    assert [(m["user_id"], m["email"], m["role"]) for m in managers] == [
        (str(api.world.manager.user_id), "manager@acme.test", "manager")
    ]
    by_name = api.request("GET", "/api/v1/members", params={"q": "OLIVE"}).json()["items"]
    assert [m["email"] for m in by_name] == ["owner@acme.test"]
    by_email = api.request("GET", "/api/v1/members", params={"q": "member@"}).json()["items"]
    assert [m["display_name"] for m in by_email] == ["Mia Member"]
    problem(api.request("GET", "/api/v1/members", params={"role": "boss"}), 422, "invalid-input", "role")


def test_add_change_and_remove_a_member(api: Api) -> None:
    added = api.request(
        "POST",
        "/api/v1/members",
        json={"email": "New.Person@Acme.test", "name": "Nora New", "role": "member", "password": "s3cret-pw"},
    )
    assert added.status_code == 201, added.text
    member = added.json()
    assert member["email"] == "new.person@acme.test"
    assert member["display_name"] == "Nora New"
    assert member["role"] == "member"
    path = f"/api/v1/members/{member['user_id']}"
    assert api.request("GET", path).json() == member
    # The new person can log in with the password given.
    assert api.world.ledger.authenticate_password("new.person@acme.test", "s3cret-pw") == UUID(
        member["user_id"]
    )

    promoted = api.request("PATCH", path, json={"role": "manager"})
    assert promoted.status_code == 200
    assert promoted.json() == {**member, "role": "manager"}
    assert api.request("GET", path).json()["role"] == "manager"

    removed = api.request("DELETE", path)
    assert removed.status_code == 204
    assert removed.content == b""
    problem(api.request("GET", path), 404, "not-found")
    listed = api.request("GET", "/api/v1/members").json()["items"]
    assert member["user_id"] not in [m["user_id"] for m in listed]
    problem(api.request("DELETE", path), 404, "not-found")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"email": "x@acme.test", "name": "X", "role": "boss"}, 422, "invalid-input", "role"),
        (
            {"email": "x@acme.test", "name": "X", "role": "member", "password": "short"},
            422,
            "invalid-input",
            "password",
        ),
        ({"email": "not-an-email", "name": "X", "role": "member"}, 422, "invalid-input", "email"),
        ({"email": "x@acme.test", "role": "member"}, 422, "invalid-input", "name"),
        ({"email": "x@acme.test", "name": "X", "role": "member", "age": 3}, 422, "invalid-input", "age"),
        ({"email": "MEMBER@acme.test", "name": "Again", "role": "member"}, 409, "duplicate", None),
    ],
)
def test_invalid_members_are_refused(
    api: Api, body: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    problem(api.request("POST", "/api/v1/members", json=body), status, code, field)
    assert len(api.request("GET", "/api/v1/members").json()["items"]) == 3


def test_member_roles_follow_the_ledger_rules(api: Api) -> None:
    ledger, world = api.world.ledger, api.world
    problem(
        api.request(
            "POST",
            "/api/v1/members",
            who="manager",
            json={"email": "a@b.test", "name": "A", "role": "member"},
        ),
        403,
        "forbidden",
    )
    # An admin may add members but not make an owner.
    admin_id = ledger.add_member(
        org_id=world.org_id, email="admin@acme.test", name="Ada Admin", role="admin", actor=world.owner
    ).id
    token = ledger.issue_token(
        org_id=world.org_id, name="admin", scopes=["admin"], user_id=admin_id, actor=world.owner
    )
    assert token.secret is not None
    as_admin = bearer(token.secret)
    added = api.client.post(
        "/api/v1/members", headers=as_admin, json={"email": "m@acme.test", "name": "Mo", "role": "manager"}
    )
    assert added.status_code == 201, added.text
    assert added.json()["role"] == "manager"
    problem(
        api.client.post(
            "/api/v1/members", headers=as_admin, json={"email": "o@acme.test", "name": "O", "role": "owner"}
        ),
        403,
        "forbidden",
    )
    owner_path = f"/api/v1/members/{world.owner.user_id}"
    problem(api.client.delete(owner_path, headers=as_admin), 403, "forbidden")
    # The last owner stays.
    problem(api.request("PATCH", owner_path, json={"role": "member"}), 409, "conflict")
    assert api.request("GET", owner_path).json()["role"] == "owner"


def test_a_removed_members_token_reads_nothing(api: Api) -> None:
    headers = api.as_("member")
    assert api.client.get("/api/v1/clients", headers=headers).status_code == 200
    assert api.request("DELETE", f"/api/v1/members/{api.world.member.user_id}").status_code == 204
    refused = api.client.get("/api/v1/clients", headers=headers)
    # api.auth.role_of means 401 here, but the ledger's organization lookup answers 404 first.
    assert refused.status_code in (401, 404), refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert "items" not in refused.json()


# --- clients -------------------------------------------------------------------------


def test_client_round_trip(api: Api) -> None:
    created = api.request("POST", "/api/v1/clients", json={"name": "  Umbrella  "})
    assert created.status_code == 201, created.text
    client = created.json()
    assert client["name"] == "Umbrella"
    assert client["archived"] is False
    assert int(created.headers["X-Ledger-Position"]) > 0
    path = f"/api/v1/clients/{client['id']}"
    assert api.request("GET", path).json() == client

    renamed = api.request("PATCH", path, json={"name": "Umbrella Corp"})
    assert renamed.json() == {**client, "name": "Umbrella Corp"}

    archived = api.request("POST", f"{path}/archive")
    assert archived.status_code == 200
    assert archived.json()["archived"] is True
    problem(api.request("POST", f"{path}/archive"), 409, "archived")
    names = lambda **p: [c["name"] for c in api.request("GET", "/api/v1/clients", params=p).json()["items"]]  # noqa: E731
    assert names(archived=True) == ["Umbrella Corp"]
    assert names(archived=False) == ["Globex"]
    assert names() == ["Globex", "Umbrella Corp"]
    assert names(q="corp") == ["Umbrella Corp"]
    assert names(q="%") == []

    unarchived = api.request("POST", f"{path}/unarchive")
    assert unarchived.json() == {**client, "name": "Umbrella Corp"}
    problem(api.request("POST", f"{path}/unarchive"), 409, "archived")


def test_the_same_idempotency_key_creates_one_client(api: Api) -> None:
    key = {"Idempotency-Key": "client-create-1"}
    first = api.request("POST", "/api/v1/clients", json={"name": "Hooli"}, headers=key)
    again = api.request("POST", "/api/v1/clients", json={"name": "Hooli"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = api.request("GET", "/api/v1/clients", params={"q": "hooli"}).json()["items"]
    assert listed == [first.json()]
    problem(
        api.request("POST", "/api/v1/clients", json={"name": "Other"}, headers=key),
        422,
        "idempotency-key-reused",
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/clients", {}, "name"),
        ("POST", "/api/v1/clients", {"name": ""}, "name"),
        ("POST", "/api/v1/clients", {"name": "x" * 201}, "name"),
        ("POST", "/api/v1/clients", {"name": "   "}, "name"),
        ("POST", "/api/v1/clients", {"name": "A", "colour": "red"}, "colour"),
        ("POST", "/api/v1/clients", {"name": "nul\u0000byte"}, "name"),
        ("POST", "/api/v1/members", {"email": "a\u0000@b.test", "name": "A", "role": "member"}, "email"),
        ("POST", "/api/v1/projects", {"name": "P", "budget_minor": 10**19}, "budget_minor"),
        ("POST", "/api/v1/projects", {"name": "P", "budget_seconds": 10**12}, "budget_seconds"),
        (
            "POST",
            "/api/v1/rates",
            {"level": "organization", "amount_minor": 10**19, "effective_from": DAY},
            "amount_minor",
        ),
        ("PATCH", "/api/v1/clients/not-a-uuid", {"name": "A"}, "client_id"),
        ("POST", "/api/v1/projects", {"name": "P", "budget_seconds": -1}, "budget_seconds"),
        ("POST", "/api/v1/projects", {"name": "P", "billable": "maybe"}, "billable"),
        ("POST", "/api/v1/projects", {"name": "P", "client_id": "nope"}, "client_id"),
        ("POST", "/api/v1/tasks", {"name": "T"}, "project_id"),
        ("GET", "/api/v1/tasks/123", None, "task_id"),
        ("POST", "/api/v1/projects/123/archive", None, "item_id"),
    ],
)
def test_invalid_input_is_422_naming_the_field(
    api: Api, method: str, path: str, body: dict[str, Any] | None, field: str
) -> None:
    api.as_("owner")  # minting the token appends; note the head after it
    head = api.world.ledger.head_position()
    problem(api.request(method, path, json=body), 422, "invalid-input", field)
    assert api.world.ledger.head_position() == head
    # Nothing reached the log that could stall the read models.
    assert api.request("POST", "/api/v1/clients", json={"name": "Still fine"}).status_code == 201


@pytest.mark.parametrize(("params", "field"), [({"limit": 0}, "limit"), ({"limit": 501}, "limit")])
def test_page_sizes_are_1_to_500(api: Api, params: dict[str, Any], field: str) -> None:
    problem(api.request("GET", "/api/v1/clients", params=params), 422, "invalid-input", field)


def test_a_foreign_or_broken_cursor_is_400(api: Api) -> None:
    for _ in range(3):
        api.request("POST", "/api/v1/projects", json={"name": "Paged"})
    cursor = api.request("GET", "/api/v1/projects", params={"limit": 1}).json()["next_cursor"]
    assert cursor
    problem(api.request("GET", "/api/v1/clients", params={"cursor": cursor}), 400, "invalid-cursor", "cursor")
    problem(api.request("GET", "/api/v1/tasks", params={"cursor": "%%%"}), 400, "invalid-cursor", "cursor")
    problem(api.request("GET", "/api/v1/rates", params={"cursor": "bm9wZQ"}), 400, "invalid-cursor", "cursor")
    nul = base64.urlsafe_b64encode(json.dumps(["clients", "\u0000", str(api.world.client_id)]).encode())
    problem(api.request("GET", "/api/v1/clients", params={"cursor": nul.decode()}), 400, "invalid-cursor")
    problem(api.request("GET", "/api/v1/clients", params={"q": "a\u0000"}), 422, "invalid-input", "q")


# --- paging ------------------------------------------------------------------------------


def _fill(api: Api, kind: str, count: int) -> None:
    """`count` more items of a list, several with the same name (the id breaks the tie)."""
    ledger, world = api.world.ledger, api.world
    receipt: Receipt | None = None
    for i in range(count):
        name = f"Item {i % 4}"
        if kind == "clients":
            receipt = ledger.create_client(org_id=world.org_id, name=name, actor=world.owner)
        elif kind == "projects":
            receipt = ledger.create_project(org_id=world.org_id, name=name, actor=world.owner)
        elif kind == "tasks":
            receipt = ledger.create_task(project_id=world.project_id, name=name, actor=world.owner)
        elif kind == "members":
            receipt = ledger.add_member(
                org_id=world.org_id, email=f"p{i}@acme.test", name=name, role="member", actor=world.owner
            )
        else:
            receipt = ledger.set_rate(
                org_id=world.org_id, level="organization", amount_minor=1000 + i, actor=world.owner
            )
    assert receipt is not None
    settled(api, receipt)


@pytest.mark.parametrize("kind", ["clients", "projects", "tasks", "members", "rates"])
def test_walking_every_page_returns_each_item_once_in_order(api: Api, kind: str) -> None:
    _fill(api, kind, 11)
    everything = api.request("GET", f"/api/v1/{kind}", params={"limit": 500}).json()
    assert everything["next_cursor"] is None
    walked = walk(api, f"/api/v1/{kind}", limit=3)
    assert walked == everything["items"]
    key = "user_id" if kind == "members" else ("seq" if kind == "rates" else "id")
    assert len({item[key] for item in walked}) == len(walked) >= 11
    if kind == "rates":
        assert [r["seq"] for r in walked] == sorted(r["seq"] for r in walked)
    else:
        name = "display_name" if kind == "members" else "name"
        assert [i[name] for i in walked] == sorted(i[name] for i in walked)
    exact = walk(api, f"/api/v1/{kind}", limit=len(walked))
    assert exact == walked


# --- projects ------------------------------------------------------------------------


def test_project_round_trip(api: Api) -> None:
    world = api.world
    created = api.request(
        "POST",
        "/api/v1/projects",
        json={
            "name": "Mobile app",
            "client_id": str(world.client_id),
            "budget_seconds": 36000,
            "budget_minor": 500000,
        },
    )
    assert created.status_code == 201, created.text
    project = created.json()
    assert project == {
        "id": project["id"],
        "name": "Mobile app",
        "client_id": str(world.client_id),
        "billable": True,
        "budget_seconds": 36000,
        "budget_minor": 500000,
        "currency": "EUR",
        "archived": False,
    }
    path = f"/api/v1/projects/{project['id']}"
    assert api.request("GET", path).json() == project

    changed = api.request("PATCH", path, json={"name": "Mobile apps", "billable": False, "budget_minor": 1})
    assert changed.json() == {**project, "name": "Mobile apps", "billable": False, "budget_minor": 1}
    cleared = api.request("PATCH", path, json={"client_id": None, "budget_seconds": None})
    assert cleared.json() == {**changed.json(), "client_id": None, "budget_seconds": None}
    assert api.request("GET", path).json() == cleared.json()

    archived = api.request("POST", f"{path}/archive").json()
    assert archived["archived"] is True
    assert api.request("POST", f"{path}/unarchive").json() == cleared.json()


def test_project_filters(api: Api) -> None:
    world = api.world
    api.request("POST", "/api/v1/projects", json={"name": "Internal"})
    other = api.request(
        "POST", "/api/v1/projects", json={"name": "Old site", "client_id": str(world.client_id)}
    )
    api.request("POST", f"/api/v1/projects/{other.json()['id']}/archive")

    def names(**params: Any) -> list[str]:
        return [p["name"] for p in api.request("GET", "/api/v1/projects", params=params).json()["items"]]

    assert names() == ["Internal", "Old site", "Website"]
    assert names(client=str(world.client_id)) == ["Old site", "Website"]
    assert names(client=str(world.client_id), archived=False) == ["Website"]
    assert names(archived=True) == ["Old site"]
    assert names(q="SITE") == ["Old site", "Website"]


def test_a_project_needs_an_active_client_of_the_organization(api: Api) -> None:
    world = api.world
    api.request("POST", f"/api/v1/clients/{world.client_id}/archive")
    body = {"name": "P", "client_id": str(world.client_id)}
    problem(api.request("POST", "/api/v1/projects", json=body), 409, "archived")
    problem(
        api.request("POST", "/api/v1/projects", json={**body, "client_id": str(world.project_id)}),
        404,
        "not-found",
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/projects", {"name": "Mine"}),
        ("POST", "/api/v1/clients", {"name": "Mine"}),
        ("POST", "/api/v1/tasks", {"name": "Mine", "project_id": "{project_id}"}),
        ("PATCH", "/api/v1/projects/{project_id}", {"name": "Mine"}),
        ("POST", "/api/v1/projects/{project_id}/archive", None),
        (
            "POST",
            "/api/v1/rates",
            {"level": "organization", "amount_minor": 1, "effective_from": DAY},
        ),
    ],
)
def test_a_member_may_not_change_the_catalog(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    fill = {"project_id": str(api.world.project_id)}
    if body is not None:
        body = {k: v.format(**fill) if isinstance(v, str) else v for k, v in body.items()}
    api.as_("member")  # minting the token appends; note the head after it
    head = api.world.ledger.head_position()
    response = api.request(method, path.format(**fill), who="member", json=body)
    # The token was issued with write:catalog, but a member's role does not grant it.
    problem(response, 403, "missing-scope")
    assert api.world.ledger.head_position() == head
    # Reading is for everyone with the scope.
    assert api.request("GET", "/api/v1/projects", who="member").status_code == 200


def test_scopes_guard_reads_and_writes(api: Api) -> None:
    reader = bearer(api.token("owner", ("read:catalog",)))
    writer = bearer(api.token("owner", ("write:catalog",)))
    entries_only = bearer(api.token("owner", ("read:entries", "write:entries")))
    assert api.client.get("/api/v1/clients", headers=reader).status_code == 200
    problem(api.client.post("/api/v1/clients", headers=reader, json={"name": "A"}), 403, "missing-scope")
    problem(api.client.get("/api/v1/clients", headers=writer), 403, "missing-scope")
    assert api.client.post("/api/v1/clients", headers=writer, json={"name": "A"}).status_code == 201
    for path in ("/organizations", "/members", "/projects", "/tasks", "/rates"):
        problem(api.client.get(f"/api/v1{path}", headers=entries_only), 403, "missing-scope")
    problem(api.client.get("/api/v1/clients"), 401, "not-authenticated")


# --- tasks ---------------------------------------------------------------------------


def test_task_round_trip(api: Api) -> None:
    world = api.world
    created = api.request(
        "POST", "/api/v1/tasks", json={"project_id": str(world.project_id), "name": "Build"}
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert task == {"id": task["id"], "project_id": str(world.project_id), "name": "Build", "archived": False}
    path = f"/api/v1/tasks/{task['id']}"
    assert api.request("GET", path).json() == task
    assert api.request("PATCH", path, json={"name": "Build it"}).json() == {**task, "name": "Build it"}
    assert api.request("POST", f"{path}/archive").json()["archived"] is True

    def names(**params: Any) -> list[str]:
        return [t["name"] for t in api.request("GET", "/api/v1/tasks", params=params).json()["items"]]

    assert names(project=str(world.project_id)) == ["Build it", "Design"]
    assert names(archived=False) == ["Design"]
    assert names(q="build", archived=True) == ["Build it"]
    assert api.request("POST", f"{path}/unarchive").json() == {**task, "name": "Build it"}

    # An archived project takes no new tasks.
    api.request("POST", f"/api/v1/projects/{world.project_id}/archive")
    problem(
        api.request("POST", "/api/v1/tasks", json={"project_id": str(world.project_id), "name": "Late"}),
        409,
        "archived",
    )


# --- rates ---------------------------------------------------------------------------


def test_set_and_list_rates(api: Api) -> None:
    world = api.world
    org_rate = api.request(
        "POST", "/api/v1/rates", json={"level": "organization", "amount_minor": 9000, "effective_from": DAY}
    )
    assert org_rate.status_code == 201, org_rate.text
    assert org_rate.json() == {
        "seq": org_rate.json()["seq"],
        "level": "organization",
        "amount_minor": 9000,
        "currency": "EUR",
        "effective_from": DAY,
        "client_id": None,
        "project_id": None,
        "member_id": None,
    }
    project_rate = api.request(
        "POST",
        "/api/v1/rates",
        json={
            "level": "project",
            "amount_minor": 12000,
            "effective_from": "2026-02-01",
            "project_id": str(world.project_id),
        },
    ).json()
    member_rate = api.request(
        "POST",
        "/api/v1/rates",
        json={
            "level": "member",
            "amount_minor": None,
            "effective_from": "2026-03-01",
            "member_id": str(world.member.user_id),
        },
    ).json()
    assert member_rate["amount_minor"] is None

    def listed(**params: Any) -> list[dict[str, Any]]:
        response = api.request("GET", "/api/v1/rates", params=params)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    assert listed() == [org_rate.json(), project_rate, member_rate]
    assert listed(level="project") == [project_rate]
    assert listed(project=str(world.project_id)) == [project_rate]
    assert listed(member=str(world.member.user_id)) == [member_rate]
    assert listed(client=str(world.client_id)) == []
    problem(api.request("GET", "/api/v1/rates", params={"level": "galaxy"}), 422, "invalid-input", "level")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"level": "project", "amount_minor": 1, "effective_from": DAY}, 422, "invalid-input", "project_id"),
        (
            {"level": "organization", "amount_minor": -5, "effective_from": DAY},
            422,
            "invalid-input",
            "amount_minor",
        ),
        (
            {"level": "organization", "amount_minor": 1, "effective_from": "soon"},
            422,
            "invalid-input",
            "effective_from",
        ),
        ({"level": "organization", "amount_minor": 1}, 422, "invalid-input", "effective_from"),
        ({"level": "planet", "amount_minor": 1, "effective_from": DAY}, 422, "invalid-input", "level"),
        (
            {"level": "organization", "amount_minor": 1, "effective_from": DAY, "x": 1},
            422,
            "invalid-input",
            "x",
        ),
        (
            {
                "level": "member",
                "amount_minor": 1,
                "effective_from": DAY,
                "member_id": "00000000-0000-4000-8000-000000000000",
            },
            404,
            "not-found",
            None,
        ),
    ],
)
def test_invalid_rates_are_refused(
    api: Api, body: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    problem(api.request("POST", "/api/v1/rates", json=body), status, code, field)
    assert api.request("GET", "/api/v1/rates").json()["items"] == []


def test_a_manager_may_not_set_rates(api: Api) -> None:
    body = {"level": "organization", "amount_minor": 1, "effective_from": DAY}
    problem(api.request("POST", "/api/v1/rates", who="manager", json=body), 403, "forbidden")


# --- another organization ----------------------------------------------------------------


def test_another_organizations_ids_are_unknown_and_stay_unchanged(api: Api, other: Other) -> None:
    before = {
        path: api.client.get(path, headers=other.headers).json()
        for path in (
            f"/api/v1/organizations/{other.org_id}",
            f"/api/v1/clients/{other.client_id}",
            f"/api/v1/projects/{other.project_id}",
            f"/api/v1/tasks/{other.task_id}",
            f"/api/v1/members/{other.owner_id}",
        )
    }
    api.as_("owner")  # minting the token appends; note the head after it
    head = api.world.ledger.head_position()
    project = {"project_id": str(other.project_id)}
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/api/v1/organizations/{other.org_id}", None),
        ("PATCH", f"/api/v1/organizations/{other.org_id}", {"name": "Taken"}),
        ("PATCH", f"/api/v1/organizations/{other.org_id}", {}),
        ("GET", f"/api/v1/clients/{other.client_id}", None),
        ("PATCH", f"/api/v1/clients/{other.client_id}", {"name": "Taken"}),
        ("POST", f"/api/v1/clients/{other.client_id}/archive", None),
        ("GET", f"/api/v1/projects/{other.project_id}", None),
        ("PATCH", f"/api/v1/projects/{other.project_id}", {"name": "Taken"}),
        ("POST", f"/api/v1/projects/{other.project_id}/archive", None),
        ("POST", "/api/v1/projects", {"name": "Mine", "client_id": str(other.client_id)}),
        ("PATCH", f"/api/v1/projects/{api.world.project_id}", {"client_id": str(other.client_id)}),
        ("GET", f"/api/v1/tasks/{other.task_id}", None),
        ("PATCH", f"/api/v1/tasks/{other.task_id}", {"name": "Taken"}),
        ("POST", f"/api/v1/tasks/{other.task_id}/archive", None),
        ("POST", f"/api/v1/tasks/{other.task_id}/unarchive", None),
        ("POST", "/api/v1/tasks", {"name": "Mine", **project}),
        ("GET", f"/api/v1/members/{other.owner_id}", None),
        ("PATCH", f"/api/v1/members/{other.owner_id}", {"role": "member"}),
        ("DELETE", f"/api/v1/members/{other.owner_id}", None),
        ("POST", "/api/v1/rates", {"level": "project", "amount_minor": 1, "effective_from": DAY, **project}),
    ]
    for method, path, body in attempts:
        detail = problem(api.request(method, path, json=body), 404, "not-found")["detail"]
        # Never tells which organization a client, project, task or member belongs to.
        assert "organizations" in path or str(other.org_id) not in detail, (method, path, detail)
    assert api.world.ledger.head_position() == head
    for path, seen in before.items():
        assert api.client.get(path, headers=other.headers).json() == seen
    # Lists hold only the token's organization.
    for kind, secret in (("clients", "Secret"), ("projects", "Secret"), ("tasks", "Secret")):
        assert all(secret not in i["name"] for i in api.request("GET", f"/api/v1/{kind}").json()["items"])
    assert all(
        m["email"] != "boss@initech.test" for m in api.request("GET", "/api/v1/members").json()["items"]
    )
    assert (
        api.request("GET", "/api/v1/projects", params={"client": str(other.client_id)}).json()["items"] == []
    )


def test_ledger_commands_refuse_another_organizations_ids_for_a_token(api: Api, other: Other) -> None:
    """The guarantee below the routes: a token acting in one organization cannot reach another's."""
    ledger, world = api.world.ledger, api.world
    principal = ledger.authenticate_token(api.tokens.get("owner:admin") or api.token("owner"))
    assert principal is not None
    actor = Actor.token(principal.user_id, principal.token_id, principal.org_id)
    attempts = [
        lambda: ledger.rename_client(client_id=other.client_id, name="Taken", actor=actor),
        lambda: ledger.update_project(project_id=other.project_id, name="Taken", actor=actor),
        lambda: ledger.rename_task(task_id=other.task_id, name="Taken", actor=actor),
        lambda: ledger.create_task(project_id=other.project_id, name="Mine", actor=actor),
        lambda: ledger.archive(kind="client", item_id=other.client_id, actor=actor),
        lambda: ledger.rename_organization(org_id=other.org_id, name="Taken", actor=actor),
        lambda: ledger.remove_member(org_id=world.org_id, user_id=other.owner_id, actor=actor),
        lambda: ledger.create_project(org_id=world.org_id, name="P", client_id=other.client_id, actor=actor),
    ]
    head = ledger.head_position()
    for attempt in attempts:
        with pytest.raises(NotFoundError):
            attempt()
    assert ledger.head_position() == head
