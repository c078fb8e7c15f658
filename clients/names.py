"""Project and task names to ids, from a cache in the config folder so names resolve offline too."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from clients.config import CliError, read_json, write_private
from clients.sdk import TimeLedgerClient
from schemas.catalog import Project, Task

CATALOG_FILE = "catalog.json"
Named = TypeVar("Named", Project, Task)


@dataclass
class Catalog:
    """The projects and tasks this device knows of (archived ones included)."""

    projects: list[Project] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> Catalog:
        data = read_json(folder / CATALOG_FILE)
        if not isinstance(data, dict):
            return cls()
        return cls(
            [Project.model_validate(p) for p in data.get("projects", [])],
            [Task.model_validate(t) for t in data.get("tasks", [])],
        )

    @classmethod
    def fetch(cls, client: TimeLedgerClient, folder: Path) -> Catalog:
        found = cls(list(client.projects()), list(client.tasks()))
        data = {
            "projects": [p.model_dump(mode="json") for p in found.projects],
            "tasks": [t.model_dump(mode="json") for t in found.tasks],
        }
        write_private(folder / CATALOG_FILE, json.dumps(data, indent=1) + "\n")
        return found

    def project_name(self, project_id: UUID | None) -> str:
        return next((p.name for p in self.projects if p.id == project_id), str(project_id)[:8])

    def task_name(self, task_id: UUID | None) -> str | None:
        if task_id is None:
            return None
        return next((t.name for t in self.tasks if t.id == task_id), str(task_id)[:8])

    def project(self, name: str) -> Project:
        return resolve("project", name, self.projects)

    def task(self, project: Project, name: str) -> Task:
        return resolve(
            "task", name, [t for t in self.tasks if t.project_id == project.id], f" in {project.name}"
        )


def resolve(kind: str, name: str, items: Sequence[Named], where: str = "") -> Named:
    """Case-insensitive exact name, else a unique prefix, among the items not archived."""
    wanted = name.strip().casefold()
    active = [item for item in items if not item.archived]
    for matches in (
        [item for item in active if item.name.casefold() == wanted],
        [item for item in active if item.name.casefold().startswith(wanted)],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(sorted({m.name for m in matches})[:8])
            raise CliError(f"{kind.capitalize()} {name!r} is ambiguous{where}: it matches {names}.", 2)
    if any(item.name.casefold() == wanted for item in items):
        raise CliError(f"{kind.capitalize()} {name!r}{where} is archived and takes no new time.", 2)
    known = ", ".join(sorted(item.name for item in active)[:10]) or "none"
    raise CliError(f"There is no {kind} named {name!r}{where} (known: {known}).", 2)
