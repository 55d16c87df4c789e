"""Every back-office route × every role × an object of one's own scope and a foreign one.

Generated from the application's URL map: a new ``/admin`` route without a declared
rule (``@allow``), or with a URL parameter this test does not know how to fill, fails
here until it is given both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.routing import Rule

from avis.accounts.access import roles_of
from avis.accounts.models import Role
from tests.accounts.fixtures import Browser, csrf_token
from tests.admin.fixtures import ACCOUNTS, VISIBLE, BodyFacts, ScopedWorld

#: An id that no row has.
UNKNOWN_ID = 987_654_321
UNKNOWN_SIRET = "99999999999999"


def admin_rules(app: Flask) -> list[Rule]:
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith("/admin")), key=lambda rule: rule.rule)


def test_every_back_office_view_declares_its_roles(app: Flask) -> None:
    undeclared = [rule.rule for rule in admin_rules(app)
                  if roles_of(app.view_functions[rule.endpoint]) is None]
    assert admin_rules(app), "no back-office route found"
    assert undeclared == []


@dataclass(frozen=True)
class Case:
    """One request of the matrix and the status it must get."""

    method: str
    path: str
    expected: int
    why: str


#: Values of URL parameters, per parameter name: own (visible) or foreign ones.
def _siret_values(world: ScopedWorld, key: str) -> tuple[str | None, list[str]]:
    visible = sorted(VISIBLE[key])
    foreign = sorted(set(world.bodies) - VISIBLE[key])
    own = world.bodies[visible[0]].siret if visible else None
    return own, [world.bodies[name].siret for name in foreign] + [UNKNOWN_SIRET]


def _account_values(world: ScopedWorld, key: str) -> tuple[str | None, list[str]]:
    own = str(world.accounts[key][0])
    others = [str(i) for k, (i, _e, _s) in world.accounts.items() if k != key]
    # Only admins may open accounts: for them nothing is foreign but an unknown id.
    if ACCOUNTS[key][0] == Role.admin:
        return own, [str(UNKNOWN_ID)]
    return own, [*others, str(UNKNOWN_ID)]


def _answer_values(world: ScopedWorld, key: str) -> tuple[str | None, list[str]]:
    """A published comment of a body of the scope (a body never opens a pending one);
    others' comments are foreign."""
    return _of_bodies(world, key, lambda body: body.answer_ids[0])


def _reply_values(world: ScopedWorld, key: str) -> tuple[str | None, list[str]]:
    return _of_bodies(world, key, lambda body: body.reply_id)


def _report_values(world: ScopedWorld, key: str) -> tuple[str | None, list[str]]:
    return _of_bodies(world, key, lambda body: body.report_id)


def _alert_values(world: ScopedWorld, key: str) -> tuple[str | None, list[str]]:
    return _of_bodies(world, key, lambda body: body.alert_id)


def _of_bodies(world: ScopedWorld, key: str, pick: Callable[[BodyFacts], int]
               ) -> tuple[str | None, list[str]]:
    """An object of a body of the scope; those of other bodies are foreign."""
    visible = sorted(VISIBLE[key])
    foreign = sorted(set(world.bodies) - VISIBLE[key])
    own = str(pick(world.bodies[visible[0]])) if visible else None
    return own, [str(pick(world.bodies[name])) for name in foreign] + [str(UNKNOWN_ID)]


def _import_run_values(world: ScopedWorld, key: str) -> tuple[str | None, list[str]]:
    """One's own upload; the runs of other régions, admins' and the command line's are
    foreign to region staff (an admin sees every run)."""
    own = world.import_runs.get(key)
    if ACCOUNTS[key][0] == Role.admin:
        return str(own[0]) if own else None, [str(UNKNOWN_ID)]
    region = ACCOUNTS[key][1].get("region") if ACCOUNTS[key][0] == Role.region else None
    foreign = [str(run_id) for run_id, run_region in world.import_runs.values()
               if region is None or run_region != region]
    return (str(own[0]) if own and region else None), [*foreign, str(UNKNOWN_ID)]


