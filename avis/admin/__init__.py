"""The back office's shell: ``/admin/`` blueprints, their access check, the navigation.

Every feature with back-office pages makes its blueprint with ``admin_blueprint``, so
that each of its requests is signed in, checked against the roles the view declares
(``avis.accounts.access.allow``), and never cached; and adds its menu entries to
``NAVIGATION``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from avis.accounts.access import require_access
from avis.accounts.models import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: LazyString
    roles: frozenset[Role]


#: The menu, in order; each person sees the entries of their role.
NAVIGATION: list[NavItem] = [
    NavItem("admin.home", _l("Home"), frozenset(Role)),
    NavItem("dashboard.overview", _l("Dashboard"), frozenset({Role.region, Role.admin})),
    NavItem("alerts.index", _l("Alerts"), frozenset({Role.region, Role.admin})),
    NavItem("moderation.queue", _l("Moderation"), frozenset({Role.moderator, Role.admin})),
    NavItem("body_reviews.reviews", _l("Our reviews"), frozenset({Role.organisation})),
    NavItem("evidence.page", _l("Qualiopi evidence"), frozenset({Role.organisation})),
    NavItem("admin.bodies", _l("Training bodies"), frozenset(Role)),
    NavItem("lists.non_respondents", _l("Lists"), frozenset({Role.region, Role.admin})),
    NavItem("imports.runs", _l("Imports"), frozenset({Role.region, Role.admin})),
    NavItem("accounts_admin.accounts", _l("Accounts"), frozenset({Role.admin})),
    NavItem("audit.journal", _l("Journal"), frozenset({Role.admin})),
    NavItem("privacy_admin.index", _l("Personal data"), frozenset({Role.admin})),
    NavItem("colleagues.index", _l("Colleagues"), frozenset({Role.organisation})),
    NavItem("body_notifications.preferences", _l("Email notifications"),
            frozenset({Role.organisation})),
    NavItem("accounts_admin.my_account", _l("My account"), frozenset(Role)),
]


def navigation_for(role: Role) -> list[NavItem]:
    return [item for item in NAVIGATION if role in item.roles]


def init_app(app: Flask) -> None:
    """Helpers of the back office's templates (globals: nothing computed per page)."""
    from avis.accounts.forms import ERRORS, ROLE_LABELS
    from avis.accounts.sessions import signed_in_account
    from avis.audit.views import ACTIONS

    app.jinja_env.globals.update(
        admin_account=signed_in_account,
        admin_navigation=lambda role: navigation_for(Role(role)),
        role_name=lambda role: ROLE_LABELS.get(role, role),
        account_error=lambda code: ERRORS.get(code, code),
        action_name=lambda action: ACTIONS.get(action, action),
        roles=tuple(Role),
    )


def admin_blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    """A blueprint under ``/admin`` whose every view is signed in and role-checked."""
    bp = Blueprint(name, import_name, url_prefix="/admin", **options)
    bp.before_request(require_access)
    bp.after_request(_private)
    return bp


def _private(response: Response) -> Response:
    # Pages of one person, often with personal data: never kept by anyone.
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Cookie")
    return response
