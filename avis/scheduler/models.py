from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from avis import clock
from avis.db import Base


class JobRun(Base):
    """One run of a periodic job for one tick. The unique (job, tick) pair is what keeps
    two schedulers firing the same tick from doing the work twice."""

    __tablename__ = "job_runs"
    __table_args__ = (sa.UniqueConstraint("job", "tick_dt"),)

    #: surrogate key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the job's id in ``avis.scheduler.jobs.JOBS``
    job: Mapped[str] = mapped_column(sa.String(64))
    #: the scheduled instant this run stands for (the job's period start)
    tick_dt: Mapped[dt.datetime]
    #: when the run started
    started_dt: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: when it ended; empty while running (or if its process died)
    finished_dt: Mapped[dt.datetime | None]
    #: running, done or failed
    outcome: Mapped[str] = mapped_column(sa.String(16), default="running")
    #: what the job did, e.g. {"created": 120}; or the error's type when it failed
    summary: Mapped[dict[str, object]] = mapped_column(sa.JSON, default=dict)
    #: host:pid of the process that ran it
    runner: Mapped[str] = mapped_column(sa.String(200))
