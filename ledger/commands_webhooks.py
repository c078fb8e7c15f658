"""Commands and queries of webhook subscriptions (owners and admins only)."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from ledger.actors import Actor
from ledger.base import CommandContext
from ledger.core import Decision, LedgerCore, Receipt, _project
from ledger.organization import ADMIN_ROLES
from ledger.webhooks import WebhookBook, WebhookInfo, WebhookSubscription, webhook_book_id


def _listed(value: object) -> object:
    return list(value) if isinstance(value, (list, tuple)) else value


class WebhookCommands(LedgerCore):
    """Webhook subscriptions: create, change, rotate the secret, delete, ping."""

    def _webhook_book(self, ctx: CommandContext, org_id: UUID) -> WebhookBook:
        return self._find_or_open(WebhookBook, webhook_book_id(org_id), lambda: WebhookBook.open(ctx, org_id))

    def _admin_webhook(
        self, webhook_id: UUID, actor: Actor, doing: str, *, deleted_too: bool = False
    ) -> WebhookSubscription:
        """The subscription, if the actor is an owner or admin of its organization."""
        hook = self._load(WebhookSubscription, webhook_id, "webhook")
        _, role = self._org_role(hook.org_id, actor, about=("webhook", hook.id))
        if not deleted_too:
            hook.require_present()
        self._require_role(role, ADMIN_ROLES, doing)
        return hook

    def _with_secret(self, receipt: Receipt, actor: Actor) -> Receipt:
        """A repeated command id answers with the secret its first run showed (to an admin only)."""
        if not receipt.repeated or receipt.secret is not None:
            return receipt
        self._admin_webhook(receipt.id, actor, "see a webhook's secret", deleted_too=True)
        then = self.repository.get(receipt.id, version=receipt.version, projector_func=_project)
        return replace(receipt, secret=then.secret)

    def create_webhook(
        self,
        *,
        org_id: UUID,
        url: str,
        event_types: list[str] | tuple[str, ...],
        description: str = "",
        active: bool = True,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Subscribe a URL to event types; the signing secret is in `Receipt.secret`."""
        args = {
            "org_id": org_id,
            "url": url,
            "event_types": _listed(event_types),
            "description": description,
            "active": active,
        }

        def decide(ctx: CommandContext) -> Decision:
            _, role = self._org_role(org_id, actor)
            self._require_role(role, ADMIN_ROLES, "manage webhooks")
            hook = WebhookSubscription.create(
                ctx, org_id=org_id, url=url, event_types=event_types, description=description, active=active
            )
            book = self._webhook_book(ctx, org_id)
            book.add(ctx, hook.id)
            return [hook, book], Receipt("create_webhook", hook.id, hook.version, secret=hook.secret)

        return self._with_secret(self._execute("create_webhook", actor, command_id, args, decide), actor)

    def change_webhook(
        self,
        *,
        webhook_id: UUID,
        url: str | None = None,
        event_types: list[str] | tuple[str, ...] | None = None,
        description: str | None = None,
        active: bool | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Change a subscription; arguments left out keep their value."""
        args = {
            "webhook_id": webhook_id,
            "url": url,
            "event_types": _listed(event_types),
            "description": description,
            "active": active,
        }

        def decide(ctx: CommandContext) -> Decision:
            hook = self._admin_webhook(webhook_id, actor, "manage webhooks")
            hook.change(
                ctx,
                url=hook.url if url is None else url,
                event_types=hook.event_types if event_types is None else event_types,
                description=hook.description if description is None else description,
                active=hook.active if active is None else active,
            )
            return [hook], Receipt("change_webhook", hook.id, hook.version)

        return self._execute("change_webhook", actor, command_id, args, decide)

    def rotate_webhook_secret(
        self, *, webhook_id: UUID, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        """A new signing secret (in `Receipt.secret`); the old one stops signing at once."""

        def decide(ctx: CommandContext) -> Decision:
            hook = self._admin_webhook(webhook_id, actor, "manage webhooks")
            hook.rotate_secret(ctx)
            return [hook], Receipt("rotate_webhook_secret", hook.id, hook.version, secret=hook.secret)

        receipt = self._execute(
            "rotate_webhook_secret", actor, command_id, {"webhook_id": webhook_id}, decide
        )
        return self._with_secret(receipt, actor)

    def delete_webhook(self, *, webhook_id: UUID, actor: Actor, command_id: str | None = None) -> Receipt:
        """Stop deliveries to a subscription for good (pending retries are cancelled)."""

        def decide(ctx: CommandContext) -> Decision:
            hook = self._admin_webhook(webhook_id, actor, "manage webhooks")
            hook.delete(ctx)
            book = self._webhook_book(ctx, hook.org_id)
            book.remove(ctx, hook.id)
            return [hook, book], Receipt("delete_webhook", hook.id, hook.version)

        return self._execute("delete_webhook", actor, command_id, {"webhook_id": webhook_id}, decide)

    def ping_webhook(self, *, webhook_id: UUID, actor: Actor, command_id: str | None = None) -> Receipt:
        """Ask for a test delivery (`ping`) to this subscription; the dispatcher sends it."""

        def decide(ctx: CommandContext) -> Decision:
            hook = self._admin_webhook(webhook_id, actor, "send test deliveries")
            hook.ping(ctx)
            return [hook], Receipt("ping_webhook", hook.id, hook.version)

        return self._execute("ping_webhook", actor, command_id, {"webhook_id": webhook_id}, decide)

    # --- queries -------------------------------------------------------------------

    def get_webhook(self, webhook_id: UUID, actor: Actor) -> WebhookInfo:
        return WebhookInfo.of(self._admin_webhook(webhook_id, actor, "see webhooks"))

    def list_webhooks(self, org_id: UUID, actor: Actor) -> list[WebhookInfo]:
        """The organization's subscriptions, newest first."""
        _, role = self._org_role(org_id, actor)
        self._require_role(role, ADMIN_ROLES, "see webhooks")
        book = self._find(WebhookBook, webhook_book_id(org_id))
        ids = book.webhook_ids if book is not None else ()
        hooks = [self._find(WebhookSubscription, i) for i in reversed(ids)]
        return [WebhookInfo.of(h) for h in hooks if h is not None and not h.deleted]

    def webhook_for_delivery(self, webhook_id: UUID) -> WebhookSubscription | None:
        """The subscription with its secret, for the worker that signs deliveries (no actor)."""
        return self._find(WebhookSubscription, webhook_id)