PARAMETERS: dict[str, Callable[[ScopedWorld, str], tuple[str | None, list[str]]]] = {
    "siret": _siret_values,
    "account_id": _account_values,
    "answer_id": _answer_values,
    "reply_id": _reply_values,
    "report_id": _report_values,
    "run_id": _import_run_values,
    "alert_id": _alert_values,
}
#: Parameters that choose what to do rather than which object: one fixed value each.
FIXED = {"action": "reactiver", "decision": "annuler"}


def cases_for(app: Flask, world: ScopedWorld, key: str) -> list[Case]:
    role = ACCOUNTS[key][0]
    cases: list[Case] = []
    for rule in admin_rules(app):
        roles = roles_of(app.view_functions[rule.endpoint]) or frozenset()
        objects = [name for name in rule.arguments if name not in FIXED]
        unknown = [name for name in objects if name not in PARAMETERS]
        assert not unknown, f"{rule.rule}: teach this test the parameter(s) {unknown}"
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        fixed = {name: FIXED[name] for name in rule.arguments if name in FIXED}
        if not objects:
            values = [({}, True)]
        else:
            # One parameter per route so far; a route with two would need pairs here.
            assert len(objects) == 1, f"{rule.rule}: several object parameters"
            own, foreign = PARAMETERS[objects[0]](world, key)
            values = ([({objects[0]: own}, True)] if own is not None else []) + \
                [({objects[0]: value}, False) for value in foreign]
        for args, is_own in values:
            path = _build(app, rule, {**args, **fixed})
            if role not in roles:
                cases.append(Case(method, path, 403, f"{role} not admitted"))
            elif not is_own:
                cases.append(Case(method, path, 404, "foreign or unknown object"))
            elif method == "GET":
                cases.append(Case(method, path, 200, "own object"))
            # POSTs on one's own objects change them: their own tests cover them.
    return cases


def _build(app: Flask, rule: Rule, values: dict[str, str]) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


@pytest.mark.parametrize("key", sorted(ACCOUNTS))
def test_route_role_matrix(app: Flask, scoped_world: ScopedWorld,
                           browser: Callable[[], Browser], key: str) -> None:
    _account_id, email, secret = scoped_world.accounts[key]
    client = browser()
    assert client.sign_in(email, totp_secret=secret).status_code == 303
    token = csrf_token(client.get("/admin/compte").get_data(as_text=True))
    wrong = []
    cases = cases_for(app, scoped_world, key)
    for case in cases:
        if case.method == "GET":
            response = client.get(case.path)
        else:
            response = client.client.post(case.path, data={"csrf_token": token})
        location = response.headers.get("Location", "")
        if case.expected == 200 and response.status_code in (302, 303) \
                and location.startswith("/admin/"):
            # A page with nothing to do for this account sends it elsewhere in the back
            # office (the second-factor setup once it is on).
            continue
        if response.status_code != case.expected:
            wrong.append(f"{case.method} {case.path}: {response.status_code}, "
                         f"expected {case.expected} ({case.why})")
        elif case.expected == 404:
            # A foreign object's page says nothing about it.
            html = response.get_data(as_text=True)
            leaked = [body.name for body in scoped_world.bodies.values() if body.name in html]
            assert not leaked, f"{case.path} shows {leaked}"
    assert cases, "no case generated"
    assert wrong == []


def test_anonymous_requests_go_to_sign_in(app: Flask, scoped_world: ScopedWorld,
                                          browser: Callable[[], Browser]) -> None:
    client = browser()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    wrong = []
    for case in cases_for(app, scoped_world, "admin"):
        if case.method == "GET":
            response = client.get(case.path)
        else:
            response = client.client.post(case.path, data={"csrf_token": token})
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location.startswith("/login?next="):
            wrong.append(f"{case.method} {case.path}: {response.status_code} {location}")
        if scoped_world.bodies["lumiere"].name in response.get_data(as_text=True):
            wrong.append(f"{case.path} shows a body to an anonymous visitor")
    assert wrong == []
