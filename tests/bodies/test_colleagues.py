"""Several people per training body: who sees whom, invitations (scope, duplicates, the
activation email, the journal), and disabling a colleague who left."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask

from avis.accounts.models import Account, AccountMail, AccountMessage, AccountStatus, Role
from avis.accounts.operations import AccountError
from avis.audit.models import AuditEvent
from avis.bodies import colleagues
from avis.db import db
from tests.accounts.fixtures import Browser, create_account
from tests.catalog.fixtures import make_siret
from tests.public.fixtures import add_body

PAGE = "/admin/mon-organisme/collegues"


@dataclass
class Body:
    siren: str
    north: str
    south: str
    #: another body's establishment
    foreign: str
    siren_account: Account
    north_account: Account
    south_account: Account
    foreign_account: Account


@pytest.fixture
def body(app: Flask) -> Body:
    with app.app_context():
        north = make_siret(5_300_011)
        south = make_siret(5_300_011 + 10**8)
        foreign = make_siret(5_300_029)
        add_body("Atelier Nord", siret=north)
        add_body("Atelier Sud", siret=south)
        add_body("Ailleurs", siret=foreign)
        db.session.commit()
        found = Body(north[:9], north, south, foreign,
                     create_account(Role.organisation, "chef@nord.example", siret=north[:9]),
                     create_account(Role.organisation, "nord@nord.example", siret=north),
                     create_account(Role.organisation, "sud@nord.example", siret=south),
                     create_account(Role.organisation, "autre@ailleurs.example",
                                    siret=foreign))
        db.session.expunge_all()
    return found


@pytest.fixture
def as_account(browser: Callable[[], Browser]) -> Callable[[Account], Browser]:
    def sign_in(account: Account) -> Browser:
        client = browser()
        assert client.sign_in(account.email).status_code == 303
        return client

    return sign_in


def _emails(html: str) -> set[str]:
    return set(re.findall(r"<td>([a-z]+@[a-z.]+)", html))


def test_a_siren_account_sees_its_siret_colleagues_a_siret_account_its_own(
        body: Body, as_account: Callable[[Account], Browser]) -> None:
    page = as_account(body.siren_account).get(PAGE)
    assert page.status_code == 200
    assert _emails(page.get_data(as_text=True)) == {
        "chef@nord.example", "nord@nord.example", "sud@nord.example"}
    page = as_account(body.north_account).get(PAGE)
    assert _emails(page.get_data(as_text=True)) == {"nord@nord.example"}


def test_invite_for_the_same_scope_with_the_activation_email_and_the_journal(
        app: Flask, body: Body, as_account: Callable[[Account], Browser]) -> None:
    client = as_account(body.north_account)
    response = client.submit(PAGE, {"email": " Nouveau@Nord.example ", "name": "Léa"})
    assert response.status_code == 303
    page = client.get(PAGE).get_data(as_text=True)
    assert "nouveau@nord.example est invité" in page
    assert "nouveau@nord.example" in _emails(page)
    with app.app_context():
        invited = db.session.scalar(sa.select(Account).where(
            Account.email == "nouveau@nord.example"))
        assert (invited.role, invited.status, invited.siret, invited.siren) == (
            Role.organisation, AccountStatus.invited, body.north, None)
        assert invited.created_by_id == body.north_account.id
        assert db.session.scalar(sa.select(AccountMessage.kind).where(
            AccountMessage.account_id == invited.id)) == AccountMail.activation
        event = db.session.scalar(sa.select(AuditEvent).where(
            AuditEvent.action == "account.created",
            AuditEvent.object_id == str(invited.id)))
        assert event.actor_id == body.north_account.id
        assert event.changes["reason"] == "invited_by_colleague"
        assert event.changes["scope"] == f"SIRET {body.north}"


def test_a_siren_account_invites_for_one_of_its_establishments(
        app: Flask, body: Body, as_account: Callable[[Account], Browser]) -> None:
    client = as_account(body.siren_account)
    page = client.get(PAGE).get_data(as_text=True)
    assert f'<option value="{body.south}">Atelier Sud — SIRET {body.south}</option>' in page
    assert body.foreign not in page
    assert client.submit(PAGE, {"email": "sud2@nord.example",
                                "establishment": body.south}).status_code == 303
    assert client.submit(PAGE, {"email": "tous@nord.example",
                                "establishment": ""}).status_code == 303
    with app.app_context():
        scopes = {a.email: a.scope_label for a in db.session.scalars(sa.select(Account).where(
            Account.email.in_(["sud2@nord.example", "tous@nord.example"])))}
    assert scopes == {"sud2@nord.example": f"SIRET {body.south}",
                      "tous@nord.example": f"SIREN {body.siren}"}
    # Another body's establishment is not among the choices: refused, nothing created.
    response = client.submit(PAGE, {"email": "intrus@nord.example",
                                    "establishment": body.foreign})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(Account.id).where(
            Account.email == "intrus@nord.example")) is None


def test_a_siret_account_cannot_invite_for_another_siret(
        app: Flask, body: Body, as_account: Callable[[Account], Browser]) -> None:
    client = as_account(body.north_account)
    assert 'name="establishment"' not in client.get(PAGE).get_data(as_text=True)
    # A hand-made field is ignored: the invitation is for the inviter's own SIRET.
    assert client.submit(PAGE, {"email": "malin@nord.example",
                                "establishment": body.south}).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Account.siret).where(
            Account.email == "malin@nord.example")) == body.north
        me = db.session.get(Account, body.north_account.id)
        for other in (body.south, body.siren, body.foreign):
            with pytest.raises(AccountError) as refused:
                colleagues.invite(me, "x@nord.example", establishment=other)
            assert refused.value.code == "establishment_not_yours"


def test_an_address_already_used_is_refused_in_french(
        app: Flask, body: Body, as_account: Callable[[Account], Browser]) -> None:
    client = as_account(body.north_account)
    for address in ("autre@ailleurs.example", "SUD@nord.example"):
        response = client.submit(PAGE, {"email": address})
        assert response.status_code == 422
        assert "Un compte utilise déjà cette adresse électronique" in response.get_data(
            as_text=True)
    response = client.submit(PAGE, {"email": "pas une adresse"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Account)) == 4
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "account.created",
            AuditEvent.actor_id == body.north_account.id)) == 0


def test_disable_a_colleague_who_left_and_enable_again(
        app: Flask, body: Body, as_account: Callable[[Account], Browser]) -> None:
    client = as_account(body.siren_account)
    url = f"{PAGE}/{body.south_account.id}/desactiver"
    assert client.submit(url, {}, form_page=PAGE).status_code == 303
    with app.app_context():
        assert db.session.get(Account, body.south_account.id).status == AccountStatus.disabled
        event = db.session.scalar(sa.select(AuditEvent).where(
            AuditEvent.action == "account.disabled",
            AuditEvent.object_id == str(body.south_account.id)))
        assert event.actor_id == body.siren_account.id
    assert "Le compte de sud@nord.example est désactivé" in client.get(PAGE).get_data(
        as_text=True)
    assert client.submit(f"{PAGE}/{body.south_account.id}/reactiver", {},
                         form_page=PAGE).status_code == 303
    with app.app_context():
        assert db.session.get(Account, body.south_account.id).status == AccountStatus.active


def test_nobody_disables_outside_their_scope_nor_themselves(
        app: Flask, body: Body, as_account: Callable[[Account], Browser]) -> None:
    client = as_account(body.north_account)
    for target in (body.siren_account, body.south_account, body.foreign_account):
        assert client.submit(f"{PAGE}/{target.id}/desactiver", {},
                             form_page=PAGE).status_code == 404
    assert client.submit(f"{PAGE}/{body.north_account.id}/desactiver", {},
                         form_page=PAGE).status_code == 303
    assert "Vous ne pouvez pas désactiver votre propre compte." in client.get(
        PAGE).get_data(as_text=True)
    with app.app_context():
        assert set(db.session.scalars(sa.select(Account.status))) == {AccountStatus.active}


def test_the_page_is_for_bodies_only(signed_in: Callable[..., Browser]) -> None:
    assert signed_in(Role.region, region="52").get(PAGE).status_code == 403
    assert signed_in(Role.moderator).get(PAGE).status_code == 403
