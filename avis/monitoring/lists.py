"""The lists Region staff act on: who did not answer, and whose address does not work.

Both lists are of end-of-training invitations (one per enrolment: a trainee in a
session), within the reader's scope (``Scope.where(Enrolment)``: its région, and its
funders' sessions when it has some):

- **non-respondents**: the first email left (``first_sent_dt`` is set) and no answer
  came: the invitation is ``sent``, ``delivered`` or ``opened`` (the link still works:
  a call may still bring an answer), or ``expired`` (the link's lifetime ended without
  an answer). Not those who asked for no more email (``unsubscribed``) or marked it as
  spam (``complained``): they said no, and must not be chased. Not those whose address
  failed: they are in the other list. Not ``pending`` ones (nothing was sent yet).
- **bounced addresses**: the address does not receive mail (``bounced``: the provider
  reported a bounce or dropped it) or the first email could not be sent after every
  attempt (``failed``). A complaint is not a bad address (the mail arrived): not here.

Everybody with access reads counts grouped by campaign, training body (the one
teaching the session) or session; names and emails only with ``can_see_personal_data``,
and the views do the journaling. Never a token: no survey link is built here.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from avis.accounts.scope import Scope
from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus

PARIS = ZoneInfo("Europe/Paris")


class ListKind(enum.StrEnum):
    #: sent, not answered, not unsubscribed (see the module's docstring)
    non_respondents = "non_respondents"
    #: the address bounced, or the email could not be sent at all
    bounced = "bounced"


S = InvitationStatus
#: The invitation statuses each list holds.
STATUSES: dict[ListKind, tuple[InvitationStatus, ...]] = {
    ListKind.non_respondents: (S.sent, S.delivered, S.opened, S.expired),
    ListKind.bounced: (S.bounced, S.failed),
}

#: What each status means to the reader of a list.
STATUS_LABELS: dict[str, LazyString] = {
    S.sent: _l("Sent"),
    S.delivered: _l("Delivered"),
    S.opened: _l("Opened"),
    S.expired: _l("Link expired"),
    S.bounced: _l("Address bounced"),
    S.failed: _l("Could not be sent"),
}


class Grouping(enum.StrEnum):
    campaign = "campagne"
    body = "organisme"
    session = "session"


@dataclass(frozen=True)
class Filters:
    """What a list is narrowed to; each object already checked to be in the scope."""

    campaign: str | None = None
    body_id: int | None = None
    session_id: int | None = None


def _members(scope: Scope, kind: ListKind, filters: Filters, *columns: Any) -> sa.Select:
    """``SELECT columns`` over the invitations of the list, with their enrolment, trainee,
    session and action joined; within the scope and the filters. People who erased their
    data are not in any list: nobody can be reached, nor should be."""
    statement = (sa.select(*columns).select_from(Invitation)
                 .join(Enrolment, Enrolment.id == Invitation.enrolment_id)
                 .join(Trainee, Trainee.id == Enrolment.trainee_id)
                 .join(Session, Session.id == Enrolment.session_id)
                 .join(Action, Action.id == Session.action_id)
                 .where(Invitation.kind == InvitationKind.end_of_training,
                        Invitation.status.in_(STATUSES[kind]),
                        Trainee.erased_dt.is_(None),
                        scope.where(Enrolment)))
    if kind == ListKind.non_respondents:
        statement = statement.where(Invitation.first_sent_dt.is_not(None))
    if filters.campaign is not None:
        statement = statement.where(Enrolment.campaign == filters.campaign)
    if filters.body_id is not None:
        statement = statement.where(Action.training_body_id == filters.body_id)
    if filters.session_id is not None:
        statement = statement.where(Enrolment.session_id == filters.session_id)
    return statement


def count(scope: Scope, kind: ListKind, filters: Filters) -> int:
    """How many people the list holds."""
    return db.session.scalar(_members(scope, kind, filters, sa.func.count())) or 0


def campaigns(scope: Scope) -> list[str]:
    """The campaigns of the scope's enrolments, by name."""
    return list(db.session.scalars(
        sa.select(Enrolment.campaign).where(scope.where(Enrolment)).distinct()
        .order_by(Enrolment.campaign)))


# --- Counts by group -------------------------------------------------------------------

_GROUP_KEYS = {Grouping.campaign: Enrolment.campaign,
               Grouping.body: Action.training_body_id,
               Grouping.session: Enrolment.session_id}


@dataclass(frozen=True)
class Group:
    """One row of the counts: a campaign, a body or a session, and its people."""

    key: Any
    people: int
    #: the body (by body and by session), and the session (by session)
    body: TrainingBody | None = None
    session: Session | None = None


