"""Admins' account screens: invite, change role and scope, disable, enable, resend."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from avis.accounts.models import Account, AccountMessage, AccountStatus, Role
from avis.audit.models import AuditEvent
from avis.db import db
from tests.accounts.fixtures import Browser


def last_event(app: Flask, action: str) -> AuditEvent:
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id.desc()).limit(1))
        assert event is not None, f"no {action} event"
        return event


def counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                     for model in (Account, AuditEvent, AccountMessage))  # type: ignore[return-value]


def test_invite_creates_an_invited_account_with_its_scope_and_an_email(
        app: Flask, signed_in: Callable[..., Browser]) -> None:
    admin = signed_in(Role.admin)

    response = admin.submit("/admin/comptes/nouveau", {
        "email": " Claire.Martin@Region.example ", "name": "Claire Martin", "role": "region",
        "region": "52", "funders": ["2", "4"], "establishment": ""})

    assert response.status_code == 303
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(
            Account.email == "claire.martin@region.example"))
        assert account is not None
        assert (account.role, account.status, account.region_code, account.funder_codes,
                account.created_by_id) == (Role.region, AccountStatus.invited, "52", [2, 4],
                                           admin.account.id)  # type: ignore[attr-defined]
        [message] = db.session.scalars(sa.select(AccountMessage)).all()
        assert (message.account_id, message.kind) == (account.id, "activation")
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Le compte est créé" in page
    event = last_event(app, "account.created")
    assert event.changes == {"role": "region", "scope": "52 · 2, 4", "status": "invited"}
    assert event.actor_id == admin.account.id  # type: ignore[attr-defined]
    # The journal keeps no address and no name of the person.
    assert "claire" not in str(event.changes).lower()


def test_invalid_invitations_say_why_in_french_and_write_nothing(
        app: Flask, signed_in: Callable[..., Browser], make_account) -> None:
    admin = signed_in(Role.admin)
    make_account(Role.moderator, "pris@example.org")
    cases = {
        "Saisissez une adresse électronique": {"email": "not-an-address", "role": "moderator"},
        "Un compte utilise déjà cette adresse": {"email": "PRIS@example.org",
                                                 "role": "moderator"},
        "Un compte Région a besoin de sa région": {"email": "a@example.org", "role": "region"},
        "clé de contrôle": {"email": "b@example.org", "role": "organisation",
                            "establishment": "12345678901234"},
        "a besoin de son SIRET": {"email": "c@example.org", "role": "organisation"},
        "Ce rôle ne prend pas ce périmètre": {"email": "d@example.org", "role": "admin",
                                              "region": "52"},
    }
    before = counts(app)
    for message, data in cases.items():
        response = admin.submit("/admin/comptes/nouveau",
                                {"name": "", "region": "", "establishment": "", **data})
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True), message
    assert counts(app) == before


def test_changing_role_and_scope_is_journaled_and_ends_the_sessions(
        app: Flask, signed_in: Callable[..., Browser], make_account,
        browser: Callable[[], Browser]) -> None:
    admin = signed_in(Role.admin)
    person = make_account(Role.moderator, "personne@example.org")
    their_browser = browser()
    their_browser.sign_in(person.email)

    response = admin.submit(f"/admin/comptes/{person.id}", {
        "name": "", "role": "region", "region": "11", "establishment": ""})

    assert response.status_code == 303
    with app.app_context():
        changed = db.session.get(Account, person.id)
        assert (changed.role, changed.region_code) == (Role.region, "11")
    event = last_event(app, "account.role_changed")
    assert event.changes == {"role": ["moderator", "region"], "scope": ["—", "11"]}
    assert event.object_id == str(person.id)
    assert their_browser.get("/admin/").status_code == 302


def test_an_admin_cannot_lock_themselves_out(app: Flask, signed_in: Callable[..., Browser]) -> None:
    admin = signed_in(Role.admin)
    me = admin.account.id  # type: ignore[attr-defined]

    demoted = admin.submit(f"/admin/comptes/{me}", {"name": "", "role": "moderator",
                                                    "region": "", "establishment": ""})
    disabled = admin.submit(f"/admin/comptes/{me}/desactiver", {},
                            form_page=f"/admin/comptes/{me}")

    assert demoted.status_code == 422
    assert "Vous ne pouvez pas changer votre propre rôle" in demoted.get_data(as_text=True)
    assert disabled.status_code == 303
    assert "Vous ne pouvez pas désactiver votre propre compte" in \
        admin.get(disabled.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Account, me).status == AccountStatus.active


def test_disable_enable_and_resend(app: Flask, signed_in: Callable[..., Browser],
                                   make_account, browser: Callable[[], Browser]) -> None:
    admin = signed_in(Role.admin)
    invited = make_account(Role.moderator, password=None)
    active = make_account(Role.moderator)
    page = f"/admin/comptes/{invited.id}"

    assert admin.submit(f"{page}/renvoyer", {}, form_page=page).status_code == 303
    assert admin.submit(f"/admin/comptes/{active.id}/renvoyer", {},
                        form_page=page).status_code == 303
    assert admin.submit(f"/admin/comptes/{active.id}/desactiver", {},
                        form_page=page).status_code == 303
    assert browser().sign_in(active.email).status_code == 422
    assert admin.submit(f"/admin/comptes/{active.id}/reactiver", {},
                        form_page=page).status_code == 303
    assert browser().sign_in(active.email).status_code == 303

    with app.app_context():
        kinds = [(m.account_id, str(m.kind)) for m in db.session.scalars(
            sa.select(AccountMessage).order_by(AccountMessage.id))]
        actions = db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.object_id.in_([str(invited.id), str(active.id)]),
            AuditEvent.actor_id == admin.account.id)  # type: ignore[attr-defined]
            .order_by(AuditEvent.id)).all()
    # The invitation at creation, the one sent again; none for an active account.
    assert kinds == [(invited.id, "activation"), (invited.id, "activation")]
    assert actions == ["account.activation_resent", "account.disabled", "account.enabled"]
    assert admin.submit(f"{page}/inconnu", {}, form_page=page).status_code == 404


def test_the_list_filters_and_shows_last_sign_in(app: Flask, signed_in: Callable[..., Browser],
                                                 make_account,
                                                 browser: Callable[[], Browser]) -> None:
    admin = signed_in(Role.admin)
    make_account(Role.organisation, "contact@lumiere.example", siret="12345678200010")
    region = make_account(Role.region, "staff@paysdelaloire.example", region="52")
    browser().sign_in(region.email)

    everyone = admin.get("/admin/comptes").get_data(as_text=True)
    regions = admin.get("/admin/comptes?role=region").get_data(as_text=True)
    searched = admin.get("/admin/comptes?q=LUMIERE").get_data(as_text=True)

    assert "contact@lumiere.example" in everyone
    assert "staff@paysdelaloire.example" in everyone
    assert "SIRET 12345678200010" in everyone
    assert "staff@paysdelaloire.example" in regions
    assert "contact@lumiere.example" not in regions
    assert "contact@lumiere.example" in searched
    assert "staff@paysdelaloire.example" not in searched
    row = regions.split("staff@paysdelaloire.example", 1)[1].split("</tr>", 1)[0]
    assert "Jamais" not in row  # signed in once: a date, not "never"
    assert admin.get("/admin/comptes?role=superuser").status_code == 400
