"""Password sessions: login sets a signed cookie, cookie writes need the CSRF token, the role is
read on every request, logout ends it, and failed logins are throttled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from api.throttle import LoginThrottle
from ledger.actors import Actor
from ledger.errors import NotFoundError
from tests.api.conftest import Api
from tests.conftest import NOW

PASSWORDS = {"owner": "owner-password", "manager": "manager-password", "member": "member-password"}


def login(api: Api, who: str = "member", password: str | None = None, **more: Any) -> Any:
    body = {"email": f"{who}@acme.test", "password": password or PASSWORDS.get(who, "x"), **more}
    return api.client.post("/api/v1/session", json=body)


def logged_in(api: Api, who: str = "member", **more: Any) -> dict[str, str]:
    """Log in (the client keeps the cookie) and return the CSRF header for writes."""
    answer = login(api, who, **more)
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def entry_body(api: Api, hours_ago: int = 3) -> dict[str, str]:
    return {
        "project_id": str(api.world.project_id),
        "start": (NOW - timedelta(hours=hours_ago)).isoformat(),
        "end": (NOW - timedelta(hours=hours_ago - 1)).isoformat(),
    }


def problem_code(answer: Any) -> str:
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    code: str = answer.json()["type"].rsplit("/", 1)[-1]
    return code


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttled_by_fake_time(api: Api) -> FakeTime:
    fake = FakeTime()
    api.client.app.state.login_throttle = LoginThrottle(clock=fake)  # type: ignore[attr-defined]
    return fake


def test_login_sets_an_http_only_lax_cookie_that_alone_reads_entries(api: Api) -> None:
    answer = login(api)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    member_id = str(api.world.member.user_id)
    assert body["user_id"] == member_id
    assert body["org_id"] == str(api.world.org_id)
    assert body["role"] == "member"
    assert body["organizations"] == [{"id": str(api.world.org_id), "role": "member"}]
    assert body["two_factor_enabled"] is False
    assert body["two_factor_enrolment_required"] is False
    assert len(body["csrf_token"]) >= 20
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("tl_session=")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie

    listed = api.client.get("/api/v1/time-entries")
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []
    assert api.client.get("/api/v1/session").json() == body


def test_a_cookie_write_needs_the_csrf_token(api: Api) -> None:
    csrf = logged_in(api)
    missing = api.client.post("/api/v1/time-entries", json=entry_body(api))
    assert missing.status_code == 403
    assert problem_code(missing) == "csrf-failed"
    wrong = api.client.post("/api/v1/time-entries", json=entry_body(api), headers={"X-CSRF-Token": "nope"})
    assert problem_code(wrong) == "csrf-failed"

    written = api.client.post("/api/v1/time-entries", json=entry_body(api), headers=csrf)
    assert written.status_code == 201, written.text
    assert written.json()["member_id"] == str(api.world.member.user_id)
    history = api.client.get(f"/api/v1/time-entries/{written.json()['id']}/history").json()
    assert history[0]["actor_kind"] == "user"
    assert history[0]["actor_token_id"] is None


def test_a_token_write_needs_no_csrf_token(api: Api) -> None:
    written = api.request("POST", "/api/v1/time-entries", who="member", json=entry_body(api))
    assert written.status_code == 201, written.text


def test_logout_ends_the_session(api: Api) -> None:
    logged_in(api)
    out = api.client.delete("/api/v1/session")
    assert out.status_code == 204
    assert 'tl_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    after = api.client.get("/api/v1/time-entries")
    assert after.status_code == 401
    assert problem_code(after) == "not-authenticated"
    assert api.client.get("/api/v1/session").status_code == 401


def test_a_forged_cookie_is_not_a_session(api: Api) -> None:
    api.client.cookies.set("tl_session", "eyJ1c2VyX2lkIjoiMSJ9.forged.signature")
    assert api.client.get("/api/v1/time-entries").status_code == 401


def test_a_token_caller_has_no_session_to_show(api: Api) -> None:
    answer = api.request("GET", "/api/v1/session")
    assert answer.status_code == 401
    assert problem_code(answer) == "not-authenticated"


def test_wrong_password_and_unknown_email_answer_alike(api: Api) -> None:
    wrong = login(api, "member", password="not-the-password")
    unknown = login(api, "nobody", password="member-password")
    assert wrong.status_code == unknown.status_code == 401
    assert problem_code(wrong) == "invalid-credentials"
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers
    assert api.client.get("/api/v1/time-entries").status_code == 401


def test_the_sixth_failed_login_is_throttled_until_the_window_passes(api: Api) -> None:
    fake = throttled_by_fake_time(api)
    for _ in range(5):
        assert problem_code(login(api, password="wrong-password")) == "invalid-credentials"
    blocked = login(api)  # even the right password
    assert blocked.status_code == 429
    assert problem_code(blocked) == "too-many-logins"
    assert blocked.headers["Retry-After"] == str(15 * 60)
    assert "set-cookie" not in blocked.headers

    fake.now += 10 * 60
    assert login(api).headers["Retry-After"] == str(5 * 60)
    fake.now += 5 * 60
    assert login(api).status_code == 200
    # Other emails were never blocked.
    assert login(api, "manager").status_code == 200


def test_a_success_forgets_the_emails_failures(api: Api) -> None:
    throttled_by_fake_time(api)
    for _ in range(4):
        login(api, password="wrong-password")
    assert login(api).status_code == 200
    for _ in range(4):
        login(api, password="wrong-password")
    assert login(api).status_code == 200


def test_many_failures_from_one_address_are_throttled(api: Api) -> None:
    throttled_by_fake_time(api)
    for n in range(20):
        assert login(api, f"guess{n}", password="wrong-password").status_code == 401
    blocked = login(api, "owner")
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) == 15 * 60


def test_a_role_change_counts_from_the_next_request(api: Api) -> None:
    csrf = logged_in(api, "manager")
    created = api.client.post("/api/v1/clients", json={"name": "Initech"}, headers=csrf)
    assert created.status_code == 201, created.text
    assert api.world.manager.user_id is not None
    api.world.ledger.change_role(
        org_id=api.world.org_id, user_id=api.world.manager.user_id, role="member", actor=api.world.owner
    )
    refused = api.client.post("/api/v1/clients", json={"name": "Umbrella"}, headers=csrf)
    assert refused.status_code == 403
    assert problem_code(refused) == "missing-scope"
    assert refused.json()["required_scope"] == "write:catalog"
    assert api.client.get("/api/v1/session").json()["role"] == "member"


def test_a_removed_member_loses_the_session_and_cannot_log_in(api: Api) -> None:
    logged_in(api)
    assert api.world.member.user_id is not None
    api.world.ledger.remove_member(
        org_id=api.world.org_id, user_id=api.world.member.user_id, actor=api.world.owner
    )
    after = api.client.get("/api/v1/time-entries")
    assert after.status_code == 401
    assert problem_code(after) == "invalid-session"
    again = login(api)
    assert again.status_code == 403
    assert problem_code(again) == "no-organization"


def test_org_id_chooses_among_the_users_organizations(api: Api) -> None:
    api.world.clock.advance(60)  # joined later, so Acme stays the first organization
    other = api.world.ledger.create_organization(
        name="Side Gig", owner_email="member@acme.test", owner_name="Mia", owner_password=None
    ).id
    chosen = login(api, org_id=str(other)).json()
    assert (chosen["org_id"], chosen["role"]) == (str(other), "owner")
    assert {(o["id"], o["role"]) for o in chosen["organizations"]} == {
        (str(api.world.org_id), "member"),
        (str(other), "owner"),
    }
    assert chosen["organizations"][0]["id"] == str(api.world.org_id)
    # A session acts in its organization only.
    assert api.client.get("/api/v1/time-entries").status_code == 200
    stranger = login(api, org_id="00000000-0000-4000-8000-000000000000").json()
    assert stranger["org_id"] == str(api.world.org_id)


def test_sessions_are_rate_limited_per_user(make_api: Callable[..., Api]) -> None:
    api = make_api(rate_limit=2)
    logged_in(api)
    assert api.client.get("/api/v1/time-entries").status_code == 200
    assert api.client.get("/api/v1/time-entries").status_code == 200
    limited = api.client.get("/api/v1/time-entries")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_every_unsafe_method_needs_the_csrf_token(api: Api, method: str) -> None:
    token_entry = api.request("POST", "/api/v1/time-entries", who="member", json=entry_body(api)).json()
    logged_in(api)
    answer = api.client.request(method, f"/api/v1/time-entries/{token_entry['id']}", json={})
    assert answer.status_code == 403
    assert problem_code(answer) == "csrf-failed"


def test_a_session_acts_as_the_person_inside_its_organization_only(api: Api) -> None:
    from api.auth import Principal

    member_id = api.world.member.user_id
    assert member_id is not None
    api.world.clock.advance(60)
    other = api.world.ledger.create_organization(
        name="Side Gig", owner_email="member@acme.test", owner_name="Mia", owner_password=None
    ).id
    principal = Principal(member_id, api.world.org_id, None, ("read:entries",), "web", "member")
    assert principal.actor.kind == "user"
    assert (principal.actor.user_id, principal.actor.token_id) == (member_id, None)
    assert principal.actor.label == Actor.user(member_id).label  # command ids stay the person's
    assert api.world.ledger.get_organization(api.world.org_id, principal.actor).id == api.world.org_id
    with pytest.raises(NotFoundError):
        api.world.ledger.get_organization(other, principal.actor)
