"""The one filter of scoped data: what an account may see.

Every back-office query of training bodies, sessions, answers, accounts or journal
events goes through ``Scope.where(Model)`` (or ``scoped``/``get_or_404``, built on
it). A model this module does not know raises: a new kind of scoped data must be given
its rule here, in one place, before any view can read it.

- admin: everything;
- moderator: its région, or every région when it has none;
- region: its région, and only the sessions of its funders when it has some;
- organisation: the establishments of its SIREN, or its one SIRET.
Enrolments (who followed a session: personal data) follow their session, and are never
a training body's.
A région's training bodies are those teaching, or holding the contract of, a session
held in that région.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, current_app

from avis.accounts.models import Account, Role
from avis.audit.models import AuditEvent
from avis.catalog.imports.models import ImportRun
from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import among, db, funders_overlap
from avis.moderation.models import Report
from avis.monitoring.models.alerts import Alert
from avis.surveys.models.answers import Answer, Reply

T = TypeVar("T")

#: How long a process keeps a région's set of bodies (see ``Scope.region_body_ids``);
#: like the public pages, nothing when ``PAGE_CACHE_SECONDS`` is 0.
BODY_SET_SECONDS = 60


@dataclass(frozen=True)
class Scope:
    role: Role
    account_id: int
    region_code: str | None = None
    funder_codes: tuple[int, ...] = ()
    siren: str | None = None
    siret: str | None = None

    @classmethod
    def of(cls, account: Account) -> Scope:
        return cls(role=Role(account.role), account_id=account.id,
                   region_code=account.region_code,
                   funder_codes=tuple(account.funder_codes or ()),
                   siren=account.siren, siret=account.siret)

    @property
    def is_national(self) -> bool:
        """Sees every région's data."""
        return self.role == Role.admin or (self.role == Role.moderator
                                           and self.region_code is None)

    def where(self, model: type[Any]) -> sa.ColumnElement[bool]:
        """The condition rows of ``model`` must meet to be seen with this scope."""
        rule = _RULES.get(model)
        if rule is None:
            raise TypeError(f"no scope rule for {model.__name__}: add one to avis.accounts.scope")
        return rule(self)

    # --- rules, one per model -------------------------------------------------------

    def _bodies(self) -> sa.ColumnElement[bool]:
        if self.is_national:
            return sa.true()
        if self.role == Role.organisation:
            return _own_establishments(self)
        return among(TrainingBody.id, self.region_body_ids())

    def region_body_ids(self) -> list[int]:
        """The bodies teaching, or holding the contract of, a session of the scope.

        Kept ``BODY_SET_SECONDS`` per process and scope: at national scale the set costs
        ~25 ms of SQL (the région's 25,000 sessions' actions hashed), on every page. Safe
        to keep a while because a body's identity is public (every public page lists
        bodies): what is sensitive about it — sessions, answers, accounts — is filtered by
        rules that are never kept. A body moving out of the région stays listed at most
        that long; its answers there do not.
        """
        from avis.public.caching import cache

        key = f"scope-bodies:{self.region_code}:{','.join(map(str, self.funder_codes))}"
        if current_app.config["PAGE_CACHE_SECONDS"]:
            kept = cache.get(key)
            if kept is not None:
                return list(kept)
        # The actions read once (a CTE) for both body columns.
        actions = (sa.select(Action.training_body_id, Action.responsible_body_id)
                   .where(Action.id.in_(sa.select(Session.action_id).where(self._sessions())))
                   .cte("scope_actions"))
        ids = sorted(db.session.scalars(sa.union(sa.select(actions.c.training_body_id),
                                                 sa.select(actions.c.responsible_body_id))))
        if current_app.config["PAGE_CACHE_SECONDS"]:
            cache.set(key, ids, timeout=BODY_SET_SECONDS)
        return ids

    def _sessions(self) -> sa.ColumnElement[bool]:
        if self.is_national:
            return sa.true()
        if self.role == Role.organisation:
            own_actions = (sa.select(Action.id)
                           .join(TrainingBody, TrainingBody.id == Action.training_body_id)
                           .where(_own_establishments(self)))
            return Session.action_id.in_(own_actions)
        condition = Session.region_code == self.region_code
        if self.role == Role.region and self.funder_codes:
            condition = sa.and_(condition, funders_overlap(Session.funders, self.funder_codes))
        return condition

    def _enrolments(self) -> sa.ColumnElement[bool]:
        # Who was enrolled is personal data: never a training body's to see.
        if self.role == Role.organisation:
            return sa.false()
        if self.is_national:
            return sa.true()
        return Enrolment.session_id.in_(sa.select(Session.id).where(self._sessions()))

    def _answers(self) -> sa.ColumnElement[bool]:
        if self.is_national:
            return sa.true()
        if self.role == Role.organisation:
            return Answer.training_body_id.in_(
                sa.select(TrainingBody.id).where(_own_establishments(self)))
        # The answer's copy of its session's région (kept by the database): a région's
        # answers are then read without their sessions.
        in_region = Answer.region_code == self.region_code
        if self.role == Role.region and self.funder_codes:
            return sa.and_(in_region, Answer.session_id.in_(
                sa.select(Session.id).where(self._sessions())))
        return in_region

    def _replies(self) -> sa.ColumnElement[bool]:
        return Reply.answer_id.in_(sa.select(Answer.id).where(self._answers()))

    def _reports(self) -> sa.ColumnElement[bool]:
        return Report.answer_id.in_(sa.select(Answer.id).where(self._answers()))

    def _accounts(self) -> sa.ColumnElement[bool]:
        if self.role == Role.admin:
            return sa.true()
        if self.role == Role.organisation:
            # Colleagues of the same body (a SIREN account sees its establishments' too).
            if self.siren:
                return sa.or_(Account.siren == self.siren,
                              sa.func.substr(Account.siret, 1, 9) == self.siren)
            return Account.siret == self.siret
        return Account.id == self.account_id

    def _alerts(self) -> sa.ColumnElement[bool]:
        # Region staff: their région's; limited to some funders, the bodies those fund
        # (campaign alerts stay the région's: they name no body).
        if self.role == Role.admin:
            return sa.true()
        if self.role != Role.region:
            return sa.false()
        condition = Alert.region_code == self.region_code
        if self.funder_codes:
            condition = sa.and_(condition, sa.or_(
                Alert.training_body_id.is_(None),
                Alert.training_body_id.in_(sa.select(TrainingBody.id).where(self._bodies()))))
        return condition

    def _journal(self) -> sa.ColumnElement[bool]:
        return sa.true() if self.role == Role.admin else sa.false()

    def _imports(self) -> sa.ColumnElement[bool]:
        # Region staff: the files uploaded for their région. Command-line runs and
        # admins' uploads are national (their counts span every région): admins only.
        if self.role == Role.admin:
            return sa.true()
        if self.role == Role.region:
            return ImportRun.region_code == self.region_code
        return sa.false()


