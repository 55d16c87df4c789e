"""One recipient's email, built locally (SMTP and file backends)."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage

from avis.mail.backends.base import Batch, Content, Recipient


def personalize(content: Content, substitutions: dict[str, str]) -> Content:
    """Replace the tags as SendGrid would: every occurrence of each key, verbatim."""
    subject, text, html = content.subject, content.text, content.html
    for tag, value in substitutions.items():
        subject = subject.replace(tag, value)
        text = text.replace(tag, value)
        html = html.replace(tag, value)
    return Content(subject=subject, text=text, html=html)


def single_line(value: str) -> str:
    """Header-safe text: CR, LF and other line breaks become spaces."""
    return " ".join(value.splitlines()).strip()


def build_email(batch: Batch, recipient: Recipient, domain: str | None = None) -> EmailMessage:
    """The MIME message for one recipient: text and HTML alternatives, UTF-8."""
    body = personalize(batch.content, recipient.substitutions)
    message = EmailMessage()
    message["From"] = email.utils.formataddr((single_line(batch.sender_name), batch.sender))
    message["To"] = email.utils.formataddr((single_line(recipient.name or ""), recipient.email))
    message["Subject"] = single_line(recipient.subject)
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(
        idstring=f"avis.{recipient.message_id}", domain=domain or batch.sender.rpartition("@")[2])
    for name, value in recipient.headers.items():
        message[name] = single_line(value)
    message.set_content(body.text, subtype="plain", charset="utf-8")
    message.add_alternative(body.html, subtype="html", charset="utf-8")
    return message
