"""The organization's audit log (`GET /audit-log`), through HTTP, on both stores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledger.actors import Actor
from tests.api.conftest import Api
from tests.conftest import NOW

V1 = "/api/v1"


def audit(api: Api, who: str = "owner", **params: Any) -> Any:
    return api.request("GET", f"{V1}/audit-log", who=who, params=params)


def all_items(api: Api, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = audit(api, **params, **({"cursor": cursor} if cursor else {})).json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def record(api: Api, device: str, description: str) -> dict[str, Any]:
    body = {
        "project_id": str(api.world.project_id),
        "start": (NOW - timedelta(hours=3)).isoformat(),
        "end": (NOW - timedelta(hours=2)).isoformat(),
        "description": description,
    }
    response = api.request("POST", f"{V1}/time-entries", headers={"X-Device-Id": device}, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_an_admin_sees_the_organizations_events_with_actor_and_device_newest_first(api: Api) -> None:
    entry = record(api, "laptop", "Kickoff")
    response = audit(api, limit=3)
    assert response.status_code == 200, response.text
    page = response.json()
    newest = page["items"][0]
    assert newest["event_type"] == "TimeEntry.Recorded"
    assert newest["aggregate_id"] == entry["id"]
    assert newest["version"] == 1
    assert newest["actor"]["kind"] == "token"
    assert newest["actor"]["user_id"] == str(api.world.owner.user_id)
    assert newest["actor"]["token_id"] is not None
    assert newest["actor"]["device_id"] == "laptop"
    assert newest["data"]["description"] == "Kickoff"
    positions = [item["position"] for item in page["items"]]
    assert positions == sorted(positions, reverse=True)
    assert page["next_cursor"] is not None
    everything = all_items(api)
    assert [i["position"] for i in everything] == sorted((i["position"] for i in everything), reverse=True)
    oldest = all_items(api, order="oldest")
    assert oldest == list(reversed(everything))
    assert oldest[0]["event_type"].startswith("Organization.")


def test_filters_narrow_the_log(api: Api) -> None:
    first = record(api, "laptop", "One")
    api.world.clock.advance(3600)
    second = record(api, "phone", "Two")
    by_device = all_items(api, device_id="phone")
    assert [i["aggregate_id"] for i in by_device] == [second["id"]]
    by_type = all_items(api, event_type="TimeEntry.")
    assert {i["aggregate_id"] for i in by_type} == {first["id"], second["id"]}
    assert all_items(api, event_type="Invoice.Issued") == []
    by_aggregate = all_items(api, aggregate_id=first["id"])
    assert [i["aggregate_id"] for i in by_aggregate] == [first["id"]]
    later = all_items(api, **{"from": (NOW + timedelta(minutes=30)).isoformat()})
    assert [i["aggregate_id"] for i in later] == [second["id"]]
    earlier = all_items(api, to=(NOW + timedelta(minutes=30)).isoformat(), event_type="TimeEntry.")
    assert [i["aggregate_id"] for i in earlier] == [first["id"]]
    by_manager = all_items(api, user_id=str(api.world.manager.user_id))
    assert by_manager == []
    assert all_items(api, user_id=str(api.world.owner.user_id))


def test_another_organizations_events_never_appear(api: Api) -> None:
    ledger = api.world.ledger
    other = ledger.create_organization(
        name="Org B", owner_email="b@b.test", owner_name="B Owner", owner_password="b-owner-password"
    )
    b_owner = Actor.user(other.related[0])
    b_client = ledger.create_client(org_id=other.id, name="B client", actor=b_owner)
    b_token = ledger.issue_token(
        org_id=other.id, name="b", scopes=["admin"], user_id=b_owner.user_id, actor=b_owner
    )
    seen = {i["aggregate_id"] for i in all_items(api)}
    assert str(other.id) not in seen
    assert str(b_client.id) not in seen
    assert str(b_token.id) not in seen
    assert str(api.world.org_id) in seen
    theirs = api.client.get(f"{V1}/audit-log", headers={"Authorization": f"Bearer {b_token.secret}"})
    assert str(api.world.org_id) not in {i["aggregate_id"] for i in theirs.json()["items"]}


def test_a_token_without_admin_gets_403(api: Api) -> None:
    response = audit(api, who="manager")
    assert response.status_code == 403
    assert response.json()["type"].endswith("/missing-scope")
    assert audit(api, cursor="not-a-cursor").status_code == 400


def test_secrets_never_appear(api: Api) -> None:
    ledger = api.world.ledger
    ledger.create_webhook(
        org_id=api.world.org_id, url="https://hooks.example.com/in", event_types=["*"], actor=api.world.owner
    )
    issued = api.request("POST", f"{V1}/tokens", json={"name": "ci", "scopes": ["read:entries"]}).json()
    stored = [
        vars(event)
        for notification in ledger.recorder.select_notifications(start=1, limit=10_000)
        for event in [ledger.mapper.to_domain_event(notification)]
    ]
    secrets = [
        state[name]
        for state in stored
        for name in ("secret", "secret_hash", "password_hash", "secret_ciphertext")
        if isinstance(state.get(name), str)
    ]
    assert len(secrets) >= 3
    text = audit(api, limit=500).text
    for secret in [*secrets, issued["token"]]:
        assert secret not in text
    items = all_items(api)
    webhook = next(i for i in items if i["event_type"] == "WebhookSubscription.Created")
    assert webhook["data"]["secret"] == "[redacted]"
    token = next(i for i in items if i["event_type"] == "ApiToken.Issued")
    assert token["data"]["secret_hash"] == "[redacted]"
