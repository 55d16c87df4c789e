"""The training body and course pages: the score and what it rests on, or "not enough
reviews yet"; comments shown only once published, with month dates; caching."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from avis import clock
from avis.db import db
from avis.scores.aggregate import PRIOR_WEIGHT
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import CommentStatus
from tests.public.fixtures import (
    NANTES,
    PublicWorld,
    add_answer,
    add_body,
    add_offer,
    add_reply,
    publish,
)


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def french(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def body_score(body_id: int) -> Score:
    return db.session.scalars(sa.select(Score).where(
        Score.scope == ScoreScope.body, Score.key == str(body_id))).one()


def test_a_body_with_enough_reviews(client: FlaskClient, public_world: PublicWorld) -> None:
    body = public_world.atlantique
    score = body_score(body.id)
    html = page(client, f"/organismes/{body.siret}")
    assert f"<h1>{body.name}</h1>" in html
    assert f'<span class="big">{french(score.fair_score)}</span> / 5' in html
    # The uncertainty, drawn and said.
    assert '<svg class="scale" role="img" aria-labelledby="score-text"' in html
    assert '<rect class="interval"' in html
    assert (f"Note ajustée {french(score.fair_score)} sur 5 ; à 90 % de confiance entre "
            f"{french(score.fair_score_low)} et {french(score.fair_score_high)}.") in html
    assert f"comme si {PRIOR_WEIGHT} avis à la moyenne régionale" in html
    # What it rests on.
    assert "<dd>30</dd>" in html  # answers
    delivered = score.invitations_delivered
    assert f"30 avis pour {delivered} questionnaires reçus" in html
    assert f"{round(100 * 30 / delivered)}\xa0%" in html
    # Distributions: a chart per criterion and its text equivalent.
    assert html.count('<svg class="bars" role="img"') == 5
    welcome = score.distribution_welcome
    assert (f"5 sur 5 : {welcome['5']} avis; 4 sur 5 : {welcome['4']} avis;"
            in html)
    # Its courses and places, with a link to each course page.
    assert "Soudeur industriel" in html
    assert "Laval (53000)" in html
    assert f'href="/formations/{public_world.offers["welding"].course.numero}"' in html


@pytest.mark.parametrize(("name", "count"), [("mayenne", 2), ("bretagne", 0)])
def test_a_body_without_enough_reviews_shows_counts_not_a_score(
        client: FlaskClient, public_world: PublicWorld, name: str, count: int) -> None:
    body = getattr(public_world, name)
    html = page(client, f"/organismes/{body.siret}")
    assert "Pas encore assez d’avis" in html
    assert "Une note est affichée à partir de 3 avis." in html
    assert f"<dd>{count}</dd>" in html
    assert '<svg class="scale"' not in html
    assert '<svg class="bars"' not in html
    assert "Satisfaits" not in html


@pytest.mark.parametrize("siret", ["00000000000000", "123", "abcdefghijklmn",
                                   "1234567890123456789"])
def test_an_unknown_or_malformed_siret_is_a_french_404(client: FlaskClient,
                                                       public_world: PublicWorld,
                                                       siret: str) -> None:
    html = page(client, f"/organismes/{siret}", 404)
    assert '<html lang="fr">' in html
    assert "Page introuvable" in html


def test_only_published_comments_are_shown_with_published_replies(
        client: FlaskClient, app: Flask, public_world: PublicWorld) -> None:
    offer = public_world.offers["anjou"]
    published = add_answer(offer, (2, 2, 2, 3, 3), comment=("Déçu", "Salles trop petites."))
    add_reply(published, "Nous avons changé de locaux.")
    other = add_answer(offer, (4, 4, 4, 4, 4), comment=(None, "Bonne équipe."))
    add_reply(other, "Réponse pas encore modérée.", status=CommentStatus.pending)
    add_answer(offer, (3, 3, 3, 3, 3), comment=("En attente", "Pas encore lu."),
               status=CommentStatus.pending)
    add_answer(offer, (1, 1, 1, 1, 1), comment=("Refusé", "Texte refusé."),
               status=CommentStatus.rejected)
    add_answer(offer, (3, 3, 3, 3, 3), comment=("Privé", "Pour l’organisme seulement."),
               public=False)
    publish()
    html = page(client, f"/organismes/{public_world.anjou.siret}")
    assert "Commentaires (2)" in html
    assert "Salles trop petites." in html
    assert "Nous avons changé de locaux." in html
    assert "Bonne équipe." in html
    for hidden in ("Réponse pas encore modérée.", "Pas encore lu.", "Texte refusé.",
                   "Pour l’organisme seulement."):
        assert hidden not in html
    # The marks of every answer count, whatever became of its comment: 8 + 5.
    assert body_score(public_world.anjou.id).answers_count == 13

    app.config["PUBLISH_COMMENTS_UNMODERATED"] = True
    html = page(client, f"/organismes/{public_world.anjou.siret}")
    assert "Commentaires (3)" in html
    assert "Pas encore lu." in html
    assert "Réponse pas encore modérée." in html
    assert "Texte refusé." not in html
    assert "Pour l’organisme seulement." not in html


def test_comment_dates_are_months_only(client: FlaskClient, public_world: PublicWorld) -> None:
    offer = public_world.offers["anjou"]
    add_answer(offer, (3, 3, 3, 3, 3), comment=("Mars", "Avis de mars."),
               day=dt.date(2026, 3, 17))
    add_answer(offer, (3, 3, 3, 3, 3), comment=("Octobre", "Avis d’octobre."),
               day=dt.date(2025, 10, 2))
    publish()
    html = page(client, f"/organismes/{public_world.anjou.siret}")
    months = re.findall(r'<span class="month">([^<]*)</span>', html)
    assert months == ["mars 2026", "octobre 2025"]
    for day in ("17", "2026-03-17", "17/03/2026", "02/10/2025", "2 oct"):
        assert day not in html.split("Commentaires", 1)[1]
    english = page(client, f"/organismes/{public_world.anjou.siret}?lang=en")
    assert re.findall(r'<span class="month">([^<]*)</span>', english) == [
        "March 2026", "October 2025"]


def test_comments_are_paginated_newest_first(client: FlaskClient, app_context: None) -> None:
    body = add_body("Organisme Bavard")
    offer = add_offer(body, "Fleuriste", NANTES)
    # The 12 months before this one: inside the window of archived reviews, whenever
    # the test runs.
    today = clock.today()
    for n in range(12):
        year, month = divmod(today.year * 12 + today.month - 1 - (12 - n), 12)
        add_answer(offer, (4, 4, 4, 4, 4), comment=(f"Avis {n:02d}", f"Texte {n:02d}"),
                   day=dt.date(year, month + 1, 10))
    publish()
    first = page(client, f"/organismes/{body.siret}")
    titles = re.findall(r"<h3>Avis (\d\d)</h3>", first)
    assert titles == [f"{n:02d}" for n in range(11, 1, -1)]
    assert "Page 1 sur 2" in first
    assert f'href="/organismes/{body.siret}?page=2#commentaires"' in first
    second = page(client, f"/organismes/{body.siret}?page=2")
    assert re.findall(r"<h3>Avis (\d\d)</h3>", second) == ["01", "00"]
    page(client, f"/organismes/{body.siret}?page=3", 404)
    page(client, f"/organismes/{body.siret}?page=0", 404)
    page(client, f"/organismes/{body.siret}?page=x", 404)


def test_comment_text_is_escaped_and_keeps_its_line_breaks(client: FlaskClient,
                                                            public_world: PublicWorld) -> None:
    answer = add_answer(public_world.offers["anjou"], (3, 3, 3, 3, 3),
                        comment=("<b>Titre</b>", "Ligne 1\n<script>alert(1)</script>"))
    add_reply(answer, "<img src=x onerror=alert(1)>")
    publish()
    html = page(client, f"/organismes/{public_world.anjou.siret}")
    assert "<script>alert(1)" not in html
    assert "<b>Titre</b>" not in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;Titre&lt;/b&gt;" in html
    assert "Ligne 1\n&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_body_page_in_english(client: FlaskClient, public_world: PublicWorld) -> None:
    html = page(client, f"/organismes/{public_world.mayenne.siret}?lang=en")
    assert '<html lang="en">' in html
    assert "Not enough reviews yet" in html
    assert "A rating is shown from 3 reviews." in html


def test_public_pages_can_be_cached(client: FlaskClient, public_world: PublicWorld) -> None:
    url = f"/organismes/{public_world.atlantique.siret}"
    response = client.get(url)
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert {"Accept-Language", "Cookie"} <= set(response.vary)
    etag = response.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    # The visitor choosing a language gets a cookie: that page is theirs alone.
    chosen = client.get(url + "?lang=en")
    assert "Set-Cookie" in chosen.headers
    assert chosen.headers["Cache-Control"] == "private, no-cache"
    missing = client.get("/organismes/00000000000000")
    assert missing.headers["Cache-Control"] == "public, max-age=300"
    assert client.get("/?q=" + "x" * 300).headers["Cache-Control"] == "no-cache"
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"


def test_the_course_page(client: FlaskClient, public_world: PublicWorld) -> None:
    welding = public_world.offers["welding"]
    # A second body teaches the same course, without answers.
    other = add_body("Lycée des Métiers du Port")
    add_offer(other, "Soudeur industriel", NANTES, course=welding.course)
    add_answer(welding, (5, 5, 4, 4, 4), comment=("Top", "Atelier très bien équipé."))
    publish()
    score = db.session.scalars(sa.select(Score).where(
        Score.scope == ScoreScope.course, Score.key == str(welding.course.id))).one()
    html = page(client, f"/formations/{welding.course.numero}")
    assert "<h1>Soudeur industriel</h1>" in html
    assert "Formacode 22683" in html
    assert f'<span class="big">{french(score.fair_score)}</span> / 5' in html
    bodies = html.split("Organismes qui la dispensent", 1)[1]
    assert bodies.index(public_world.atlantique.name) < bodies.index("Lycée des Métiers du Port")
    assert "Atelier très bien équipé." in html
    page(client, "/formations/inconnue", 404)


def test_a_body_with_fewer_trainees_than_a_session_minimum_shows_no_score(
        client: FlaskClient, app_context: None) -> None:
    """Three answers are enough for a score, but three trainees in all are too few: the
    score would be theirs. Their answers count in the département's."""
    body = add_body("Petit Atelier Nantais")
    offer = add_offer(body, "Ébéniste", NANTES, enrolled=3)
    for marks in [(5, 5, 5, 5, 5), (4, 4, 4, 4, 4), (2, 2, 2, 2, 2)]:
        add_answer(offer, marks)
    publish()
    html = page(client, f"/organismes/{body.siret}")
    assert "Aucune note publiée" in html
    assert "Moins de 5 stagiaires ont suivi cette formation ici" in html
    assert '<svg class="scale"' not in html
    assert '<svg class="bars"' not in html
    results = page(client, "/?q=ebeniste").split('class="results"', 1)[1]
    assert "Pas encore assez d’avis · 3 avis" in results
    departement = db.session.scalars(sa.select(Score).where(
        Score.scope == ScoreScope.departement, Score.key == "44")).one()
    assert departement.answers_count == 3


def test_comments_of_a_small_session_are_not_shown(client: FlaskClient,
                                                    public_world: PublicWorld) -> None:
    """A session of three: its comment would be one of three people's; its marks count."""
    small = add_offer(public_world.anjou, "Pâtissier", NANTES, enrolled=3)
    add_answer(small, (5, 5, 5, 5, 5), comment=("Petit groupe", "Nous étions trois."))
    add_answer(public_world.offers["anjou"], (3, 3, 3, 3, 3),
               comment=("Grand groupe", "Nous étions dix."))
    publish()
    html = page(client, f"/organismes/{public_world.anjou.siret}")
    assert "Nous étions dix." in html
    assert "Nous étions trois." not in html
    assert "Commentaires (1)" in html
    assert body_score(public_world.anjou.id).answers_count == 10
