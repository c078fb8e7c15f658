"""Timesheets and the approvals queue through HTTP, on both stores: the locks they put on entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import Api
from tests.api.test_entries import assert_problem
from tests.api.test_stream import events, frames, heartbeat_after

V1 = "/api/v1"
MONDAY = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)  # a week before the fixed clock's Friday
WEEK = "2026-11-09"


def record(api: Api, who: str, start: datetime, hours: float = 1, **body: Any) -> dict[str, Any]:
    payload = {
        "project_id": str(api.world.project_id),
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours)).isoformat(),
        **body,
    }
    response = api.request("POST", f"{V1}/time-entries", who=who, json=payload)
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


def submit(api: Api, who: str, day: str = WEEK, **body: Any) -> Any:
    return api.request("POST", f"{V1}/timesheets/submit", who=who, json={"day": day, **body})


def decide(api: Api, who: str, sheet_id: str, action: str, **kwargs: Any) -> Any:
    return api.request("POST", f"{V1}/timesheets/{sheet_id}/{action}", who=who, **kwargs)


def edit(api: Api, who: str, entry_id: str, description: str) -> Any:
    return api.request("PATCH", f"{V1}/time-entries/{entry_id}", who=who, json={"description": description})


def lock_of(api: Api, entry_id: str) -> Any:
    one = api.request("GET", f"{V1}/time-entries/{entry_id}", who="member").json()
    listed = api.request("GET", f"{V1}/time-entries", who="member").json()["items"]
    assert [e["lock"] for e in listed if e["id"] == entry_id] == [one["lock"]]
    return one["lock"]


def test_submitting_locks_the_period_for_the_member_and_approval_for_everyone(api: Api) -> None:
    entry = record(api, "member", MONDAY)["id"]
    outside = record(api, "member", MONDAY + timedelta(days=7))["id"]
    assert lock_of(api, entry) is None

    submitted = submit(api, "member", note="All of it")
    assert submitted.status_code == 200, submitted.text
    sheet = submitted.json()
    assert (sheet["state"], sheet["first_day"], sheet["last_day"]) == ("submitted", WEEK, "2026-11-15")
    assert (sheet["note"], sheet["entry_count"], sheet["member_id"]) == (
        "All of it",
        1,
        str(api.world.member.user_id),
    )
    assert lock_of(api, entry) == "submitted"
    assert lock_of(api, outside) is None
    assert_problem(edit(api, "member", entry, "late fix"), 409, "locked")
    assert edit(api, "member", outside, "next week is free").status_code == 200
    # While it waits for a decision a manager may still correct it.
    corrected = edit(api, "manager", entry, "manager's correction")
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["lock"] == "submitted"

    approved = decide(api, "manager", sheet["id"], "approve", json={"note": "Thanks"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["reason"], approved.json()["decided_by"]) == (
        "approved",
        "Thanks",
        str(api.world.manager.user_id),
    )
    assert lock_of(api, entry) == "approved"
    for who in ("member", "manager", "owner"):
        assert_problem(edit(api, who, entry, "too late"), 409, "locked")
    assert_problem(
        api.request(
            "POST",
            f"{V1}/time-entries",
            who="member",
            json={
                "project_id": str(api.world.project_id),
                "start": (MONDAY + timedelta(days=2)).isoformat(),
                "duration_seconds": 600,
            },
        ),
        409,
        "locked",
    )

    reopened = decide(api, "manager", sheet["id"], "reopen", json={"reason": "One more fix"})
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["state"], reopened.json()["reason"]) == ("open", "One more fix")
    assert lock_of(api, entry) is None
    fixed = edit(api, "member", entry, "fixed after reopening")
    assert fixed.status_code == 200, fixed.text

    detail = api.request("GET", f"{V1}/timesheets/{sheet['id']}", who="member").json()
    assert [(h["event_type"], h["actor_name"], h["comment"]) for h in detail["history"]] == [
        ("Timesheet.Opened", "Mia Member", ""),
        ("Timesheet.Submitted", "Mia Member", "All of it"),
        ("Timesheet.Approved", "Max Manager", "Thanks"),
        ("Timesheet.Reopened", "Max Manager", "One more fix"),
    ]
    assert detail["version"] == 4
    assert detail["total_seconds"] == 3600


def test_who_may_decide(api: Api) -> None:
    own = submit(api, "manager").json()
    assert_problem(decide(api, "manager", own["id"], "approve"), 403, "forbidden")
    assert api.request("GET", f"{V1}/timesheets/{own['id']}", who="manager").json()["state"] == "submitted"
    assert decide(api, "owner", own["id"], "approve").json()["state"] == "approved"

    theirs = submit(api, "member").json()
    assert_problem(decide(api, "member", theirs["id"], "approve"), 403, "missing-scope")
    assert_problem(decide(api, "member", theirs["id"], "reopen"), 403, "missing-scope")
    assert_problem(decide(api, "owner", own["id"], "approve"), 409, "workflow-state")
    # Nor may a member submit someone else's timesheet.
    assert_problem(submit(api, "member", member_id=str(api.world.manager.user_id)), 403, "forbidden")


def test_rejecting_needs_a_reason_that_the_member_sees(api: Api) -> None:
    record(api, "member", MONDAY)
    sheet = submit(api, "member").json()
    missing = decide(api, "manager", sheet["id"], "reject", json={})
    assert_problem(missing, 422, "invalid-input")
    assert missing.json()["field"] == "reason"
    blank = decide(api, "manager", sheet["id"], "reject", json={"reason": "   "})
    assert_problem(blank, 422, "invalid-input")
    rejected = decide(api, "manager", sheet["id"], "reject", json={"reason": "Monday lacks a task"})
    assert rejected.status_code == 200, rejected.text
    seen = api.request("GET", f"{V1}/timesheets/{sheet['id']}", who="member").json()
    assert (seen["state"], seen["reason"]) == ("rejected", "Monday lacks a task")
    again = submit(api, "member", note="Fixed")
    assert (again.json()["id"], again.json()["state"], again.json()["reason"]) == (
        sheet["id"],
        "submitted",
        "",
    )
    assert_problem(submit(api, "member"), 409, "workflow-state")


def test_members_see_only_their_own_timesheets(api: Api) -> None:
    mine = submit(api, "member").json()
    boss = submit(api, "manager").json()
    assert_problem(api.request("GET", f"{V1}/timesheets/{boss['id']}", who="member"), 404, "not-found")
    listed = api.request("GET", f"{V1}/timesheets", who="member").json()
    assert [s["id"] for s in listed["items"]] == [mine["id"]]
    other = api.request(
        "GET", f"{V1}/timesheets", who="member", params={"member_id": str(api.world.manager.user_id)}
    )
    assert other.json() == {"items": [], "next_cursor": None}
    assert_problem(
        api.request(
            "GET",
            f"{V1}/timesheets/period",
            who="member",
            params={"day": WEEK, "member_id": str(api.world.manager.user_id)},
        ),
        403,
        "forbidden",
    )
    everyone = api.request("GET", f"{V1}/timesheets", who="manager").json()
    assert {s["id"] for s in everyone["items"]} == {mine["id"], boss["id"]}
    assert_problem(
        decide(api, "manager", "00000000-0000-0000-0000-000000000001", "approve"), 404, "not-found"
    )


def test_list_filters_and_pages(api: Api) -> None:
    ids = []
    for weeks in range(3):
        day = (MONDAY - timedelta(weeks=weeks)).date().isoformat()
        ids.append(submit(api, "member", day=day).json()["id"])
    decide(api, "owner", ids[1], "approve")
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.request("GET", f"{V1}/timesheets", who="member", params=params).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids  # the latest period first
    approved = api.request("GET", f"{V1}/timesheets", params={"state": "approved"}).json()
    assert [s["id"] for s in approved["items"]] == [ids[1]]
    window = api.request("GET", f"{V1}/timesheets", params={"from": "2026-11-08", "to": "2026-11-09"}).json()
    assert {s["id"] for s in window["items"]} == {ids[0], ids[1]}
    bad = api.request("GET", f"{V1}/timesheets", params={"cursor": "nonsense"})
    assert_problem(bad, 400, "invalid-cursor")


def test_the_approvals_queue_shows_what_the_caller_may_decide_oldest_first(api: Api) -> None:
    clock = api.world.clock
    record(api, "member", MONDAY, hours=2)
    record(api, "member", MONDAY + timedelta(days=1), hours=1.5)
    record(api, "manager", MONDAY, hours=3)
    member_sheet = submit(api, "member").json()
    clock.advance(60)
    manager_sheet = submit(api, "manager").json()
    clock.advance(60)
    owner_sheet = submit(api, "owner").json()
    clock.advance(60)
    earlier = submit(api, "member", day="2026-11-02").json()  # submitted last, waits least

    queue = api.request("GET", f"{V1}/approvals", who="manager").json()
    assert [(s["id"], s["member_name"], s["total_seconds"]) for s in queue["items"]] == [
        (member_sheet["id"], "Mia Member", int(3.5 * 3600)),
        (owner_sheet["id"], "Olive Owner", 0),
        (earlier["id"], "Mia Member", 0),
    ]
    owners = api.request("GET", f"{V1}/approvals", who="owner", params={"limit": 2}).json()
    assert [s["id"] for s in owners["items"]] == [member_sheet["id"], manager_sheet["id"]]
    rest = api.request("GET", f"{V1}/approvals", who="owner", params={"cursor": owners["next_cursor"]}).json()
    assert [s["id"] for s in rest["items"]] == [owner_sheet["id"], earlier["id"]]
    assert rest["next_cursor"] is None
    assert_problem(api.request("GET", f"{V1}/approvals", who="member"), 403, "missing-scope")

    decide(api, "manager", member_sheet["id"], "approve")
    decide(api, "manager", earlier["id"], "reject", json={"reason": "Empty week"})
    queue = api.request("GET", f"{V1}/approvals", who="manager").json()
    assert [s["id"] for s in queue["items"]] == [owner_sheet["id"]]


def test_the_period_of_a_day_before_and_after_submitting(api: Api) -> None:
    record(api, "member", MONDAY + timedelta(days=6, hours=14), hours=0.5)  # Sunday 23:00-23:30
    before = api.request("GET", f"{V1}/timesheets/period", who="member", params={"day": "2026-11-12"})
    assert before.status_code == 200, before.text
    period = before.json()
    assert (period["state"], period["exists"], period["version"]) == ("open", False, None)
    assert (period["first_day"], period["last_day"], period["total_seconds"]) == (WEEK, "2026-11-15", 1800)
    assert period["start"] == "2026-11-09T00:00:00Z"
    sheet = submit(api, "member", day="2026-11-15").json()
    assert sheet["id"] == period["id"]
    after = api.request("GET", f"{V1}/timesheets/period", who="member", params={"day": WEEK}).json()
    assert (after["state"], after["exists"], after["version"]) == ("submitted", True, sheet["version"])
    managers = api.request(
        "GET",
        f"{V1}/timesheets/period",
        who="manager",
        params={"day": WEEK, "member_id": str(api.world.member.user_id)},
    ).json()
    assert (managers["id"], managers["total_seconds"]) == (sheet["id"], 1800)
    too_early = api.request("GET", f"{V1}/timesheets/period", params={"day": "1066-10-14"})
    assert_problem(too_early, 422, "invalid-input")


def test_a_repeated_approval_answers_as_the_first_and_changes_nothing(api: Api) -> None:
    sheet = submit(api, "member").json()
    key = {"Idempotency-Key": "approve-once-7f3a"}
    first = decide(api, "manager", sheet["id"], "approve", json={"note": "ok"}, headers=key)
    assert first.status_code == 200, first.text
    head = api.world.ledger.head_position()
    again = decide(api, "manager", sheet["id"], "approve", json={"note": "ok"}, headers=key)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.world.ledger.head_position() == head
    # Even after the timesheet moved on, the key answers what it did the first time.
    decide(api, "manager", sheet["id"], "reopen")
    later = decide(api, "manager", sheet["id"], "approve", json={"note": "ok"}, headers=key)
    assert later.json() == first.json()
    other = decide(api, "manager", sheet["id"], "approve", json={"note": "changed"}, headers=key)
    assert_problem(other, 422, "idempotency-key-reused")
    current = api.request("GET", f"{V1}/timesheets/{sheet['id']}", who="manager").json()
    assert current["state"] == "open"


def test_the_stream_shows_a_member_their_own_timesheets_and_never_the_week_locks(api: Api) -> None:
    api.client.app.state.stream_heartbeat = 0.1  # type: ignore[attr-defined]
    mine = submit(api, "member").json()
    theirs = submit(api, "manager").json()
    decide(api, "owner", theirs["id"], "approve")
    head = api.world.ledger.head_position()
    seen = {}
    for who in ("member", "manager"):
        with api.client.websocket_connect(f"{V1}/stream?after=0", headers=api.as_(who)) as ws:
            got = events(frames(ws, heartbeat_after(head)))
        seen[who] = [
            (f["aggregate_id"], f["event_type"]) for f in got if f["event_type"].startswith("Timesheet.")
        ]
        assert not any(f["event_type"].startswith("MemberWeek.") for f in got)
    assert seen["member"] == [(mine["id"], "Timesheet.Opened"), (mine["id"], "Timesheet.Submitted")]
    assert {sheet for sheet, _ in seen["manager"]} == {mine["id"], theirs["id"]}
    assert (theirs["id"], "Timesheet.Approved") in seen["manager"]
