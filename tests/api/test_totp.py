"""Two-factor login: enrolment through the session, TOTP or recovery codes at login, the
organization's requirement for admins, and no clear-text secret in the event log."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from tests.api.conftest import Api
from tests.api.test_session import logged_in, login, problem_code, throttled_by_fake_time
from tests.conftest import NOW

AT = NOW.timestamp()


@pytest.fixture
def api(api: Api) -> Api:
    """The app checks codes at the test's fixed instant, as pyotp's `at(AT)` computes them."""
    api.client.app.state.totp_clock = lambda: AT  # type: ignore[attr-defined]
    return api


def code(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(AT + 30 * steps)


def wrong_code(secret: str) -> str:
    near = {code(secret, s) for s in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(1000000)) if c not in near)


def enrol(api: Api, headers: dict[str, str]) -> tuple[str, list[str], Any]:
    """Fetch a secret and turn two-factor on with its current code: (secret, recovery codes, answer)."""
    fresh = api.client.post("/api/v1/session/two-factor/secret", headers=headers)
    assert fresh.status_code == 200, fresh.text
    secret = fresh.json()["secret"]
    answer = api.client.post(
        "/api/v1/session/two-factor", json={"secret": secret, "code": code(secret)}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    return secret, answer.json()["recovery_codes"], answer


def test_enrolment_then_login_needs_a_current_code(api: Api) -> None:
    csrf = logged_in(api)
    fresh = api.client.post("/api/v1/session/two-factor/secret", headers=csrf).json()
    secret = fresh["secret"]
    assert fresh["otpauth_uri"].startswith("otpauth://totp/TimeLedger:member%40acme.test?")
    assert f"secret={secret}" in fresh["otpauth_uri"]
    refused = api.client.post(
        "/api/v1/session/two-factor", json={"secret": secret, "code": wrong_code(secret)}, headers=csrf
    )
    assert refused.status_code == 422
    assert problem_code(refused) == "invalid-two-factor-code"

    answer = api.client.post(
        "/api/v1/session/two-factor", json={"secret": secret, "code": code(secret)}, headers=csrf
    )
    assert answer.status_code == 201, answer.text
    codes = answer.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert api.client.get("/api/v1/session").json()["two_factor_enabled"] is True
    api.client.delete("/api/v1/session")

    without = login(api)
    assert without.status_code == 401
    assert problem_code(without) == "two-factor-required"
    assert "set-cookie" not in without.headers
    wrong = login(api, totp_code=wrong_code(secret))
    assert wrong.status_code == 401
    assert problem_code(wrong) == "invalid-two-factor-code"
    # One step behind is accepted (clock drift), two ahead are not.
    behind = login(api, totp_code=code(secret, -1))
    assert behind.status_code == 200, behind.text
    assert login(api, totp_code=code(secret, 2)).status_code == 401
    right = login(api, totp_code=code(secret))
    assert right.status_code == 200, right.text
    assert api.client.get("/api/v1/time-entries").status_code == 200
    # A code works once: the same one, or an older one, is refused afterwards.
    replayed = login(api, totp_code=code(secret))
    assert replayed.status_code == 401
    assert problem_code(replayed) == "invalid-two-factor-code"
    assert login(api, totp_code=code(secret, -1)).status_code == 401
    assert login(api, totp_code=code(secret, 1)).status_code == 200


def test_a_recovery_code_logs_in_once(api: Api) -> None:
    _, codes, _ = enrol(api, logged_in(api))
    first = login(api, recovery_code=codes[0].upper())  # case and dashes do not matter
    assert first.status_code == 200, first.text
    again = login(api, recovery_code=codes[0])
    assert again.status_code == 401
    assert problem_code(again) == "invalid-two-factor-code"
    assert login(api, recovery_code=codes[1].replace("-", "")).status_code == 200
    assert login(api, recovery_code="aaaa-bbbb-cccc").status_code == 401


def test_wrong_codes_count_as_failed_logins(api: Api) -> None:
    secret, _, _ = enrol(api, logged_in(api))
    throttled_by_fake_time(api)
    for _ in range(5):
        assert login(api, totp_code=wrong_code(secret)).status_code == 401
    blocked = login(api, totp_code=code(secret))
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers


def test_asking_for_the_second_factor_is_not_a_failure(api: Api) -> None:
    secret, _, _ = enrol(api, logged_in(api))
    throttled_by_fake_time(api)
    for _ in range(6):
        assert problem_code(login(api)) == "two-factor-required"
    assert login(api, totp_code=code(secret)).status_code == 200


def test_turning_two_factor_off_needs_a_current_code(api: Api) -> None:
    csrf = logged_in(api)
    secret, _, _ = enrol(api, csrf)
    wrong = api.client.request(
        "DELETE", "/api/v1/session/two-factor", json={"code": wrong_code(secret)}, headers=csrf
    )
    assert wrong.status_code == 422
    assert problem_code(wrong) == "invalid-two-factor-code"
    no_csrf = api.client.request("DELETE", "/api/v1/session/two-factor", json={"code": code(secret)})
    assert problem_code(no_csrf) == "csrf-failed"
    off = api.client.request(
        "DELETE", "/api/v1/session/two-factor", json={"code": code(secret)}, headers=csrf
    )
    assert off.status_code == 204, off.text
    again = api.client.request(
        "DELETE", "/api/v1/session/two-factor", json={"code": code(secret)}, headers=csrf
    )
    assert again.status_code == 409
    assert login(api).status_code == 200


def test_enabling_twice_is_a_conflict(api: Api) -> None:
    csrf = logged_in(api)
    enrol(api, csrf)
    secret = api.client.post("/api/v1/session/two-factor/secret", headers=csrf).json()["secret"]
    answer = api.client.post(
        "/api/v1/session/two-factor", json={"secret": secret, "code": code(secret)}, headers=csrf
    )
    assert answer.status_code == 409


def test_a_repeated_idempotency_key_never_shows_codes_again(api: Api) -> None:
    headers = {**logged_in(api), "Idempotency-Key": "2fa-on"}
    enrol(api, headers)
    secret = api.client.post("/api/v1/session/two-factor/secret", headers=headers).json()["secret"]
    again = api.client.post(
        "/api/v1/session/two-factor", json={"secret": secret, "code": code(secret)}, headers=headers
    )
    assert again.status_code == 409
    assert problem_code(again) == "recovery-codes-shown"


def test_a_token_cannot_turn_two_factor_on_or_off(api: Api) -> None:
    # Even a read-only token could otherwise lock its person out of password login.
    headers = api.as_("member", scopes=("read:entries",))
    fresh = api.client.post("/api/v1/session/two-factor/secret", headers=headers)
    assert fresh.status_code == 403
    assert problem_code(fresh) == "session-required"
    secret = pyotp.random_base32()
    refused = api.client.post(
        "/api/v1/session/two-factor", json={"secret": secret, "code": code(secret)}, headers=headers
    )
    assert problem_code(refused) == "session-required"
    assert login(api).status_code == 200  # still a password login only


def test_admins_must_enrol_when_the_organization_requires_it(api: Api) -> None:
    world = api.world
    world.ledger.change_settings(
        org_id=world.org_id, changes={"require_two_factor_for_admins": True}, actor=world.owner
    )
    answer = login(api, "owner")
    assert answer.status_code == 200, answer.text
    assert answer.json()["two_factor_enrolment_required"] is True
    csrf = {"X-CSRF-Token": answer.json()["csrf_token"]}
    for method, path in [
        ("GET", "/api/v1/time-entries"),
        ("GET", "/api/v1/session"),
        ("POST", "/api/v1/clients"),
    ]:
        refused = api.client.request(method, path, headers=csrf, json={"name": "X"})
        assert refused.status_code == 403, (method, path)
        assert problem_code(refused) == "two-factor-enrolment-required"

    secret, _, enabled = enrol(api, csrf)
    assert "tl_session=" in enabled.headers["set-cookie"]
    assert api.client.get("/api/v1/time-entries").status_code == 200
    assert api.client.get("/api/v1/session").json()["two_factor_enrolment_required"] is False
    assert api.client.post("/api/v1/clients", json={"name": "Initech"}, headers=csrf).status_code == 201
    assert problem_code(login(api, "owner")) == "two-factor-required"
    assert login(api, "owner", totp_code=code(secret)).json()["two_factor_enrolment_required"] is False


def test_the_requirement_spares_managers_and_members(api: Api) -> None:
    world = api.world
    world.ledger.change_settings(
        org_id=world.org_id, changes={"require_two_factor_for_admins": True}, actor=world.owner
    )
    for who in ("manager", "member"):
        assert login(api, who).json()["two_factor_enrolment_required"] is False
        assert api.client.get("/api/v1/time-entries").status_code == 200


def test_an_incomplete_session_may_log_out(api: Api) -> None:
    api.world.ledger.change_settings(
        org_id=api.world.org_id, changes={"require_two_factor_for_admins": True}, actor=api.world.owner
    )
    login(api, "owner")
    assert api.client.delete("/api/v1/session").status_code == 204
    assert api.client.get("/api/v1/time-entries").status_code == 401


def test_the_event_log_holds_no_clear_text_secret(api: Api) -> None:
    secret, codes, _ = enrol(api, logged_in(api))
    ledger = api.world.ledger
    assert api.world.member.user_id is not None
    user = ledger.get_user(api.world.member.user_id)
    assert user is not None
    assert user.two_factor_secret is not None
    stored = [n.state for n in ledger.recorder.select_notifications(start=1, limit=1_000_000)]
    assert any(user.two_factor_secret.encode() in state for state in stored)  # the log is readable
    for state in stored:
        assert secret.encode() not in state
        assert secret.lower().encode() not in state
        for recovery in codes:
            assert recovery.encode() not in state
            assert recovery.replace("-", "").encode() not in state


def test_another_server_key_cannot_read_the_secret_but_recovery_codes_still_work(api: Api) -> None:
    secret, codes, _ = enrol(api, logged_in(api))
    api.client.app.state.secret_key = "a-different-server-key"  # type: ignore[attr-defined]
    broken = login(api, totp_code=code(secret))
    assert broken.status_code == 500
    assert problem_code(broken) == "two-factor-key-mismatch"
    assert login(api, recovery_code=codes[0]).status_code == 200
