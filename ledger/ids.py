"""Deterministic ids for index aggregates, so uniqueness is a version-checked insert."""

from __future__ import annotations

from uuid import UUID, uuid5

NAMESPACE = UUID("6f1d2c6e-3b1a-5a8e-9d57-5c0f3e1a7b42")


def email_index_id(email: str) -> UUID:
    return uuid5(NAMESPACE, f"email:{email}")


def member_timer_id(org_id: UUID, member_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"timer:{org_id}:{member_id}")


def member_week_id(org_id: UUID, member_id: UUID, week_key: str) -> UUID:
    return uuid5(NAMESPACE, f"week:{org_id}:{member_id}:{week_key}")


def rate_card_id(org_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"rates:{org_id}")


def command_record_id(actor_label: str, command_id: str) -> UUID:
    return uuid5(NAMESPACE, f"command:{actor_label}:{command_id}")


def template_book_id(org_id: UUID, member_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"templates:{org_id}:{member_id}")


def timesheet_id(org_id: UUID, member_id: UUID, period_key: str) -> UUID:
    return uuid5(NAMESPACE, f"timesheet:{org_id}:{member_id}:{period_key}")


def invoice_sequence_id(org_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"invoice-sequence:{org_id}")
