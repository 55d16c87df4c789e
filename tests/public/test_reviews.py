"""Published comments against pandas on the raw rows: which are shown, in which order,
with which public date (the month, never the day)."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
import sqlalchemy as sa
from flask import Flask

from avis.db import db
from avis.public.reviews import PAGE_SIZE, comments, public_month, review_window_start
from avis.surveys.models.answers import Answer, CommentStatus
from tests.public.fixtures import ANGERS, NANTES, add_answer, add_body, add_offer, publish


def test_public_month() -> None:
    assert public_month(dt.date(2026, 2, 28)) == dt.date(2026, 2, 1)
    assert public_month(dt.date(2024, 12, 31)) == dt.date(2024, 12, 1)
    assert public_month(dt.date(2025, 1, 1)) == dt.date(2025, 1, 1)


@pytest.mark.parametrize("unmoderated", [False, True])
def test_shown_comments_match_pandas(app: Flask, app_context: None, unmoderated: bool) -> None:
    app.config["PUBLISH_COMMENTS_UNMODERATED"] = unmoderated
    rng = random.Random(42)
    bodies = [add_body(f"Organisme {n}") for n in range(3)]
    # One offer of each body is a small session: its comments are never shown.
    offers = [add_offer(body, f"Formation {n}", rng.choice([NANTES, ANGERS]),
                        enrolled=[6, 3][k])
              for n, body in enumerate(bodies) for k in range(2)]
    start = dt.date(2024, 11, 1)
    for n in range(150):
        has_comment = rng.random() < 0.8
        add_answer(rng.choice(offers), (3, 4, 4, 5, 2),
                   day=start + dt.timedelta(days=rng.randrange(730)),
                   comment=(f"T{n}", f"Texte {n}") if has_comment else None,
                   public=rng.random() < 0.75,
                   status=rng.choice(list(CommentStatus)))
    publish()

    result = db.session.execute(sa.select(Answer.__table__))
    raw = pd.DataFrame(result.all(), columns=list(result.keys()))
    statuses = {"published", "pending"} if unmoderated else {"published"}
    enrolled = pd.read_sql_query(
        sa.text("SELECT session_id, count(*) AS n FROM enrolments GROUP BY session_id"),
        db.session.connection())
    large = set(enrolled.loc[enrolled["n"] >= app.config["MIN_SESSION_SIZE"], "session_id"])
    shown = raw[raw["comment_public"] & raw["comment_text"].notna()
                & raw["comment_status"].isin(statuses) & raw["session_id"].isin(large)
                & (pd.to_datetime(raw["answered_on"]).dt.date >= review_window_start())].copy()
    shown["month"] = pd.to_datetime(shown["answered_on"]).dt.to_period("M").dt.start_time.dt.date

    for body in bodies:
        mine = shown[shown["training_body_id"] == body.id].sort_values(
            ["answered_on", "id"], ascending=False)
        expected = list(zip(mine["comment_text"], mine["month"], strict=True))
        got = []
        page = 1
        while True:
            found = comments(Answer.training_body_id == body.id, page)
            assert found.total == len(mine)
            if not found.items:
                break
            assert len(found.items) <= PAGE_SIZE
            got += [(c.text, c.month) for c in found.items]
            page += 1
        assert got == expected
        assert all(month.day == 1 for _text, month in got)
    assert len(shown) > 10  # the draw exercised the filter
    assert raw["session_id"].isin(large).sum() < len(raw)  # and the small sessions
    assert len(shown) < (raw["comment_text"].notna()).sum()
