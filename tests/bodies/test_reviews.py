"""The body's reviews list (``/admin/mon-organisme/avis``): what a body sees of its
reviews and what it never sees, its filters, its read marks and what is new since its
last visit. A network of two establishments (one SIREN), a body elsewhere, accounts of
the whole SIREN and of each establishment."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts.models import Account, Role
from avis.audit.models import AuditEvent
from avis.bodies.models.reads import ReviewRead
from avis.db import db
from avis.moderation import operations, replies, reports
from avis.moderation.models import Decision, ModerationEvent
from avis.surveys.models.answers import CommentStatus, Qualification, RejectionReason
from tests.accounts.fixtures import Browser, create_account, csrf_token
from tests.catalog.fixtures import make_siret
from tests.public.fixtures import ANGERS, NANTES, RENNES, add_answer, add_body, add_offer, publish

LIST = "/admin/mon-organisme/avis"
#: A SIREN of the network's two establishments.
NETWORK = 31_415_926


@dataclass(frozen=True)
class Network:
    siren: str
    #: establishment → its published comment ids … (key → answer id)
    answers: dict[str, int]
    #: answer key → the text it holds
    texts: dict[str, str]
    #: course ids: "north" (Cuisinier), "south" (Boulanger)
    courses: dict[str, int]
    #: the month the south's session ended ("YYYY-MM")
    south_month: str
    #: account key → account
    accounts: dict[str, Account]


TEXTS = {
    "best": ("Très bon accueil", "Une équipe de cuisine attentive et des ateliers variés"),
    "worst": ("Ateliers trop courts", "Les ateliers de pâtisserie duraient une heure à peine"),
    "south": ("Boulangerie formidable", "Le fournil est neuf et le formateur patient"),
    "private": (None, "Un secret que le stagiaire garde pour lui"),
    "pending": ("En attente", "Un commentaire que la modération n’a pas encore lu"),
    "insult": ("Rejeté", "Des mots injurieux que personne ne lira"),
    "small": ("Petit groupe", "Nous étions trois dans ce petit groupe"),
    "foreign": ("Ailleurs", "Un commentaire sur un organisme de Bretagne"),
}
#: Words of the moderation history and the moderator's tone: never shown to a body.
REDACTED_WORDS = "Mots retirés par la modération"


@pytest.fixture
def network(app: Flask) -> Network:
    with app.app_context():
        north = add_body("Atelier Nord", siret=make_siret(NETWORK))
        south = add_body("Atelier Sud", siret=make_siret(NETWORK + 10**8))
        assert north.siren == south.siren
        kitchen = add_offer(north, "Cuisinier", ANGERS, enrolled=12)
        bakery = add_offer(south, "Boulanger", NANTES, enrolled=12)
        # The south's session ended four months earlier than the north's.
        bakery.session.end_date -= dt.timedelta(days=120)
        bakery.session.start_date -= dt.timedelta(days=120)
        small = add_offer(north, "Pâtissier", ANGERS, enrolled=3)
        foreign = add_offer(add_body("Ker Maison"), "Marin", RENNES, enrolled=12)
        today = clock.today()
        answers = {
            "best": add_answer(kitchen, (5, 5, 5, 5, 5), comment=TEXTS["best"],
                               day=today - dt.timedelta(days=10)),
            "worst": add_answer(kitchen, (2, 2, 2, 2, 2), comment=TEXTS["worst"],
                                day=today - dt.timedelta(days=40)),
            "marks": add_answer(kitchen, (4, 4, 4, 4, 5), day=today - dt.timedelta(days=20)),
            "private": add_answer(kitchen, (3, 3, 3, 3, 3), comment=TEXTS["private"],
                                  public=False, day=today - dt.timedelta(days=30)),
            "pending": add_answer(kitchen, (3, 3, 3, 3, 3), comment=TEXTS["pending"],
                                  status=CommentStatus.pending),
            "insult": add_answer(kitchen, (1, 1, 1, 1, 1), comment=TEXTS["insult"],
                                 status=CommentStatus.rejected),
            "personal_1": add_answer(kitchen, (3, 3, 3, 3, 3), comment=("A", "Nom 1"),
                                     status=CommentStatus.rejected),
            "personal_2": add_answer(kitchen, (3, 3, 3, 3, 3), comment=("B", "Nom 2"),
                                     status=CommentStatus.rejected),
            "south": add_answer(bakery, (3, 3, 4, 3, 3), comment=TEXTS["south"],
                                day=today - dt.timedelta(days=5)),
            "small": add_answer(small, (5, 5, 5, 5, 5), comment=TEXTS["small"]),
            "foreign": add_answer(foreign, (4, 4, 4, 4, 4), comment=TEXTS["foreign"]),
        }
        answers["insult"].rejection_reason = RejectionReason.insult
        for key in ("personal_1", "personal_2"):
            answers[key].rejection_reason = RejectionReason.personal_data
        answers["worst"].qualification = Qualification.negative
        answers["best"].qualification = Qualification.positive
        moderator = create_account(Role.moderator, region="52")
        answers["worst"].moderated_by_id = moderator.id
        db.session.add(ModerationEvent(answer_id=answers["worst"].id, decision=Decision.redact,
                                       previous_text=REDACTED_WORDS, actor_id=moderator.id))
        publish()
        network = Network(
            siren=north.siren, answers={key: answer.id for key, answer in answers.items()},
            texts={key: text for key, (_title, text) in TEXTS.items()},
            courses={"north": kitchen.course.id, "south": bakery.course.id},
            south_month=f"{bakery.session.end_date:%Y-%m}",
            accounts={
                "siren": create_account(Role.organisation, siret=north.siren),
                "north": create_account(Role.organisation, siret=north.siret),
                "north_colleague": create_account(Role.organisation, siret=north.siret),
                "south": create_account(Role.organisation, siret=south.siret),
                "foreign": create_account(Role.organisation, siret=foreign.body.siret),
                "moderator": moderator,
            })
    return network


def signed(browser: Callable[[], Browser], account: Account) -> Browser:
    client = browser()
    assert client.sign_in(account.email).status_code == 303
    return client


def html(client: Browser, path: str = LIST) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def listed_ids(page: str) -> list[int]:
    """The reviews a list page shows, in order."""
    return [int(found) for found in re.findall(r'id="review-(\d+)"', page)]


def ids(network: Network, *keys: str) -> set[int]:
    return {network.answers[key] for key in keys}


#: What the SIREN account lists: the north's and the south's public reviews.
NETWORK_LISTED = ("best", "worst", "marks", "private", "south")


def test_a_siren_account_lists_every_establishment_newest_first(
        network: Network, browser: Callable[[], Browser]) -> None:
    page = html(signed(browser, network.accounts["siren"]))
    assert listed_ids(page) == [network.answers[key] for key in
                                ("south", "best", "marks", "private", "worst")]
    for key in ("best", "worst", "south"):
        assert network.texts[key] in page
    assert "Atelier Nord" in page
    assert "Atelier Sud" in page
    assert "5 avis" in page


def test_a_siret_account_lists_only_its_establishment(
        network: Network, browser: Callable[[], Browser]) -> None:
    north = listed_ids(html(signed(browser, network.accounts["north"])))
    south = listed_ids(html(signed(browser, network.accounts["south"])))
    assert set(north) == ids(network, "best", "worst", "marks", "private")
    assert set(south) == ids(network, "south")


def test_what_a_body_never_reads(network: Network, browser: Callable[[], Browser]) -> None:
    """Comments awaiting moderation are counted, rejected ones counted by reason; their
    texts, a private comment's text, a small session's review, the tone and the history
    of moderation never reach the page."""
    client = signed(browser, network.accounts["siren"])
    page = html(client)
    assert "1 commentaire attend la modération." in page
    assert "1 commentaire rejeté par la modération : Injure ou propos abusif." in page
    assert "2 commentaires rejetés par la modération : Données personnelles." in page
    detail = html(client, f"{LIST}/{network.answers['worst']}")
    for shown in (page, detail):
        for key in ("pending", "insult", "private", "small", "foreign"):
            assert network.texts[key] not in shown, key
        assert "Nom 1" not in shown
        assert "Nom 2" not in shown
        assert REDACTED_WORDS not in shown
        assert network.accounts["moderator"].email not in shown
        for tone in ("Positif", "Négatif", "Neutre", "positive", "negative"):
            assert tone not in shown, tone
    # The private comment's marks are listed, as marks without a comment.
    assert network.answers["private"] in listed_ids(page)
    for key in ("pending", "insult", "small"):
        assert client.get(f"{LIST}/{network.answers[key]}").status_code == 404, key


@pytest.mark.parametrize(("query", "expected"), [
    ("formation=south", ("south",)),
    ("formation=north", ("best", "worst", "marks", "private")),
    ("mois=south", ("south",)),
    ("note=5", ("best",)),
    ("note=4", ("marks",)),
    ("note=3", ("private", "south")),
    ("note=2", ("worst",)),
    ("note=1", ()),
    ("lecture=lus", ("best",)),
    ("lecture=non-lus", ("worst", "marks", "private", "south")),
    ("reponse=avec", ("worst",)),
    ("reponse=sans", ("best", "marks", "private", "south")),
    ("signalement=oui", ("south",)),
    ("signalement=non", ("best", "worst", "marks", "private")),
])
def test_each_filter_narrows_the_list(app: Flask, network: Network,
                                      browser: Callable[[], Browser], query: str,
                                      expected: tuple[str, ...]) -> None:
    account = network.accounts["siren"]
    with app.app_context():
        me = db.session.get(Account, account.id)
        db.session.add(ReviewRead(account_id=me.id, answer_id=network.answers["best"]))
        replies.write(network.answers["worst"], "Merci, les ateliers durent deux heures.",
                      by=me)
        reports.report(network.answers["south"], "false_facts", "Le fournil date de 2024.",
                       by=me)
        db.session.commit()
    name, value = query.split("=")
    value = {"south": str(network.courses["south"]) if name == "formation"
             else network.south_month,
             "north": str(network.courses["north"])}.get(value, value)
    client = signed(browser, account)
    everything = set(listed_ids(html(client)))
    assert everything == ids(network, *NETWORK_LISTED)
    filtered = set(listed_ids(html(client, f"{LIST}?{name}={value}")))
    assert filtered == ids(network, *expected)


def test_a_wrong_filter_value_is_refused(network: Network,
                                         browser: Callable[[], Browser]) -> None:
    client = signed(browser, network.accounts["north"])
    # The south's course is not among the north's: not a choice of its filter.
    assert client.get(f"{LIST}?formation={network.courses['south']}").status_code == 400
    assert client.get(f"{LIST}?note=6").status_code == 400


def _post(client: Browser, path: str, **data: object) -> int:
    token = csrf_token(html(client))
    return client.client.post(path, data={**data, "csrf_token": token}).status_code


def test_read_marks_are_each_accounts_own(app: Flask, network: Network,
                                          browser: Callable[[], Browser]) -> None:
    north, colleague = (signed(browser, network.accounts[key])
                        for key in ("north", "north_colleague"))
    best = network.answers["best"]
    assert _post(north, f"{LIST}/{best}/lu") == 303
    assert set(listed_ids(html(north, f"{LIST}?lecture=lus"))) == {best}
    assert listed_ids(html(colleague, f"{LIST}?lecture=lus")) == []
    # The whole page, foreign ids slipped in ignored.
    assert _post(colleague, f"{LIST}/lus", ids=[best, network.answers["marks"],
                                                 network.answers["foreign"],
                                                 network.answers["pending"]]) == 303
    assert set(listed_ids(html(colleague, f"{LIST}?lecture=lus"))) == ids(
        network, "best", "marks")
    assert _post(north, f"{LIST}/{best}/non-lu") == 303
    assert listed_ids(html(north, f"{LIST}?lecture=lus")) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewRead).where(
            ReviewRead.answer_id.in_(ids(network, "foreign", "pending")))) == 0
        actions = db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.action.like("review.%")).order_by(AuditEvent.id)).all()
    assert actions == ["review.read", "review.read", "review.unread"]


def test_marking_the_page_as_read_needs_the_token(network: Network,
                                                  browser: Callable[[], Browser]) -> None:
    client = signed(browser, network.accounts["north"])
    response = client.client.post(f"{LIST}/lus", data={"ids": [network.answers["best"]]})
    assert response.status_code == 400
    assert listed_ids(html(client, f"{LIST}?lecture=lus")) == []


NEW_BADGE = '<li class="badge">Nouveau</li>'


def test_new_since_the_last_visit(app: Flask, network: Network,
                                  browser: Callable[[], Browser]) -> None:
    app.config["SESSION_IDLE_MINUTES"] = 600  # the sign-in outlasts the visits
    start = clock.now()
    client = signed(browser, network.accounts["north"])
    every = ids(network, "best", "worst", "marks", "private")
    new = f"{LIST}?nouveaux=y"
    with clock.frozen_at(start):
        assert set(listed_ids(html(client, new))) == every  # the first visit: all new
    with clock.frozen_at(start + dt.timedelta(minutes=20)):
        assert set(listed_ids(html(client, new))) == every  # the same visit goes on
    with clock.frozen_at(start + dt.timedelta(hours=2)):
        page = html(client, new)
        assert listed_ids(page) == []
        assert NEW_BADGE not in html(client)
        assert NEW_BADGE not in html(client, f"{LIST}/{network.answers['best']}")
    with clock.frozen_at(start + dt.timedelta(hours=3)), app.app_context():
        operations.publish(network.answers["pending"], "neutral",
                           by=db.session.get(Account, network.accounts["moderator"].id))
        db.session.commit()
    with clock.frozen_at(start + dt.timedelta(hours=4)):
        page = html(client, new)
        assert listed_ids(page) == [network.answers["pending"]]
        assert network.texts["pending"] in page
        assert NEW_BADGE in html(client, f"{LIST}/{network.answers['pending']}")
    # A colleague's visits are its own: all is new at its first.
    colleague = signed(browser, network.accounts["north_colleague"])
    with clock.frozen_at(start + dt.timedelta(hours=4)):
        assert len(listed_ids(html(colleague, new))) == len(every) + 1


@pytest.mark.parametrize(("method", "suffix"), [
    ("get", ""), ("post", "/lu"), ("post", "/non-lu"), ("post", "/reponse"),
    ("post", "/reponse/retirer"), ("post", "/signalement")])
def test_another_bodys_review_is_not_found_on_every_route(
        network: Network, browser: Callable[[], Browser], method: str, suffix: str) -> None:
    client = signed(browser, network.accounts["north"])
    token = csrf_token(html(client))
    data = {"csrf_token": token, "text": "Réponse", "reason": "other", "details": "Faux"}
    for key in ("foreign", "south", "pending", "insult"):
        path = f"{LIST}/{network.answers[key]}{suffix}"
        response = client.client.get(path) if method == "get" \
            else client.client.post(path, data=data)
        assert response.status_code == 404, (key, path)
    own = f"{LIST}/{network.answers['best']}"
    assert client.get(own).status_code == 200


def test_only_body_accounts_open_the_reviews(network: Network,
                                             browser: Callable[[], Browser]) -> None:
    assert signed(browser, network.accounts["moderator"]).get(LIST).status_code == 403
    assert browser().get(LIST).status_code == 302