@dataclass(frozen=True)
class GroupPage:
    groups: list[Group]
    #: groups in the whole list, and people in them
    total_groups: int
    total_people: int


def groups(scope: Scope, kind: ListKind, filters: Filters, by: Grouping, *,
           limit: int | None = None, offset: int = 0) -> GroupPage:
    """The list counted by ``by``, most people first; ``limit`` groups from ``offset``."""
    key = _GROUP_KEYS[by]
    people = sa.func.count()
    statement = (_members(scope, kind, filters, key.label("key"), people.label("people"),
                          sa.func.count().over().label("groups"),
                          sa.func.sum(people).over().label("total"))
                 .group_by(key).order_by(people.desc(), key))
    if limit is not None:
        statement = statement.limit(limit).offset(offset)
    rows = db.session.execute(statement).all()
    if rows:
        total_groups, total_people = rows[0].groups, int(rows[0].total)
    else:  # beyond the last page: no row carries the totals
        totals = _members(scope, kind, filters, key.label("key")).subquery()
        total_groups = db.session.scalar(sa.select(sa.func.count(sa.distinct(totals.c.key))))
        total_people = db.session.scalar(sa.select(sa.func.count()).select_from(totals))
    return GroupPage(_described(by, rows), total_groups or 0, total_people or 0)


def _described(by: Grouping, rows: Sequence[sa.Row]) -> list[Group]:
    """Rows of counts with their body and session (read for the page's keys only)."""
    keys = [row.key for row in rows]
    if by == Grouping.campaign or not keys:
        return [Group(row.key, row.people) for row in rows]
    if by == Grouping.body:
        bodies = {body.id: body for body in db.session.scalars(
            sa.select(TrainingBody).where(TrainingBody.id.in_(keys)))}
        return [Group(row.key, row.people, body=bodies[row.key]) for row in rows]
    found = {session.id: (session, body) for session, body in db.session.execute(
        sa.select(Session, TrainingBody).join(Action, Action.id == Session.action_id)
        .join(TrainingBody, TrainingBody.id == Action.training_body_id)
        .where(Session.id.in_(keys)))}
    return [Group(row.key, row.people, body=found[row.key][1], session=found[row.key][0])
            for row in rows]


def group_table(by: Grouping, groups: Iterable[Group]) -> tuple[list[str], Iterable[tuple]]:
    """The counts as a spreadsheet: header and rows."""
    if by == Grouping.campaign:
        return ["campagne", "personnes"], ((group.key, group.people) for group in groups)
    if by == Grouping.body:
        return (["siret", "organisme", "personnes"],
                ((group.body.siret, group.body.name, group.people)  # type: ignore[union-attr]
                 for group in groups))
    return (["session", "numero", "debut", "fin", "ville", "siret", "organisme", "personnes"],
            ((group.session.external_id, group.session.numero,  # type: ignore[union-attr]
              group.session.start_date, group.session.end_date,  # type: ignore[union-attr]
              group.session.city, group.body.siret, group.body.name,  # type: ignore[union-attr]
              group.people) for group in groups))


# --- People (names and emails) -----------------------------------------------------------

def people(scope: Scope, kind: ListKind, filters: Filters, *, limit: int | None = None,
           offset: int = 0) -> list[sa.Row]:
    """The people of the list: name, email, status, first email, campaign, body, session;
    by campaign, body, session and name. Personal data: the caller journals the reading."""
    statement = (_members(scope, kind, filters, Trainee.last_name, Trainee.first_name,
                          Trainee.email, Invitation.status, Invitation.first_sent_dt,
                          Enrolment.campaign, TrainingBody.name.label("body_name"),
                          TrainingBody.siret, Session.external_id, Session.end_date)
                 .join(TrainingBody, TrainingBody.id == Action.training_body_id)
                 .order_by(Enrolment.campaign, TrainingBody.name, Session.external_id,
                           Trainee.last_name, Trainee.first_name, Invitation.id))
    if limit is not None:
        statement = statement.limit(limit).offset(offset)
    return list(db.session.execute(statement))


PEOPLE_HEADER = ["nom", "prenom", "email", "statut", "premier_envoi", "campagne", "organisme",
                 "siret", "session", "fin_de_session"]


def people_rows(rows: Iterable[sa.Row]) -> Iterable[tuple]:
    """The people as spreadsheet rows (see ``PEOPLE_HEADER``)."""
    labels = {status: str(label) for status, label in STATUS_LABELS.items()}
    for row in rows:
        yield (row.last_name, row.first_name, row.email, labels[row.status],
               _paris_day(row.first_sent_dt), row.campaign, row.body_name, row.siret,
               row.external_id, row.end_date)


def _paris_day(moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(PARIS).date() if moment is not None else None
