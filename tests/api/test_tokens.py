"""`/tokens`: issue (secret once), list without secrets, revoke, expiry, scope escalation, last use."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from api.token_usage import last_used, touch
from tests.api.conftest import Api

PROBLEM = "application/problem+json"
TYPE = "https://timeledger.dev/problems/"


def bearer(text: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {text}"}


def as_(api: Api, who: str, *scopes: str) -> dict[str, str]:
    return bearer(api.token(who, scopes))


def issue(api: Api, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "laptop")
    body.setdefault("scopes", ["read:entries"])
    r = api.request("POST", "/api/v1/tokens", json=body, headers=headers or {})
    assert r.status_code == 201, r.text
    return r.json()


def test_issued_token_works_and_its_secret_is_shown_only_once(api: Api) -> None:
    created = issue(api, name="  cli  ", scopes=["read:entries", "read:reports"])
    owner = api.world.owner.user_id
    assert created["token"].startswith("tl_")
    assert created["name"] == "cli"
    assert created["user_id"] == str(owner)
    assert created["scopes"] == ["read:entries", "read:reports"]
    assert created["expires_at"] is None
    assert created["created_at"] == "2026-11-20T15:00:00Z"
    assert created["last_used_at"] is None
    assert created["revoked"] is False

    me = api.client.get("/api/v1/me", headers=bearer(created["token"]))
    assert me.status_code == 200
    assert me.json()["token"]["id"] == created["id"]

    listed = api.request("GET", "/api/v1/tokens")
    assert listed.status_code == 200
    assert created["token"] not in listed.text
    items = {item["id"]: item for item in listed.json()["items"]}
    assert "token" not in items[created["id"]]
    # The /me call above used the token: authentication recorded when.
    assert items[created["id"]] == {
        **{k: v for k, v in created.items() if k != "token"},
        "last_used_at": "2026-11-20T15:00:00Z",
    }

    one = api.request("GET", f"/api/v1/tokens/{created['id']}")
    assert one.status_code == 200
    assert one.json() == items[created["id"]]


def test_a_revoked_token_answers_401(api: Api) -> None:
    created = issue(api)
    assert api.client.get("/api/v1/me", headers=bearer(created["token"])).status_code == 200

    revoked = api.request("DELETE", f"/api/v1/tokens/{created['id']}")
    assert revoked.status_code == 204
    assert revoked.content == b""

    refused = api.client.get("/api/v1/me", headers=bearer(created["token"]))
    assert refused.status_code == 401
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["type"] == TYPE + "invalid-token"
    listed = api.request("GET", "/api/v1/tokens").json()["items"]
    assert created["id"] not in [item["id"] for item in listed]
    with_revoked = api.request("GET", "/api/v1/tokens", params={"include_revoked": "true"}).json()["items"]
    assert [item["revoked"] for item in with_revoked if item["id"] == created["id"]] == [True]
    assert api.request("GET", f"/api/v1/tokens/{created['id']}").json()["revoked"] is True

    again = api.request("DELETE", f"/api/v1/tokens/{created['id']}")
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM


def test_a_token_may_revoke_itself_without_any_scope(api: Api) -> None:
    text = api.token("member", ("read:entries",))
    me = api.client.get("/api/v1/me", headers=bearer(text)).json()
    assert api.client.delete(f"/api/v1/tokens/{me['token']['id']}", headers=bearer(text)).status_code == 204
    assert api.client.get("/api/v1/me", headers=bearer(text)).status_code == 401


def test_a_token_stops_working_when_it_expires(api: Api) -> None:
    created = issue(api, expires_at="2026-11-20T17:00:00+01:00")
    assert created["expires_at"] == "2026-11-20T16:00:00Z"
    assert api.client.get("/api/v1/me", headers=bearer(created["token"])).status_code == 200

    api.world.clock.advance(3599)
    assert api.client.get("/api/v1/me", headers=bearer(created["token"])).status_code == 200
    api.world.clock.advance(1)
    expired = api.client.get("/api/v1/me", headers=bearer(created["token"]))
    assert expired.status_code == 401
    assert expired.json()["type"] == TYPE + "invalid-token"


def test_an_expiry_in_the_past_or_without_offset_is_refused(api: Api) -> None:
    for value in ("2026-11-20T15:00:00Z", "2026-11-19T09:00:00+01:00", "2026-12-01T09:00:00"):
        r = api.request(
            "POST", "/api/v1/tokens", json={"name": "x", "scopes": ["read:entries"], "expires_at": value}
        )
        assert r.status_code == 422, value
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["field"] == "expires_at"


def test_a_name_with_control_characters_is_422(api: Api) -> None:
    for name in ("a\x00b", "tab\there", ""):
        r = api.request("POST", "/api/v1/tokens", json={"name": name, "scopes": ["read:entries"]})
        assert r.status_code == 422, name
        assert r.json()["field"] == "name"


def test_unknown_or_missing_scopes_are_422(api: Api) -> None:
    unknown = api.request("POST", "/api/v1/tokens", json={"name": "x", "scopes": ["read:everything"]})
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "scopes"
    empty = api.request("POST", "/api/v1/tokens", json={"name": "x", "scopes": []})
    assert empty.status_code == 422
    assert empty.json()["field"] == "scopes"


def test_a_token_cannot_grant_scopes_it_does_not_hold(api: Api) -> None:
    member = as_(api, "member", "read:entries", "write:entries")
    allowed = issue(api, headers=member, name="phone", scopes=["read:entries"])
    assert allowed["user_id"] == str(api.world.member.user_id)

    for scopes in (["read:entries", "read:reports"], ["admin"]):
        r = api.request("POST", "/api/v1/tokens", headers=member, json={"name": "more", "scopes": scopes})
        assert r.status_code == 403
        assert r.headers["content-type"] == PROBLEM
        body = r.json()
        assert body["type"] == TYPE + "scope-escalation"
        assert body["scopes"] == [scopes[-1]]

    manager = as_(api, "manager", "read:reports")
    r = api.request(
        "POST", "/api/v1/tokens", headers=manager, json={"name": "x", "scopes": ["write:entries"]}
    )
    assert r.json()["type"] == TYPE + "scope-escalation"


def test_naming_another_member_needs_the_admin_scope_and_role(api: Api) -> None:
    world = api.world
    body = {"name": "kiosk", "scopes": ["read:entries"], "user_id": str(world.manager.user_id)}
    for who, other in (("member", world.manager), ("manager", world.member)):
        named = {**body, "user_id": str(other.user_id)}
        r = api.request("POST", "/api/v1/tokens", headers=as_(api, who, "read:entries"), json=named)
        assert r.status_code == 403, who
        assert r.json()["type"] == TYPE + "missing-scope"
    # An owner's token without the admin scope may not either.
    r = api.request("POST", "/api/v1/tokens", headers=as_(api, "owner", "read:entries"), json=body)
    assert r.status_code == 403
    assert r.json()["required_scope"] == "admin"

    # With it, the owner provisions a device for the manager.
    provisioned = issue(api, **body)
    assert provisioned["user_id"] == str(world.manager.user_id)
    me = api.client.get("/api/v1/me", headers=bearer(provisioned["token"])).json()
    assert me["user"]["email"] == "manager@acme.test"
    assert me["role"] == "manager"

    stranger = api.request("POST", "/api/v1/tokens", json={**body, "user_id": str(uuid.uuid4())})
    assert stranger.status_code == 404


def test_an_admin_scope_token_of_a_demoted_admin_may_not_name_others(api: Api) -> None:
    world = api.world
    manager_id = world.manager.user_id
    world.ledger.change_role(org_id=world.org_id, user_id=manager_id, role="admin", actor=world.owner)
    token = api.token("manager", ("admin",))
    world.ledger.change_role(org_id=world.org_id, user_id=manager_id, role="manager", actor=world.owner)

    body = {"name": "x", "scopes": ["read:entries"], "user_id": str(world.member.user_id)}
    r = api.request("POST", "/api/v1/tokens", headers=bearer(token), json=body)
    # The token's `admin` scope shrank to what a manager's role grants.
    assert r.status_code == 403
    assert r.json()["type"] == TYPE + "missing-scope"
    catalog = api.request("POST", "/api/v1/clients", headers=bearer(token), json={"name": "Still allowed"})
    assert catalog.status_code == 201
    rates = api.request(
        "POST",
        "/api/v1/rates",
        headers=bearer(token),
        json={"level": "organization", "amount_minor": 1, "effective_from": "2026-11-01"},
    )
    assert rates.status_code == 403
    listed = api.request("GET", "/api/v1/tokens", headers=bearer(token)).json()["items"]
    assert {item["user_id"] for item in listed} == {str(manager_id)}


def test_members_see_their_own_tokens_and_admins_see_all(api: Api) -> None:
    member = as_(api, "member", "read:entries")
    mine = issue(api, headers=member, name="mine")
    owners = issue(api, name="owner's")

    seen = api.request("GET", "/api/v1/tokens", headers=member).json()["items"]
    assert {item["user_id"] for item in seen} == {str(api.world.member.user_id)}
    assert mine["id"] in [item["id"] for item in seen]
    everyone = [item["id"] for item in api.request("GET", "/api/v1/tokens").json()["items"]]
    assert mine["id"] in everyone
    assert owners["id"] in everyone

    for method in ("GET", "DELETE"):
        hidden = api.request(method, f"/api/v1/tokens/{owners['id']}", headers=member)
        assert hidden.status_code == 404, method
        assert hidden.headers["content-type"] == PROBLEM
    assert api.request("GET", f"/api/v1/tokens/{owners['id']}").json()["revoked"] is False
    assert api.request("GET", f"/api/v1/tokens/{uuid.uuid4()}").status_code == 404

    # An owner with the admin scope revokes a member's token.
    assert api.request("DELETE", f"/api/v1/tokens/{mine['id']}").status_code == 204
    assert api.client.get("/api/v1/me", headers=bearer(mine["token"])).status_code == 401


def test_a_repeated_idempotency_key_mints_no_second_token(api: Api) -> None:
    body = {"name": "once", "scopes": ["read:entries"]}
    key = {"Idempotency-Key": "issue-once-1"}
    first = api.request("POST", "/api/v1/tokens", json=body, headers=key)
    assert first.status_code == 201
    again = api.request("POST", "/api/v1/tokens", json=body, headers=key)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.headers["Idempotent-Replayed"] == "true"
    problem = again.json()
    assert problem["type"] == TYPE + "token-secret-shown"
    assert problem["token_id"] == first.json()["id"]
    assert first.json()["token"] not in again.text
    names = [item["name"] for item in api.request("GET", "/api/v1/tokens").json()["items"]]
    assert names.count("once") == 1

    other = api.request("POST", "/api/v1/tokens", json={**body, "name": "twice"}, headers=key)
    assert other.status_code == 422
    assert other.json()["type"] == TYPE + "idempotency-key-reused"


def test_last_use_is_written_at_most_once_a_minute_and_listed(api: Api) -> None:
    engine = api.client.app.state.read_side.engine
    created = issue(api)
    token_id = uuid.UUID(created["id"])
    now = api.world.clock.now()
    assert last_used(engine, [token_id]) == {}
    assert last_used(engine, []) == {}

    assert touch(engine, token_id, now) is True
    assert touch(engine, token_id, now + timedelta(seconds=59)) is False
    assert last_used(engine, [token_id]) == {token_id: now}
    assert api.request("GET", f"/api/v1/tokens/{token_id}").json()["last_used_at"] == "2026-11-20T15:00:00Z"

    later = now + timedelta(seconds=61)
    assert touch(engine, token_id, later) is True
    listed = api.request("GET", "/api/v1/tokens").json()["items"]
    assert [item["last_used_at"] for item in listed if item["id"] == created["id"]] == [
        "2026-11-20T15:01:01Z"
    ]
    # Another process that noted an older use never moves the time back.
    from api import token_usage

    token_usage._written.pop(token_id)
    assert touch(engine, token_id, now + timedelta(seconds=30)) is True
    assert last_used(engine, [token_id]) == {token_id: later}


def test_token_lists_page_with_cursors(api: Api) -> None:
    member = as_(api, "member", "read:entries")
    for n in range(3):
        issue(api, name=f"device {n}", user_id=str(api.world.member.user_id))
    first = api.request("GET", "/api/v1/tokens", headers=member, params={"limit": 3}).json()
    assert len(first["items"]) == 3
    assert first["next_cursor"]
    second = api.request(
        "GET", "/api/v1/tokens", headers=member, params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert len(set(ids)) == 4

    bad = api.request("GET", "/api/v1/tokens", params={"cursor": "nonsense"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "cursor"


def test_token_routes_need_a_token(api: Api) -> None:
    for method, path in (("GET", "/api/v1/tokens"), ("POST", "/api/v1/tokens"), ("GET", "/api/v1/me")):
        r = api.client.request(method, path, json={"name": "x", "scopes": ["read:entries"]})
        assert r.status_code == 401
        assert r.headers["content-type"] == PROBLEM


def test_a_browser_session_issues_tokens_within_its_roles_scopes(api: Api) -> None:
    login = api.client.post(
        "/api/v1/session", json={"email": "member@acme.test", "password": "member-password"}
    )
    assert login.status_code == 200, login.text
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    created = api.client.post(
        "/api/v1/tokens", json={"name": "cli", "scopes": ["write:entries"]}, headers=csrf
    )
    assert created.status_code == 201, created.text
    assert created.json()["user_id"] == str(api.world.member.user_id)
    beyond = api.client.post(
        "/api/v1/tokens", json={"name": "cli", "scopes": ["approve:timesheets"]}, headers=csrf
    )
    assert beyond.status_code == 403
    assert beyond.json()["type"] == TYPE + "scope-escalation"
    listed = api.client.get("/api/v1/tokens").json()["items"]
    assert [item["id"] for item in listed] == [created.json()["id"]]
