"""`/me`: the person, organization, role and token behind the calling token."""

from __future__ import annotations

from tests.api.conftest import Api


def test_me_describes_the_owner_and_the_calling_token(api: Api) -> None:
    world = api.world
    text = api.token("owner", ("admin",))
    r = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"})
    assert r.status_code == 200
    body = r.json()
    token_id = body["token"]["id"]
    assert text.startswith(f"tl_{token_id.replace('-', '')}_")
    assert body == {
        "user": {"id": str(world.owner.user_id), "email": "owner@acme.test", "display_name": "Olive Owner"},
        "organization": {
            "id": str(world.org_id),
            "name": "Acme",
            "timezone": "UTC",
            "currency": "EUR",
            "week_start": "monday",
        },
        "role": "owner",
        "token": {"id": token_id, "name": "owner test token", "scopes": ["admin"], "expires_at": None},
    }


def test_me_needs_no_scope_and_shows_a_members_role_and_scopes(api: Api) -> None:
    text = api.token("member", ("read:reports",))
    body = api.client.get("/api/v1/me", headers={"X-API-Key": text}).json()
    assert body["user"]["email"] == "member@acme.test"
    assert body["user"]["display_name"] == "Mia Member"
    assert body["role"] == "member"
    assert body["token"]["scopes"] == ["read:reports"]
    assert body["token"]["name"] == "member test token"


def test_me_follows_changes_to_the_organization_and_the_person(api: Api) -> None:
    world = api.world
    world.ledger.change_settings(
        org_id=world.org_id,
        changes={"timezone": "Europe/Berlin", "currency": "CHF", "week_start": "sunday"},
        actor=world.owner,
    )
    world.ledger.rename_organization(org_id=world.org_id, name="Acme AG", actor=world.owner)
    world.ledger.change_role(
        org_id=world.org_id, user_id=world.member.user_id, role="manager", actor=world.owner
    )
    world.ledger.rename_user(user_id=world.member.user_id, display_name="Mia M.", actor=world.member)
    token = api.token("member", ("read:entries",))
    body = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["organization"]["name"] == "Acme AG"
    assert body["organization"]["timezone"] == "Europe/Berlin"
    assert body["organization"]["currency"] == "CHF"
    assert body["organization"]["week_start"] == "sunday"
    assert body["role"] == "manager"
    assert body["user"]["display_name"] == "Mia M."


def test_me_shows_the_tokens_expiry(api: Api) -> None:
    created = api.request(
        "POST",
        "/api/v1/tokens",
        json={"name": "short", "scopes": ["read:entries"], "expires_at": "2026-12-01T00:00:00Z"},
    ).json()
    body = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"}).json()
    assert body["token"] == {
        "id": created["id"],
        "name": "short",
        "scopes": ["read:entries"],
        "expires_at": "2026-12-01T00:00:00Z",
    }


def test_me_without_a_valid_token_is_401_problem(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer tl_nope_nope"}):
        r = api.client.get("/api/v1/me", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_me_in_a_browser_session_has_no_token(api: Api) -> None:
    login = api.client.post(
        "/api/v1/session", json={"email": "member@acme.test", "password": "member-password"}
    )
    assert login.status_code == 200, login.text
    body = api.client.get("/api/v1/me").json()
    assert body["user"]["email"] == "member@acme.test"
    assert body["role"] == "member"
    assert body["organization"]["id"] == str(api.world.org_id)
    assert body["token"] is None
