"""Answers for the demo: a realistic spread of marks, French comments, some follow-ups.

Written straight into the tables (the demo has no trainees to click links), for
sessions surveyed by the jobs and for older sessions, which get the invitations they
would have had. Recent invitations are partly left unanswered, so that a newcomer can
answer one from ``/dev/mailbox``.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa
from flask import current_app

from avis import clock
from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.surveys.answering import overall_mark
from avis.surveys.jobs import add_months
from avis.surveys.models.answers import (
    DIMENSIONS,
    Answer,
    AnswerReceipt,
    CommentStatus,
    ContractType,
    FollowUpAnswer,
    JobRelation,
    Qualification,
    RejectionReason,
    Reply,
    Situation,
    TimeToJob,
)
from avis.surveys.models.invitations import Invitation, InvitationKind, InvitationStatus

#: Share of invitations answered: ANOTEA's first months saw about a third.
ANSWER_RATE = 0.38
#: Share of recent (emailed by the demo) invitations answered: most stay open to try.
RECENT_ANSWER_RATE = 0.2
FOLLOW_UP_RATE = 0.25

#: Every ``QUIET_EVERY``-th body gets no answer at all, the next one at most
#: ``FEW_ANSWERS``: the public pages then show "not enough reviews yet" and wide
#: intervals next to well-reviewed bodies.
QUIET_EVERY = 8
FEW_ANSWERS = 2

#: Replies of training bodies to critical comments — written for avis.
REPLIES = [
    "Merci pour votre retour. Nous avons revu le planning des ateliers pour la "
    "prochaine session.",
    "Nous regrettons ces difficultés. Le matériel de la salle informatique a été "
    "renouvelé depuis.",
    "Merci. Un référent stage accompagne désormais chaque stagiaire dès la première "
    "semaine.",
]

#: (title, text, typical overall mood 1–5) — written for avis.
COMMENTS = [
    ("Formation très complète", "Des formateurs disponibles et un contenu bien adapté au "
     "métier. J’ai trouvé un emploi un mois après la fin.", 5),
    ("Je recommande", "Bonne ambiance dans le groupe, beaucoup de pratique en atelier.", 5),
    ("Très bon accompagnement", "La conseillère nous a aidés pour les stages et les CV. "
     "Merci à toute l’équipe.", 5),
    ("Enrichissant", "J’ai beaucoup appris, surtout pendant la période en entreprise.", 4),
    ("Bien dans l’ensemble", "Contenu intéressant mais un rythme parfois trop rapide pour "
     "les débutants.", 4),
    ("Satisfaite", "Les locaux sont agréables et le matériel récent. Quelques cours "
     "annulés au dernier moment.", 4),
    ("Bonne formation", "Formateurs compétents. Il manquait un peu de suivi après le stage.",
     4),
    (None, "Rien à redire, tout était clair dès le premier jour.", 5),
    (None, "Bonne formation, mais l’accès en transports en commun est compliqué.", 4),
    ("Correct", "Le contenu est correct, mais le matériel informatique était vieillissant.",
     3),
    ("Mitigé", "De bons formateurs mais une organisation à revoir : planning changé "
     "plusieurs fois.", 3),
    ("Trop théorique", "J’aurais aimé plus de mises en situation et moins de cours en salle.",
     3),
    (None, "Accueil chaleureux. Le contenu ne correspondait pas tout à fait au programme "
     "annoncé.", 3),
    ("Déçu", "Peu d’accompagnement pour trouver un stage, on nous a laissés seuls.", 2),
    ("Organisation à revoir", "Salles trop petites pour le groupe, formateurs remplacés "
     "souvent.", 2),
    ("Pas à la hauteur", "Le matériel ne fonctionnait pas la moitié du temps.", 1),
]


def add_demo_answers(seed: int = 0) -> dict[str, int]:
    """Invitations for past sessions, and answers to a share of all invitations; nothing
    when the database already holds answers (the demo loaded twice)."""
    if db.session.scalar(sa.select(Answer.id).limit(1)) is not None:
        return {"past_invitations": 0, "answers": 0, "follow_up_answers": 0}
    rng = random.Random(seed)
    today = clock.today()
    created = _invite_past_sessions(today)
    answered = _answer(rng, today)
    follow_ups = _follow_ups(rng, today)
    db.session.commit()
    return {"past_invitations": created, "answers": answered, "follow_up_answers": follow_ups}


def _invite_past_sessions(today: dt.date) -> int:
    """The invitations older sessions would have had (sent, now expired)."""
    config = current_app.config
    cutoff = today - dt.timedelta(days=config["INVITATION_DELAY_DAYS"] + config[
        "INVITATION_TTL_DAYS"])
    invited = sa.select(Invitation.enrolment_id).where(
        Invitation.kind == InvitationKind.end_of_training)
    rows = db.session.execute(
        sa.select(Enrolment.id, Session.end_date)
        .join(Session, Session.id == Enrolment.session_id)
        .where(Session.end_date <= cutoff, Enrolment.id.not_in(invited))
        .order_by(Enrolment.id)).all()
    ttl = dt.timedelta(days=config["INVITATION_TTL_DAYS"])
    for enrolment_id, end_date in rows:
        sent = _instant(end_date + dt.timedelta(days=config["INVITATION_DELAY_DAYS"]))
        db.session.add(Invitation(
            enrolment_id=enrolment_id, kind=InvitationKind.end_of_training,
            status=InvitationStatus.expired, created_dt=sent, expires_dt=sent + ttl,
            first_sent_dt=sent, last_sent_dt=sent, status_dt=sent + ttl))
    db.session.flush()
    return len(rows)


def _answer(rng: random.Random, today: dt.date) -> int:
    invitations = db.session.scalars(
        sa.select(Invitation).where(Invitation.kind == InvitationKind.end_of_training,
                                    Invitation.status != InvitationStatus.answered)
        .order_by(Invitation.enrolment_id)).all()
    places = _places()
    rank = _body_ranks()
    count = 0
    per_body: dict[int, int] = {}
    for invitation in invitations:
        recent = invitation.status != InvitationStatus.expired
        if rng.random() >= (RECENT_ANSWER_RATE if recent else _past_rate(invitation, today)):
            continue
        session_id, action_id, course_id, body_id = places[invitation.enrolment_id]
        if rank[body_id] % QUIET_EVERY == 0 or (
                rank[body_id] % QUIET_EVERY == 1 and per_body.get(body_id, 0) >= FEW_ANSWERS):
            continue
        per_body[body_id] = per_body.get(body_id, 0) + 1
        # Each body has its own level, so that scores differ from one to the next.
        level = 3.2 + (rank[body_id] * 7919 % 17) / 10
        marks = [max(1, min(5, round(rng.gauss(level, 0.8)))) for _ in DIMENSIONS]
        overall = overall_mark(marks)
        answered = min(invitation.created_dt + dt.timedelta(days=rng.randint(0, 14)),
                       _instant(today))
        comment = _comment(rng, float(overall)) if rng.random() < 0.45 else None
        public = bool(comment) and rng.random() < 0.8
        status = _moderated(rng) if public else None
        answer = Answer(
            session_id=session_id, action_id=action_id, course_id=course_id,
            training_body_id=body_id, **dict(zip(DIMENSIONS, marks, strict=True)),
            overall=overall, would_recommend=overall >= 3,
            comment_title=comment[0] if comment else None,
            comment_text=comment[1] if comment else None,
            comment_public=public, comment_status=status, answered_on=answered.date(),
            **_decision(rng, status, float(overall), answered))
        db.session.add(answer)
        if answer.comment_status == CommentStatus.published and overall <= 3 and rng.random() < .6:
            db.session.flush()
            db.session.add(Reply(answer_id=answer.id, text=rng.choice(REPLIES),
                                 status=CommentStatus.published, created_dt=answered))
        db.session.add(AnswerReceipt(invitation_id=invitation.id, answered_dt=answered,
                                     accepts_contact=rng.random() < 0.33))
        invitation.status = InvitationStatus.answered
        invitation.status_dt = invitation.answered_dt = answered
        invitation.clicked_dt = answered
        count += 1
    db.session.flush()
    return count


def _past_rate(invitation: Invitation, today: dt.date) -> float:
    """The share of past invitations answered, rising over the last year (reminders got
    better): the dashboard's trend has something to show. About ``ANSWER_RATE`` on
    average over the year; a year ago and before, less than half of it."""
    age = (today - invitation.created_dt.date()).days
    return ANSWER_RATE * (0.45 + 1.25 * (1 - min(max(age, 0), 365) / 365))


def _follow_ups(rng: random.Random, today: dt.date) -> int:
    config = current_app.config
    cutoff = add_months(today, -config["FOLLOWUP_MONTHS"])
    places = _places()
    rows = db.session.execute(
        sa.select(Enrolment.id, Session.end_date)
        .join(Session, Session.id == Enrolment.session_id)
        .where(Session.end_date <= cutoff - dt.timedelta(days=config["INVITATION_TTL_DAYS"]))
        .order_by(Enrolment.id)).all()
    count = 0
    for enrolment_id, end_date in rows:
        if rng.random() >= FOLLOW_UP_RATE:
            continue
        sent = _instant(add_months(end_date, config["FOLLOWUP_MONTHS"]))
        answered = sent + dt.timedelta(days=rng.randint(0, 10))
        invitation = Invitation(
            enrolment_id=enrolment_id, kind=InvitationKind.follow_up,
            status=InvitationStatus.answered, created_dt=sent,
            expires_dt=sent + dt.timedelta(days=config["INVITATION_TTL_DAYS"]),
            first_sent_dt=sent, last_sent_dt=sent, clicked_dt=answered,
            answered_dt=answered, status_dt=answered)
        db.session.add(invitation)
        db.session.flush()
        situation = rng.choices(list(Situation), weights=[55, 15, 25, 5])[0]
        employed = situation == Situation.employed
        session_id, action_id, course_id, body_id = places[enrolment_id]
        db.session.add(FollowUpAnswer(
            session_id=session_id, action_id=action_id, course_id=course_id,
            training_body_id=body_id, situation=situation,
            contract_type=rng.choices(list(ContractType), weights=[30, 30, 15, 15, 5, 5])[0]
            if employed else None,
            job_related=rng.choices(list(JobRelation), weights=[65, 20, 15])[0]
            if employed else None,
            time_to_job=rng.choice(list(TimeToJob)) if employed else None,
            answered_on=answered.date()))
        db.session.add(AnswerReceipt(invitation_id=invitation.id, answered_dt=answered))
        count += 1
    db.session.flush()
    return count


def _moderated(rng: random.Random) -> CommentStatus:
    """What moderation would have made of a comment: most published, some rejected, and
    a queue of a few dozen still waiting for the demo moderator."""
    return rng.choices(list(CommentStatus), weights=[18, 75, 7])[0]


def _decision(rng: random.Random, status: CommentStatus | None, overall: float,
              answered: dt.datetime) -> dict[str, object]:
    """The tone or reason a moderator would have given, a day or two after the answer."""
    if status not in (CommentStatus.published, CommentStatus.rejected):
        return {}
    decided = {"moderated_dt": answered + dt.timedelta(hours=rng.randint(4, 60))}
    if status == CommentStatus.rejected:
        return {**decided, "rejection_reason": rng.choice(
            [RejectionReason.off_topic, RejectionReason.personal_data, RejectionReason.insult])}
    tone = Qualification.positive if overall >= 4 else (
        Qualification.negative if overall < 3 else Qualification.neutral)
    return {**decided, "qualification": tone}


def _places() -> dict[int, tuple[int, int, int, int]]:
    rows = db.session.execute(
        sa.select(Enrolment.id, Session.id, Action.id, Action.course_id,
                  Action.training_body_id)
        .join(Session, Session.id == Enrolment.session_id)
        .join(Action, Action.id == Session.action_id)).all()
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def _body_ranks() -> dict[int, int]:
    """Each body's place in the import (1, 2, …): what picks the quiet bodies and each
    body's level. Not the id itself: PostgreSQL's sequences go on after a database is
    emptied, and the same seed must give the same demo on every database."""
    ids = db.session.scalars(sa.select(TrainingBody.id).order_by(TrainingBody.id))
    return {body_id: index for index, body_id in enumerate(ids, start=1)}


def _comment(rng: random.Random, overall: float) -> tuple[str | None, str]:
    close = [c for c in COMMENTS if abs(c[2] - overall) <= 1] or COMMENTS
    title, text, _mood = rng.choice(close)
    return title, text


def _instant(day: dt.date) -> dt.datetime:
    """Ten in the morning, Paris time, on ``day``."""
    return dt.datetime.combine(day, dt.time(10), tzinfo=clock.PARIS).astimezone(dt.UTC)
