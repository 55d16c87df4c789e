"""``/unsubscribe/<token>/supprimer``: a trainee erases their own data from an email.

GET asks (mail scanners fetch every link), POST with the CSRF token erases at once and
shows what was erased and what stays; the token then leads nowhere.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import urllib.request
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from avis import clock
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import db
from avis.surveys import operations
from avis.surveys.models.invitations import Invitation, InvitationStatus

Invited = Callable[..., tuple[Invitation, str]]


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def trainee_of(invitation: Invitation) -> Trainee:
    trainee = db.session.scalar(
        sa.select(Trainee).join(Enrolment, Enrolment.trainee_id == Trainee.id)
        .where(Enrolment.id == invitation.enrolment_id)
        .execution_options(populate_existing=True))
    assert trainee is not None
    return trainee


def identity(invitation: Invitation) -> tuple[str | None, ...]:
    trainee = trainee_of(invitation)
    return (trainee.email, trainee.first_name, trainee.last_name, trainee.phone_1,
            trainee.phone_2)


def test_get_asks_and_erases_nothing(client, invited: Invited) -> None:
    invitation, token = invited(email="lea@example.org")

    response = client.get(f"/unsubscribe/{token}/supprimer")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Supprimer mes données</h1>" in html
    assert "l…@example.org" in html
    assert "lea@example.org" not in html
    assert "Aide à domicile" in html
    assert "Vos réponses, si vous en avez donné, restent" in html
    # The form posts back to the page's own address: the token is written only in the
    # link to the download of the data.
    assert '<form method="post">' in html
    assert 'value="Supprimer mes données"' in html
    assert html.count(token) == 1
    assert f'<a href="/unsubscribe/{token}/mes-donnees">' in html
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert client.head(f"/unsubscribe/{token}/supprimer").status_code == 200
    assert identity(invitation) == ("lea@example.org", "Léa", "Martin", None, None)


def test_post_erases_at_once_and_the_link_then_leads_nowhere(client, invited: Invited) -> None:
    invitation, token = invited(email="lea@example.org")
    other, other_token = invited(email="paul@example.org")
    page = client.get(f"/unsubscribe/{token}/supprimer").get_data(as_text=True)

    response = client.post(f"/unsubscribe/{token}/supprimer",
                           data={"csrf_token": csrf_token(page)})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Vos données sont effacées</h1>" in html
    assert "votre adresse électronique, vos nom et prénom et vos numéros" in html
    assert "Vos réponses, si vous en avez donné, restent" in html
    assert "elle ne reviendra pas" in html
    assert response.headers["Cache-Control"] == "no-store"
    # The row stays (the aggregates count it), its identity does not.
    assert identity(invitation) == (None, None, None, None, None)
    assert trainee_of(invitation).erased_dt is not None
    assert operations.find_invitation(token) is None
    for path in (f"/unsubscribe/{token}/supprimer", f"/unsubscribe/{token}", f"/q/{token}"):
        assert client.get(path).status_code == 404, path
    again = client.post(f"/unsubscribe/{token}/supprimer", data={"csrf_token": csrf_token(page)})
    assert again.status_code == 404
    # Somebody else is untouched.
    assert identity(other) == ("paul@example.org", "Léa", "Martin", None, None)
    assert client.get(f"/unsubscribe/{other_token}/supprimer").status_code == 200


def test_the_unsubscribe_page_leads_to_it(client, invited: Invited) -> None:
    _invitation, token = invited()
    page = client.get(f"/unsubscribe/{token}").get_data(as_text=True)

    link = re.search(r'<a href="([^"]+)">Supprimer mes données</a>', page)

    assert link is not None
    assert link.group(1) == f"/unsubscribe/{token}/supprimer"
    assert client.get(link.group(1)).status_code == 200


@pytest.mark.parametrize("data", [{}, {"csrf_token": "forged"}])
def test_a_post_without_a_valid_csrf_token_is_refused(client, invited: Invited,
                                                       data: dict[str, str]) -> None:
    invitation, token = invited(email="lea@example.org")
    client.get(f"/unsubscribe/{token}/supprimer")  # a session exists: only the token is off

    response = client.post(f"/unsubscribe/{token}/supprimer", data=data)

    assert response.status_code == 400
    assert identity(invitation)[0] == "lea@example.org"
    assert operations.find_invitation(token) is not None


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_token_gets_a_clear_page(client, app_context, method: str) -> None:
    response = client.open("/unsubscribe/no-such-token-at-all/supprimer", method=method)

    # POST is refused by the CSRF check first: no lookup, nothing said about the token.
    if method == "GET":
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "<h1>Ce lien ne fonctionne pas</h1>" in html
        assert "Si vous avez déjà supprimé vos données avec ce lien" in html
        assert 'href="/confidentialite"' in html
    else:
        assert response.status_code == 400


@pytest.mark.parametrize("expired", ["status", "date"])
def test_an_expired_link_says_so_and_where_to_write(client, invited: Invited,
                                                   expired: str) -> None:
    if expired == "status":
        invitation, token = invited(email="lea@example.org", status=InvitationStatus.expired)
    else:
        invitation, token = invited(email="lea@example.org", ttl=dt.timedelta(days=1))

    with clock.frozen_at(clock.now() + dt.timedelta(days=2)):
        response = client.get(f"/unsubscribe/{token}/supprimer")

    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "<h1>Ce lien a expiré</h1>" in html
    assert "fonctionnent pendant 90 jours" in html
    assert 'href="/confidentialite"' in html
    assert identity(invitation)[0] == "lea@example.org"


def test_guessing_shares_the_survey_links_budget(app: Flask, client, invited: Invited) -> None:
    app.config["SURVEY_RATE_LIMIT"] = "2 per hour"
    _invitation, token = invited()

    assert client.get(f"/q/{token}").status_code == 303
    assert client.get(f"/unsubscribe/{token}/supprimer").status_code == 200

    assert client.get(f"/unsubscribe/{token}/supprimer").status_code == 429
    assert client.get(f"/unsubscribe/{token}").status_code == 429


def test_the_token_never_reaches_the_access_log(app: Flask, invited: Invited,
                                                caplog: pytest.LogCaptureFixture) -> None:
    _invitation, token = invited()
    # A real server: the test client writes no access log.
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    caplog.set_level(logging.DEBUG)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{server.port}/unsubscribe/{token}/supprimer") \
                as response:
            assert response.status == 200
    finally:
        server.shutdown()
        thread.join(5)

    assert "GET /unsubscribe/…/supprimer HTTP/1.1" in caplog.text
    assert token not in caplog.text
