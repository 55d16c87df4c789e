"""The one clock avis reads.

Jobs decide what is due from ``now()``; ``avis jobs run-due --now`` and tests
move it with ``frozen_at``. Code never calls ``datetime.now()`` itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_frozen: ContextVar[dt.datetime | None] = ContextVar("avis_clock_frozen", default=None)


def now() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    frozen = _frozen.get()
    return frozen if frozen is not None else dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in France, where sessions start and end."""
    return now().astimezone(PARIS).date()


@contextmanager
def frozen_at(moment: dt.datetime) -> Iterator[dt.datetime]:
    """Make ``now()`` answer ``moment`` (converted to UTC) inside the block."""
    if moment.tzinfo is None:
        raise ValueError("frozen_at needs a timezone-aware datetime")
    token = _frozen.set(moment.astimezone(dt.UTC))
    try:
        yield moment
    finally:
        _frozen.reset(token)


def parse_instant(text: str) -> dt.datetime:
    """Parse an ISO-8601 instant; a value without offset is read as UTC."""
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _paris() -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Paris")


PARIS = _paris()
