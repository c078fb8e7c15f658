"""Budget alerts: at 80% and 100% of a project's budget, once per threshold, decided by the ledger.

The check reads what each project used from the totals read model: tracked seconds
against `budget_seconds`, and billable amounts (tracked billable seconds at the rates in
effect, as the totals projection computes them) against `budget_minor`. A threshold is
reached when either measure reaches it. The ledger's `record_budget_alert` refuses a
threshold it already recorded, so of several checks (processes, retries, races) exactly
one appends `Project.BudgetAlerted`, and only that one sends the e-mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from babel.numbers import format_currency, get_currency_precision
from sqlalchemy import Engine, or_, select

from ledger.actors import Actor
from ledger.catalog import BUDGET_THRESHOLDS, Project
from ledger.errors import BudgetAlreadyAlertedError
from ledger.organization import MANAGER_ROLES
from projections.registry import live_tables
from projections.totals import TotalsProjection
from projections.totals_queries import ProjectBudget
from workers import claims, mail
from workers.broker import actor
from workers.context import WorkerContext, context

log = logging.getLogger("timeledger.jobs.budgets")


@dataclass(frozen=True)
class Alert:
    """A threshold this check recorded in the ledger (and so must announce)."""

    project_id: UUID
    threshold_percent: int
    version: int


def budgets_in_use(engine: Engine) -> list[ProjectBudget]:
    """Every project with an hour or money budget, with what it used (totals read model)."""
    with engine.connect() as conn:
        b = live_tables(conn, TotalsProjection)["budgets"]
        rows = conn.execute(
            select(b)
            .where(or_(b.c.budget_seconds > 0, b.c.budget_minor > 0))
            .order_by(b.c.org_id, b.c.project_id)
        ).all()
    return [
        ProjectBudget(
            project_id=r.project_id,
            org_id=r.org_id,
            budget_seconds=r.budget_seconds,
            budget_minor=r.budget_minor,
            used_seconds=int(r.used_seconds),
            used_billable_seconds=int(r.used_billable_seconds),
            used_minor=int(r.used_minor),
        )
        for r in rows
    ]


def thresholds_reached(budget: ProjectBudget) -> list[int]:
    """The thresholds (percent) that the hours or the money used have reached."""
    reached = []
    for threshold in BUDGET_THRESHOLDS:
        hours = budget.budget_seconds and budget.used_seconds * 100 >= threshold * budget.budget_seconds
        money = budget.budget_minor and budget.used_minor * 100 >= threshold * budget.budget_minor
        if hours or money:
            reached.append(threshold)
    return reached


def check_budgets_now(ctx: WorkerContext) -> list[Alert]:
    """Record every newly reached threshold; the alerts this call won are sent as e-mail jobs."""
    won: list[Alert] = []
    for budget in budgets_in_use(ctx.engine):
        project = ctx.ledger.aggregate(budget.project_id)
        if not isinstance(project, Project) or project.archived:
            continue
        if (project.budget_seconds, project.budget_minor) != (budget.budget_seconds, budget.budget_minor):
            continue  # the read model has not caught up with a budget change yet: next check
        for threshold in thresholds_reached(budget):
            if threshold in project.budget_alerts_sent:
                continue
            try:
                receipt = ctx.ledger.record_budget_alert(
                    project_id=project.id,
                    threshold_percent=threshold,
                    used_seconds=budget.used_seconds,
                    used_minor=budget.used_minor if project.budget_minor is not None else None,
                    actor=Actor.system(),
                )
            except BudgetAlreadyAlertedError:
                continue  # another check recorded it first, and announces it
            won.append(Alert(project.id, threshold, receipt.version))
    # A project that passed both thresholds since the last check gets one e-mail, the highest.
    highest: dict[UUID, Alert] = {}
    for alert in won:  # ascending thresholds per project, so the last one is the highest
        highest[alert.project_id] = alert
    for alert in highest.values():
        send_budget_alert.send(str(alert.project_id), alert.threshold_percent, alert.version)
    return won


@actor(max_retries=3)
def check_budgets(fire_time_iso: str | None = None) -> None:
    """The scheduled budget check (`fire_time_iso` names the firing that started it)."""
    ctx = context()
    for alert in check_budgets_now(ctx):
        log.info("project %s reached %s%% of its budget", alert.project_id, alert.threshold_percent)
    if fire_time_iso is not None:
        claims.finish(ctx.engine, "budget_check", fire_time_iso)


def _money(minor: int, currency: str) -> str:
    return format_currency(Decimal(minor).scaleb(-get_currency_precision(currency)), currency, locale="en")


@actor(max_retries=5, min_backoff=1_000, max_backoff=300_000)
def send_budget_alert(project_id: str, threshold_percent: int, version: int) -> None:
    """E-mail the organization's owners, admins and managers about one recorded alert."""
    ctx = context()
    if ctx.mail is None:
        log.info("e-mail is off (TIMELEDGER_SMTP_HOST is unset): skipped the budget alert of %s", project_id)
        return
    # The project as the alert found it (its budget then), and the alert's own numbers.
    project = ctx.ledger.aggregate(UUID(project_id))
    if not isinstance(project, Project):
        log.warning("skipped the budget alert of %s: there is no such project", project_id)
        return
    then: Project = ctx.ledger.repository.get(project.id, version=version)
    alerted = next(iter(ctx.ledger.events.get(project.id, gt=version - 1, lte=version)))
    if not isinstance(alerted, Project.BudgetAlerted):
        log.warning("skipped the budget alert of %s: version %s is not a budget alert", project_id, version)
        return
    org = ctx.ledger.get_organization(project.org_id, Actor.system())
    currency = org.settings.currency
    values = {
        "org": org.name,
        "project": then.name,
        "percent": threshold_percent,
        "used_hours": mail.hours(alerted.used_seconds),
        "budget_hours": mail.hours(then.budget_seconds) if then.budget_seconds else None,
        "used_money": _money(alerted.used_minor or 0, currency),
        "budget_money": _money(then.budget_minor, currency) if then.budget_minor else None,
    }
    subject = f"Budget alert: {then.name} reached {threshold_percent}% of its budget"
    for user_id, role in sorted(org.members.items(), key=lambda m: str(m[0])):
        user = ctx.ledger.get_user(user_id)
        if role not in MANAGER_ROLES or user is None:
            continue
        text, html = mail.render("mail_budget_alert", person=user.display_name, **values)
        message = mail.Mail(user.email, subject, text, html, user.display_name)
        key = f"{project.id}/{version}/{user_id}"
        mail.send_once(ctx.engine, ctx.mail, "budget_alert.mail", key, message)
