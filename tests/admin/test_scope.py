"""The one scope filter: what each kind of account sees of bodies, sessions, answers,
replies, accounts and the journal."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from avis.accounts.models import Account
from avis.accounts.scope import Scope
from avis.audit.models import AuditEvent
from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.surveys.models.answers import Answer, Reply
from tests.admin.fixtures import ACCOUNTS, VISIBLE, ScopedWorld, account_of


def _sirets_of(world: ScopedWorld, keys: set[str]) -> set[str]:
    return {world.bodies[key].siret for key in keys}


@pytest.mark.parametrize("key", sorted(ACCOUNTS))
def test_each_account_sees_its_bodies_and_their_data_only(app: Flask, scoped_world: ScopedWorld,
                                                           key: str) -> None:
    account = account_of(app, scoped_world, key)
    expected = _sirets_of(scoped_world, VISIBLE[key])
    with app.app_context():
        scope = Scope.of(account)
        bodies = set(db.session.scalars(sa.select(TrainingBody.siret)
                                        .where(scope.where(TrainingBody))))
        sessions = set(db.session.scalars(
            sa.select(TrainingBody.siret).select_from(Session)
            .join(Action, Action.id == Session.action_id)
            .join(TrainingBody, TrainingBody.id == Action.training_body_id)
            .where(scope.where(Session))))
        answers = set(db.session.scalars(
            sa.select(TrainingBody.siret).select_from(Answer)
            .join(TrainingBody, TrainingBody.id == Answer.training_body_id)
            .where(scope.where(Answer))))
        replies = set(db.session.scalars(
            sa.select(TrainingBody.siret).select_from(Reply)
            .join(Answer, Answer.id == Reply.answer_id)
            .join(TrainingBody, TrainingBody.id == Answer.training_body_id)
            .where(scope.where(Reply))))
        all_answers = db.session.scalar(sa.select(sa.func.count()).select_from(Answer)
                                        .where(scope.where(Answer)))

    assert bodies == expected
    assert sessions == expected
    assert answers == expected
    assert replies == expected
    assert all_answers == 6 * len(expected)


@pytest.mark.parametrize("key", sorted(ACCOUNTS))
def test_accounts_and_journal_within_scope(app: Flask, scoped_world: ScopedWorld,
                                           key: str) -> None:
    account = account_of(app, scoped_world, key)
    with app.app_context():
        scope = Scope.of(account)
        seen = set(db.session.scalars(sa.select(Account.email).where(scope.where(Account))))
        events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                   .where(scope.where(AuditEvent)))
        every_event = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    every = {email for _id, email, _secret in scoped_world.accounts.values()}
    if key == "admin":
        assert seen == every
        assert events == every_event > 0
    else:
        assert seen == {account.email}
        assert events == 0


def test_a_siren_account_sees_its_colleagues_of_every_establishment(
        app: Flask, scoped_world: ScopedWorld, make_account) -> None:
    network = scoped_world.bodies["net_nantes"]
    rennes = scoped_world.bodies["net_rennes"]
    colleague = make_account("organisation", "collegue.rennes@comptes.example",
                             siret=rennes.siret)
    make_account("organisation", "autre@comptes.example",
                 siret=scoped_world.bodies["lumiere"].siret)
    account = account_of(app, scoped_world, "body_network")
    assert account.siren == network.siren
    with app.app_context():
        seen = set(db.session.scalars(sa.select(Account.email)
                                      .where(Scope.of(account).where(Account))))
        # …and the establishment's account sees its own establishment's accounts only.
        own = db.session.get(Account, colleague.id)
        seen_by_establishment = set(db.session.scalars(
            sa.select(Account.email).where(Scope.of(own).where(Account))))
    assert seen == {account.email, colleague.email}
    assert seen_by_establishment == {colleague.email}


def test_a_model_without_a_rule_is_refused(app: Flask, scoped_world: ScopedWorld) -> None:
    from avis.catalog.models.trainees import Trainee

    account = account_of(app, scoped_world, "admin")
    with pytest.raises(TypeError, match="no scope rule for Trainee"):
        Scope.of(account).where(Trainee)


def test_a_regions_bodies_are_kept_a_minute_but_never_their_answers(
        app: Flask, scoped_world: ScopedWorld) -> None:
    """With pages kept (production), a région's set of bodies is kept a while; its
    answers never are: a session moved out of the région takes them away at once."""
    app.config["PAGE_CACHE_SECONDS"] = 60
    region = account_of(app, scoped_world, "region_52")
    limited = account_of(app, scoped_world, "region_52_ft")
    zephyr = scoped_world.bodies["zephyr"]
    with app.app_context():
        before = set(Scope.of(region).region_body_ids())
        assert len(before) == 3
        # A funder-limited scope is another set, not the région's kept one.
        assert len(Scope.of(limited).region_body_ids()) == 1
        body_id = db.session.scalar(sa.select(TrainingBody.id)
                                    .where(TrainingBody.siret == zephyr.siret))
        db.session.execute(sa.update(Session).where(Session.action_id.in_(
            sa.select(Action.id).where(Action.training_body_id == body_id)))
            .values(region_code="84", departement="69"))
        db.session.commit()
        scope = Scope.of(region)
        kept = set(scope.region_body_ids())
        visible_answers = db.session.scalar(
            sa.select(sa.func.count()).select_from(Answer)
            .where(scope.where(Answer), Answer.training_body_id == body_id))
        from avis.public.caching import cache

        cache.clear()
        fresh = set(Scope.of(region).region_body_ids())
    assert kept == before
    assert visible_answers == 0
    assert fresh == before - {body_id}
