"""Import a file into an organization: a dry-run plan, then an idempotent apply."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.actors import Actor
from ledger.application import TimeLedger
from ledger.errors import IdempotencyKeyReusedError, InvalidInputError, LedgerError
from ledger.ids import command_record_id
from ledger.imports.directory import Directory, ProjectKey, TaskKey, fold
from ledger.imports.formats import PARSERS, detect_format
from ledger.imports.rows import ImportRow, RowError


@dataclass(frozen=True)
class PlannedEntry:
    """A row that will become an entry, with what it needs and its command id."""

    row: ImportRow
    member_id: UUID
    client: str | None
    project: ProjectKey
    task: TaskKey | None
    command_id: str
    already_imported: bool


@dataclass(frozen=True)
class Plan:
    """What an import would create, and every row it cannot take."""

    format: str
    timezone: str
    digest: str
    new_clients: dict[str, tuple[str, int]]  # folded name -> (name as written, first line)
    new_projects: dict[ProjectKey, tuple[str, int]]  # -> (name, first line)
    new_tasks: dict[TaskKey, tuple[str, int]]
    entries: tuple[PlannedEntry, ...]
    errors: tuple[RowError, ...]
    members: tuple[str, ...]  # e-mails of the members the rows matched

    @property
    def new_entries(self) -> tuple[PlannedEntry, ...]:
        return tuple(e for e in self.entries if not e.already_imported)


@dataclass
class Outcome:
    """What an apply did."""

    clients: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    entry_ids: dict[int, UUID] = field(default_factory=dict)  # line -> entry (new or found again)
    recorded: int = 0
    already_imported: int = 0
    errors: list[RowError] = field(default_factory=list)


class Importer:
    """Imports as `actor` (the system, i.e. the owner) and records each entry for its member."""

    def __init__(self, ledger: TimeLedger, org_id: UUID, actor: Actor | None = None) -> None:
        self.ledger = ledger
        self.org_id = org_id
        self.actor = actor or Actor.system()

    def plan(self, text: str, fmt: str = "auto", timezone: str | None = None) -> Plan:
        org = self.ledger.get_organization(self.org_id, self.actor)
        zone_name = timezone or org.settings.timezone
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInputError(f"Unknown timezone {zone_name!r}.", field="timezone") from None
        name = detect_format(text) if fmt == "auto" else fmt
        if name not in PARSERS:
            raise InvalidInputError(
                f"Cannot tell the file's format; name one of {', '.join(PARSERS)}.", field="format"
            )
        parsed = PARSERS[name](text, zone)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
        return _Planner(self, Directory.read(self.ledger, self.org_id), digest).run(
            name, zone_name, parsed.rows, parsed.errors
        )

    def apply(self, plan: Plan) -> Outcome:
        """Create what is missing, then record the entries; a refused row does not stop the rest."""
        found = Directory.read(self.ledger, self.org_id)
        outcome = Outcome()
        failed: dict[object, str] = {}
        for ckey, (name, line) in plan.new_clients.items():
            if ckey not in found.clients:
                made = self._create(plan, "client", name, line, failed, ckey, outcome.clients, None)
                found.clients.update({ckey: made} if made else {})
        for pkey, (name, line) in plan.new_projects.items():
            if pkey not in found.projects and pkey[0] not in failed:
                parent = found.clients.get(pkey[0]) if pkey[0] else None
                made = self._create(plan, "project", name, line, failed, pkey, outcome.projects, parent)
                found.projects.update({pkey: made} if made else {})
        for tkey, (name, line) in plan.new_tasks.items():
            parent = found.projects.get(tkey[:2])
            if tkey not in found.tasks and parent is not None:
                made = self._create(plan, "task", name, line, failed, tkey, outcome.tasks, parent)
                found.tasks.update({tkey: made} if made else {})
        for entry in plan.entries:
            self._record(entry, found, failed, outcome)
        outcome.errors = sorted([*plan.errors, *outcome.errors], key=lambda e: e.line)
        return outcome

    def _create(
        self,
        plan: Plan,
        kind: str,
        name: str,
        line: int,
        failed: dict[object, str],
        key: object,
        created: list[str],
        parent: UUID | None,
    ) -> UUID | None:
        """One catalog item; its command id holds the file's hash, the first line needing it and its kind."""
        command_id = f"import:{self.org_id}:{plan.digest}:{line}:{kind}:{fold(name)}"[:200]
        try:
            if kind == "client":
                receipt = self.ledger.create_client(
                    org_id=self.org_id, name=name, actor=self.actor, command_id=command_id
                )
            elif kind == "project":
                receipt = self.ledger.create_project(
                    org_id=self.org_id, name=name, client_id=parent, actor=self.actor, command_id=command_id
                )
            else:
                assert parent is not None  # noqa: S101 - tasks are only planned under a known project
                receipt = self.ledger.create_task(
                    project_id=parent, name=name, actor=self.actor, command_id=command_id
                )
        except LedgerError as error:
            failed[key] = f"The {kind} {name!r} could not be created: {error}"
            return None
        if not receipt.repeated:
            created.append(name)
        return receipt.id

    def _record(
        self, entry: PlannedEntry, directory: Directory, failed: dict[object, str], outcome: Outcome
    ) -> None:
        row = entry.row
        for key in (entry.client, entry.project, entry.task):
            if key is not None and key in failed:
                outcome.errors.append(RowError(row.line, failed[key]))
                return
        try:
            receipt = self.ledger.record_entry(
                org_id=self.org_id,
                project_id=directory.projects[entry.project],
                task_id=directory.tasks[entry.task] if entry.task else None,
                start=row.start,
                end=row.end,
                description=row.description,
                tags=row.tags,
                billable=row.billable,
                member_id=entry.member_id,
                actor=self.actor,
                command_id=entry.command_id,
            )
        except IdempotencyKeyReusedError:
            reason = "This row was imported before with other values (another --timezone?); left as it was."
            outcome.errors.append(RowError(row.line, reason))
            return
        except LedgerError as error:
            outcome.errors.append(RowError(row.line, str(error)))
            return
        outcome.entry_ids[row.line] = receipt.id
        if receipt.repeated:
            outcome.already_imported += 1
        else:
            outcome.recorded += 1


