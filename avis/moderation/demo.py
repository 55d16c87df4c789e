"""A realistic moderation queue for the demo: among the comments waiting, a few the
pre-screening flags; replies of training bodies awaiting; two reports on reviews.
Everything goes through the operations the back office uses (with their history and
audit events)."""

from __future__ import annotations

import sqlalchemy as sa

from avis.accounts.models import Account, Role
from avis.accounts.scope import Scope
from avis.db import db
from avis.moderation import replies, reports
from avis.moderation.models import ReportReason
from avis.surveys.models.answers import Answer, CommentStatus, Reply

#: Waiting comments the pre-screening should flag — written for avis (the names, number,
#: address and site are made up).
FLAGGED = [
    ("Formatrice au top", "Mme Lebreton explique très bien, n’hésitez pas à l’appeler au "
     "06 71 42 18 93 pour avoir des infos avant de vous inscrire."),
    ("Contact pour les stages", "Pour trouver un stage écrivez à jules.marchand@exemple.fr, "
     "il connaît toutes les entreprises du coin."),
    (None, "Tout est expliqué sur https://forum-stagiaires.exemple.net où on partage nos "
     "cours, allez-y."),
    ("INADMISSIBLE", "LE FORMATEUR NE VENAIT PAS LA MOITIÉ DU TEMPS ET PERSONNE NE NOUS "
     "PRÉVENAIT."),
    ("Locaux", "Les cours ont lieu au 12 rue des Tanneurs, bâtiment B, c’est mal indiqué."),
]

#: Replies awaiting, from the demo's training-body accounts — written for avis.
WAITING_REPLIES = [
    "Merci pour ce retour précis : les horaires des ateliers ont été revus avec le groupe "
    "suivant.",
    "Nous sommes désolés pour les changements de planning. Un calendrier fixe est remis "
    "désormais le premier jour.",
    "Merci ! Nous transmettons vos encouragements à l’équipe pédagogique.",
]

#: The two reports — written for avis.
REPORTS = [
    (ReportReason.false_facts, "Le matériel a été entièrement renouvelé avant cette "
     "session : l’avis décrit la situation de l’an dernier."),
    (ReportReason.wrong_body, "Cet avis parle d’une autre formation que la nôtre (nous "
     "n’avons pas d’atelier de soudure)."),
]


def add_demo_moderation(region_code: str) -> dict[str, int]:
    """Flag a few waiting comments of the région, have its training-body demo accounts
    reply to and report some reviews. The caller commits (then the ``screen_comments``
    job, or a direct call of it, flags what waits)."""
    waiting = db.session.scalars(sa.select(Answer).where(
        Answer.comment_status == CommentStatus.pending,
        Scope(Role.moderator, 0, region_code=region_code).where(Answer))
        .order_by(Answer.id).limit(len(FLAGGED))).all()
    for answer, (title, text) in zip(waiting, FLAGGED, strict=False):
        answer.comment_title, answer.comment_text = title, text
    bodies = db.session.scalars(sa.select(Account).where(
        Account.role == Role.organisation).order_by(Account.id)).all()
    written = reported = 0
    for account in bodies:
        published = db.session.scalars(
            sa.select(Answer.id).where(
                Answer.comment_status == CommentStatus.published,
                Scope.of(account).where(Answer),
                Answer.id.not_in(sa.select(Reply.answer_id)))
            .order_by(Answer.overall, Answer.id).limit(3)).all()
        for answer_id in published[:2 if written == 0 else 1]:
            if written < len(WAITING_REPLIES):
                replies.write(answer_id, WAITING_REPLIES[written], by=account)
                written += 1
        if published and reported < len(REPORTS):
            reason, text = REPORTS[reported]
            reports.report(published[-1], reason, text, by=account)
            reported += 1
    db.session.flush()
    return {"flagged": len(waiting), "replies": written, "reports": reported}
