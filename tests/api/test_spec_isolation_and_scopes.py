"""Tenant isolation and scopes, generated from the published OpenAPI document.

Every operation of the spec is exercised, so a new route is covered the day it
is added: each one with a path id must answer 404 to another organization's
token and change nothing; each one with `x-required-scope` must refuse a token
without that scope (403) and accept one with only that scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from ledger.actors import Actor
from ledger.tokens import SCOPES
from tests.api.conftest import Api
from tests.conftest import NOW

# Operations that need a valid credential but no particular scope, or none at all.
UNSCOPED = {
    ("get", "/api/v1/me"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("get", "/api/v1/tokens/{token_id}"),
    ("delete", "/api/v1/tokens/{token_id}"),
    ("get", "/api/v1/session"),
    ("post", "/api/v1/session"),
    ("delete", "/api/v1/session"),
    ("post", "/api/v1/session/two-factor/secret"),
    ("post", "/api/v1/session/two-factor"),
    ("delete", "/api/v1/session/two-factor"),
    ("get", "/api/v1/auth/oidc/login"),
    ("get", "/api/v1/auth/oidc/callback"),
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def params(self) -> list[str]:
        return [p["name"] for p in self.spec.get("parameters", []) if p["in"] == "path"]


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, methods in sorted(document["paths"].items()):
        for method, spec in sorted(methods.items()):
            yield Operation(method, path, spec)


def example(schema: dict[str, Any], document: dict[str, Any]) -> Any:
    """A minimal valid value for a JSON schema: required fields only, simple values."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return example(document["components"]["schemas"][name], document)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = [b for b in schema[key] if b.get("type") != "null"]
            return example(branches[0], document) if branches else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {name: example(properties[name], document) for name in schema.get("required", [])}
    if kind == "array":
        return [example(schema["items"], document) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    formats = {
        "uuid": str(uuid.uuid4()),
        "date-time": (NOW - timedelta(hours=30)).isoformat(),
        "date": "2026-11-19",
        "email": "someone@example.test",
    }
    return formats.get(schema.get("format", ""), "x")


def body_of(operation: Operation, document: dict[str, Any]) -> Any:
    content = operation.spec.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return example(content["application/json"]["schema"], document)


# A path id names an object of the collection before it: /clients/{id} is a client.
KIND_OF_COLLECTION = {
    "time-entries": "entry_id",
    "templates": "template_id",
    "organizations": "org_id",
    "members": "user_id",
    "clients": "client_id",
    "projects": "project_id",
    "tasks": "task_id",
    "tokens": "token_id",
    "timesheets": "timesheet_id",
    "webhooks": "webhook_id",
    "invoices": "invoice_id",
}


def call(api: Api, operation: Operation, ids: dict[str, str], headers: dict[str, str]) -> Any:
    path = operation.path
    for name in operation.params:
        segments = path.split("/")
        collection = segments[segments.index("{" + name + "}") - 1]
        kind = KIND_OF_COLLECTION.get(collection)
        label = f"{operation.method.upper()} {operation.path}"
        assert kind in ids, f"{label}: no object of org A for /{collection}/{{{name}}}; add one"
        path = path.replace("{" + name + "}", ids[kind])
    body = body_of(operation, api.client.app.openapi())
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    return api.client.request(operation.method.upper(), path, headers=headers, **kwargs)


def objects_of_org_a(api: Api) -> dict[str, str]:
    """One object of every kind in organization A, by the path parameter that names it."""
    w = api.world
    ledger = w.ledger
    entry = ledger.record_entry(
        org_id=w.org_id,
        project_id=w.project_id,
        start=NOW - timedelta(hours=3),
        end=NOW - timedelta(hours=2),
        actor=w.owner,
    )
    template = ledger.save_template(org_id=w.org_id, name="T", project_id=w.project_id, actor=w.owner)
    token = ledger.issue_token(org_id=w.org_id, name="device", scopes=["read:entries"], actor=w.owner)
    webhook = ledger.create_webhook(
        org_id=w.org_id, url="https://example.test/hook", event_types=["*"], actor=w.owner
    )
    sheet = ledger.submit_timesheet(org_id=w.org_id, day=(NOW - timedelta(days=7)).date(), actor=w.owner)
    # An invoice draft of the entry above: billable at a rate, no approval needed.
    ledger.change_settings(org_id=w.org_id, changes={"invoice_requires_approval": False}, actor=w.owner)
    ledger.set_rate(
        org_id=w.org_id, level="organization", amount_minor=10_000, effective_from=NOW.date(), actor=w.owner
    )
    invoice = ledger.draft_invoice(
        org_id=w.org_id, client_id=w.client_id, period_from=NOW.date(), period_to=NOW.date(), actor=w.owner
    )
    return {
        "entry_id": str(entry.id),
        "template_id": str(template.related[0]),
        "org_id": str(w.org_id),
        "user_id": str(w.member.user_id),
        "member_id": str(w.member.user_id),
        "client_id": str(w.client_id),
        "project_id": str(w.project_id),
        "task_id": str(w.task_id),
        "token_id": str(token.id),
        "timesheet_id": str(sheet.id),
        "webhook_id": str(webhook.id),
        "invoice_id": str(invoice.id),
    }


def snapshot(api: Api) -> dict[str, Any]:
    """What organization A can see, through its owner's token."""
    seen: dict[str, Any] = {}
    for path in (
        "/api/v1/time-entries",
        "/api/v1/clients",
        "/api/v1/projects",
        "/api/v1/tasks",
        "/api/v1/members",
    ):
        response = api.request("GET", path, params={"limit": 500})
        seen[path] = response.json() if response.status_code == 200 else response.status_code
    return seen


def test_another_organizations_token_gets_404_for_every_path_with_an_id_and_changes_nothing(api: Api) -> None:
    ids = objects_of_org_a(api)
    ledger = api.world.ledger
    other = ledger.create_organization(
        name="Org B", owner_email="b-owner@b.test", owner_name="B Owner", owner_password="b-owner-password"
    )
    b_owner = Actor.user(other.related[0])
    secret = ledger.issue_token(
        org_id=other.id, name="b", scopes=["admin"], user_id=b_owner.user_id, actor=b_owner
    ).secret
    outsider = {"Authorization": f"Bearer {secret}"}
    api.as_("owner")
    head = ledger.head_position()
    api.client.app.state.read_side.wait_for(ledger, head)
    before = snapshot(api)
    document = api.client.app.openapi()
    checked = []
    for operation in operations(document):
        if not operation.params:
            continue
        response = call(api, operation, ids, outsider)
        label = f"{operation.method.upper()} {operation.path}"
        assert response.status_code == 404, f"{label}: {response.status_code} {response.text}"
        assert response.headers["content-type"].startswith("application/problem+json"), label
        checked.append(label)
    assert len(checked) >= 20
    assert ledger.head_position() == head, "a request of organization B appended events"
    assert snapshot(api) == before


@pytest.fixture
def scoped_operations(api: Api) -> list[Operation]:
    document = api.client.app.openapi()
    found = list(operations(document))
    unscoped = {(o.method, o.path) for o in found if "x-required-scope" not in o.spec}
    assert unscoped == UNSCOPED, "an operation without a scope must be listed in UNSCOPED on purpose"
    return [o for o in found if "x-required-scope" in o.spec]


def test_every_scoped_operation_refuses_a_token_without_its_scope(
    api: Api, scoped_operations: list[Operation]
) -> None:
    ids = {
        name: str(uuid.uuid4())
        for name in (
            "entry_id",
            "template_id",
            "org_id",
            "user_id",
            "member_id",
            "client_id",
            "project_id",
            "task_id",
            "token_id",
            "timesheet_id",
            "webhook_id",
            "invoice_id",
        )
    }
    head = api.world.ledger.head_position()
    for operation in scoped_operations:
        scope = operation.spec["x-required-scope"]
        others = tuple(s for s in SCOPES if s not in (scope, "admin"))
        response = call(api, operation, ids, {"Authorization": f"Bearer {api.token('owner', others)}"})
        label = f"{operation.method.upper()} {operation.path}"
        assert response.status_code == 403, f"{label}: {response.status_code} {response.text}"
        problem = response.json()
        assert problem["type"].endswith("/missing-scope"), label
        assert problem["required_scope"] == scope, label
    # Minting the tokens appended events; the refused requests appended none.
    assert api.world.ledger.head_position() == head + len(scoped_operations)


def test_the_scope_an_operation_declares_is_the_one_it_needs(
    api: Api, scoped_operations: list[Operation]
) -> None:
    ids = objects_of_org_a(api)
    for operation in scoped_operations:
        scope = operation.spec["x-required-scope"]
        response = call(api, operation, ids, {"Authorization": f"Bearer {api.token('owner', (scope,))}"})
        label = f"{operation.method.upper()} {operation.path}"
        if response.status_code == 403:
            assert not response.json()["type"].endswith("/missing-scope"), f"{label}: {response.text}"
