"""Entry templates: a member's saved project, task, description, tags and billable flag.

A member's templates live in one aggregate (their template book), so listing
them is one load and saving one is one version-checked append.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.base import CommandContext, LedgerAggregate
from ledger.errors import InvalidInputError, NotFoundError
from ledger.ids import template_book_id
from ledger.text import check_line
from ledger.time_entry import EntryDetails

MAX_TEMPLATES = 200
MAX_NAME = 100


@dataclass(frozen=True)
class Template:
    id: UUID
    name: str
    details: EntryDetails


def clean_template_name(name: str) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > MAX_NAME:
        raise InvalidInputError(f"A template needs a name of 1 to {MAX_NAME} characters.", field="name")
    return check_line(text, "name", "template's name")


class TemplateBook(LedgerAggregate):
    """The templates of one member in one organization."""

    if TYPE_CHECKING:
        org_id: UUID
        member_id: UUID
        templates: dict[UUID, Template]

    class Opened(LedgerAggregate.Created):
        org_id: UUID
        member_id: UUID

        def apply(self, book: TemplateBook) -> None:
            book.org_id = self.org_id
            book.member_id = self.member_id
            book.templates = {}

    class TemplateSaved(LedgerAggregate.Event):
        template_id: UUID
        name: str
        project_id: UUID
        task_id: UUID | None
        description: str
        tags: tuple[str, ...]
        billable: bool

        def apply(self, book: TemplateBook) -> None:
            details = EntryDetails(
                self.project_id, self.task_id, self.description, tuple(self.tags), self.billable
            )
            book.templates = {
                **book.templates,
                self.template_id: Template(self.template_id, self.name, details),
            }

    class TemplateRemoved(LedgerAggregate.Event):
        template_id: UUID

        def apply(self, book: TemplateBook) -> None:
            book.templates = {k: v for k, v in book.templates.items() if k != self.template_id}

    @classmethod
    def open(cls, ctx: CommandContext, org_id: UUID, member_id: UUID) -> TemplateBook:
        return cls._start(
            cls.Opened, ctx, id=template_book_id(org_id, member_id), org_id=org_id, member_id=member_id
        )

    def save(self, ctx: CommandContext, template_id: UUID, name: str, details: EntryDetails) -> None:
        if template_id not in self.templates and len(self.templates) >= MAX_TEMPLATES:
            raise InvalidInputError(f"A member may keep at most {MAX_TEMPLATES} templates.")
        self._record(
            self.TemplateSaved,
            ctx,
            template_id=template_id,
            name=clean_template_name(name),
            project_id=details.project_id,
            task_id=details.task_id,
            description=details.description,
            tags=details.tags,
            billable=details.billable,
        )

    def get(self, template_id: UUID) -> Template:
        found = self.templates.get(template_id)
        if found is None:
            raise NotFoundError(f"There is no template with id {template_id}.")
        return found

    def remove(self, ctx: CommandContext, template_id: UUID) -> None:
        self.get(template_id)
        self._record(self.TemplateRemoved, ctx, template_id=template_id)
