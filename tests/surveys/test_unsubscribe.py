"""``/unsubscribe/<token>``: GET asks, POST (our form or RFC 8058 one-click) unsubscribes."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from avis.db import db
from avis.mail.models import MessageStatus, OutboxMessage, Suppression, SuppressionReason
from avis.mail.suppressions import is_suppressed
from avis.surveys.models.invitations import Invitation, InvitationStatus

Invited = Callable[..., tuple[Invitation, str]]
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def suppressions() -> list[Suppression]:
    return list(db.session.scalars(sa.select(Suppression)))


def status_of(invitation: Invitation) -> InvitationStatus:
    db.session.refresh(invitation)
    return invitation.status


def test_get_shows_the_course_and_a_button_and_records_nothing(client, invited: Invited) -> None:
    invitation, token = invited(email="lea@example.org")

    response = client.get(f"/unsubscribe/{token}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Se désinscrire" in html
    assert "Aide à domicile" in html
    assert "Institut de formation de l&#39;Ouest" in html
    assert "l…@example.org" in html
    assert "lea@example.org" not in html
    # Only in the "Mes données" and "Supprimer mes données" links (issue 15).
    assert html.count(token) == 2
    assert f'href="/unsubscribe/{token}/mes-donnees"' in html
    assert f'href="/unsubscribe/{token}/supprimer"' in html
    assert '<form method="post">' in html
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert suppressions() == []
    assert status_of(invitation) == InvitationStatus.sent


def test_head_records_nothing_either(client, invited: Invited) -> None:
    invitation, token = invited(email="lea@example.org")

    assert client.head(f"/unsubscribe/{token}").status_code == 200

    assert suppressions() == []
    assert status_of(invitation) == InvitationStatus.sent


def test_the_confirmation_form_unsubscribes(client, invited: Invited) -> None:
    invitation, token = invited(email="lea@example.org")
    other, _token = invited(email="lea@example.org")
    reminder = OutboxMessage(invitation_id=other.id, sequence=1, template="reminder")
    db.session.add(reminder)
    db.session.commit()
    page = client.get(f"/unsubscribe/{token}").get_data(as_text=True)

    response = client.post(f"/unsubscribe/{token}", data={"csrf_token": csrf_token(page)})

    assert response.status_code == 200
    assert "Désinscription enregistrée" in response.get_data(as_text=True)
    [suppression] = suppressions()
    assert suppression.reason == SuppressionReason.unsubscribe
    assert is_suppressed("lea@example.org")
    # Every open invitation of the trainee, and the email queued for one of them.
    assert status_of(invitation) == InvitationStatus.unsubscribed
    assert status_of(other) == InvitationStatus.unsubscribed
    db.session.refresh(reminder)
    assert reminder.status == MessageStatus.cancelled


@pytest.mark.parametrize("encoding", ["form", "multipart"])
def test_one_click_unsubscribes_without_cookie_or_redirect(app, invited: Invited,
                                                           encoding) -> None:
    """RFC 8058: the mail provider posts ``List-Unsubscribe=One-Click`` and nothing else."""
    invitation, token = invited(email="lea@example.org")
    mail_client = app.test_client(use_cookies=False)

    response = mail_client.post(f"/unsubscribe/{token}", data=ONE_CLICK,
                                content_type="multipart/form-data" if encoding == "multipart"
                                else "application/x-www-form-urlencoded")

    assert response.status_code == 200
    assert "Location" not in response.headers
    assert response.mimetype == "text/plain"
    assert len(response.get_data()) < 200
    assert is_suppressed("lea@example.org")
    assert status_of(invitation) == InvitationStatus.unsubscribed


@pytest.mark.parametrize("data", [{}, {"List-Unsubscribe": "Yes"}, {"csrf_token": "forged"}])
def test_a_post_without_csrf_token_nor_one_click_is_refused(client, invited: Invited,
                                                            data) -> None:
    invitation, token = invited(email="lea@example.org")
    client.get(f"/unsubscribe/{token}")  # a session exists: only the token is missing

    response = client.post(f"/unsubscribe/{token}", data=data)

    assert response.status_code == 400
    assert suppressions() == []
    assert status_of(invitation) == InvitationStatus.sent


def test_a_csrf_token_from_another_session_is_refused(app, client, invited: Invited) -> None:
    _invitation, token = invited(email="lea@example.org")
    stolen = csrf_token(app.test_client().get(f"/unsubscribe/{token}").get_data(as_text=True))
    client.get(f"/unsubscribe/{token}")

    response = client.post(f"/unsubscribe/{token}", data={"csrf_token": stolen})

    assert response.status_code == 400
    assert suppressions() == []


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_token_is_a_404(client, app_context, method) -> None:
    response = client.open("/unsubscribe/no-such-token", method=method, data=ONE_CLICK)

    assert response.status_code == 404
    assert "Ce lien ne fonctionne pas" in response.get_data(as_text=True)
    assert suppressions() == []


def test_an_expired_invitation_still_unsubscribes(app, invited: Invited) -> None:
    invitation, token = invited(email="lea@example.org", status=InvitationStatus.expired)

    response = app.test_client(use_cookies=False).post(f"/unsubscribe/{token}", data=ONE_CLICK)

    assert response.status_code == 200
    assert is_suppressed("lea@example.org")
    assert status_of(invitation) == InvitationStatus.expired


def test_an_address_already_suppressed_gets_no_button(client, invited: Invited) -> None:
    _invitation, token = invited(email="lea@example.org")
    client.post(f"/unsubscribe/{token}", data=ONE_CLICK)

    html = client.get(f"/unsubscribe/{token}").get_data(as_text=True)

    assert "Cette adresse ne reçoit déjà plus d’e-mail d’avis." in html
    assert "<form" not in html
    # Unsubscribing again is harmless.
    assert client.post(f"/unsubscribe/{token}", data=ONE_CLICK).status_code == 200
    assert len(suppressions()) == 1
