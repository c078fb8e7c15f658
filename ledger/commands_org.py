"""Commands on organizations, their members, users and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.actors import Actor
from ledger.base import CommandContext, LedgerAggregate
from ledger.clock import ensure_utc
from ledger.core import Decision, LedgerCore, Receipt
from ledger.errors import ForbiddenError, InvalidInputError, NotFoundError
from ledger.ids import email_index_id
from ledger.organization import ADMIN_ROLES, Organization, check_role
from ledger.settings import OrgSettings
from ledger.tokens import ApiToken, check_scopes
from ledger.users import EmailIndex, User, normalise_email


class OrganizationCommands(LedgerCore):
    """Organizations, members, users, tokens."""

    def _user_for_email(
        self, ctx: CommandContext, email: str, name: str, password: str | None
    ) -> tuple[UUID, list[LedgerAggregate]]:
        """The user with this email, registering them (and their email) when new."""
        email = normalise_email(email)
        index = self._find(EmailIndex, email_index_id(email))
        if index is not None:
            return index.user_id, []
        password_hash = self.passwords.hash(password) if password is not None else None
        user = User.register(ctx, email, name, password_hash)
        return user.id, [user, EmailIndex.claim(ctx, email, user.id)]

    def create_organization(
        self,
        *,
        name: str,
        owner_email: str,
        owner_name: str,
        owner_password: str | None,
        settings: dict[str, Any] | None = None,
        actor: Actor | None = None,
        command_id: str | None = None,
    ) -> Receipt:
        """Create an organization owned by the person with `owner_email` (registered if new)."""
        actor = actor or Actor.system()
        org_settings = OrgSettings().with_changes(settings or {})
        args = {
            "name": name,
            "owner_email": owner_email,
            "owner_name": owner_name,
            "settings": settings or {},
        }

        def decide(ctx: CommandContext) -> Decision:
            org = Organization.create(ctx, name, org_settings)
            user_id, new = self._user_for_email(ctx, owner_email, owner_name, owner_password)
            org.add_member(ctx, user_id, "owner")
            return [org, *new], Receipt("create_organization", org.id, org.version, (user_id,))

        return self._execute("create_organization", actor, command_id, args, decide)

    def rename_organization(
        self, *, org_id: UUID, name: str, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            org, role = self._org_role(org_id, actor)
            self._require_role(role, ADMIN_ROLES, "rename the organization")
            org.rename(ctx, name)
            return [org], Receipt("rename_organization", org.id, org.version)

        return self._execute(
            "rename_organization", actor, command_id, {"org_id": org_id, "name": name}, decide
        )

    def change_settings(
        self, *, org_id: UUID, changes: dict[str, Any], actor: Actor, command_id: str | None = None
    ) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            org, role = self._org_role(org_id, actor)
            self._require_role(role, ADMIN_ROLES, "change the organization's settings")
            org.change_settings(ctx, changes)
            return [org], Receipt("change_settings", org.id, org.version)

        return self._execute(
            "change_settings", actor, command_id, {"org_id": org_id, "changes": changes}, decide
        )

    def add_member(
        self,
        *,
        org_id: UUID,
        email: str,
        name: str,
        role: str,
        password: str | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Add a person to the organization, registering them when their email is new."""
        check_role(role)
        args = {"org_id": org_id, "email": email, "name": name, "role": role}

        def decide(ctx: CommandContext) -> Decision:
            org, my_role = self._org_role(org_id, actor)
            self._require_role(my_role, ADMIN_ROLES, "add members")
            if role == "owner" and my_role != "owner":
                raise ForbiddenError("Only an owner may make someone an owner.")
            user_id, new = self._user_for_email(ctx, email, name, password)
            org.add_member(ctx, user_id, role)
            return [org, *new], Receipt("add_member", user_id, org.version, (org.id,))

        return self._execute("add_member", actor, command_id, args, decide)

    def change_role(
        self, *, org_id: UUID, user_id: UUID, role: str, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            org, my_role = self._org_role(org_id, actor)
            self._require_role(my_role, ADMIN_ROLES, "change roles")
            if my_role != "owner" and "owner" in (role, org.role_of(user_id)):
                raise ForbiddenError("Only an owner may grant or take away the owner role.")
            org.change_role(ctx, user_id, role)
            return [org], Receipt("change_role", user_id, org.version, (org.id,))

        return self._execute(
            "change_role", actor, command_id, {"org_id": org_id, "user_id": user_id, "role": role}, decide
        )

    def remove_member(
        self, *, org_id: UUID, user_id: UUID, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            org, my_role = self._org_role(org_id, actor)
            self._require_role(my_role, ADMIN_ROLES, "remove members")
            if org.role_of(user_id) == "owner" and my_role != "owner":
                raise ForbiddenError("Only an owner may remove an owner.")
            org.remove_member(ctx, user_id)
            return [org], Receipt("remove_member", user_id, org.version, (org.id,))

        return self._execute(
            "remove_member", actor, command_id, {"org_id": org_id, "user_id": user_id}, decide
        )

    def rename_user(
        self, *, user_id: UUID, display_name: str, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            self._require_self(actor, user_id)
            user = self._load(User, user_id, "user")
            user.rename(ctx, display_name)
            return [user], Receipt("rename_user", user.id, user.version)

        return self._execute(
            "rename_user", actor, command_id, {"user_id": user_id, "display_name": display_name}, decide
        )

    def change_password(
        self, *, user_id: UUID, password: str, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        password_hash = self.passwords.hash(password)

        def decide(ctx: CommandContext) -> Decision:
            self._require_self(actor, user_id)
            user = self._load(User, user_id, "user")
            user.change_password(ctx, password_hash)
            return [user], Receipt("change_password", user.id, user.version)

        # The password itself never enters the fingerprint or the log.
        return self._execute("change_password", actor, command_id, {"user_id": user_id}, decide)

    def enable_two_factor(
        self,
        *,
        user_id: UUID,
        secret_ciphertext: str,
        recovery_code_hashes: list[str] | tuple[str, ...],
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Turn on two-factor login with an encrypted TOTP secret and hashed recovery codes."""
        hashes = tuple(recovery_code_hashes)

        def decide(ctx: CommandContext) -> Decision:
            self._require_self(actor, user_id)
            user = self._load(User, user_id, "user")
            user.enable_two_factor(ctx, secret_ciphertext, hashes)
            return [user], Receipt("enable_two_factor", user.id, user.version)

        # Secrets and codes are fresh on every try, so only the user names the command:
        # a repeated command id answers with the first result (whose codes were shown once).
        return self._execute("enable_two_factor", actor, command_id, {"user_id": user_id}, decide)

    def disable_two_factor(self, *, user_id: UUID, actor: Actor, command_id: str | None = None) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            self._require_self(actor, user_id)
            user = self._load(User, user_id, "user")
            user.disable_two_factor(ctx)
            return [user], Receipt("disable_two_factor", user.id, user.version)

        return self._execute("disable_two_factor", actor, command_id, {"user_id": user_id}, decide)

    def use_recovery_code(
        self, *, user_id: UUID, code_hash: str, actor: Actor, command_id: str | None = None
    ) -> Receipt:
        """Spend one recovery code (given by its hash); an unknown or spent one is a conflict."""

        def decide(ctx: CommandContext) -> Decision:
            self._require_self(actor, user_id)
            user = self._load(User, user_id, "user")
            user.use_recovery_code(ctx, code_hash)
            return [user], Receipt("use_recovery_code", user.id, user.version)

        return self._execute(
            "use_recovery_code", actor, command_id, {"user_id": user_id, "code_hash": code_hash}, decide
        )

    @staticmethod
    def _require_self(actor: Actor, user_id: UUID) -> None:
        if actor.kind != "system" and actor.user_id != user_id:
            raise ForbiddenError("You may change only your own profile.")

    def issue_token(
        self,
        *,
        org_id: UUID,
        name: str,
        scopes: list[str] | tuple[str, ...],
        user_id: UUID | None = None,
        expires_at: datetime | None = None,
        actor: Actor,
        command_id: str | None = None,
    ) -> Receipt:
        """Issue an API token; the token text is in `Receipt.secret`, this once only."""
        wanted = check_scopes(scopes)
        expiry = ensure_utc(expires_at) if expires_at is not None else None
        args = {
            "org_id": org_id,
            "name": name,
            "scopes": list(wanted),
            "user_id": user_id,
            "expires_at": expiry,
        }

        def decide(ctx: CommandContext) -> Decision:
            org, role = self._org_role(org_id, actor)
            holder = user_id or actor.user_id
            if holder is None:
                raise NotFoundError("Name the member the token acts for (user_id).")
            holder_role = org.require_member(holder)
            if expiry is not None and expiry <= ctx.recorded_at:
                raise InvalidInputError("A token's expiry must lie in the future.", field="expires_at")
            if holder != actor.user_id:
                self._require_role(role, ADMIN_ROLES, "issue tokens for other members")
            if "admin" in wanted and holder_role not in ADMIN_ROLES:
                raise ForbiddenError("Only an owner or admin can hold a token with the admin scope.")
            token, text = ApiToken.issue(
                ctx, org_id=org.id, user_id=holder, name=name, scopes=wanted, expires_at=expiry
            )
            return [token], Receipt("issue_token", token.id, token.version, (holder,), secret=text)

        return self._execute("issue_token", actor, command_id, args, decide)

    def revoke_token(self, *, token_id: UUID, actor: Actor, command_id: str | None = None) -> Receipt:
        def decide(ctx: CommandContext) -> Decision:
            token = self._load(ApiToken, token_id, "token")
            _, role = self._org_role(token.org_id, actor, about=("token", token.id))
            if token.user_id != actor.user_id:
                self._require_role(role, ADMIN_ROLES, "revoke other members' tokens")
            token.revoke(ctx)
            return [token], Receipt("revoke_token", token.id, token.version)

        return self._execute("revoke_token", actor, command_id, {"token_id": token_id}, decide)
