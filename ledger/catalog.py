"""What time is tracked against: clients, their projects, and the projects' tasks.

Invariants: a project belongs to one organization and at most one client; a task
belongs to one project; archived things take no new time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from ledger.base import CommandContext, LedgerAggregate
from ledger.errors import ArchivedError, BudgetAlreadyAlertedError, InvalidInputError
from ledger.organization import check_name
from ledger.text import check_whole


class Archivable(LedgerAggregate):
    """Shared archive/unarchive behaviour."""

    if TYPE_CHECKING:
        name: str
        org_id: UUID
    archived = False
    kind = "item"

    class Archived(LedgerAggregate.Event):
        def apply(self, item: Archivable) -> None:
            item.archived = True

    class Unarchived(LedgerAggregate.Event):
        def apply(self, item: Archivable) -> None:
            item.archived = False

    def archive(self, ctx: CommandContext) -> None:
        if self.archived:
            raise ArchivedError(f"The {self.kind} {self.name!r} is already archived.")
        self._record(self.Archived, ctx)

    def unarchive(self, ctx: CommandContext) -> None:
        if not self.archived:
            raise ArchivedError(f"The {self.kind} {self.name!r} is not archived.")
        self._record(self.Unarchived, ctx)

    def require_active(self) -> None:
        if self.archived:
            raise ArchivedError(
                f"The {self.kind} {self.name!r} is archived; unarchive it to track time on it."
            )


class Client(Archivable):
    """A customer whose projects are billed."""

    if TYPE_CHECKING:
        org_id: UUID
    kind = "client"

    class Created(LedgerAggregate.Created):
        org_id: UUID
        name: str

        def apply(self, client: Client) -> None:
            client.org_id = self.org_id
            client.name = self.name
            client.archived = False

    class Renamed(LedgerAggregate.Event):
        name: str

        def apply(self, client: Client) -> None:
            client.name = self.name

    @classmethod
    def create(cls, ctx: CommandContext, org_id: UUID, name: str) -> Client:
        return cls._start(cls.Created, ctx, id=uuid4(), org_id=org_id, name=check_name(name, "client"))

    def rename(self, ctx: CommandContext, name: str) -> None:
        self._record(self.Renamed, ctx, name=check_name(name, "client"))


# Shares of a budget at which the owners, admins and managers are alerted (once each).
BUDGET_THRESHOLDS = (80, 100)


def check_budget(budget_seconds: int | None, budget_minor: int | None) -> None:
    for field, value in (("budget_seconds", budget_seconds), ("budget_minor", budget_minor)):
        if value is not None:
            check_whole(value, field)


class Project(Archivable):
    """Work for a client (or internal work), with a billable default and a budget.

    Invariant: each budget threshold is alerted at most once per budget; changing the
    budget (hours or money) starts its alerts afresh.
    """

    if TYPE_CHECKING:
        org_id: UUID
        client_id: UUID | None
        billable: bool
        budget_seconds: int | None
        budget_minor: int | None
    kind = "project"
    # Thresholds (percent) already alerted; a frozenset, replaced (never changed) by events,
    # because cached copies of an aggregate share their non-container attributes.
    budget_alerts_sent: frozenset[int] = frozenset()

    class Created(LedgerAggregate.Created):
        org_id: UUID
        client_id: UUID | None
        name: str
        billable: bool
        budget_seconds: int | None
        budget_minor: int | None

        def apply(self, project: Project) -> None:
            project.org_id = self.org_id
            project.archived = False
            Project.Updated.apply(self, project)  # type: ignore[arg-type]

    class Updated(LedgerAggregate.Event):
        client_id: UUID | None
        name: str
        billable: bool
        budget_seconds: int | None
        budget_minor: int | None

        def apply(self, project: Project) -> None:
            budget = (self.budget_seconds, self.budget_minor)
            if budget != (getattr(project, "budget_seconds", None), getattr(project, "budget_minor", None)):
                project.budget_alerts_sent = frozenset()
            project.client_id = self.client_id
            project.name = self.name
            project.billable = self.billable
            project.budget_seconds = self.budget_seconds
            project.budget_minor = self.budget_minor

    class BudgetAlerted(LedgerAggregate.Event):
        threshold_percent: int
        used_seconds: int
        used_minor: int | None

        def apply(self, project: Project) -> None:
            project.budget_alerts_sent = project.budget_alerts_sent | {self.threshold_percent}

    @classmethod
    def create(
        cls,
        ctx: CommandContext,
        org_id: UUID,
        name: str,
        client_id: UUID | None,
        billable: bool,
        budget_seconds: int | None,
        budget_minor: int | None,
    ) -> Project:
        check_budget(budget_seconds, budget_minor)
        return cls._start(
            cls.Created,
            ctx,
            id=uuid4(),
            org_id=org_id,
            client_id=client_id,
            name=check_name(name, "project"),
            billable=bool(billable),
            budget_seconds=budget_seconds,
            budget_minor=budget_minor,
        )

    def update(
        self,
        ctx: CommandContext,
        name: str,
        client_id: UUID | None,
        billable: bool,
        budget_seconds: int | None,
        budget_minor: int | None,
    ) -> None:
        check_budget(budget_seconds, budget_minor)
        self._record(
            self.Updated,
            ctx,
            client_id=client_id,
            name=check_name(name, "project"),
            billable=bool(billable),
            budget_seconds=budget_seconds,
            budget_minor=budget_minor,
        )

    def alert_budget(
        self, ctx: CommandContext, threshold_percent: int, used_seconds: int, used_minor: int | None
    ) -> None:
        """Record that the budget reached `threshold_percent`; refused when already recorded."""
        if threshold_percent not in BUDGET_THRESHOLDS:
            shown = ", ".join(str(t) for t in BUDGET_THRESHOLDS)
            raise InvalidInputError(
                f"A budget alert is at {shown} percent, not {threshold_percent!r}.", field="threshold_percent"
            )
        if self.budget_seconds is None and self.budget_minor is None:
            raise InvalidInputError(f"The project {self.name!r} has no budget to alert about.")
        check_whole(used_seconds, "used_seconds")
        if used_minor is not None:
            check_whole(used_minor, "used_minor")
        if threshold_percent in self.budget_alerts_sent:
            raise BudgetAlreadyAlertedError(
                f"The {threshold_percent}% budget alert of {self.name!r} was already recorded."
            )
        self._record(
            self.BudgetAlerted,
            ctx,
            threshold_percent=threshold_percent,
            used_seconds=used_seconds,
            used_minor=used_minor,
        )


class Task(Archivable):
    """A piece of a project."""

    if TYPE_CHECKING:
        org_id: UUID
        project_id: UUID
    kind = "task"

    class Created(LedgerAggregate.Created):
        org_id: UUID
        project_id: UUID
        name: str

        def apply(self, task: Task) -> None:
            task.org_id = self.org_id
            task.project_id = self.project_id
            task.name = self.name
            task.archived = False

    class Renamed(LedgerAggregate.Event):
        name: str

        def apply(self, task: Task) -> None:
            task.name = self.name

    @classmethod
    def create(cls, ctx: CommandContext, org_id: UUID, project_id: UUID, name: str) -> Task:
        return cls._start(
            cls.Created,
            ctx,
            id=uuid4(),
            org_id=org_id,
            project_id=project_id,
            name=check_name(name, "task"),
        )

    def rename(self, ctx: CommandContext, name: str) -> None:
        self._record(self.Renamed, ctx, name=check_name(name, "task"))
