"""``/q/<token>``: the survey link is exchanged for the session, then dropped from the URL."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import pytest

from avis import clock
from avis.db import db
from avis.surveys.models.invitations import Invitation, InvitationStatus
from tests.surveys.fixtures import create_invitation, create_session, enrol

Invited = Callable[..., tuple[Invitation, str]]


def clicked_dt(invitation: Invitation) -> dt.datetime | None:
    db.session.refresh(invitation)
    return invitation.clicked_dt


def test_an_unknown_token_is_a_french_404(client, app_context) -> None:
    response = client.get("/q/not-a-token")

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Ce lien ne fonctionne pas" in html
    assert "not-a-token" not in html


@pytest.mark.parametrize("options", [
    {"status": InvitationStatus.expired},
    # Past its lifetime, before the nightly job marks it expired.
    {"ttl": dt.timedelta(seconds=-1)},
])
def test_an_expired_link_is_a_410_and_nothing_else(client, invited: Invited, options) -> None:
    invitation, token = invited(**options)

    response = client.get(f"/q/{token}?note=5")

    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "Ce lien a expiré" in html
    assert "<form" not in html
    assert clicked_dt(invitation) is None
    # Nothing was exchanged for a session either.
    assert client.get("/q/").status_code == 404


@pytest.mark.parametrize("status", [InvitationStatus.bounced, InvitationStatus.complained,
                                    InvitationStatus.failed])
def test_a_closed_invitation_is_a_410(client, invited: Invited, status) -> None:
    _invitation, token = invited(status=status)

    response = client.get(f"/q/{token}")

    assert response.status_code == 410
    assert "Ce questionnaire est fermé" in response.get_data(as_text=True)


def test_an_answered_invitation_says_it_is_done(client, invited: Invited) -> None:
    invitation, token = invited(status=InvitationStatus.answered)

    response = client.get(f"/q/{token}")

    assert response.status_code == 200
    assert "Merci, vous avez répondu" in response.get_data(as_text=True)
    assert clicked_dt(invitation) is None


def test_the_link_redirects_to_a_url_without_the_token(client, invited: Invited) -> None:
    _invitation, token = invited()

    response = client.get(f"/q/{token}")

    assert response.status_code == 303
    assert response.headers["Location"] == "/q/"
    assert token not in response.headers["Location"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    page = client.get("/q/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Aide à domicile" in html
    assert "Institut de formation de l&#39;Ouest" in html
    assert "Nantes" in html
    assert "Envoyer mon avis" in html  # the questionnaire itself
    assert "Vous avez choisi" not in html
    assert token not in html
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_the_page_shows_the_session_dates(client, app_context) -> None:
    session = create_session(dt.date(2026, 3, 20), start_date=dt.date(2026, 1, 5))
    _invitation, token = create_invitation(enrol(session))
    db.session.commit()
    client.get(f"/q/{token}")

    html = client.get("/q/").get_data(as_text=True)

    assert "Du 5 janvier 2026 au 20 mars 2026" in html


@pytest.mark.parametrize(("note", "location"), [
    ("4", "/q/?note=4"),
    ("1", "/q/?note=1"),
    ("5", "/q/?note=5"),
    ("0", "/q/"),
    ("6", "/q/"),
    ("-1", "/q/"),
    ("04", "/q/"),
    ("4.5", "/q/"),
    ("", "/q/"),
    ("five", "/q/"),
    ("4&x=<script>", "/q/"),
])
def test_only_a_note_from_1_to_5_is_kept(client, invited: Invited, note, location) -> None:
    _invitation, token = invited()

    response = client.get(f"/q/{token}", query_string={"note": note})

    assert response.status_code == 303
    assert response.headers["Location"] == location


@pytest.mark.parametrize(("note", "text"), [
    ("4", "Vous avez choisi 4 étoiles sur 5 :"),
    ("1", "Vous avez choisi 1 étoile sur 5 :"),
])
def test_the_preselected_note_is_shown(client, invited: Invited, note, text) -> None:
    _invitation, token = invited()
    location = client.get(f"/q/{token}?note={note}").headers["Location"]

    assert text in client.get(location).get_data(as_text=True)


def test_a_note_added_by_hand_out_of_range_is_not_shown(client, invited: Invited) -> None:
    _invitation, token = invited()
    client.get(f"/q/{token}")

    assert "Vous avez choisi" not in client.get("/q/?note=9").get_data(as_text=True)


def test_the_click_is_recorded_once(client, invited: Invited) -> None:
    invitation, token = invited()
    first = clock.now().replace(microsecond=0) + dt.timedelta(hours=1)

    with clock.frozen_at(first):
        client.get(f"/q/{token}")
    with clock.frozen_at(first + dt.timedelta(days=1)):
        client.get(f"/q/{token}?note=3")

    assert clicked_dt(invitation) == first
    # A click is not an answer, nor any other change of status.
    assert invitation.status == InvitationStatus.sent
    assert invitation.answered_dt is None


def test_a_head_request_is_not_a_click(client, invited: Invited) -> None:
    invitation, token = invited()

    assert client.head(f"/q/{token}").status_code == 303

    assert clicked_dt(invitation) is None


def test_the_questionnaire_needs_the_session(client, app_context) -> None:
    response = client.get("/q/")

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Questionnaire introuvable" in html
    assert "ouvrez le lien figurant dans l’e-mail" in html


def test_another_browser_does_not_get_the_session(app, client, invited: Invited) -> None:
    _invitation, token = invited()
    client.get(f"/q/{token}")

    assert app.test_client().get("/q/").status_code == 404


def test_the_session_stops_working_when_the_link_expires(client, invited: Invited) -> None:
    invitation, token = invited(ttl=dt.timedelta(days=1))
    client.get(f"/q/{token}")

    with clock.frozen_at(invitation.expires_dt + dt.timedelta(seconds=1)):
        response = client.get("/q/")

    assert response.status_code == 410


def test_an_unsubscribed_trainee_may_still_answer(client, invited: Invited) -> None:
    _invitation, token = invited(status=InvitationStatus.unsubscribed)

    assert client.get(f"/q/{token}").status_code == 303
    assert client.get("/q/").status_code == 200


def test_the_course_is_escaped(client, app_context) -> None:
    session = create_session(clock.today(), course_title="<b>Soudure</b> & co",
                             body_name="<script>alert(1)</script>")
    _invitation, token = create_invitation(enrol(session, first_name="<i>Léa</i>"))
    db.session.commit()
    client.get(f"/q/{token}")

    html = client.get("/q/").get_data(as_text=True)

    assert "&lt;b&gt;Soudure&lt;/b&gt; &amp; co" in html
    assert "<b>Soudure" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert "Bonjour &lt;i&gt;Léa&lt;/i&gt;," in html


def test_the_token_is_never_logged(client, invited: Invited, caplog) -> None:
    _invitation, token = invited()
    caplog.set_level(logging.DEBUG)

    client.get(f"/q/{token}")
    client.get("/q/")
    client.get(f"/unsubscribe/{token}")

    assert token not in caplog.text
