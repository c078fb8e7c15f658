"""An organization's clients, projects, tasks and members, looked up by name or e-mail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.catalog import Archivable, Client, Project, Task

PAGE = 1000
_TOPICS = tuple(get_topic(cls.Created) for cls in (Client, Project, Task))

ProjectKey = tuple[str, str]  # (client name folded, or "", project name folded)
TaskKey = tuple[str, str, str]  # project key + task name folded


def fold(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


@dataclass
class Directory:
    """Ids by folded names; names the import creates get their ids here as it goes."""

    org_name: str
    clients: dict[str, UUID] = field(default_factory=dict)
    projects: dict[ProjectKey, UUID] = field(default_factory=dict)
    tasks: dict[TaskKey, UUID] = field(default_factory=dict)
    emails: dict[str, UUID] = field(default_factory=dict)
    names: dict[str, list[UUID]] = field(default_factory=dict)

    @classmethod
    def read(cls, ledger: TimeLedger, org_id: UUID) -> Directory:
        """Reads the write model: every catalog item ever created in the log, kept if it is this org's."""
        org = ledger.get_organization(org_id, Actor.system())
        found = cls(org.name)
        items = [i for i in _catalog_items(ledger) if i.org_id == org_id]
        # Active items win over archived ones of the same name (they are added last).
        items.sort(key=lambda item: not item.archived)
        client_names = {item.id: fold(item.name) for item in items if isinstance(item, Client)}
        for item in items:
            if isinstance(item, Client):
                found.clients[fold(item.name)] = item.id
        projects: dict[UUID, ProjectKey] = {}
        for item in items:
            if isinstance(item, Project):
                key = (client_names.get(item.client_id, "") if item.client_id else "", fold(item.name))
                found.projects[key] = item.id
                projects[item.id] = key
        for item in items:
            if isinstance(item, Task) and item.project_id in projects:
                found.tasks[(*projects[item.project_id], fold(item.name))] = item.id
        for user_id in org.members:
            user = ledger.get_user(user_id)
            if user is not None:
                found.emails[user.email.casefold()] = user_id
                found.names.setdefault(fold(user.display_name), []).append(user_id)
        return found

    def member(self, email: str | None, name: str | None) -> UUID:
        """The member with this e-mail (or, when the file has none, this unique display name)."""
        if email:
            member = self.emails.get(email.strip().casefold())
            if member is None:
                raise LookupError(f"No member of {self.org_name} has the e-mail {email}.")
            return member
        if name:
            matches = self.names.get(fold(name), [])
            if len(matches) == 1:
                return matches[0]
            many = "several members are" if matches else "no member is"
            raise LookupError(f"The file names the user {name!r} without an e-mail, and {many} called that.")
        raise LookupError("The row names no member.")


def _catalog_items(ledger: TimeLedger) -> Iterator[Any]:
    position = 0
    while True:
        page = ledger.recorder.select_notifications(start=position + 1, limit=PAGE, topics=_TOPICS)
        if not page:
            return
        for notification in page:
            item = ledger.aggregate(UUID(str(notification.originator_id)))
            if isinstance(item, Archivable):
                yield item
        position = page[-1].id
