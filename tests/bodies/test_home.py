"""The training body's home (``/admin/mon-organisme``): its establishments and no other,
small sessions never alone, its place among its peers, its trend."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pandas as pd
import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts.models import Role
from avis.bodies import figures
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.answers import Answer
from tests.bodies.home_data import BodyWorld, build_world

HOME = "/admin/mon-organisme"


@pytest.fixture
def body_world(app: Flask) -> BodyWorld:
    with app.app_context():
        return build_world()


def text_of(html: str) -> str:
    """The page's text, tags removed, spaces squeezed (as a reader would search it)."""
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def rows_of(html: str) -> list[list[str]]:
    """Every table row's cells, as text."""
    return [[text_of(cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row,
                                                          flags=re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S)]


def get(client, path: str):
    separator = "&" if "?" in path else "?"
    return client.get(f"{path}{separator}lang=en")


def test_a_siren_account_sees_each_of_its_establishments(body_world: BodyWorld, signed_in):
    client = signed_in(Role.organisation, siret=body_world.siren)
    page = get(client, HOME)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # The switcher offers both establishments, and the first one's figures are shown.
    assert f'value="{body_world.main_siret}"' in html
    assert f'value="{body_world.second_siret}"' in html
    assert "Atelier Bleuet Nantes</strong>" in html

    second = get(client, f"{HOME}?siret={body_world.second_siret}")
    assert second.status_code == 200
    assert "Atelier Bleuet Rennes</strong>" in second.get_data(as_text=True)

    for foreign in (body_world.foreign_siret, "99999999999999", "abc", "1" * 15):
        assert get(client, f"{HOME}?siret={foreign}").status_code == 404, foreign


def test_a_siret_account_sees_its_establishment_only(body_world: BodyWorld, signed_in):
    client = signed_in(Role.organisation, siret=body_world.main_siret)
    html = get(client, HOME).get_data(as_text=True)
    assert "Atelier Bleuet Nantes" in html
    assert "Atelier Bleuet Rennes" not in html
    assert 'name="siret"' not in html  # one establishment: no switcher
    assert get(client, f"{HOME}?siret={body_world.second_siret}").status_code == 404
    assert get(client, f"{HOME}?siret={body_world.main_siret}").status_code == 200


@pytest.mark.parametrize("role", [Role.admin, Role.region, Role.moderator])
def test_only_training_bodies_have_this_home(body_world: BodyWorld, signed_in, role):
    options = {"region": "52"} if role == Role.region else {}
    client = signed_in(role, **options)
    assert get(client, HOME).status_code == 403


def test_small_sessions_are_never_shown_alone(body_world: BodyWorld, signed_in):
    client = signed_in(Role.organisation, siret=body_world.siren)
    html = get(client, HOME).get_data(as_text=True)
    for numero in body_world.large_sessions:
        assert f"Session {numero}" in html
    for numero in body_world.small_sessions:
        assert numero not in html
    rows = {row[0]: row[1:] for row in rows_of(html) if row}
    # The two small sessions of the first course: one line of 2 + 3 answers, mean
    # (2 × 1.4 + 3 × 2.0) / 5.
    grouped = rows["2 other sessions, grouped"]
    assert grouped[:2] == ["5", "1.8"]
    # The second course has one session of 3 answers: no mark on any of its lines, and
    # the first course, beside it, is withheld (the total would give it away).
    painting = next(cells for name, cells in rows.items() if name.startswith("Peinture bleuet"))
    assert painting[0] == "3"
    assert painting[1] == "too few answers to show"
    assert "5.0" not in " ".join(painting)
    joinery = next(cells for name, cells in rows.items() if name.startswith("Menuiserie bleuet"))
    assert joinery[0] == "21"
    assert joinery[1].startswith("not shown")


def test_the_percentile_among_peers(app: Flask, body_world: BodyWorld, signed_in):
    with app.app_context():
        ids = dict(db.session.execute(sa.select(TrainingBody.siret, TrainingBody.id)).all())
        scores = pd.DataFrame(db.session.execute(
            sa.select(Score.key, Score.fair_score, Score.has_score, Score.is_public)
            .where(Score.scope == ScoreScope.body)).mappings().all())
    scores["key"] = scores["key"].astype(int)
    scores = scores.set_index("key")
    # The peers as the builder made them: the foreign body and six others teaching the
    # formacode in the région (not the network's other establishment, nor the body of
    # another région or another trade).
    peers = scores.loc[[ids[siret] for siret in body_world.peer_sirets]]
    peers = peers[peers.has_score & peers.is_public]
    own = scores.loc[ids[body_world.main_siret], "fair_score"]
    expected = (peers.fair_score < own).mean()
    assert len(peers) == 7
    assert 0 < expected < 1

    client = signed_in(Role.organisation, siret=body_world.siren)
    text = text_of(get(client, HOME).get_data(as_text=True))
    assert f"{expected * 100:.0f}% of the 7 other bodies with a rating" in text
    # Counted, never named.
    for name in body_world.foreign_names:
        assert name not in text


def test_no_comparison_with_too_few_peers(app: Flask, body_world: BodyWorld, signed_in):
    with app.app_context():
        # Five of the seven peers lose their score: two remain.
        ids = db.session.scalars(sa.select(TrainingBody.id).where(
            TrainingBody.siret.in_(body_world.peer_sirets[2:]))).all()
        db.session.execute(sa.update(Score).where(
            Score.scope == ScoreScope.body, Score.key.in_([str(i) for i in ids]))
            .values(has_score=False))
        db.session.commit()
    client = signed_in(Role.organisation, siret=body_world.siren)
    text = text_of(get(client, HOME).get_data(as_text=True))
    assert "2 other bodies with a rating teach the same formacodes in the région: too few" in text
    assert "have a lower fair score" not in text


def test_the_trend_counts_the_answers_that_count(app: Flask, body_world: BodyWorld):
    with app.app_context(), app.test_request_context():
        body = db.session.scalar(sa.select(TrainingBody)
                                 .where(TrainingBody.siret == body_world.main_siret))
        months = figures.trend(body)
        answers = pd.DataFrame(db.session.execute(
            sa.select(Answer.answered_on, Answer.overall, Answer.excluded_reason)
            .where(Answer.training_body_id == body.id)).mappings().all())
    assert len(months) == figures.TREND_MONTHS
    assert months[-1].month == clock.today().replace(day=1)
    counted = answers[answers.excluded_reason.isna()].copy()
    counted["month"] = counted.answered_on.map(lambda day: day.replace(day=1))
    per_month = counted.groupby("month").overall.agg(["count", "mean"])
    assert sum(m.answers for m in months) == len(counted) == 24
    for month in months:
        expected = per_month.loc[month.month] if month.month in per_month.index else None
        assert month.answers == (expected["count"] if expected is not None else 0)
        if month.answers >= 5:
            assert month.mean_overall == pytest.approx(float(expected["mean"]))
        else:
            assert month.mean_overall is None


def test_nothing_of_trainees_reaches_the_page(body_world: BodyWorld, signed_in):
    client = signed_in(Role.organisation, siret=body_world.siren)
    pages = [get(client, HOME), get(client, f"{HOME}?siret={body_world.second_siret}")]
    for page in pages:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        for secret in body_world.trainees:
            assert secret not in html
        assert "Prenomcache" not in html
        assert not re.search(r"/(?:q|unsubscribe)/[A-Za-z0-9_-]{20,}", html)


def test_an_account_without_establishment(app: Flask, signed_in):
    from tests.catalog.fixtures import make_siret

    client = signed_in(Role.organisation, siret=make_siret(55_555_555))
    page = get(client, HOME)
    assert page.status_code == 200
    assert "No establishment of yours is known yet" in page.get_data(as_text=True)


def test_months_before_the_window_are_left_out(app: Flask, body_world: BodyWorld):
    with app.app_context(), app.test_request_context():
        body = db.session.scalar(sa.select(TrainingBody)
                                 .where(TrainingBody.siret == body_world.main_siret))
        # Three months from the day after the last answers: none of them.
        later = clock.today() + dt.timedelta(days=120)
        assert sum(m.answers for m in figures.trend(body, later, months=3)) == 0
        assert sum(m.answers for m in figures.trend(body, later, months=24)) == 24
