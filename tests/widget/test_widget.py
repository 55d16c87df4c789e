"""The widget's script and frames: what partner sites embed."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.public.fixtures import NANTES, PublicWorld, add_answer, add_body, add_offer, publish


def frame(client: FlaskClient, kind: str, fmt: str, identifier: str,
          status: int = 200, **extra: str) -> str:
    response = client.get(f"/widget/{kind}/{fmt}", query_string={"identifiant": identifier,
                                                                  **extra})
    assert response.status_code == status
    # Only widget frames may be shown inside another site's page.
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    return response.get_data(as_text=True)


def test_the_script(client: FlaskClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert b"avis-widget" in response.data


def test_a_body_s_score(client: FlaskClient, public_world: PublicWorld) -> None:
    html = frame(client, "organisme", "score", public_world.atlantique.siret)
    assert '<html lang="fr">' in html
    assert "<h1>Atlantique Formation Conseil</h1>" in html
    assert "30 avis" in html
    assert 'class="big"' in html
    assert f'href="http://localhost/organismes/{public_world.atlantique.siret}"' in html
    assert 'target="_blank" rel="noopener"' in html
    assert '<ul class="comments">' not in html


def test_a_list_shows_the_latest_published_comments(client: FlaskClient,
                                                    public_world: PublicWorld) -> None:
    offer = public_world.offers["anjou"]
    for n in range(7):
        add_answer(offer, (3, 3, 3, 3, 3), comment=(f"Avis {n}", f"<b>Texte {n}</b>"))
    publish()
    html = frame(client, "organisme", "liste", public_world.anjou.siret)
    assert html.count("<li>") == 5
    assert "&lt;b&gt;Texte" in html
    assert "<b>Texte" not in html


def test_courses_actions_and_sessions(client: FlaskClient, public_world: PublicWorld) -> None:
    offer = public_world.offers["welding"]
    course = offer.course.numero
    action = f"{course}|{offer.action.numero}"
    session = f"{action}|{offer.session.numero}"
    assert "<h1>Soudeur industriel</h1>" in frame(client, "formation", "score", course)
    for identifier, kind in ((action, "action"), (session, "session")):
        html = frame(client, kind, "liste", identifier)
        assert "Soudeur industriel — Atlantique Formation Conseil" in html
        assert "24 avis" in html


@pytest.mark.parametrize(("kind", "fmt", "identifier"), [
    ("organisme", "score", "12345678901234"),
    ("organisme", "score", "abc"),
    ("formation", "liste", "INCONNUE"),
    ("session", "score", "a|b"),
    ("personne", "score", "x"),
])
def test_unknown_subjects_say_so_in_french(client: FlaskClient, public_world: PublicWorld,
                                           kind: str, fmt: str, identifier: str) -> None:
    html = frame(client, kind, fmt, identifier, status=404)
    assert "Aucun avis ne peut être affiché pour cet identifiant." in html


def test_an_unknown_format_is_404(client: FlaskClient, public_world: PublicWorld) -> None:
    assert client.get(f"/widget/organisme/carrousel?identifiant="
                      f"{public_world.anjou.siret}").status_code == 404


def test_thresholds_as_on_the_public_pages(client: FlaskClient, app_context: None) -> None:
    body = add_body("Petit Groupe du Port")
    offer = add_offer(body, "Voilier", NANTES, enrolled=3)
    for marks in [(5, 5, 5, 5, 5), (4, 4, 4, 4, 4), (5, 4, 5, 4, 5)]:
        add_answer(offer, marks, comment=("Titre", "Trois personnes seulement."))
    publish()
    html = frame(client, "organisme", "liste", body.siret)
    assert "Pas encore assez d’avis" in html
    assert "Trois personnes seulement." not in html


def test_in_english(client: FlaskClient, public_world: PublicWorld) -> None:
    html = frame(client, "organisme", "score", public_world.mayenne.siret, lang="en")
    assert '<html lang="en">' in html
    assert "Not enough reviews yet" in html


def test_other_pages_stay_unframeable(client: FlaskClient, public_world: PublicWorld) -> None:
    response = client.get(f"/organismes/{public_world.anjou.siret}")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
