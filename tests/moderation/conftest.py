"""A moderation queue: four comments awaiting in région 52, one in région 53, a
rating-only answer, and moderators of both régions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask

from avis.accounts.models import Account, Role
from avis.surveys.models.answers import CommentStatus
from tests.accounts.fixtures import create_account
from tests.public.fixtures import ANGERS, RENNES, add_answer, add_body, add_offer, publish


@dataclass(frozen=True)
class Queue:
    siret: str
    body_id: int
    #: pending comments of région 52, in order
    pending: list[int]
    #: a pending comment of région 53
    elsewhere: int
    #: a rating-only answer of région 52
    rating_only: int
    moderator: Account
    other_moderator: Account
    moderator_53: Account


@pytest.fixture
def queue(app: Flask) -> Queue:
    with app.app_context():
        body = add_body("Atelier des Saules")
        offer = add_offer(body, "Cuisinier", ANGERS, enrolled=12)
        pending = [add_answer(offer, (4, 4, 4, 4, 4), status=CommentStatus.pending,
                              comment=(f"Titre {n}", f"Commentaire numéro {n} à modérer")).id
                   for n in range(4)]
        rating_only = add_answer(offer, (5, 5, 5, 5, 5)).id
        breton = add_offer(add_body("Ker Formation"), "Marin", RENNES, enrolled=12)
        elsewhere = add_answer(breton, (2, 2, 2, 2, 2), status=CommentStatus.pending,
                               comment=("Ailleurs", "Un commentaire de Bretagne")).id
        publish()
        queue = Queue(siret=body.siret, body_id=body.id, pending=pending, elsewhere=elsewhere,
                      rating_only=rating_only,
                      moderator=create_account(Role.moderator, region="52"),
                      other_moderator=create_account(Role.moderator, region="52"),
                      moderator_53=create_account(Role.moderator, region="53"))
    return queue


