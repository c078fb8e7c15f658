"""The timer and time-entry endpoints, through HTTP, on both stores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api.conftest import Api
from tests.conftest import NOW

V1 = "/api/v1"
PROBLEM = "application/problem+json"


def iso(delta_hours: float) -> str:
    return (NOW + timedelta(hours=delta_hours)).isoformat()


def record(api: Api, who: str = "owner", **body: Any) -> Any:
    payload = {"project_id": str(api.world.project_id), "start": iso(-3), "end": iso(-2), **body}
    return api.request("POST", f"{V1}/time-entries", who=who, json=payload)


def assert_problem(response: Any, status: int, type_suffix: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/" + type_suffix), body
    assert body["status"] == status
    assert body["detail"]
    return body


def test_timer_start_pause_resume_stop_counts_only_worked_time(api: Api) -> None:
    clock = api.world.clock
    assert api.request("GET", f"{V1}/timer").json() is None
    started = api.request("POST", f"{V1}/timer/start", json={"project_id": str(api.world.project_id)})
    assert started.status_code == 201
    entry = started.json()
    assert entry["end"] is None
    assert entry["status"] == "running"
    assert started.headers["ETag"] == '"1"'
    clock.advance(600)
    assert api.request("POST", f"{V1}/timer/pause").json()["status"] == "paused"
    clock.advance(300)
    assert api.request("POST", f"{V1}/timer/resume").json()["status"] == "running"
    clock.advance(600)
    running = api.request("GET", f"{V1}/timer").json()
    assert running["id"] == entry["id"]
    assert running["duration_seconds"] == 1200
    stopped = api.request("POST", f"{V1}/timer/stop")
    assert stopped.status_code == 200
    assert stopped.json()["duration_seconds"] == 1200
    assert stopped.json()["end"] == (NOW + timedelta(seconds=1500)).isoformat().replace("+00:00", "Z")
    assert api.request("GET", f"{V1}/timer").json() is None


def test_starting_a_timer_stops_the_running_one_at_the_same_instant(api: Api) -> None:
    first = api.request("POST", f"{V1}/timer/start", json={"project_id": str(api.world.project_id)}).json()
    api.world.clock.advance(900)
    second = api.request("POST", f"{V1}/timer/start", json={"project_id": str(api.world.project_id)}).json()
    old = api.request("GET", f"{V1}/time-entries/{first['id']}").json()
    assert old["end"] == second["start"]
    assert old["duration_seconds"] == 900


def test_stop_without_a_running_timer_is_a_problem(api: Api) -> None:
    assert_problem(api.request("POST", f"{V1}/timer/stop"), 409, "no-running-timer")


def test_continue_copies_the_entry_into_a_new_running_one(api: Api) -> None:
    done = record(api, description="Design review", tags=["ux"], task_id=str(api.world.task_id)).json()
    response = api.request("POST", f"{V1}/time-entries/{done['id']}/continue")
    assert response.status_code == 201
    copy = response.json()
    assert copy["id"] != done["id"]
    assert copy["end"] is None
    assert (copy["description"], copy["tags"], copy["task_id"]) == ("Design review", ["ux"], done["task_id"])


def test_manual_entry_by_end_or_duration_and_break(api: Api) -> None:
    by_end = record(api, break_minutes=15)
    assert by_end.status_code == 201
    assert by_end.json()["duration_seconds"] == 3600 - 900
    by_duration = record(api, start=iso(-6), end=None, duration_seconds=1800)
    assert by_duration.status_code == 201
    assert by_duration.json()["end"] == (
        NOW - timedelta(hours=6) + timedelta(seconds=1800)
    ).isoformat().replace("+00:00", "Z")


def test_list_filters_and_pages_through_every_entry_once(api: Api) -> None:
    ids = [
        record(api, start=iso(-100 + i), end=iso(-99.5 + i), tags=["odd"] if i % 2 else []).json()["id"]
        for i in range(7)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.request("GET", f"{V1}/time-entries", params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
    tagged = api.request("GET", f"{V1}/time-entries", params={"tag": "odd"}).json()["items"]
    assert sorted(e["id"] for e in tagged) == sorted(ids[1::2])
    window = api.request("GET", f"{V1}/time-entries", params={"from": iso(-98), "to": iso(-95)}).json()[
        "items"
    ]
    assert sorted(e["id"] for e in window) == sorted(ids[2:5])


def test_a_member_sees_only_their_own_entries_and_a_manager_sees_everyone(api: Api) -> None:
    mine = record(api, who="member").json()
    theirs = record(api, who="owner", start=iso(-10), end=iso(-9)).json()
    listed = api.request("GET", f"{V1}/time-entries", who="member").json()["items"]
    assert [e["id"] for e in listed] == [mine["id"]]
    assert_problem(api.request("GET", f"{V1}/time-entries/{theirs['id']}", who="member"), 404, "not-found")
    by_manager = api.request("GET", f"{V1}/time-entries", who="manager").json()["items"]
    assert {e["id"] for e in by_manager} == {mine["id"], theirs["id"]}


def test_patch_with_if_match_and_a_stale_etag_changes_nothing(api: Api) -> None:
    created = record(api)
    entry_id, etag = created.json()["id"], created.headers["ETag"]
    edited = api.request(
        "PATCH", f"{V1}/time-entries/{entry_id}", json={"description": "first"}, headers={"If-Match": etag}
    )
    assert edited.status_code == 200
    assert edited.json()["version"] == 2
    stale = api.request(
        "PATCH", f"{V1}/time-entries/{entry_id}", json={"description": "second"}, headers={"If-Match": etag}
    )
    body = assert_problem(stale, 412, "stale-version")
    assert body["current_version"] == 2
    now = api.request("GET", f"{V1}/time-entries/{entry_id}")
    assert now.json()["description"] == "first"
    assert now.headers["ETag"] == '"2"'


def test_patch_clears_the_task_only_when_asked(api: Api) -> None:
    entry_id = record(api, task_id=str(api.world.task_id)).json()["id"]
    kept = api.request("PATCH", f"{V1}/time-entries/{entry_id}", json={"description": "x"}).json()
    assert kept["task_id"] == str(api.world.task_id)
    cleared = api.request("PATCH", f"{V1}/time-entries/{entry_id}", json={"task_id": None}).json()
    assert cleared["task_id"] is None


def test_delete_and_restore(api: Api) -> None:
    entry_id = record(api).json()["id"]
    deleted = api.request("DELETE", f"{V1}/time-entries/{entry_id}")
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "deleted"
    assert entry_id not in [e["id"] for e in api.request("GET", f"{V1}/time-entries").json()["items"]]
    restored = api.request("POST", f"{V1}/time-entries/{entry_id}/restore")
    assert restored.json()["status"] == "stopped"
    assert entry_id in [e["id"] for e in api.request("GET", f"{V1}/time-entries").json()["items"]]


def test_history_names_every_event_with_its_actor_device_and_command(api: Api) -> None:
    entry_id = record(api).json()["id"]
    api.request(
        "PATCH",
        f"{V1}/time-entries/{entry_id}",
        json={"description": "fixed"},
        headers={"X-Device-Id": "laptop-7", "Idempotency-Key": "edit-1"},
    )
    history = api.request("GET", f"{V1}/time-entries/{entry_id}/history").json()
    assert [h["event_type"] for h in history] == ["TimeEntry.Recorded", "TimeEntry.Edited"]
    last = history[-1]
    assert (last["actor_kind"], last["device_id"], last["command_id"]) == ("token", "laptop-7", "edit-1")
    assert last["actor_user_id"] == str(api.world.owner.user_id)
    assert last["data"]["description"] == "fixed"


def test_the_same_idempotency_key_twice_creates_one_entry_and_the_same_body(api: Api) -> None:
    headers = {"Idempotency-Key": "manual-42"}
    payload = {"project_id": str(api.world.project_id), "start": iso(-5), "end": iso(-4)}
    first = api.request("POST", f"{V1}/time-entries", json=payload, headers=headers)
    api.request("PATCH", f"{V1}/time-entries/{first.json()['id']}", json={"description": "later edit"})
    second = api.request("POST", f"{V1}/time-entries", json=payload, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    items = api.request("GET", f"{V1}/time-entries").json()["items"]
    assert len(items) == 1
    other = api.request("POST", f"{V1}/time-entries", json={**payload, "start": iso(-8)}, headers=headers)
    assert_problem(other, 422, "idempotency-key-reused")


def test_bad_input_is_a_problem_naming_the_field_and_appends_nothing(api: Api) -> None:
    existing = record(api).json()["id"]  # mint the token and one entry first: those are events too
    head = api.world.ledger.head_position()
    naive = record(api, start="2026-11-20T09:00:00")
    assert assert_problem(naive, 422, "invalid-input")["field"] == "start"
    backwards = record(api, start=iso(-1), end=iso(-2))
    assert assert_problem(backwards, 422, "invalid-input")["field"] == "end"
    unknown = record(api, colour="red")
    assert assert_problem(unknown, 422, "invalid-input")["field"] == "colour"
    not_uuid = api.request("GET", f"{V1}/time-entries/not-a-uuid")
    assert assert_problem(not_uuid, 422, "invalid-input")["field"] == "entry_id"
    bad_cursor = api.request("GET", f"{V1}/time-entries", params={"cursor": "nonsense"})
    assert assert_problem(bad_cursor, 400, "invalid-cursor")["field"] == "cursor"
    bad_key = api.request("POST", f"{V1}/timer/stop", headers={"Idempotency-Key": "a b"})
    assert_problem(bad_key, 400, "invalid-idempotency-key")
    bad_etag = api.request("DELETE", f"{V1}/time-entries/{existing}", headers={"If-Match": "abc"})
    assert assert_problem(bad_etag, 400, "invalid-if-match")["field"] == "If-Match"
    assert api.world.ledger.head_position() == head


def test_tokens_authenticate_by_bearer_or_api_key_and_bad_ones_are_refused(api: Api) -> None:
    token = api.token("owner", ("read:entries",))
    assert api.client.get(f"{V1}/timer", headers={"X-API-Key": token}).status_code == 200
    assert api.client.get(f"{V1}/timer", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert_problem(api.client.get(f"{V1}/timer"), 401, "not-authenticated")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_problem(api.client.get(f"{V1}/timer", headers={"X-API-Key": forged}), 401, "invalid-token")
    read_only = {"X-API-Key": token}
    refused = api.client.post(
        f"{V1}/timer/start", headers=read_only, json={"project_id": str(api.world.project_id)}
    )
    assert assert_problem(refused, 403, "missing-scope")["required_scope"] == "write:entries"


def test_rate_limit_answers_429_with_retry_after(make_api: Any) -> None:
    limited = make_api(rate_limit=3)
    headers = limited.as_("owner")
    statuses = [limited.client.get(f"{V1}/timer", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    last = limited.client.get(f"{V1}/timer", headers=headers)
    assert_problem(last, 429, "rate-limited")
    assert int(last.headers["Retry-After"]) >= 1


def test_another_organizations_entry_is_not_found_and_unchanged(api: Api) -> None:
    entry_id = record(api).json()["id"]
    ledger = api.world.ledger
    other = ledger.create_organization(
        name="Other", owner_email="boss@other.test", owner_name="Boss", owner_password="boss-password"
    )
    from ledger.actors import Actor

    secret = ledger.issue_token(
        org_id=other.id,
        name="b",
        scopes=["admin"],
        user_id=other.related[0],
        actor=Actor.user(other.related[0]),
    ).secret
    outsider = {"X-API-Key": secret or ""}
    for method, path in [
        ("GET", f"{V1}/time-entries/{entry_id}"),
        ("PATCH", f"{V1}/time-entries/{entry_id}"),
        ("DELETE", f"{V1}/time-entries/{entry_id}"),
        ("POST", f"{V1}/time-entries/{entry_id}/restore"),
        ("POST", f"{V1}/time-entries/{entry_id}/continue"),
        ("GET", f"{V1}/time-entries/{entry_id}/history"),
    ]:
        kwargs: dict[str, Any] = {"json": {"description": "hijack"}} if method == "PATCH" else {}
        assert_problem(api.client.request(method, path, headers=outsider, **kwargs), 404, "not-found")
    assert api.client.get(f"{V1}/time-entries", headers=outsider).json()["items"] == []
    after = api.request("GET", f"{V1}/time-entries/{entry_id}").json()
    assert after["version"] == 1
    assert after["description"] == ""


def test_the_api_reference_page_and_its_assets_come_from_the_app(api: Api) -> None:
    page = api.client.get("/api/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text
    for asset in ("/api/docs/assets/swagger-ui-bundle.js", "/api/docs/assets/swagger-ui.css"):
        assert asset in page.text
        answer = api.client.get(asset)
        assert answer.status_code == 200
        assert len(answer.content) > 100_000
    assert api.client.get("/api/openapi.json").json()["openapi"].startswith("3.")
