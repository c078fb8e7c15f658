"""Sending one e-mail (plain text with an HTML alternative) over SMTP, and rendering its parts."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import Engine

from workers import claims
from workers.context import MailSettings

log = logging.getLogger("timeledger.mail")
TEMPLATES = Path(__file__).resolve().parent / "templates"
SMTP_TIMEOUT_SECONDS = 30

_templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Mail:
    """One message to one person."""

    to: str
    subject: str
    text: str
    html: str
    to_name: str = ""


def render(template: str, **values: Any) -> tuple[str, str]:
    """The plain-text and HTML parts from `<template>.txt` and `<template>.html`."""
    text = _templates.get_template(f"{template}.txt").render(**values)
    html = _templates.get_template(f"{template}.html").render(**values)
    return text, html


def build_message(settings: MailSettings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = formataddr((mail.to_name, mail.to)) if mail.to_name else mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


def send(settings: MailSettings, mail: Mail) -> None:
    """Send one message; raises `smtplib.SMTPException` or `OSError` when the server refuses or is away."""
    message = build_message(settings, mail)
    with smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)
    # The settings' password is never logged: only the server and the recipient are.
    log.info("sent %r to %s via %s:%s", mail.subject, mail.to, settings.host, settings.port)


def send_once(engine: Engine, settings: MailSettings, claim_name: str, key: str, mail: Mail) -> bool:
    """Send unless the claim (claim_name, key) was taken; a failure gives the claim back and raises.

    So a job retried after a failure sends only the messages that did not go out.
    """
    if not claims.claim(engine, claim_name, key):
        return False
    try:
        send(settings, mail)
    except BaseException:
        claims.release(engine, claim_name, key)
        raise
    return True


def hours(seconds: int) -> str:
    """Seconds as hours and minutes, `7:05` (rounded down to the minute, as timesheets show)."""
    minutes = seconds // 60
    return f"{minutes // 60}:{minutes % 60:02d}"
