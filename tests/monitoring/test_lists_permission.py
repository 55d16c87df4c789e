"""The permission to read trainees' names and emails: granted and removed by an admin on
the account's page, journaled old → new, for Region staff and admins only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from avis.accounts import operations
from avis.accounts.models import Account, Role
from avis.audit.models import AuditEvent
from avis.db import db
from tests.accounts.fixtures import Browser, create_account


def _account(app: Flask, account_id: int) -> Account:
    with app.app_context():
        account = db.session.get(Account, account_id)
        assert account is not None
        db.session.expunge(account)
        return account


def _events(app: Flask, account_id: int) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(event.action, event.changes) for event in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.object_type == "account",
                                        AuditEvent.object_id == str(account_id),
                                        AuditEvent.action != "account.created")
            .order_by(AuditEvent.id))]


def _action(admin: Browser, account_id: int, action: str) -> str:
    response = admin.submit(f"/admin/comptes/{account_id}/{action}", {},
                            form_page=f"/admin/comptes/{account_id}")
    assert response.status_code == 303
    return admin.get(response.headers["Location"]).get_data(as_text=True)


def test_an_admin_grants_and_removes_it_on_the_account_page(
        app: Flask, signed_in: Callable[..., Browser],
        make_account: Callable[..., Account]) -> None:
    admin = signed_in(Role.admin)
    region = make_account(Role.region, "lectrice@region.example", region="52")
    page = admin.get(f"/admin/comptes/{region.id}").get_data(as_text=True)
    assert f"/admin/comptes/{region.id}/donnees-personnelles" in page

    page = _action(admin, region.id, "donnees-personnelles")
    assert f"/admin/comptes/{region.id}/sans-donnees-personnelles" in page
    assert _account(app, region.id).can_see_personal_data
    # The list of accounts shows it (the second factor's column says no).
    listing = admin.get("/admin/comptes?q=lectrice").get_data(as_text=True)
    assert listing.count("<td>Oui</td>") == 1

    _action(admin, region.id, "sans-donnees-personnelles")
    assert not _account(app, region.id).can_see_personal_data
    listing = admin.get("/admin/comptes?q=lectrice").get_data(as_text=True)
    assert listing.count("<td>Oui</td>") == 0
    assert _events(app, region.id) == [
        ("account.personal_data_granted", {"personal_data": [False, True]}),
        ("account.personal_data_removed", {"personal_data": [True, False]})]
    with app.app_context():
        actors = set(db.session.scalars(sa.select(AuditEvent.actor_id).where(
            AuditEvent.action.like("account.personal_data_%"))))
    assert actors == {admin.account.id}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("role", "options"), [(Role.moderator, {"region": "52"}),
                                          (Role.organisation, {"siret": "73282932000074"})])
def test_never_for_moderators_nor_training_bodies(app: Flask, signed_in: Callable[..., Browser],
                                                  make_account: Callable[..., Account],
                                                  role: Role, options: dict) -> None:
    admin = signed_in(Role.admin)
    other = make_account(role, **options)
    page = admin.get(f"/admin/comptes/{other.id}").get_data(as_text=True)
    assert f"/admin/comptes/{other.id}/donnees-personnelles" not in page
    _action(admin, other.id, "donnees-personnelles")
    assert not _account(app, other.id).can_see_personal_data
    assert _events(app, other.id) == []
    # Nor in the database, whatever the code says.
    with app.app_context():
        granting = sa.update(Account).where(Account.id == other.id) \
            .values(can_see_personal_data=True)
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(granting)


def test_not_to_oneself(app: Flask, signed_in: Callable[..., Browser]) -> None:
    admin = signed_in(Role.admin)
    me = admin.account  # type: ignore[attr-defined]
    assert f"/admin/comptes/{me.id}/donnees-personnelles" not in admin.get(
        f"/admin/comptes/{me.id}").get_data(as_text=True)
    _action(admin, me.id, "donnees-personnelles")
    assert not _account(app, me.id).can_see_personal_data


def test_a_new_role_without_it_drops_it(app: Flask) -> None:
    with app.app_context():
        admin = create_account(Role.admin, "chef@admin.example")
        region = create_account(Role.region, "agent@region.example", region="52")
        operations.set_personal_data(region, True, by=admin)
        db.session.commit()
        changes = operations.update(region, operations.AccountScope.build(
            "moderator", region="52"), name=None, by=admin)
        db.session.commit()
        assert changes["personal_data"] == [True, False]
        assert not region.can_see_personal_data
        event = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "account.role_changed")).one()
        assert event.changes["personal_data"] == [True, False]
        # Region staff becoming admin keep it: both roles may have it.
        other = create_account(Role.region, "autre@region.example", region="11")
        operations.set_personal_data(other, True, by=admin)
        operations.update(other, operations.AccountScope.build("admin"), name=None, by=admin)
        db.session.commit()
        assert other.can_see_personal_data
