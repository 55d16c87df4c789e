"""Which reviews each body account has read, and when it last looked at its reviews.

Per account, not per body: a SIREN account and one of its establishments' accounts see
different reviews, and colleagues each keep track of what they themselves have read
(one reading a review does not make it read for the one who will reply to it).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base


class ReviewRead(Base):
    """An account has marked a review as read."""

    __tablename__ = "review_reads"

    #: the body's account
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    #: the review (the answer) it read
    answer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True, index=True)
    #: when it marked it
    read_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)


class ReviewVisit(Base):
    """An account's visits of its reviews' list: what is "new since the last visit"."""

    __tablename__ = "review_visits"

    #: the body's account
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    #: the last time it opened the list (a visit goes on while it keeps opening it)
    seen_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: the end of its previous visit: reviews shown since are new; None on the first
    #: visit (everything is new)
    since_dt: Mapped[dt.datetime | None]
