"""Commands and queries of entry templates (a member's saved entry details)."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid4

from ledger.actors import Actor
from ledger.base import CommandContext
from ledger.commands_entries import EntryCommands
from ledger.core import Decision, Receipt
from ledger.errors import NotFoundError
from ledger.ids import template_book_id
from ledger.templates import Template, TemplateBook


class TemplateCommands(EntryCommands):
    def _template_book(self, ctx: CommandContext, org_id: UUID, member_id: UUID) -> TemplateBook:
        return self._find_or_open(
            TemplateBook,
            template_book_id(org_id, member_id),
            lambda: TemplateBook.open(ctx, org_id, member_id),
        )

    def save_template(
        self,
        *,
        org_id: UUID,
        name: str,
        project_id: UUID,
        task_id: UUID | None = None,
        description: str | None = None,
        tags: list[str] | tuple[str, ...] | None = None,
        billable: bool | None = None,
        template_id: UUID | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Save a new template (no `template_id`) or replace one of the actor's own."""
        args = {
            "org_id": org_id,
            "name": name,
            "project_id": project_id,
            "task_id": task_id,
            "description": description,
            "tags": list(tags) if tags is not None else None,
            "billable": billable,
            "template_id": template_id,
        }

        def decide(ctx: CommandContext) -> Decision:
            org, member = self._acting_for(org_id, actor, None)
            details = self._details(org, project_id, task_id, description, tags, billable)
            book = self._template_book(ctx, org.id, member)
            if template_id is not None:
                book.get(template_id)
            saved_id = template_id or uuid4()
            book.save(ctx, saved_id, name, details)
            return [book], Receipt("save_template", book.id, book.version, related=(saved_id,))

        return self._execute("save_template", actor, command_id, args, decide)

    def remove_template(
        self, *, org_id: UUID, template_id: UUID, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            org, member = self._acting_for(org_id, actor, None)
            book = self._template_book(ctx, org.id, member)
            book.remove(ctx, template_id)
            return [book], Receipt("remove_template", book.id, book.version, related=(template_id,))

        return self._execute(
            "remove_template", actor, command_id, {"org_id": org_id, "template_id": template_id}, decide
        )

    def templates(self, org_id: UUID, actor: Actor) -> list[Template]:
        """The actor's templates in the organization, by name."""
        org, member = self._acting_for(org_id, actor, None)
        book = self._find(TemplateBook, template_book_id(org.id, member))
        found = list(book.templates.values()) if book is not None else []
        return sorted(found, key=lambda t: (t.name.lower(), str(t.id)))

    def template(self, org_id: UUID, template_id: UUID, actor: Actor) -> Template:
        org, member = self._acting_for(org_id, actor, None)
        book = self._find(TemplateBook, template_book_id(org.id, member))
        if book is None:
            raise NotFoundError(f"There is no template with id {template_id}.")
        return book.get(template_id)

    def start_from_template(
        self, *, org_id: UUID, template_id: UUID, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        """Start a timer with a template's details (checked again: the project may be archived now).

        It runs as `start_timer` with the template's fields, so a repeat of the same command id
        after the template changed is refused as a reused id rather than starting other work.
        """
        template = self.template(org_id, template_id, actor)
        d = template.details
        started = self.start_timer(
            org_id=org_id,
            project_id=d.project_id,
            task_id=d.task_id,
            description=d.description,
            tags=d.tags,
            billable=d.billable,
            actor=actor,
            command_id=command_id,
        )
        return replace(started, command="start_from_template")
