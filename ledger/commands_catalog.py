"""Commands on clients, projects, tasks and rates."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ledger.actors import Actor
from ledger.base import CommandContext
from ledger.catalog import Archivable, Client, Project, Task
from ledger.clock import EARLIEST
from ledger.core import Decision, LedgerCore, Receipt
from ledger.errors import ForbiddenError, InvalidInputError, NotFoundError
from ledger.ids import rate_card_id
from ledger.organization import ADMIN_ROLES, MANAGER_ROLES, Organization
from ledger.rates import Rate, RateCard

_UNSET = object()


class CatalogCommands(LedgerCore):
    """Clients, projects, tasks, rates."""

    def _in_org(self, org: Organization, org_id_of_item: UUID, what: str, item_id: UUID) -> None:
        if org_id_of_item != org.id:
            raise NotFoundError(f"There is no {what} with id {item_id}.")

    def _client_of(self, org: Organization, client_id: UUID | None) -> None:
        if client_id is not None:
            client = self._load(Client, client_id, "client")
            self._in_org(org, client.org_id, "client", client_id)
            client.require_active()

    def create_client(
        self, *, org_id: UUID, name: str, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            _, role = self._org_role(org_id, actor)
            self._require_role(role, MANAGER_ROLES, "create clients")
            client = Client.create(ctx, org_id, name)
            return [client], Receipt("create_client", client.id, client.version)

        return self._execute("create_client", actor, command_id, {"org_id": org_id, "name": name}, decide)

    def rename_client(
        self, *, client_id: UUID, name: str, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            client = self._load(Client, client_id, "client")
            _, role = self._org_role(client.org_id, actor, about=("client", client.id))
            self._require_role(role, MANAGER_ROLES, "rename clients")
            client.rename(ctx, name)
            return [client], Receipt("rename_client", client.id, client.version)

        return self._execute(
            "rename_client", actor, command_id, {"client_id": client_id, "name": name}, decide
        )

    def create_project(
        self,
        *,
        org_id: UUID,
        name: str,
        client_id: UUID | None = None,
        billable: bool = True,
        budget_seconds: int | None = None,
        budget_minor: int | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        args = {
            "org_id": org_id,
            "name": name,
            "client_id": client_id,
            "billable": billable,
            "budget_seconds": budget_seconds,
            "budget_minor": budget_minor,
        }

        def decide(ctx: CommandContext) -> Decision:
            org, role = self._org_role(org_id, actor)
            self._require_role(role, MANAGER_ROLES, "create projects")
            self._client_of(org, client_id)
            project = Project.create(ctx, org_id, name, client_id, billable, budget_seconds, budget_minor)
            return [project], Receipt("create_project", project.id, project.version)

        return self._execute("create_project", actor, command_id, args, decide)

    def update_project(
        self,
        *,
        project_id: UUID,
        name: str | None = None,
        client_id: UUID | object | None = _UNSET,
        billable: bool | None = None,
        budget_seconds: int | object | None = _UNSET,
        budget_minor: int | object | None = _UNSET,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Change a project; arguments left out keep their value."""
        args = {
            "project_id": project_id,
            "name": name,
            "billable": billable,
            "client_id": None if client_id is _UNSET else client_id,
            "budget_seconds": None if budget_seconds is _UNSET else budget_seconds,
            "budget_minor": None if budget_minor is _UNSET else budget_minor,
            "unset": [
                k
                for k, v in (
                    ("client_id", client_id),
                    ("budget_seconds", budget_seconds),
                    ("budget_minor", budget_minor),
                )
                if v is _UNSET
            ],
        }

        def decide(ctx: CommandContext) -> Decision:
            project = self._load(Project, project_id, "project")
            org, role = self._org_role(project.org_id, actor, about=("project", project.id))
            self._require_role(role, MANAGER_ROLES, "change projects")
            new_client = project.client_id if client_id is _UNSET else client_id
            if new_client is not None and not isinstance(new_client, UUID):
                raise InvalidInputError("client_id must be a client's id.", field="client_id")
            if new_client != project.client_id:
                self._client_of(org, new_client)
            project.update(
                ctx,
                name=project.name if name is None else name,
                client_id=new_client,
                billable=project.billable if billable is None else billable,
                budget_seconds=_keep(project.budget_seconds, budget_seconds),
                budget_minor=_keep(project.budget_minor, budget_minor),
            )
            return [project], Receipt("update_project", project.id, project.version)

        return self._execute("update_project", actor, command_id, args, decide)

    def record_budget_alert(
        self,
        *,
        project_id: UUID,
        threshold_percent: int,
        used_seconds: int,
        used_minor: int | None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Record that a project's budget reached a threshold (the system's budget check only).

        Refused with `BudgetAlreadyAlertedError` when that threshold was already recorded,
        so of several racing checks exactly one appends (and alerts).
        """
        args = {
            "project_id": project_id,
            "threshold_percent": threshold_percent,
            "used_seconds": used_seconds,
            "used_minor": used_minor,
        }

        def decide(ctx: CommandContext) -> Decision:
            if actor.kind != "system":
                raise ForbiddenError("Only the system's budget check records budget alerts.")
            project = self._load(Project, project_id, "project")
            project.alert_budget(ctx, threshold_percent, used_seconds, used_minor)
            return [project], Receipt("record_budget_alert", project.id, project.version)

        return self._execute("record_budget_alert", actor, command_id, args, decide)

    def create_task(
        self, *, project_id: UUID, name: str, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            project = self._load(Project, project_id, "project")
            _, role = self._org_role(project.org_id, actor, about=("project", project.id))
            self._require_role(role, MANAGER_ROLES, "create tasks")
            project.require_active()
            task = Task.create(ctx, project.org_id, project.id, name)
            return [task], Receipt("create_task", task.id, task.version, (project.id,))

        return self._execute(
            "create_task", actor, command_id, {"project_id": project_id, "name": name}, decide
        )

    def rename_task(
        self, *, task_id: UUID, name: str, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            task = self._load(Task, task_id, "task")
            _, role = self._org_role(task.org_id, actor, about=("task", task.id))
            self._require_role(role, MANAGER_ROLES, "rename tasks")
            task.rename(ctx, name)
            return [task], Receipt("rename_task", task.id, task.version)

        return self._execute("rename_task", actor, command_id, {"task_id": task_id, "name": name}, decide)

    def archive(self, *, kind: str, item_id: UUID, actor: Actor, command_id: str | None = None) -> Receipt:
        """Archive a client, project or task (`kind`): it keeps its time but takes no new time."""
        return self._set_archived(kind, item_id, True, actor, command_id)

    def unarchive(self, *, kind: str, item_id: UUID, actor: Actor, command_id: str | None = None) -> Receipt:
        return self._set_archived(kind, item_id, False, actor, command_id)

    def _set_archived(
        self, kind: str, item_id: UUID, archived: bool, actor: Actor, command_id: str | None
    ) -> Receipt:
        classes: dict[str, type[Archivable]] = {"client": Client, "project": Project, "task": Task}
        if kind not in classes:
            raise InvalidInputError(f"Only a client, project or task can be archived, not {kind!r}.")
        command = "archive" if archived else "unarchive"

        def decide(ctx: CommandContext) -> Decision:
            item = self._load(classes[kind], item_id, kind)
            _, role = self._org_role(item.org_id, actor, about=(kind, item.id))
            self._require_role(role, MANAGER_ROLES, f"{command} a {kind}")
            if archived:
                item.archive(ctx)
            else:
                item.unarchive(ctx)
            return [item], Receipt(command, item.id, item.version)

        return self._execute(command, actor, command_id, {"kind": kind, "item_id": item_id}, decide)

    def set_rate(
        self,
        *,
        org_id: UUID,
        level: str,
        amount_minor: int | None,
        effective_from: date | None = None,
        client_id: UUID | None = None,
        project_id: UUID | None = None,
        member_id: UUID | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Set an hourly rate (minor units of the organization's currency) from a date on.

        Without `effective_from`, the first rate of a level and target applies to all
        time, and a later one from today (the organization's clock) on.
        """
        args = {
            "org_id": org_id,
            "level": level,
            "amount_minor": amount_minor,
            "effective_from": effective_from.isoformat() if effective_from else None,
            "client_id": client_id,
            "project_id": project_id,
            "member_id": member_id,
        }

        def decide(ctx: CommandContext) -> Decision:
            org, role = self._org_role(org_id, actor)
            self._require_role(role, ADMIN_ROLES, "set rates")
            if client_id is not None:
                self._in_org(org, self._load(Client, client_id, "client").org_id, "client", client_id)
            if project_id is not None:
                self._in_org(org, self._load(Project, project_id, "project").org_id, "project", project_id)
            if member_id is not None:
                org.require_member(member_id)
            card = self._find(RateCard, rate_card_id(org_id)) or RateCard.open(ctx, org_id)
            key = (level, client_id, project_id, member_id)
            # Without a date, a first rate at its level covers all time (nothing was billed at
            # another rate before it); a change applies from today on.
            first = not any(r.key() == key for r in card.rates)
            card.set_rate(
                ctx,
                Rate(
                    level=level,
                    amount_minor=amount_minor,
                    currency=org.settings.currency,
                    effective_from=effective_from or (EARLIEST.date() if first else ctx.recorded_at.date()),
                    client_id=client_id,
                    project_id=project_id,
                    member_id=member_id,
                ),
            )
            return [card], Receipt("set_rate", card.id, card.version)

        return self._execute("set_rate", actor, command_id, args, decide)


def _keep(current: int | None, given: int | object | None) -> int | None:
    if given is _UNSET:
        return current
    if given is not None and not isinstance(given, int):
        raise InvalidInputError("A budget is a whole number or empty.")
    return given
