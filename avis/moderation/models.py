"""The history of moderation: every decision on a comment, with the text it replaced."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base, string_enum


class Decision(enum.StrEnum):
    #: shown on the public pages, API, widget and open data
    publish = "publish"
    #: never shown (marks still count)
    reject = "reject"
    #: the public title or text edited by the moderator (the trainee's kept here)
    redact = "redact"
    #: a published comment taken off again
    withdraw = "withdraw"
    #: the last decision of the day taken back: the comment waits again
    undo = "undo"
    #: the whole answer leaves the scores and every listing
    exclude = "exclude"
    #: an excluded answer counts again
    include = "include"


class ModerationEvent(Base):
    """One decision on an answer's comment. Only moderators and admins read these: a
    redaction keeps here the words that were taken off the public text."""

    __tablename__ = "moderation_events"

    #: surrogate key (also the order of decisions)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the answer decided on
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answers.id", ondelete="CASCADE"),
                                           index=True)
    #: what was decided
    decision: Mapped[Decision] = mapped_column(string_enum(Decision, 16))
    #: positive, neutral or negative (publish)
    qualification: Mapped[str | None] = mapped_column(sa.String(16))
    #: the reason code (reject, withdraw, exclude)
    reason: Mapped[str | None] = mapped_column(sa.String(16))
    #: the comment status before the decision
    previous_status: Mapped[str | None] = mapped_column(sa.String(16))
    #: redact: the title before the edit (None when there was none)
    previous_title: Mapped[str | None] = mapped_column(sa.String(80))
    #: redact: the text before the edit
    previous_text: Mapped[str | None] = mapped_column(sa.Text)
    #: the moderator (not a foreign key: the history outlives accounts)
    actor_id: Mapped[int | None]
    #: when
    occurred_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