@dataclass
class _Planner:
    importer: Importer
    directory: Directory
    digest: str
    new_clients: dict[str, tuple[str, int]] = field(default_factory=dict)
    new_projects: dict[ProjectKey, tuple[str, int]] = field(default_factory=dict)
    new_tasks: dict[TaskKey, tuple[str, int]] = field(default_factory=dict)

    def run(self, fmt: str, zone: str, rows: tuple[ImportRow, ...], errors: tuple[RowError, ...]) -> Plan:
        entries: list[PlannedEntry] = []
        problems = list(errors)
        matched: set[UUID] = set()
        for row in rows:
            try:
                member_id = self.directory.member(row.member_email, row.member_name)
            except LookupError as error:
                problems.append(RowError(row.line, str(error)))
                continue
            matched.add(member_id)
            entries.append(self._entry(row, member_id))
        return Plan(
            format=fmt,
            timezone=zone,
            digest=self.digest,
            new_clients=self.new_clients,
            new_projects=self.new_projects,
            new_tasks=self.new_tasks,
            entries=tuple(entries),
            errors=tuple(sorted(problems, key=lambda e: e.line)),
            members=tuple(sorted(e for e, m in self.directory.emails.items() if m in matched)),
        )

    def _entry(self, row: ImportRow, member_id: UUID) -> PlannedEntry:
        client = fold(row.client) or None
        if client and client not in self.directory.clients:
            self.new_clients.setdefault(client, (row.client or "", row.line))
        project: ProjectKey = (client or "", fold(row.project))
        if project not in self.directory.projects:
            self.new_projects.setdefault(project, (row.project, row.line))
        task: TaskKey | None = (*project, fold(row.task)) if row.task else None
        if task is not None and task not in self.directory.tasks:
            self.new_tasks.setdefault(task, (row.task or "", row.line))
        importer = self.importer
        command_id = f"import:{importer.org_id}:{self.digest}:{row.line}:entry"
        record = importer.ledger.aggregate(command_record_id(importer.actor.label, command_id))
        return PlannedEntry(row, member_id, client, project, task, command_id, record is not None)
