"""What trainees answer. Anonymous by construction: an answer names the session it
is about, never the trainee; the link "this invitation has been answered" lives in
``AnswerReceipt``, which an erasure deletes while the answer stays."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base, string_enum

#: The five rated dimensions, in the order the form asks them (ANOTEA's names in API v1:
#: accueil, contenu_formation, equipe_formateurs, moyen_materiel, accompagnement).
DIMENSIONS = ("welcome", "content", "trainers", "equipment", "support")


#: The longest comment text (in characters) whose lowered copy is kept: 500 characters of
#: up to 4 bytes, with a title of 80, fit in an index entry uncompressed. Longer ones
#: (rare: the benchmark's are under 420) are read whole by the word search.
LOWERED_TEXT_MAX = 500


def _rating() -> Mapped[int]:
    return mapped_column(sa.SmallInteger)


class AboutSession:
    """What an answer is about: the session, and its action, course and training body
    copied at answer time (aggregation needs no join, and a later import moving a
    session to another action does not carry the reviews already given with it)."""

    #: the session the answer is about
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id"), index=True)
    #: the session's action, at answer time
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("actions.id"), index=True)
    # The course and the body are indexed by each table: the answers' comment indexes
    # begin with them, and a second index on the column alone cost every answer's
    # insert two more index writes for no query.
    #: the action's course, at answer time
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"))
    #: the body that delivered the course, at answer time
    training_body_id: Mapped[int] = mapped_column(sa.ForeignKey("training_bodies.id"))


class CommentStatus(enum.StrEnum):
    """Where a comment meant for publication stands (moderation is a later feature)."""

    #: awaiting moderation: its marks count, its text is not shown (unless the operator
    #: sets ``PUBLISH_COMMENTS_UNMODERATED``)
    pending = "pending"
    #: shown on the public pages
    published = "published"
    #: never shown; the marks still count
    rejected = "rejected"


class Qualification(enum.StrEnum):
    """What a moderator read in a published comment (for statistics, never shown)."""

    positive = "positive"
    neutral = "neutral"
    negative = "negative"


class RejectionReason(enum.StrEnum):
    """Why a comment or a reply is not (or no longer) shown."""

    #: insult or abuse
    insult = "insult"
    #: names, phone numbers, addresses…: redacting is the other way
    personal_data = "personal_data"
    #: not about this course
    off_topic = "off_topic"
    #: something the Region must know (harassment, danger): on the staff's alert list
    serious_alert = "serious_alert"


class ExclusionReason(enum.StrEnum):
    """Why an answer no longer counts in the scores (nor is listed anywhere)."""

    #: the trainee rated another body than this one
    wrong_body = "wrong_body"
    #: not a real trainee's answer
    fraud = "fraud"


class Answer(AboutSession, Base):
    """An end-of-training questionnaire, answered."""

    __tablename__ = "answers"
    # The place a trigger copies is read back when asked for, not from INSERT … RETURNING:
    # SQLite's RETURNING gives the row as it was before its AFTER INSERT trigger.
    __mapper_args__: ClassVar[dict[str, object]] = {"eager_defaults": False}
    __table_args__ = (
        *(sa.CheckConstraint(f"{name} BETWEEN 1 AND 5", name=f"{name}_range")
          for name in DIMENSIONS),
        # The comments of a body's or a course's page, newest first. A body's in the
        # page's whole order (day, id): a page is the first rows of the index even when
        # PostgreSQL plans the statement once for any body (no sort of all of them).
        sa.Index("ix_answers_body_comments", "training_body_id", "comment_status",
                 "answered_on", "id"),
        sa.Index("ix_answers_course_comments", "course_id", "comment_status", "answered_on"),
        # A body's reviews as API v1 lists them (answers not excluded), newest first: the
        # page is read in (day, id) order off the index; the count per session, and the
        # lowest and highest marks of the body's score, from the index alone.
        sa.Index("ix_answers_body_reviews", "training_body_id", "answered_on", "id",
                 "session_id", "overall",
                 postgresql_where=sa.text("excluded_reason IS NULL"),
                 sqlite_where=sa.text("excluded_reason IS NULL")),
        # Comments awaiting moderation, oldest first: a few among a million answers. The
        # id too: the queue's pages are read in (day, id) order straight off the index.
        sa.Index("ix_answers_pending_comments", "answered_on", "id",
                 postgresql_where=sa.text("comment_status = 'pending'"),
                 sqlite_where=sa.text("comment_status = 'pending'")),
        # The same within a région or a département: a région's queue and its count are
        # then a walk of its own entries, not a probe of every waiting comment's session.
        *(sa.Index(f"ix_answers_pending_by_{place}", place, "answered_on", "id",
                   postgresql_where=sa.text("comment_status = 'pending'"),
                   sqlite_where=sa.text("comment_status = 'pending'"))
          for place in ("region_code", "departement")),
        # Decided comments, latest first, everywhere and within a région or a département.
        sa.Index("ix_answers_decided_comments", "moderated_dt", "id",
                 postgresql_where=sa.text("comment_status <> 'pending'"),
                 sqlite_where=sa.text("comment_status <> 'pending'")),
        *(sa.Index(f"ix_answers_decided_by_{place}", place, "moderated_dt", "id",
                   postgresql_where=sa.text("comment_status <> 'pending'"),
                   sqlite_where=sa.text("comment_status <> 'pending'"))
          for place in ("region_code", "departement")),
        # Comments awaiting, in the queue's order, with their lowered copies: a word
        # search walks this index alone (an index-only scan), where it read each comment
        # and lowered it until a page of matches was found (11,500 comments without the
        # benchmark's word come first). PostgreSQL only: SQLite's copies are virtual.
        sa.Index("ix_answers_pending_words", "answered_on", "id",
                 postgresql_include=["comment_title_lower", "comment_text_lower"],
                 postgresql_where=sa.text("comment_status = 'pending'"))
        .ddl_if(dialect="postgresql"),
        # Words searched in comments (``ILIKE '%…%'``): trigrams, on PostgreSQL only.
        sa.Index("ix_answers_comment_words", "comment_title", "comment_text",
                 postgresql_using="gin",
                 postgresql_ops={"comment_title": "gin_trgm_ops",
                                 "comment_text": "gin_trgm_ops"},
                 postgresql_where=sa.text("comment_status IS NOT NULL"))
        .ddl_if(dialect="postgresql"),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: welcome and information before and at the start (accueil), 1–5
    welcome: Mapped[int] = _rating()
    #: content of the course (contenu de la formation), 1–5
    content: Mapped[int] = _rating()
    #: the trainers (équipe de formateurs), 1–5
    trainers: Mapped[int] = _rating()
    #: equipment and premises (moyens matériels), 1–5
    equipment: Mapped[int] = _rating()
    #: support during the course (accompagnement), 1–5
    support: Mapped[int] = _rating()
    #: mean of the five, unrounded: a fifth of a whole sum has one decimal, kept exactly
    overall: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(2, 1))
    #: whether the trainee would recommend the course
    would_recommend: Mapped[bool]
    #: title of the comment, plain text as typed
    comment_title: Mapped[str | None] = mapped_column(sa.String(80))
    #: the comment, plain text as typed (never interpreted as markup)
    comment_text: Mapped[str | None] = mapped_column(sa.Text)
    #: ``lower(comment_title)``, computed by the database (stored on PostgreSQL, virtual
    #: on SQLite) whoever writes the title: the queue's word search compares it with LIKE
    #: instead of lowering every title it walks. The database's own ``lower()``, as its
    #: ILIKE (and SQLAlchemy's emulation on SQLite) uses, so that both find the same.
    comment_title_lower: Mapped[str | None] = mapped_column(
        sa.Text, sa.Computed("lower(comment_title)"), deferred=True)
    #: ``lower(comment_text)`` the same way, but null for a text over
    #: ``LOWERED_TEXT_MAX`` characters: the copies go into a B-tree index, whose entries
    #: must stay under 2,704 bytes; such a text is read whole by the search
    comment_text_lower: Mapped[str | None] = mapped_column(
        sa.Text, sa.Computed(f"CASE WHEN length(comment_text) <= {LOWERED_TEXT_MAX} "
                             "THEN lower(comment_text) END"), deferred=True)
    #: the trainee agrees to the comment being shown publicly (after moderation)
    comment_public: Mapped[bool] = mapped_column(default=False)
    #: moderation of a comment meant for publication; None when there is nothing to
    #: publish (no comment, or the trainee keeps it private)
    comment_status: Mapped[CommentStatus | None] = mapped_column(
        string_enum(CommentStatus, 16))
    #: the day of the answer, in France: no time of day, so that timing cannot point
    #: to a person
    answered_on: Mapped[dt.date] = mapped_column(default=clock.today, index=True)
    #: the session's région, copied by the database (a trigger on insert, and on every
    #: change of the session's place) so that a région's answers need no join
    region_code: Mapped[str | None] = mapped_column(sa.String(2),
                                                    server_default=sa.FetchedValue())
    #: the session's département, copied the same way
    departement: Mapped[str | None] = mapped_column(sa.String(3),
                                                    server_default=sa.FetchedValue())
    #: a published comment's tone, as the moderator read it
    qualification: Mapped[Qualification | None] = mapped_column(string_enum(Qualification, 16))
    #: why the comment was rejected or withdrawn
    rejection_reason: Mapped[RejectionReason | None] = mapped_column(
        string_enum(RejectionReason, 16))
    #: when a moderator last decided on the comment (publish, reject, withdraw, undo)
    moderated_dt: Mapped[dt.datetime | None]
    #: who did. Not a foreign key: the decision outlives the account.
    moderated_by_id: Mapped[int | None]
    #: why the whole answer leaves the scores and every listing; None while it counts
    excluded_reason: Mapped[ExclusionReason | None] = mapped_column(
        string_enum(ExclusionReason, 16))
    #: when it was excluded or included again: the hourly score refresh looks for it
    exclusion_changed_dt: Mapped[dt.datetime | None] = mapped_column(index=True)
    #: pre-screening flags of the comment (``prescreen.Flag`` bits, a help for moderators,
    #: never a decision); None until screened
    flags: Mapped[int | None] = mapped_column(sa.SmallInteger)
    #: the moderator who took this comment in a batch (others see it taken)
    assigned_to_id: Mapped[int | None]
    #: until when the batch is theirs
    assigned_until: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<Answer {self.id} session={self.session_id} overall={self.overall}>"


class Reply(Base):
    """A training body's public answer to a review (written from its space, a later
    feature; moderated like comments)."""

    __tablename__ = "replies"
    __table_args__ = (
        sa.Index("ix_replies_pending", "created_dt",
                 postgresql_where=sa.text("status = 'pending'"),
                 sqlite_where=sa.text("status = 'pending'")),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the review answered; one reply each
    answer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("answers.id", ondelete="CASCADE"), unique=True)
    #: the reply, plain text as typed (up to 1,000 characters)
    text: Mapped[str] = mapped_column(sa.String(1000))
    #: moderation; shown only once published
    status: Mapped[CommentStatus] = mapped_column(string_enum(CommentStatus, 16),
                                                  default=CommentStatus.pending)
    #: when the body wrote it
    created_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when the body last changed it (a published reply edited waits for moderation again)
    updated_dt: Mapped[dt.datetime | None]
    #: the account that wrote it (not a foreign key: the reply outlives the account)
    author_id: Mapped[int | None]
    #: why the reply was rejected or withdrawn
    rejection_reason: Mapped[RejectionReason | None] = mapped_column(
        string_enum(RejectionReason, 16))
    #: when a moderator last decided on it
    moderated_dt: Mapped[dt.datetime | None]
    #: who did (not a foreign key: the decision outlives the account)
    moderated_by_id: Mapped[int | None]
    #: pre-screening flags (``prescreen.Flag`` bits); None until screened
    flags: Mapped[int | None] = mapped_column(sa.SmallInteger)


class Situation(enum.StrEnum):
    employed = "employed"
    training = "training"
    job_seeking = "job_seeking"
    other = "other"


class ContractType(enum.StrEnum):
    permanent = "permanent"  # CDI
    fixed_term = "fixed_term"  # CDD
    temporary = "temporary"  # intérim
    apprenticeship = "apprenticeship"  # alternance
    self_employed = "self_employed"  # indépendant, création d'entreprise
    other = "other"


class JobRelation(enum.StrEnum):
    yes = "yes"
    partly = "partly"
    no = "no"


class TimeToJob(enum.StrEnum):
    under_1_month = "under_1_month"
    one_to_3_months = "one_to_3_months"
    three_to_6_months = "three_to_6_months"
    before_end = "before_end"  # found during the course


class FollowUpAnswer(AboutSession, Base):
    """A 6-month follow-up questionnaire, answered: what the trainee became."""

    __tablename__ = "follow_up_answers"
    __table_args__ = (
        sa.Index("ix_follow_up_answers_course_id", "course_id"),
        sa.Index("ix_follow_up_answers_training_body_id", "training_body_id"),
    )

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: in work, in training, looking for work, other
    situation: Mapped[Situation] = mapped_column(string_enum(Situation, 16))
    #: when in work: the contract
    contract_type: Mapped[ContractType | None] = mapped_column(string_enum(ContractType, 16))
    #: when in work: whether the job relates to the course
    job_related: Mapped[JobRelation | None] = mapped_column(string_enum(JobRelation, 8))
    #: when in work: how long finding it took after the course
    time_to_job: Mapped[TimeToJob | None] = mapped_column(string_enum(TimeToJob, 20))
    #: optional comment, plain text as typed; never published
    comment_text: Mapped[str | None] = mapped_column(sa.Text)
    #: the day of the answer, in France
    answered_on: Mapped[dt.date] = mapped_column(default=clock.today, index=True)


class AnswerReceipt(Base):
    """"This invitation has been answered": the only link between a trainee and their
    answer's existence (not its content). Its primary key is what makes a second answer
    to the same invitation impossible, even from 50 simultaneous submissions."""

    __tablename__ = "answer_receipts"

    #: the invitation answered; one receipt each
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), primary_key=True)
    #: when
    answered_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: the trainee agrees to be contacted by prospective trainees about the course (it
    #: concerns the person, so it lives here and goes with an erasure)
    accepts_contact: Mapped[bool] = mapped_column(default=False)
