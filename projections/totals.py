"""The totals read model: worked seconds and billable amounts per member, project, task and day.

A day is a day in the organization's timezone. Only stopped, non-deleted entries
count. Amounts are each (entry, day)'s billable seconds at the hourly rate in
effect that day, rounded half up to a minor unit. The organization's rounding
settings are NOT applied here: they belong to billing, which rounds what it bills.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.dispatch import singledispatchmethod
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    select,
)

from ledger.catalog import Project
from ledger.organization import Organization
from ledger.rates import Rate, RateCard, resolve_rate
from ledger.time_entry import TimeEntry
from ledger.timezones import split_by_day
from projections.base import ReadModel, TrackingView
from projections.batch import Batch
from projections.columns import Instant
from projections.entries import Pauses, close_pause

NO_TASK = UUID(int=0)
DAILY_KEY = ("org_id", "member_id", "project_id", "task_key", "day")
DAILY_VALUES = ("seconds", "billable_seconds", "billable_amount_minor")
USED = ("used_seconds", "used_billable_seconds", "used_minor")
RATE_IDS = ("client_id", "project_id", "member_id")
# "YYYY-MM-DD" -> [seconds, billable_seconds, amount_minor]
Contributions = dict[str, list[int]]


def worked_intervals(start: datetime, end: datetime, pauses: Pauses) -> list[tuple[datetime, datetime]]:
    """The span with pauses cut out, as the ledger places worked time."""
    intervals: list[tuple[datetime, datetime]] = []
    cursor = start
    for pause_start, pause_end in pauses:
        began = datetime.fromisoformat(pause_start or "")
        ended = datetime.fromisoformat(pause_end) if pause_end else end
        if began > cursor:
            intervals.append((cursor, began))
        cursor = max(cursor, ended)
    if end > cursor:
        intervals.append((cursor, end))
    return intervals


def seconds_per_day(
    start: datetime, end: datetime, pauses: Pauses, break_seconds: int, tz: ZoneInfo
) -> list[tuple[date, int]]:
    """Worked seconds on each local day, in order; the break comes off the first days first."""
    per_day: dict[date, int] = {}
    for began, ended in worked_intervals(start, end, pauses):
        for day, seconds in split_by_day(began, ended, tz):
            per_day[day] = per_day.get(day, 0) + seconds
    result: list[tuple[date, int]] = []
    left = break_seconds
    for day in sorted(per_day):
        taken = min(left, per_day[day])
        left -= taken
        if per_day[day] - taken > 0:
            result.append((day, per_day[day] - taken))
    return result


def billable_amount(amount_minor: int, seconds: int) -> int:
    """An hourly rate times seconds, in whole minor units, half up."""
    return (amount_minor * seconds + 1800) // 3600


def rate_from_json(data: dict[str, Any]) -> Rate:
    """A rate as `RateCard.RateSet` gave it (stored with ids as text)."""
    ids = {name: UUID(data[name]) if data[name] else None for name in RATE_IDS}
    effective_from = date.fromisoformat(data["effective_from"])
    return Rate(data["level"], data["amount_minor"], data["currency"], effective_from, **ids)


def contributions_of(
    entry: dict[str, Any], tz: ZoneInfo, rates: list[Rate], client_id: UUID | None
) -> Contributions:
    """What one entry adds to its (member, project, task) rows, per local day."""
    if entry["deleted"] or entry["end"] is None:
        return {}
    member_id, project_id = entry["member_id"], entry["project_id"]
    result: Contributions = {}
    days = seconds_per_day(entry["start"], entry["end"], entry["pauses"], entry["break_seconds"], tz)
    for day, seconds in days:
        billable = seconds if entry["billable"] else 0
        rate = resolve_rate(rates, on=day, member_id=member_id, project_id=project_id, client_id=client_id)
        amount = billable_amount(rate.amount_minor, billable) if rate and rate.amount_minor else 0
        result[day.isoformat()] = [seconds, billable, amount]
    return result


class TotalsProjection(ReadModel):
    """`rm_daily_totals` for timesheets and reports, `rm_project_budgets` for budget use."""

    name = "totals"

    def __init__(self, view: TrackingView) -> None:
        super().__init__(view)
        # Parsed rates per organization by (member, project, client), reused while its row
        # holds the very same list object (every change puts a new list), so never stale.
        # The third part memoises the rates that apply to each (member, project, client).
        self._parsed: dict[
            Any, tuple[list[Any], dict[tuple[Any, ...], list[Rate]], dict[tuple[Any, ...], list[Rate]]]
        ] = {}

    @classmethod
    def define_tables(cls, metadata: MetaData, suffix: str) -> dict[str, Table]:
        return {
            "daily": Table(
                f"rm_daily_totals{suffix}",
                metadata,
                Column("org_id", Uuid, primary_key=True),
                Column("member_id", Uuid, primary_key=True),
                Column("project_id", Uuid, primary_key=True),
                Column("task_key", Uuid, primary_key=True),
                Column("day", Date, primary_key=True),
                Column("seconds", BigInteger, nullable=False),
                Column("billable_seconds", BigInteger, nullable=False),
                Column("billable_amount_minor", BigInteger, nullable=False),
                Index(f"ix_rm_daily_totals{suffix}_day", "org_id", "day"),
            ),
            "budgets": Table(
                f"rm_project_budgets{suffix}",
                metadata,
                Column("project_id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Column("budget_seconds", BigInteger, nullable=True),
                Column("budget_minor", BigInteger, nullable=True),
                Column("used_seconds", BigInteger, nullable=False),
                Column("used_billable_seconds", BigInteger, nullable=False),
                Column("used_minor", BigInteger, nullable=False),
            ),
            # Private: each organization's timezone and rates (as RateCard.RateSet gave them).
            "orgs": Table(
                f"rm_totals_orgs{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("timezone", String(64), nullable=False),
                Column("rates", JSON, nullable=False),
            ),
            # Private: which organization a rate card belongs to (RateSet carries no org id).
            "cards": Table(
                f"rm_totals_cards{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
            ),
            # Private: a project's organization and client (its budgets are in "budgets").
            "projects": Table(
                f"rm_totals_projects{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Column("client_id", Uuid, nullable=True),
            ),
            # Private: each entry's times and what it currently adds to the public rows.
            "entries": Table(
                f"rm_totals_entries{suffix}",
                metadata,
                Column("id", Uuid, primary_key=True),
                Column("org_id", Uuid, nullable=False),
                Column("member_id", Uuid, nullable=False),
                Column("project_id", Uuid, nullable=False),
                Column("task_id", Uuid, nullable=True),
                Column("billable", Boolean, nullable=False),
                Column("start", Instant, nullable=False),
                Column("end", Instant, nullable=True),
                Column("pauses", JSON, nullable=False),
                Column("break_seconds", Integer, nullable=False),
                Column("deleted", Boolean, nullable=False),
                Column("contributions", JSON, nullable=False),
                Index(f"ix_rm_totals_entries{suffix}_org", "org_id"),
                Index(f"ix_rm_totals_entries{suffix}_project", "project_id"),
            ),
        }

    # --- helpers --------------------------------------------------------------

    def _org(self, batch: Batch, org_id: Any) -> dict[str, Any]:
        row = batch.get(self.t["orgs"], (org_id,))
        return row if row is not None else {"id": org_id, "timezone": "UTC", "rates": []}

    def _rates(self, org: dict[str, Any], entry: dict[str, Any], client_id: Any) -> list[Rate]:
        """The organization's rates that can apply to an entry (a few of many, found by key)."""
        memo = self._parsed.get(org["id"])
        if memo is None or memo[0] is not org["rates"]:
            groups: dict[tuple[Any, ...], list[Rate]] = {}
            for data in org["rates"]:
                rate = rate_from_json(data)
                groups.setdefault((rate.member_id, rate.project_id, rate.client_id), []).append(rate)
            memo = self._parsed[org["id"]] = (org["rates"], groups, {})
        member_id, project_id = entry["member_id"], entry["project_id"]
        found = memo[2].get((member_id, project_id, client_id))
        if found is None:
            groups = memo[1]
            found = memo[2][(member_id, project_id, client_id)] = [
                rate
                for m in {None, member_id}
                for p in {None, project_id}
                for c in {None, client_id}
                for rate in groups.get((m, p, c), ())
            ]
        return found

    def _entry(self, batch: Batch, entry_id: Any) -> dict[str, Any] | None:
        return batch.get(self.t["entries"], (entry_id,))

    def _save(self, batch: Batch, old: dict[str, Any] | None, row: dict[str, Any]) -> None:
        """Store the entry with fresh contributions, moving the totals from the old ones."""
        org = self._org(batch, row["org_id"])
        project = batch.get(self.t["projects"], (row["project_id"],))
        client_id = project["client_id"] if project else None
        rates = self._rates(org, row, client_id)
        row["contributions"] = contributions_of(row, ZoneInfo(org["timezone"]), rates, client_id)
        if old is not None:
            self._add(batch, old, -1)
        self._add(batch, row, 1)
        batch.put(self.t["entries"], (row["id"],), row)

    def _add(self, batch: Batch, entry: dict[str, Any], sign: int) -> None:
        contributions: Contributions = entry["contributions"]
        if not contributions:
            return
        daily = self.t["daily"]
        owner = (entry["org_id"], entry["member_id"], entry["project_id"], entry["task_id"] or NO_TASK)
        for day, delta in contributions.items():
            key = (*owner, date.fromisoformat(day))
            current = batch.get(daily, key)
            before = [current[name] for name in DAILY_VALUES] if current else [0, 0, 0]
            after = [was + sign * change for was, change in zip(before, delta, strict=True)]
            if after != [0, 0, 0]:
                batch.put(daily, key, dict(zip(DAILY_KEY + DAILY_VALUES, (*key, *after), strict=True)))
            elif current is not None:
                batch.delete(daily, key)
        budget = self._budget(batch, entry["project_id"], entry["org_id"])
        for i, name in enumerate(USED):
            budget[name] += sign * sum(values[i] for values in contributions.values())
        batch.put(self.t["budgets"], (entry["project_id"],), budget)

    def _budget(self, batch: Batch, project_id: Any, org_id: Any) -> dict[str, Any]:
        found = batch.get(self.t["budgets"], (project_id,))
        empty = {"project_id": project_id, "org_id": org_id, "budget_seconds": None, "budget_minor": None}
        return found if found is not None else {**empty, **dict.fromkeys(USED, 0)}

    def _recompute(self, batch: Batch, condition: Any) -> None:
        """Recompute the stopped, live entries matching `condition` (rare: settings, rates, clients)."""
        entries = self.t["entries"]
        found = batch.select(
            select(entries.c.id)
            .where(condition, entries.c["end"].is_not(None), entries.c.deleted.is_(False))
            .order_by(entries.c.id)
        )
        for (entry_id,) in found:
            old = self._entry(batch, entry_id)
            if old is not None:
                self._save(batch, old, dict(old))

    # --- handlers -------------------------------------------------------------

    @singledispatchmethod
    def apply(self, event: object, batch: Batch) -> None:
        """Other events do not change totals."""

    @apply.register(Organization.Created)
    def _org_created(self, e: Organization.Created, batch: Batch) -> None:
        row = {"id": e.originator_id, "timezone": e.settings.get("timezone", "UTC"), "rates": []}
        batch.put(self.t["orgs"], (e.originator_id,), row)

    @apply.register(Organization.SettingsChanged)
    def _settings(self, e: Organization.SettingsChanged, batch: Batch) -> None:
        org = self._org(batch, e.originator_id)
        timezone = e.settings.get("timezone", "UTC")
        if org["timezone"] == timezone:
            return
        batch.put(self.t["orgs"], (e.originator_id,), {**org, "timezone": timezone})
        self._recompute(batch, self.t["entries"].c.org_id == e.originator_id)

    @apply.register(RateCard.Opened)
    def _card(self, e: RateCard.Opened, batch: Batch) -> None:
        batch.put(self.t["cards"], (e.originator_id,), {"id": e.originator_id, "org_id": e.org_id})

    @apply.register(RateCard.RateSet)
    def _rate(self, e: RateCard.RateSet, batch: Batch) -> None:
        card = batch.get(self.t["cards"], (e.originator_id,))
        if card is None:
            return
        org = self._org(batch, card["org_id"])
        fields = ("level", "amount_minor", "currency", "effective_from", *RATE_IDS)
        rate = {name: str(v) if isinstance(v := getattr(e, name), UUID) else v for name in fields}
        batch.put(self.t["orgs"], (org["id"],), {**org, "rates": [*org["rates"], rate]})
        self._recompute(batch, self.t["entries"].c.org_id == org["id"])

    @apply.register(Project.Created)
    def _project(self, e: Project.Created, batch: Batch) -> None:
        project = {"id": e.originator_id, "org_id": e.org_id, "client_id": e.client_id}
        batch.put(self.t["projects"], (e.originator_id,), project)
        budget = self._budget(batch, e.originator_id, e.org_id)
        budget.update(budget_seconds=e.budget_seconds, budget_minor=e.budget_minor)
        batch.put(self.t["budgets"], (e.originator_id,), budget)

    @apply.register(Project.Updated)
    def _project_updated(self, e: Project.Updated, batch: Batch) -> None:
        project = batch.get(self.t["projects"], (e.originator_id,))
        if project is None:
            return
        budget = self._budget(batch, e.originator_id, project["org_id"])
        budget.update(budget_seconds=e.budget_seconds, budget_minor=e.budget_minor)
        batch.put(self.t["budgets"], (e.originator_id,), budget)
        if project["client_id"] != e.client_id:
            batch.put(self.t["projects"], (e.originator_id,), {**project, "client_id": e.client_id})
            self._recompute(batch, self.t["entries"].c.project_id == e.originator_id)

    @apply.register(TimeEntry.Started)
    @apply.register(TimeEntry.Recorded)
    def _created(self, e: TimeEntry.Started | TimeEntry.Recorded, batch: Batch) -> None:
        row: dict[str, Any] = {
            "id": e.originator_id,
            "org_id": e.org_id,
            "member_id": e.member_id,
            "project_id": e.project_id,
            "task_id": e.task_id,
            "billable": e.billable,
            "start": e.start,
            "end": getattr(e, "end", None),
            "pauses": [],
            "break_seconds": getattr(e, "break_seconds", 0),
            "deleted": False,
        }
        self._save(batch, None, row)

    @apply.register(TimeEntry.Paused)
    def _paused(self, e: TimeEntry.Paused, batch: Batch) -> None:
        old = self._entry(batch, e.originator_id)
        if old is not None:
            self._save(batch, old, {**old, "pauses": [*old["pauses"], [e.at.isoformat(), None]]})

    @apply.register(TimeEntry.Resumed)
    def _resumed(self, e: TimeEntry.Resumed, batch: Batch) -> None:
        old = self._entry(batch, e.originator_id)
        if old is not None:
            self._save(batch, old, {**old, "pauses": close_pause(old["pauses"], e.at)})

    @apply.register(TimeEntry.Stopped)
    def _stopped(self, e: TimeEntry.Stopped, batch: Batch) -> None:
        old = self._entry(batch, e.originator_id)
        if old is not None:
            self._save(batch, old, {**old, "pauses": close_pause(old["pauses"], e.at), "end": e.at})

    @apply.register(TimeEntry.Edited)
    def _edited(self, e: TimeEntry.Edited, batch: Batch) -> None:
        old = self._entry(batch, e.originator_id)
        if old is not None:
            edited = ("project_id", "task_id", "billable", "start", "end", "break_seconds")
            self._save(batch, old, {**old, **{name: getattr(e, name) for name in edited}})

    @apply.register(TimeEntry.Deleted)
    @apply.register(TimeEntry.Restored)
    def _deleted(self, e: TimeEntry.Deleted | TimeEntry.Restored, batch: Batch) -> None:
        old = self._entry(batch, e.originator_id)
        if old is not None:
            self._save(batch, old, {**old, "deleted": isinstance(e, TimeEntry.Deleted)})
