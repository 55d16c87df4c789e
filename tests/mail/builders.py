"""Batches for backend tests: a small content with tags, numbered recipients."""

from __future__ import annotations

from avis.mail.backends.base import Batch, Content, Recipient

CONTENT = Content(
    subject="Votre avis sur [[course]]",
    text="Bonjour [[name]],\nDonnez votre avis : [[link]]\n",
    html='<p>Bonjour [[name]],</p><p><a href="[[link]]">Donner mon avis</a></p>',
)


def recipient(number: int, *, email: str | None = None, display: str = "Stagiaire {n}",
              greeting: str = "Stagiaire {n}") -> Recipient:
    """Recipient ``number``: address ``trainee{n}@example.org`` unless given."""
    token = f"tok{number:06d}"
    return Recipient(
        message_id=number,
        invitation_id=10_000 + number,
        email=email or f"trainee{number}@example.org",
        name=display.format(n=number),
        subject=f"Votre avis sur la formation {number}",
        substitutions={
            "[[name]]": greeting.format(n=number),
            "[[course]]": f"Formation {number}",
            "[[link]]": f"https://avis.test/q/{token}",
        },
        headers={
            "List-Unsubscribe": f"<https://avis.test/unsubscribe/{token}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def make_batch(recipients: list[Recipient], *, category: str | None = "invitation") -> Batch:
    return Batch(content=CONTENT, recipients=recipients, sender="avis@avis.test",
                 sender_name="avis", category=category)