def _own_establishments(scope: Scope) -> sa.ColumnElement[bool]:
    if scope.siren:
        return TrainingBody.siren == scope.siren
    return TrainingBody.siret == scope.siret


_RULES = {
    TrainingBody: Scope._bodies,
    Session: Scope._sessions,
    Enrolment: Scope._enrolments,
    Answer: Scope._answers,
    Reply: Scope._replies,
    Report: Scope._reports,
    Account: Scope._accounts,
    AuditEvent: Scope._journal,
    ImportRun: Scope._imports,
    Alert: Scope._alerts,
}


def current_scope() -> Scope:
    """The scope of the signed-in account (the back office's views only run signed in)."""
    from avis.accounts.sessions import signed_in_account

    account = signed_in_account()
    if account is None:
        raise RuntimeError("no signed-in account: scoped data read outside the back office")
    return Scope.of(account)


def scoped(model: type[T], *columns: Any) -> sa.Select[Any]:
    """``SELECT model (or columns) FROM model … WHERE <scope>``; add filters, order and
    limits. ``scoped(Answer, sa.func.count())`` counts the rows of the scope."""
    return (sa.select(*(columns or (model,))).select_from(model)
            .where(current_scope().where(model)))


def get_or_404(model: type[T], *conditions: sa.ColumnElement[bool]) -> T:
    """The one row of ``model`` meeting ``conditions`` within the scope; 404 otherwise, be
    it unknown or someone else's (the answer must not tell which)."""
    found = db.session.scalars(scoped(model).where(*conditions).limit(2)).all()
    if len(found) != 1:
        abort(404)
    return found[0]


def visible(model: type[Any], ids: Sequence[int]) -> set[int]:
    """Which of ``ids`` (primary keys of ``model``) the scope lets one see."""
    if not ids:
        return set()
    key = sa.inspect(model).primary_key[0]
    return set(db.session.scalars(scoped(model, key).where(key.in_(list(ids)))))
