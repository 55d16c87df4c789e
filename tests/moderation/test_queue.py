"""The moderation queue as moderators use it: tabs, filters, decisions by form, the
second moderator told who decided, history on the comment's page, scope."""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from avis.accounts.models import Role
from avis.db import db
from avis.surveys.models.answers import Answer, CommentStatus
from tests.accounts.fixtures import PASSWORD, Browser
from tests.moderation.conftest import Queue


def signed(browser: Callable[[], Browser], email: str) -> Browser:
    client = browser()
    assert client.sign_in(email, PASSWORD).status_code == 303
    return client


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def status(app: Flask, answer_id: int) -> str:
    with app.app_context():
        return str(db.session.get(Answer, answer_id).comment_status)


def test_the_queue_lists_its_scope_oldest_first(app: Flask, queue: Queue,
                                                browser: Callable[[], Browser]) -> None:
    page = text(signed(browser, queue.moderator.email).get("/admin/moderation"))

    numbers = [int(n) for n in re.findall(r"Commentaire numéro (\d) à modérer", page)]
    assert sorted(numbers) == [0, 1, 2, 3]
    assert "Un commentaire de Bretagne" not in page
    assert "Commentaires en attente (4)" in page
    assert "Commentaires décidés (0)" in page
    # Nothing about the trainee: no address, no name of the fixtures' trainees.
    assert "stagiaire" not in page
    assert "Léa" not in page


def test_filters(app: Flask, queue: Queue, browser: Callable[[], Browser]) -> None:
    client = signed(browser, queue.moderator.email)

    words = text(client.get("/admin/moderation?q=num%C3%A9ro+2"))
    body = text(client.get(f"/admin/moderation?siret={queue.siret}"))
    other_dep = text(client.get("/admin/moderation?departement=44"))

    assert "1 élément" in words
    assert "Commentaire numéro 2" in words
    assert "4 éléments" in body
    assert "Rien à modérer ici" in other_dep
    assert client.get("/admin/moderation?onglet=tout").status_code == 400


def test_decide_from_the_queue_and_come_back_to_it(app: Flask, queue: Queue,
                                                  browser: Callable[[], Browser]) -> None:
    client = signed(browser, queue.moderator.email)
    first, second = queue.pending[0], queue.pending[1]
    back = "/admin/moderation?q=num%C3%A9ro"

    published = client.submit(f"/admin/moderation/{first}/publier",
                              {"qualification": "positive", "retour": back}, form_page=back)
    rejected = client.submit(f"/admin/moderation/{second}/rejeter",
                             {"reason": "serious_alert", "retour": back}, form_page=back)
    off_site = client.submit(f"/admin/moderation/{queue.pending[2]}/publier",
                             {"qualification": "neutral", "retour": "https://evil.example/"},
                             form_page=back)

    assert published.status_code == rejected.status_code == 303
    # Back at the list: its messages, then the next comment's controls.
    assert published.headers["Location"] == f"{back}#file"
    assert off_site.headers["Location"] == f"/admin/moderation/{queue.pending[2]}"
    assert (status(app, first), status(app, second)) == ("published", "rejected")
    page = text(client.get(back))
    assert "Commentaires décidés (3)" in page
    assert "Commentaires en attente (1)" in page


def test_the_second_moderator_reads_who_decided(app: Flask, queue: Queue,
                                                browser: Callable[[], Browser]) -> None:
    first = queue.pending[0]
    one = signed(browser, queue.moderator.email)
    two = signed(browser, queue.other_moderator.email)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      text(two.get("/admin/moderation"))).group(1)

    one.submit(f"/admin/moderation/{first}/publier", {"qualification": "positive"},
               form_page="/admin/moderation")
    late = two.client.post(f"/admin/moderation/{first}/rejeter",
                           data={"reason": "insult", "csrf_token": token})

    assert late.status_code == 303
    page = text(two.get(late.headers["Location"]))
    assert f"Quelqu’un a décidé avant vous : {queue.moderator.email}" in page
    assert status(app, first) == "published"


def test_history_and_redaction_on_the_comments_page(app: Flask, queue: Queue,
                                                    browser: Callable[[], Browser]) -> None:
    first = queue.pending[0]
    client = signed(browser, queue.moderator.email)
    page = f"/admin/moderation/{first}"

    client.submit(f"{page}/texte", {"title": "", "text": "Texte revu par la modération",
                                    "retour": page}, form_page=page)
    client.submit(f"{page}/publier", {"qualification": "neutral", "retour": page},
                  form_page=page)

    html = text(client.get(page))
    assert "Texte revu par la modération" in html
    assert "Avant :" in html
    assert "Commentaire numéro 0 à modérer" in html
    public = app.test_client().get(f"/api/v1/avis/{first}").get_json()
    assert public["commentaire"] == {"texte": "Texte revu par la modération"}


def test_scope_and_roles(app: Flask, queue: Queue, browser: Callable[[], Browser],
                         signed_in: Callable[..., Browser]) -> None:
    breton = signed(browser, queue.moderator_53.email)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      text(breton.get("/admin/moderation"))).group(1)

    assert breton.get(f"/admin/moderation/{queue.pending[0]}").status_code == 404
    assert breton.client.post(f"/admin/moderation/{queue.pending[0]}/publier",
                              data={"qualification": "positive",
                                    "csrf_token": token}).status_code == 404
    assert status(app, queue.pending[0]) == "pending"
    region = signed_in(Role.region, region="52")
    assert region.get("/admin/moderation").status_code == 403
    body = signed_in(Role.organisation, siret=queue.siret)
    assert body.get(f"/admin/moderation/{queue.pending[0]}").status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(
            Answer.comment_status == CommentStatus.pending)) == 5


def test_prescreening_badges_highlights_and_a_suggested_redaction(
        app: Flask, queue: Queue, browser: Callable[[], Browser]) -> None:
    first = queue.pending[3]
    with app.app_context():
        answer = db.session.get(Answer, first)
        answer.comment_title = "<script>alert(1)</script>"
        answer.comment_text = "Appelez Mme Dupuis au 06 12 34 56 78 <b>vite</b>"
        db.session.commit()
    client = signed(browser, queue.moderator.email)

    listing = text(client.get("/admin/moderation?q=Dupuis"))
    page = text(client.get(f"/admin/moderation/{first}"))

    assert "Numéro de téléphone ?" in listing
    assert "Nom d’une personne ?" in listing
    assert '<mark title="Numéro de téléphone ?">06 12 34 56 78</mark>' in listing
    assert "<script>alert(1)</script>" not in listing
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    assert "&lt;b&gt;vite&lt;/b&gt;" in listing
    # The redaction form holds the suggestion; nothing is changed until it is saved.
    assert "Appelez Mme [nom masqué] au [téléphone masqué] &lt;b&gt;vite&lt;/b&gt;" in page
    assert status(app, first) == "pending"
    with app.app_context():
        assert db.session.get(Answer, first).comment_text.startswith("Appelez Mme Dupuis")


def test_counts_beyond_the_cap_say_so(app: Flask, queue: Queue, browser: Callable[[], Browser],
                                      monkeypatch) -> None:
    from avis.moderation import views

    monkeypatch.setattr(views, "COUNT_CAP", 3)
    page = text(signed(browser, queue.moderator.email).get("/admin/moderation"))

    assert "Commentaires en attente (3+)" in page
    assert "Plus de 3 éléments" in page
    assert len(re.findall(r'<article class="comment moderation"', page)) == 4
