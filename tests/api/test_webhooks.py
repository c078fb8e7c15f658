"""Webhooks through the API: `/api/v1/webhooks`, the delivery log, rotation, pings, refusals."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine

from tests.api.conftest import Api
from tests.workers.test_webhooks import FAST, Receiver, make_receiver
from workers.broker import install
from workers.context import WorkerContext, install_context
from workers.webhooks import QUEUE, SETTINGS_KEY, WebhookDispatcher, verify

__all__ = ["make_receiver"]  # a fixture, shared with the worker tests

HOOKS = "/api/v1/webhooks"


@pytest.fixture
def engine(api: Api) -> Engine:
    found: Engine = api.client.app.state.read_side.engine  # type: ignore[attr-defined]
    return found


@pytest.fixture
def run_jobs(api: Api, engine: Engine) -> Iterator[Callable[[], None]]:
    """Dispatch what the log holds and run every delivery (retries included) to the end."""
    install_context(WorkerContext(api.world.ledger, engine, extras={SETTINGS_KEY: FAST}))
    broker = install(None)
    worker = dramatiq.Worker(broker, worker_timeout=20, worker_threads=2)
    worker.start()
    dispatcher = WebhookDispatcher(api.world.ledger, engine, FAST)

    def run() -> None:
        dispatcher.run_once()
        broker.join(QUEUE, timeout=30_000)

    yield run
    worker.stop()
    broker.flush_all()
    install_context(None)


def create(api: Api, url: str, event_types: list[str], **extra: Any) -> dict[str, Any]:
    response = api.request("POST", HOOKS, json={"url": url, "event_types": event_types, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_acceptance_run_shows_three_attempts_in_the_delivery_log(
    api: Api, run_jobs: Callable[[], None], make_receiver: Callable[..., Receiver]
) -> None:
    receiver = make_receiver(500, 500)
    hook = create(api, receiver.url, ["TimeEntry.Started"], description="Billing system")
    assert hook["secret"].startswith("whsec_")
    started = api.request("POST", "/api/v1/timer/start", json={"project_id": str(api.world.project_id)})
    assert started.status_code in (200, 201), started.text

    run_jobs()

    assert [r.answered for r in receiver.received] == [500, 500, 200]
    [delivered] = receiver.delivered()
    assert verify(hook["secret"], delivered.headers["TimeLedger-Signature"], delivered.body)
    response = api.request("GET", f"{HOOKS}/{hook['id']}/deliveries")
    assert response.status_code == 200, response.text
    [delivery] = response.json()["items"]
    assert delivery["id"] == delivered.json["id"] == delivered.headers["TimeLedger-Delivery"]
    assert delivery["status"] == "delivered"
    assert delivery["event_type"] == "TimeEntry.Started"
    assert [(a["attempt"], a["status_code"]) for a in delivery["attempts"]] == [(1, 500), (2, 500), (3, 200)]
    assert delivery["last_status_code"] == 200
    assert response.json()["next_cursor"] is None


def test_a_webhook_is_read_listed_changed_and_deleted_without_its_secret(api: Api) -> None:
    hook = create(api, "https://example.test/a", ["Client.Created"])
    api.world.clock.advance(1)
    second = create(api, "https://example.test/b", ["*"], active=False)

    got = api.request("GET", f"{HOOKS}/{hook['id']}").json()
    assert "secret" not in got
    assert got == {k: v for k, v in hook.items() if k != "secret"}
    first_page = api.request("GET", HOOKS, params={"limit": 1}).json()
    assert [h["id"] for h in first_page["items"]] == [second["id"]]
    rest = api.request("GET", HOOKS, params={"limit": 1, "cursor": first_page["next_cursor"]}).json()
    assert [h["id"] for h in rest["items"]] == [hook["id"]]
    assert rest["next_cursor"] is None
    assert all("secret" not in h for h in first_page["items"] + rest["items"])

    changed = api.request(
        "PATCH", f"{HOOKS}/{hook['id']}", json={"event_types": ["Client.Created", "Client.Renamed"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["event_types"] == ["Client.Created", "Client.Renamed"]
    assert changed.json()["url"] == "https://example.test/a"

    assert api.request("DELETE", f"{HOOKS}/{hook['id']}").status_code == 204
    gone = api.request("GET", f"{HOOKS}/{hook['id']}")
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert [h["id"] for h in api.request("GET", HOOKS).json()["items"]] == [second["id"]]


def test_rotating_gives_a_new_secret_once(api: Api) -> None:
    hook = create(api, "https://example.test/a", ["*"])
    rotated = api.request("POST", f"{HOOKS}/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["id"] == hook["id"]
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != hook["secret"]
    assert "secret" not in api.request("GET", f"{HOOKS}/{hook['id']}").json()


def test_a_repeated_idempotency_key_answers_the_same_webhook_and_secret(api: Api) -> None:
    body = {"url": "https://example.test/a", "event_types": ["*"]}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.request("POST", HOOKS, json=body, headers=key)
    again = api.request("POST", HOOKS, json=body, headers=key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(api.request("GET", HOOKS).json()["items"]) == 1


def test_a_test_delivery_shows_as_a_ping_in_the_log(
    api: Api, run_jobs: Callable[[], None], make_receiver: Callable[..., Receiver]
) -> None:
    receiver = make_receiver()
    hook = create(api, receiver.url, ["TimeEntry.Stopped"])
    pinged = api.request("POST", f"{HOOKS}/{hook['id']}/test")
    assert pinged.status_code == 202, pinged.text
    assert pinged.json()["event_type"] == "ping"

    run_jobs()

    [received] = receiver.received
    assert received.json["type"] == "ping"
    assert received.json["id"] == pinged.json()["delivery_id"]
    [delivery] = api.request("GET", f"{HOOKS}/{hook['id']}/deliveries").json()["items"]
    assert (delivery["id"], delivery["event_type"], delivery["status"]) == (
        pinged.json()["delivery_id"],
        "ping",
        "delivered",
    )


def test_the_delivery_log_pages_and_filters(
    api: Api, run_jobs: Callable[[], None], make_receiver: Callable[..., Receiver]
) -> None:
    receiver = make_receiver(rule=lambda body: 500 if body["event"]["data"]["name"] == "Two" else 204)
    hook = create(api, receiver.url, ["Client.Created"])
    w = api.world
    for name in ("One", "Two", "Three"):
        w.ledger.create_client(org_id=w.org_id, name=name, actor=w.owner)
    run_jobs()

    path = f"{HOOKS}/{hook['id']}/deliveries"
    seen: list[dict[str, Any]] = []
    page = api.request("GET", path, params={"limit": 2}).json()
    seen += page["items"]
    page = api.request("GET", path, params={"limit": 2, "cursor": page["next_cursor"]}).json()
    seen += page["items"]
    assert page["next_cursor"] is None
    positions = [d["position"] for d in seen]
    assert len(positions) == 3
    assert positions == sorted(positions, reverse=True)
    statuses = sorted(d["status"] for d in seen)
    assert statuses == ["delivered", "delivered", "failed"]
    failed = api.request("GET", path, params={"status": "failed"}).json()["items"]
    assert [len(d["attempts"]) for d in failed] == [FAST.max_attempts]
    bad = api.request("GET", path, params={"cursor": "nonsense"})
    assert bad.status_code == 400
    assert bad.json()["type"].endswith("/invalid-cursor")


def test_a_member_without_the_admin_scope_gets_403(api: Api) -> None:
    hook = create(api, "https://example.test/a", ["*"])
    for method, path in (
        ("GET", HOOKS),
        ("POST", HOOKS),
        ("GET", f"{HOOKS}/{hook['id']}"),
        ("GET", f"{HOOKS}/{hook['id']}/deliveries"),
        ("POST", f"{HOOKS}/{hook['id']}/rotate-secret"),
    ):
        response = api.request(
            method, path, who="member", json={"url": "https://e.test", "event_types": ["*"]}
        )
        assert response.status_code == 403, f"{method} {path}: {response.text}"
        assert response.json()["type"].endswith("/missing-scope")


def test_an_admin_made_manager_loses_webhooks_at_once(api: Api) -> None:
    """A token's scopes are cut to its member's current role: a manager's `admin` token lacks `admin`."""
    w = api.world
    assert w.manager.user_id is not None
    w.ledger.change_role(org_id=w.org_id, user_id=w.manager.user_id, role="admin", actor=w.owner)
    headers = {"Authorization": f"Bearer {api.token('manager', ('admin',))}"}
    assert api.client.get(HOOKS, headers=headers).status_code == 200
    w.ledger.change_role(org_id=w.org_id, user_id=w.manager.user_id, role="manager", actor=w.owner)
    refused = api.client.get(HOOKS, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/missing-scope")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.test/h", "event_types": ["*"]}, "url"),
        ({"url": "not a url", "event_types": ["*"]}, "url"),
        ({"url": "javascript:alert(1)", "event_types": ["*"]}, "url"),
        ({"url": "https://example.test/h", "event_types": ["Nope.Nothing"]}, "event_types"),
        ({"url": "https://example.test/h", "event_types": []}, "event_types"),
        ({"url": "https://example.test/h"}, "event_types"),
    ],
)
def test_a_bad_webhook_is_a_422_problem(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.request("POST", HOOKS, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/invalid-input")
    assert problem["field"] == field
    assert api.request("GET", HOOKS).json()["items"] == []


def test_a_ping_to_an_inactive_webhook_is_a_409(api: Api) -> None:
    hook = create(api, "https://example.test/a", ["*"], active=False)
    response = api.request("POST", f"{HOOKS}/{hook['id']}/test")
    assert response.status_code == 409
    assert response.json()["type"].endswith("/conflict")
