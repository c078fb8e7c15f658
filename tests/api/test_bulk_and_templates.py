"""Bulk actions (all entries or none) and entry templates, through HTTP on both stores."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.api.test_entries import V1, assert_problem, iso, record


def entries_by_id(api: Api, who: str = "owner") -> dict[str, dict[str, Any]]:
    items = api.request("GET", f"{V1}/time-entries", who=who, params={"limit": 500}).json()["items"]
    return {item["id"]: item for item in items}


def test_bulk_set_billable_and_tags_change_every_entry_in_one_append(api: Api) -> None:
    ids = [record(api, start=iso(-10 + i), end=iso(-9.5 + i), billable=True).json()["id"] for i in range(3)]
    head = api.world.ledger.head_position()
    done = api.request(
        "POST", f"{V1}/time-entries/bulk", json={"entry_ids": ids, "action": "set_billable", "value": False}
    )
    assert done.status_code == 200, done.text
    assert [item["billable"] for item in done.json()["items"]] == [False, False, False]
    # One append: the three events got consecutive positions in one transaction.
    assert api.world.ledger.head_position() == head + 3
    api.request(
        "POST", f"{V1}/time-entries/bulk", json={"entry_ids": ids, "action": "add_tag", "value": "review"}
    )
    api.request(
        "POST",
        f"{V1}/time-entries/bulk",
        json={"entry_ids": ids[:1], "action": "remove_tag", "value": "review"},
    )
    listed = entries_by_id(api)
    assert [listed[i]["tags"] for i in ids] == [[], ["review"], ["review"]]
    assert all(listed[i]["billable"] is False for i in ids)


def test_bulk_is_all_or_nothing_and_names_the_refused_entry(api: Api) -> None:
    ids = [record(api, start=iso(-10 + i), end=iso(-9.5 + i)).json()["id"] for i in range(3)]
    api.request("DELETE", f"{V1}/time-entries/{ids[1]}")
    before = {i: api.request("GET", f"{V1}/time-entries/{i}").json() for i in ids}
    refused = api.request(
        "POST", f"{V1}/time-entries/bulk", json={"entry_ids": ids, "action": "add_tag", "value": "x"}
    )
    body = assert_problem(refused, 409, "entry-state")
    assert ids[1] in body["detail"]
    after = {i: api.request("GET", f"{V1}/time-entries/{i}").json() for i in ids}
    assert after == before


def test_bulk_delete_and_the_rules_of_other_members_entries(api: Api) -> None:
    mine = [record(api, who="member", start=iso(-10 + i), end=iso(-9.5 + i)).json()["id"] for i in range(2)]
    owners = record(api, who="owner", start=iso(-20), end=iso(-19)).json()["id"]
    refused = api.request(
        "POST",
        f"{V1}/time-entries/bulk",
        who="member",
        json={"entry_ids": [*mine, owners], "action": "delete"},
    )
    assert_problem(refused, 404, "not-found")
    assert set(entries_by_id(api, "member")) == set(mine)
    done = api.request(
        "POST", f"{V1}/time-entries/bulk", who="member", json={"entry_ids": mine, "action": "delete"}
    )
    assert [item["status"] for item in done.json()["items"]] == ["deleted", "deleted"]
    assert entries_by_id(api, "member") == {}
    by_manager = api.request(
        "POST",
        f"{V1}/time-entries/bulk",
        who="manager",
        json={"entry_ids": [owners], "action": "set_billable", "value": False},
    )
    assert by_manager.json()["items"][0]["billable"] is False


def test_bulk_input_errors(api: Api) -> None:
    entry_id = record(api).json()["id"]
    cases = [
        ({"entry_ids": [], "action": "delete"}, "entry_ids"),
        ({"entry_ids": [entry_id], "action": "paint"}, "action"),
        ({"entry_ids": [entry_id], "action": "set_billable", "value": "yes"}, "value"),
        ({"entry_ids": [entry_id], "action": "add_tag"}, "value"),
    ]
    for payload, field in cases:
        response = api.request("POST", f"{V1}/time-entries/bulk", json=payload)
        assert assert_problem(response, 422, "invalid-input")["field"] == field, payload


def test_templates_save_list_replace_start_and_delete(api: Api) -> None:
    w = api.world
    payload = {
        "name": "Design",
        "project_id": str(w.project_id),
        "task_id": str(w.task_id),
        "tags": ["ux"],
        "description": "Mockups",
    }
    created = api.request("POST", f"{V1}/templates", who="member", json=payload)
    assert created.status_code == 201
    template = created.json()
    assert (template["name"], template["tags"], template["billable"]) == ("Design", ["ux"], True)
    listed = api.request("GET", f"{V1}/templates", who="member").json()["items"]
    assert [t["id"] for t in listed] == [template["id"]]
    # Templates are personal: another member doesn't see them.
    assert api.request("GET", f"{V1}/templates", who="manager").json()["items"] == []
    assert_problem(api.request("GET", f"{V1}/templates/{template['id']}", who="manager"), 404, "not-found")
    replaced = api.request(
        "PUT", f"{V1}/templates/{template['id']}", who="member", json={**payload, "description": "Wireframes"}
    )
    assert replaced.json()["description"] == "Wireframes"
    started = api.request("POST", f"{V1}/templates/{template['id']}/start", who="member")
    assert started.status_code == 201
    entry = started.json()
    assert (entry["description"], entry["tags"], entry["task_id"], entry["end"]) == (
        "Wireframes",
        ["ux"],
        str(w.task_id),
        None,
    )
    assert api.request("GET", f"{V1}/timer", who="member").json()["id"] == entry["id"]
    assert api.request("DELETE", f"{V1}/templates/{template['id']}", who="member").status_code == 204
    assert api.request("GET", f"{V1}/templates", who="member").json()["items"] == []
    assert_problem(
        api.request("POST", f"{V1}/templates/{template['id']}/start", who="member"), 404, "not-found"
    )


def test_a_template_of_an_archived_project_cannot_start_a_timer(api: Api) -> None:
    w = api.world
    template = api.request(
        "POST", f"{V1}/templates", json={"name": "Site", "project_id": str(w.project_id)}
    ).json()
    w.ledger.archive(kind="project", item_id=w.project_id, actor=w.owner)
    assert_problem(api.request("POST", f"{V1}/templates/{template['id']}/start"), 409, "archived")
    assert api.request("GET", f"{V1}/timer").json() is None


def test_template_input_errors(api: Api) -> None:
    w = api.world
    blank = api.request("POST", f"{V1}/templates", json={"name": " ", "project_id": str(w.project_id)})
    assert assert_problem(blank, 422, "invalid-input")["field"] == "name"
    missing = api.request("POST", f"{V1}/templates", json={"name": "x", "project_id": str(w.client_id)})
    assert_problem(missing, 404, "not-found")
