"""Who may open which back-office view: each view declares its roles with ``@allow``.

``require_access`` runs before every request of a back-office blueprint: an anonymous
visitor goes to ``/login``, a role the view does not admit gets 403, and a view that
declares nothing refuses everyone (and the route × role test fails on it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue

from avis.accounts import sessions
from avis.accounts.models import Role

F = TypeVar("F", bound=Callable[..., Any])

_ROLES = "_avis_roles"
#: Every role: for pages each signed-in person has (home, own account).
EVERYONE = tuple(Role)


def allow(*roles: Role) -> Callable[[F], F]:
    """Admit these roles to the view (nobody else)."""
    if not roles:
        raise ValueError("allow() needs at least one role")

    def decorate(view: F) -> F:
        setattr(view, _ROLES, frozenset(roles))
        return view

    return decorate


def roles_of(view: Callable[..., Any] | None) -> frozenset[Role] | None:
    """The roles a view admits; None when it declares none."""
    return getattr(view, _ROLES, None)


def require_access() -> ResponseReturnValue | None:
    """``before_request`` of the back office: load and check the signed-in account."""
    user = sessions.current()
    if user is None:
        return redirect(url_for("accounts.login", next=safe_next(request.full_path)))
    sessions.touch(user)
    roles = roles_of(current_app.view_functions.get(request.endpoint or ""))
    if roles is None or Role(user.account.role) not in roles:
        abort(403)
    return None


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path of the back office on this site; None otherwise (an
    open redirect would let a phishing link bounce through our sign-in page)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin/") \
            or "\\" in target or target.startswith("//"):
        return None
    return target.rstrip("?")
