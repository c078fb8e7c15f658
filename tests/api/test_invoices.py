"""Invoices over HTTP: draft, revise, issue, pay, void, discard, lists, and the PDF."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from pypdf import PdfReader

from api.jobs import NoJobs
from projections.documents import get_document
from projections.invoice_queries import get_invoice_row
from tests.api.conftest import Api
from workers.context import WorkerContext, install_context
from workers.invoice_jobs import render_invoice_pdf
from workers.invoice_pdf import format_money

MONDAY = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
WEEK = (date(2026, 11, 9), date(2026, 11, 15))
PROBLEM = "application/problem+json"


@dataclass
class RenderHere:
    """A job queue that runs the real render job (the actor's function) in this process, at once."""

    sent: list[tuple[UUID, int]] = field(default_factory=list)

    def render_invoice(self, invoice_id: UUID, version: int) -> None:
        self.sent.append((invoice_id, version))
        render_invoice_pdf.fn(str(invoice_id), version)


@dataclass
class Billing:
    api: Api
    jobs: RenderHere
    development_task: UUID

    def draft(self, headers: dict[str, str] | None = None, **terms: Any) -> Any:
        body = {"client_id": str(self.api.world.client_id), "from": "2026-11-09", "to": "2026-11-15", **terms}
        return self.api.request("POST", "/api/v1/invoices", json=body, headers=headers or {})


@pytest.fixture
def billing(api: Api) -> Iterator[Billing]:
    """Two approved billable entries of the member on two tasks of Globex's project, at 100.00/h."""
    w = api.world
    ledger = w.ledger
    ledger.set_rate(
        org_id=w.org_id,
        level="organization",
        amount_minor=10_000,
        effective_from=date(2026, 1, 1),
        actor=w.owner,
    )
    development = ledger.create_task(project_id=w.project_id, name="Development", actor=w.owner).id
    for start, minutes, task in ((MONDAY, 90, w.task_id), (MONDAY + timedelta(days=1), 30, development)):
        ledger.record_entry(
            org_id=w.org_id,
            project_id=w.project_id,
            task_id=task,
            start=start,
            end=start + timedelta(minutes=minutes),
            actor=w.member,
        )
    sheet = ledger.submit_timesheet(org_id=w.org_id, day=WEEK[0], actor=w.member).id
    ledger.approve_timesheet(timesheet_id=sheet, actor=w.manager)
    jobs = RenderHere()
    app = api.client.app
    app.state.jobs = jobs  # type: ignore[attr-defined]
    install_context(WorkerContext(ledger, app.state.read_side.engine))  # type: ignore[attr-defined]
    yield Billing(api, jobs, development)
    install_context(None)


def problem_of(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(f"/{kind}"), body
    return body


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_an_invoice_goes_from_draft_through_revise_issue_paid_to_void(billing: Billing) -> None:
    api = billing.api
    key = {"Idempotency-Key": "draft-1"}
    taxes = [{"label": "VAT", "percent": "19"}]
    terms = {"taxes": taxes, "notes": "Thank you.", "due_date": "2026-12-15"}
    drafted = billing.draft(headers=key, **terms)
    assert drafted.status_code == 201, drafted.text
    invoice = drafted.json()
    invoice_id = invoice["id"]
    assert drafted.headers["ETag"] == '"1"'
    assert (invoice["state"], invoice["number"], invoice["currency"], invoice["minor_digits"]) == (
        "draft",
        None,
        "EUR",
        2,
    )
    assert [(line["description"], line["seconds"], line["amount_minor"]) for line in invoice["lines"]] == [
        ("Website / Design", 5400, 15_000),
        ("Website / Development", 1800, 5_000),
    ]
    assert (invoice["subtotal_minor"], invoice["taxes"], invoice["total_minor"]) == (
        20_000,
        [{"label": "VAT", "percent": "19", "amount_minor": 3_800}],
        23_800,
    )
    assert len(invoice["entries"]) == 2
    assert invoice["due_date"] == "2026-12-15"

    again = billing.draft(headers=key, **terms)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == invoice

    listed = api.request("GET", "/api/v1/invoices").json()["items"]
    assert [(i["id"], i["state"], i["total_minor"], i["line_count"]) for i in listed] == [
        (invoice_id, "draft", 23_800, 2)
    ]

    path = f"/api/v1/invoices/{invoice_id}"
    revised = api.request("PATCH", path, headers={"If-Match": '"1"'}, json={"discount": {"percent": "10"}})
    assert revised.status_code == 200, revised.text
    body = revised.json()
    assert (body["discount_minor"], body["taxes"][0]["amount_minor"], body["total_minor"]) == (
        2_000,
        3_420,
        21_420,
    )
    assert body["discount"] == {"label": "Discount", "percent": "10", "amount_minor": None}
    assert (body["version"], revised.headers["ETag"]) == (2, '"2"')
    stale = api.request("PATCH", path, headers={"If-Match": '"1"'}, json={"notes": "lost update"})
    assert problem_of(stale, 412, "stale-version")["current_version"] == 2

    issued = api.request(
        "POST", f"{path}/issue", headers={"If-Match": '"2"'}, json={"issued_on": "2026-11-16"}
    )
    assert issued.status_code == 200, issued.text
    assert (issued.json()["state"], issued.json()["number"], issued.json()["issued_on"]) == (
        "issued",
        "INV-2026-0001",
        "2026-11-16",
    )
    assert billing.jobs.sent == [(UUID(invoice_id), 3)]
    problem_of(api.request("POST", f"{path}/issue"), 409, "workflow-state")
    problem_of(api.request("PATCH", path, json={"notes": "too late"}), 409, "workflow-state")
    [row] = api.request("GET", "/api/v1/invoices", params={"state": "issued"}).json()["items"]
    assert (row["number"], row["issued_on"], row["total_minor"]) == ("INV-2026-0001", "2026-11-16", 21_420)

    paid = api.request("POST", f"{path}/mark-paid", json={"paid_on": "2026-11-20"})
    assert (paid.json()["state"], paid.json()["paid_on"]) == ("paid", "2026-11-20")
    voided = api.request("POST", f"{path}/void", json={"reason": "billed twice"})
    assert voided.status_code == 200, voided.text
    shown = api.request("GET", path)
    assert (shown.json()["state"], shown.json()["number"], shown.json()["void_reason"]) == (
        "void",
        "INV-2026-0001",
        "billed twice",
    )
    assert shown.headers["ETag"] == f'"{shown.json()["version"]}"'
    row = get_invoice_row(api.client.app.state.read_side.engine, api.world.org_id, UUID(invoice_id))  # type: ignore[attr-defined]
    assert row is not None
    assert (row.state, row.number, row.paid_on, row.version) == (
        "void",
        "INV-2026-0001",
        date(2026, 11, 20),
        5,
    )

    # The void unlocked the entries, and its number stays used: the next invoice takes 0002.
    second = billing.draft().json()
    issued_again = api.request("POST", f"/api/v1/invoices/{second['id']}/issue", json={})
    assert issued_again.json()["number"] == "INV-2026-0002"


def test_lists_page_newest_first_filter_and_hide_discarded_drafts(billing: Billing) -> None:
    api = billing.api
    ids = []
    for _ in range(3):
        ids.append(billing.draft().json()["id"])
        api.world.clock.advance(60)
    first = api.request("GET", "/api/v1/invoices", params={"limit": 2}).json()
    assert [i["id"] for i in first["items"]] == ids[:0:-1]
    rest = api.request("GET", "/api/v1/invoices", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert ([i["id"] for i in rest["items"]], rest["next_cursor"]) == ([ids[0]], None)
    problem_of(api.request("GET", "/api/v1/invoices", params={"cursor": "nonsense"}), 400, "invalid-cursor")

    discarded = api.request("DELETE", f"/api/v1/invoices/{ids[1]}")
    assert discarded.json()["state"] == "discarded"
    problem_of(api.request("DELETE", f"/api/v1/invoices/{ids[1]}"), 409, "workflow-state")
    problem_of(api.request("GET", f"/api/v1/invoices/{ids[1]}/pdf"), 409, "workflow-state")
    listed = api.request("GET", "/api/v1/invoices").json()["items"]
    assert [i["id"] for i in listed] == [ids[2], ids[0]]
    only = api.request("GET", "/api/v1/invoices", params={"state": "discarded"}).json()["items"]
    assert [i["id"] for i in only] == [ids[1]]
    other_client = api.request("GET", "/api/v1/invoices", params={"client_id": str(billing.development_task)})
    assert other_client.json()["items"] == []


def test_the_pdf_is_rendered_by_the_job_and_then_served_from_the_table(billing: Billing) -> None:
    api = billing.api
    invoice = billing.draft(taxes=[{"label": "VAT", "percent": "19"}]).json()
    path = f"/api/v1/invoices/{invoice['id']}"
    issued = api.request("POST", f"{path}/issue", json={"issued_on": "2026-11-16"}).json()
    engine = api.client.app.state.read_side.engine  # type: ignore[attr-defined]
    assert get_document(engine, UUID(invoice["id"]), issued["version"]) is not None

    response = api.request("GET", f"{path}/pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="INV-2026-0001.pdf"' in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    for expected in ("INV-2026-0001", "Website / Design", "Website / Development", "Globex"):
        assert expected in text
    assert format_money(23_800, "EUR", "en") == "€238.00"
    assert "€238.00" in text
    assert len(billing.jobs.sent) == 1  # served from the table: no second render

    # A new version (paid) has no document yet: the request renders it and waits for it.
    api.request("POST", f"{path}/mark-paid", json={})
    paid = api.request("GET", f"{path}/pdf")
    assert paid.status_code == 200
    assert billing.jobs.sent[-1] == (UUID(invoice["id"]), issued["version"] + 1)
    assert "paid" in pdf_text(paid.content)


def test_a_pdf_that_does_not_arrive_in_time_is_a_503_with_retry_after(billing: Billing) -> None:
    api = billing.api
    app = api.client.app
    app.state.jobs = NoJobs()  # type: ignore[attr-defined]
    app.state.pdf_wait_seconds = 0.3  # type: ignore[attr-defined]
    invoice = billing.draft().json()
    response = api.request("GET", f"/api/v1/invoices/{invoice['id']}/pdf")
    problem_of(response, 503, "pdf-pending")
    assert response.headers["Retry-After"] == "5"


def test_managers_and_members_may_not_work_with_invoices(billing: Billing) -> None:
    api = billing.api
    invoice = billing.draft().json()
    for who in ("manager", "member"):
        for method, path in (
            ("GET", "/api/v1/invoices"),
            ("GET", f"/api/v1/invoices/{invoice['id']}"),
            ("POST", f"/api/v1/invoices/{invoice['id']}/issue"),
        ):
            problem_of(api.request(method, path, who=who), 403, "missing-scope")
        # Even a token that names the scope is cut down to what the role grants.
        token = api.token(who, ("write:invoices",))
        refused = api.client.get("/api/v1/invoices", headers={"Authorization": f"Bearer {token}"})
        problem_of(refused, 403, "missing-scope")
    assert api.request("GET", f"/api/v1/invoices/{invoice['id']}").json()["state"] == "draft"


@pytest.mark.parametrize(
    ("tax", "field"),
    [
        ({"label": "VAT", "percent": "150"}, "taxes.percent"),
        ({"label": "VAT", "percent": "7.12345"}, "taxes.percent"),
        ({"label": "VAT", "percent": "lots"}, "taxes.percent"),
        ({"percent": "19"}, "taxes[0].label"),
    ],
)
def test_an_invalid_tax_is_a_422_problem_naming_the_field(
    billing: Billing, tax: dict[str, Any], field: str
) -> None:
    billing.api.as_("owner")  # minting the token appends; the refused draft must not
    head = billing.api.world.ledger.head_position()
    body = problem_of(billing.draft(taxes=[tax]), 422, "invalid-input")
    assert body["field"] == field
    assert billing.api.world.ledger.head_position() == head
