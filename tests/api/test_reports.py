"""`/reports/summary`: sums of real entries, worked out by hand, grouped by every dimension.

The organization's rate is 60.00/h (6000 minor units); project "Internal" (no
client) bills 90.00/h. The entries, in the organization's timezone (UTC):

| entry | who     | project  | task   | tags          | when                   | seconds | billable | amount |
|-------|---------|----------|--------|---------------|------------------------|---------|----------|--------|
| e1    | member  | Website  | Design | design,urgent | Mon 16 Nov 09:00-11:00 | 7200    | 7200     | 12000  |
| e2    | member  | Website  | -      | -             | Tue 17 Nov 10:00-10:30 | 1800    | 0 (no)   | 0      |
| e3    | manager | Website  | -      | design        | Wed 18 Nov 13:00-14:00 | 3600    | 3600     | 6000   |
| e4    | manager | Internal | -      | -             | Mon  2 Nov 08:00-09:00 | 3600    | 3600     | 9000   |
| e5    | member  | Website  | -      | urgent        | Sun  1 Nov 15:00-15:15 | 900     | 900      | 1500   |
| e6    | member  | Website  | -      | -             | Fri 30 Oct 12:00-13:00 | 3600    | 3600     | 6000   |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from tests.api.conftest import Api

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
PROBLEM = "application/problem+json"
SCOPES = {
    "owner": ("admin",),
    "manager": ("read:reports", "write:entries"),
    "member": ("read:reports", "write:entries"),
}


def as_(api: Api, who: str) -> dict[str, str]:
    """Headers of a (cached) token of `who` that may write entries and read reports."""
    key = f"reports:{who}"
    if key not in api.tokens:
        api.tokens[key] = api.token(who, SCOPES[who])
    return {"Authorization": f"Bearer {api.tokens[key]}"}


@dataclass
class Report:
    api: Api
    internal: str
    entries: dict[str, str]

    def summary(self, group_by: str, who: str = "manager", **params: Any) -> dict[str, Any]:
        query = {**NOVEMBER, "group_by": group_by, **params}
        r = self.api.client.get("/api/v1/reports/summary", headers=as_(self.api, who), params=query)
        assert r.status_code == 200, r.text
        return r.json()


def record(api: Api, who: str, start: str, end: str, **fields: Any) -> str:
    body = {"project_id": str(api.world.project_id), "start": start, "end": end, **fields}
    r = api.client.post("/api/v1/time-entries", headers=as_(api, who), json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
def report(api: Api) -> Report:
    world = api.world
    ledger, owner = world.ledger, world.owner
    internal = ledger.create_project(org_id=world.org_id, name="Internal", actor=owner).id
    since = date(2026, 1, 1)
    ledger.set_rate(
        org_id=world.org_id, level="organization", amount_minor=6000, effective_from=since, actor=owner
    )
    ledger.set_rate(
        org_id=world.org_id,
        level="project",
        project_id=internal,
        amount_minor=9000,
        effective_from=since,
        actor=owner,
    )
    task = str(world.task_id)
    entries = {
        "e1": record(
            api,
            "member",
            "2026-11-16T09:00:00Z",
            "2026-11-16T11:00:00Z",
            task_id=task,
            tags=["design", "urgent"],
        ),
        "e2": record(api, "member", "2026-11-17T10:00:00Z", "2026-11-17T10:30:00Z", billable=False),
        "e3": record(api, "manager", "2026-11-18T13:00:00Z", "2026-11-18T14:00:00Z", tags=["design"]),
        "e4": record(
            api, "manager", "2026-11-02T08:00:00Z", "2026-11-02T09:00:00Z", project_id=str(internal)
        ),
        "e5": record(api, "member", "2026-11-01T15:00:00Z", "2026-11-01T15:15:00Z", tags=["urgent"]),
        "e6": record(api, "member", "2026-10-30T12:00:00Z", "2026-10-30T13:00:00Z"),
    }
    return Report(api, str(internal), entries)


def sums(seconds: int, billable: int, amount: int) -> dict[str, int]:
    return {"seconds": seconds, "billable_seconds": billable, "billable_amount_minor": amount}


def rows(found: dict[str, Any]) -> list[tuple[tuple[Any, ...], dict[str, int]]]:
    return [
        (tuple(row["keys"].values()), {k: v for k, v in row.items() if k != "keys"}) for row in found["rows"]
    ]


def in_order(expected: dict[tuple[Any, ...], dict[str, int]]) -> list[tuple[tuple[Any, ...], dict[str, int]]]:
    """Rows as the API orders them: by key text, nulls last."""
    return sorted(expected.items(), key=lambda kv: tuple((k is None, k or "") for k in kv[0]))


NOVEMBER_TOTAL = sums(17100, 15300, 28500)


def test_summary_by_project_sums_hours_and_money(report: Report) -> None:
    world = report.api.world
    found = report.summary("project")
    assert found["from"] == "2026-11-01"
    assert found["to"] == "2026-11-30"
    assert found["currency"] == "EUR"
    assert found["group_by"] == ["project"]
    assert [list(row["keys"]) for row in found["rows"]] == [["project_id"], ["project_id"]]
    assert rows(found) == in_order(
        {(str(world.project_id),): sums(13500, 11700, 19500), (report.internal,): sums(3600, 3600, 9000)}
    )
    assert found["total"] == NOVEMBER_TOTAL


def test_summary_by_member_client_and_task(report: Report) -> None:
    world = report.api.world
    member, manager = str(world.member.user_id), str(world.manager.user_id)
    assert rows(report.summary("member")) == in_order(
        {(member,): sums(9900, 8100, 13500), (manager,): sums(7200, 7200, 15000)}
    )
    # "Internal" has no client: its time goes under client null, listed last.
    assert rows(report.summary("client")) == [
        ((str(world.client_id),), sums(13500, 11700, 19500)),
        ((None,), sums(3600, 3600, 9000)),
    ]
    assert rows(report.summary("task")) == [
        ((str(world.task_id),), sums(7200, 7200, 12000)),
        ((None,), sums(9900, 8100, 16500)),
    ]


def test_summary_by_tag_counts_an_entry_under_each_of_its_tags(report: Report) -> None:
    found = report.summary("tag")
    assert rows(found) == [
        (("design",), sums(10800, 10800, 18000)),
        (("urgent",), sums(8100, 8100, 13500)),
        ((None,), sums(5400, 3600, 9000)),
    ]
    # The total counts each entry once, so it is less than the rows' sum.
    assert found["total"] == NOVEMBER_TOTAL


def test_summary_by_tag_and_member_nests_in_the_order_given(report: Report) -> None:
    world = report.api.world
    member, manager = str(world.member.user_id), str(world.manager.user_id)
    found = report.summary("tag,member")
    assert found["group_by"] == ["tag", "member"]
    assert all(list(row["keys"]) == ["tag", "member_id"] for row in found["rows"])
    assert rows(found) == in_order(
        {
            ("design", member): sums(7200, 7200, 12000),
            ("design", manager): sums(3600, 3600, 6000),
            ("urgent", member): sums(8100, 8100, 13500),
            (None, member): sums(1800, 0, 0),
            (None, manager): sums(3600, 3600, 9000),
        }
    )


def test_summary_by_day_week_and_month(report: Report) -> None:
    assert rows(report.summary("day")) == [
        (("2026-11-01",), sums(900, 900, 1500)),
        (("2026-11-02",), sums(3600, 3600, 9000)),
        (("2026-11-16",), sums(7200, 7200, 12000)),
        (("2026-11-17",), sums(1800, 0, 0)),
        (("2026-11-18",), sums(3600, 3600, 6000)),
    ]
    # Weeks start on Monday by default: Sunday 1 Nov belongs to the week of 26 Oct.
    assert rows(report.summary("week")) == [
        (("2026-10-26",), sums(900, 900, 1500)),
        (("2026-11-02",), sums(3600, 3600, 9000)),
        (("2026-11-16",), sums(12600, 10800, 18000)),
    ]
    found = report.summary("month", **{"from": "2026-10-01"})
    assert rows(found) == [
        (("2026-10-01",), sums(3600, 3600, 6000)),
        (("2026-11-01",), NOVEMBER_TOTAL),
    ]
    assert found["total"] == sums(20700, 18900, 34500)


def test_weeks_follow_the_organizations_week_start(report: Report) -> None:
    world = report.api.world
    world.ledger.change_settings(org_id=world.org_id, changes={"week_start": "sunday"}, actor=world.owner)
    assert rows(report.summary("week")) == [
        (("2026-11-01",), sums(4500, 4500, 10500)),
        (("2026-11-15",), sums(12600, 10800, 18000)),
    ]
    assert rows(report.summary("week,tag")) == [
        (("2026-11-01", "urgent"), sums(900, 900, 1500)),
        (("2026-11-01", None), sums(3600, 3600, 9000)),
        (("2026-11-15", "design"), sums(10800, 10800, 18000)),
        (("2026-11-15", "urgent"), sums(7200, 7200, 12000)),
        (("2026-11-15", None), sums(1800, 0, 0)),
    ]


def test_a_range_counts_only_its_own_days(report: Report) -> None:
    one_day = {"from": "2026-11-16", "to": "2026-11-16"}
    for group_by in ("project", "tag"):
        found = report.summary(group_by, **one_day)
        assert found["total"] == sums(7200, 7200, 12000)
    assert rows(report.summary("tag", **one_day)) == [
        (("design",), sums(7200, 7200, 12000)),
        (("urgent",), sums(7200, 7200, 12000)),
    ]
    empty = report.summary("tag,day", **{"from": "2026-11-03", "to": "2026-11-15"})
    assert empty["rows"] == []
    assert empty["total"] == sums(0, 0, 0)


def test_a_member_sees_only_their_own_time(report: Report) -> None:
    world = report.api.world
    found = report.summary("member,project", who="member")
    assert rows(found) == [((str(world.member.user_id), str(world.project_id)), sums(9900, 8100, 13500))]
    assert found["total"] == sums(9900, 8100, 13500)
    assert rows(report.summary("tag", who="member")) == [
        (("design",), sums(7200, 7200, 12000)),
        (("urgent",), sums(8100, 8100, 13500)),
        ((None,), sums(1800, 0, 0)),
    ]
    assert report.summary("project", who="owner")["total"] == NOVEMBER_TOTAL


def test_deleted_entries_do_not_count(report: Report) -> None:
    api = report.api
    assert (
        api.client.delete(
            f"/api/v1/time-entries/{report.entries['e1']}", headers=as_(api, "member")
        ).status_code
        == 200
    )
    assert rows(report.summary("tag")) == [
        (("design",), sums(3600, 3600, 6000)),
        (("urgent",), sums(900, 900, 1500)),
        ((None,), sums(5400, 3600, 9000)),
    ]
    assert report.summary("day")["total"] == sums(9900, 8100, 16500)


def test_days_are_the_organizations_local_days(api: Api) -> None:
    world = api.world
    world.ledger.change_settings(
        org_id=world.org_id, changes={"timezone": "Europe/Berlin"}, actor=world.owner
    )
    world.ledger.set_rate(
        org_id=world.org_id,
        level="organization",
        amount_minor=6000,
        effective_from=date(2026, 1, 1),
        actor=world.owner,
    )
    # 22:30-23:30 UTC is 23:30-00:30 in Berlin: half on the 16th, half on the 17th.
    record(api, "member", "2026-11-16T22:30:00Z", "2026-11-16T23:30:00Z", tags=["late"])
    params = {"group_by": "day,tag", "from": "2026-11-16", "to": "2026-11-17"}
    found = api.request("GET", "/api/v1/reports/summary", params=params).json()
    assert rows(found) == [
        (("2026-11-16", "late"), sums(1800, 1800, 3000)),
        (("2026-11-17", "late"), sums(1800, 1800, 3000)),
    ]
    only_17th = api.request("GET", "/api/v1/reports/summary", params={**params, "from": "2026-11-17"}).json()
    assert rows(only_17th) == [(("2026-11-17", "late"), sums(1800, 1800, 3000))]
    assert only_17th["total"] == sums(1800, 1800, 3000)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01", "group_by": "day"}, "to"),
        ({"from": "2026-01-01", "to": "2027-01-02", "group_by": "day"}, "to"),
        ({"from": "2026-11-01", "to": "2026-11-30", "group_by": "day,colour"}, "group_by"),
        ({"from": "2026-11-01", "to": "2026-11-30", "group_by": "day,day"}, "group_by"),
        ({"from": "2026-11-01", "to": "2026-11-30", "group_by": ""}, "group_by"),
        ({"from": "2026-11-01", "to": "2026-11-30"}, "group_by"),
        ({"from": "1 Nov", "to": "2026-11-30", "group_by": "day"}, "from"),
        ({"from": "2026-11-01", "to": "2026-13-01", "group_by": "day"}, "to"),
        ({"to": "2026-11-30", "group_by": "day"}, "from"),
        ({"from": "0001-01-01", "to": "0001-01-02", "group_by": "week"}, "from"),
        ({"from": "9999-12-30", "to": "9999-12-31", "group_by": "week"}, "from"),
    ],
)
def test_invalid_parameters_are_422_naming_the_field(api: Api, params: dict[str, str], field: str) -> None:
    r = api.request("GET", "/api/v1/reports/summary", params=params)
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["field"] == field


def test_a_span_of_366_days_is_allowed(api: Api) -> None:
    params = {"from": "2026-01-01", "to": "2027-01-01", "group_by": "month"}
    found = api.request("GET", "/api/v1/reports/summary", params=params)
    assert found.status_code == 200
    assert found.json()["rows"] == []


def test_reports_need_the_read_reports_scope(api: Api) -> None:
    token = api.token("manager", ("read:entries",))
    params = {**NOVEMBER, "group_by": "day"}
    r = api.client.get("/api/v1/reports/summary", params=params, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert r.json()["type"] == "https://timeledger.dev/problems/missing-scope"
    allowed = api.token("member", ("read:reports",))
    ok = api.client.get("/api/v1/reports/summary", params=params, headers={"X-API-Key": allowed})
    assert ok.status_code == 200
