"""Mail backends: how a batch of personalised emails leaves avis.

Chosen by ``AVIS_MAIL_BACKEND``: ``file`` (development), ``smtp``, ``sendgrid``.
"""

from __future__ import annotations

from flask import Flask

from avis.mail.backends.base import Batch, Delivery, DeliveryState, MailBackend, Recipient


def backend_for(app: Flask) -> MailBackend:
    """The configured backend, built from the app's settings."""
    name = app.config["MAIL_BACKEND"]
    if name == "sendgrid":
        from avis.mail.backends.sendgrid import SendGridBackend

        return SendGridBackend.from_config(app.config)
    if name == "smtp":
        from avis.mail.backends.smtp import SMTPBackend

        return SMTPBackend.from_config(app.config)
    from avis.mail.backends.file import FileBackend

    return FileBackend.from_config(app.config, app.instance_path)


__all__ = ["Batch", "Delivery", "DeliveryState", "MailBackend", "Recipient", "backend_for"]
