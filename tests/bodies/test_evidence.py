"""The Qualiopi evidence: the printable page and its XLSX give the same figures, computed
as an independent count of the answers gives them, with the small-group rule."""

from __future__ import annotations

import io
import re
from html import unescape

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from flask import Flask

from avis.accounts.models import Role
from avis.bodies import figures
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.spreadsheets import XLSX_TYPE
from avis.surveys.models.answers import Answer
from tests.bodies.home_data import BodyWorld, build_world
from tests.bodies.test_home import get, rows_of, text_of

PAGE = "/admin/mon-organisme/qualiopi"
WORKBOOK = "/admin/mon-organisme/qualiopi.xlsx"


@pytest.fixture
def body_world(app: Flask) -> BodyWorld:
    with app.app_context():
        return build_world()


def workbook_rows(response) -> list[list[object]]:
    assert response.status_code == 200
    assert response.content_type == XLSX_TYPE
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def test_the_workbook_holds_the_page_figures(body_world: BodyWorld, signed_in):
    client = signed_in(Role.organisation, siret=body_world.siren)
    html = get(client, PAGE).get_data(as_text=True)
    header, *rows = workbook_rows(get(client, WORKBOOK))
    assert header[:4] == ["Period", "Course", "Course number", "Answers"]
    # The page's table lines, in order (the first row of each table is its header).
    page_rows = [row for row in rows_of(html) if row and row[0] != "Course"]
    assert len(page_rows) == len(rows) > 0
    for cells, row in zip(page_rows, rows, strict=True):
        (_period, course, numero, answers, satisfied, mean, recommend, _delivered,
         response_rate, follow_ups, insertion, _as_of) = row
        assert cells[0].startswith(course if numero == "" else f"{course} ({numero})")
        assert cells[1] == str(answers)
        if satisfied is None:
            # Too few answers (or withheld): the page shows none of the marks either.
            assert [mean, recommend, insertion] == [None, None, None]
            assert cells[2].startswith(("too few answers", "not shown"))
            continue
        assert cells[2:6] == [share(satisfied), f"{mean:.1f}", share(recommend),
                              share(response_rate)]
        assert cells[6].startswith(share(insertion))
        if follow_ups:
            assert cells[6].endswith(f"({follow_ups})")


def test_the_figures_are_those_of_the_answers(app: Flask, body_world: BodyWorld, signed_in):
    """Satisfaction per period, recounted from the answers with pandas."""
    with app.app_context():
        body_id = db.session.scalar(sa.select(TrainingBody.id)
                                    .where(TrainingBody.siret == body_world.main_siret))
        answers = pd.DataFrame(db.session.execute(
            sa.select(Answer.overall, Answer.would_recommend, Answer.excluded_reason,
                      Session.end_date)
            .join(Session, Session.id == Answer.session_id)
            .where(Answer.training_body_id == body_id)).mappings().all())
    with app.test_request_context():
        periods = figures.periods()
    answers = answers[answers.excluded_reason.isna()]
    answers["overall"] = answers.overall.astype(float)
    client = signed_in(Role.organisation, siret=body_world.main_siret)
    _header, *rows = workbook_rows(get(client, WORKBOOK))
    totals = [row for row in rows if row[1] == "All courses"]
    assert len(totals) == len(periods)
    for period, row in zip(periods, totals, strict=True):
        within = answers[(answers.end_date >= period.first) & (answers.end_date <= period.last)]
        assert row[3] == len(within)
        if len(within) >= 5:
            assert row[4] == pytest.approx(round((within.overall >= 4).mean(), 4))
            assert row[5] == pytest.approx(round(within.overall.mean(), 2))
            assert row[6] == pytest.approx(round(within.would_recommend.mean(), 4))
        else:
            assert row[4] is None
    # The last 12 months hold the recent sessions: 8 + 2 + 3 answers, and 3 of the other
    # course; the excluded answer is in none.
    assert totals[0][3] == 16


def test_small_groups_on_the_evidence(body_world: BodyWorld, signed_in):
    client = signed_in(Role.organisation, siret=body_world.siren)
    html = get(client, PAGE).get_data(as_text=True)
    _header, *rows = workbook_rows(get(client, WORKBOOK))
    for row in rows:
        if row[3] < 5:
            assert row[4:7] == [None, None, None], row
    for numero in body_world.small_sessions + body_world.large_sessions:
        assert numero not in html  # the evidence is per course, never per session
    painting = [row for row in rows if row[1] == "Peinture bleuet"]
    assert painting
    assert all(row[4] is None for row in painting)


def test_the_page_states_its_method_and_gives_the_widget(body_world: BodyWorld, signed_in):
    client = signed_in(Role.organisation, siret=body_world.siren)
    html = get(client, f"{PAGE}?siret={body_world.second_siret}").get_data(as_text=True)
    text = text_of(html)
    assert "Atelier Bleuet Rennes" in text
    for words in ("Method", "Response rate: answers divided by the questionnaires delivered",
                  "90% interval", "Figures of ", "Sessions ended in the last 12 months"):
        assert words in text, words
    snippet = unescape(re.search(r"<textarea[^>]*readonly[^>]*>(.*?)</textarea>", html,
                                 flags=re.S).group(1))
    assert f'data-identifiant="{body_world.second_siret}"' in snippet
    assert 'data-type="organisme"' in snippet
    assert re.search(r'<script src="https?://[^"]+/widget\.js"></script>', snippet)
    assert 'href="/static/bodies.css"' in html


def test_the_evidence_is_scoped(body_world: BodyWorld, signed_in):
    client = signed_in(Role.organisation, siret=body_world.main_siret)
    for path in (PAGE, WORKBOOK):
        assert get(client, f"{path}?siret={body_world.second_siret}").status_code == 404
        assert get(client, f"{path}?siret={body_world.foreign_siret}").status_code == 404
        assert get(client, path).status_code == 200
    other = signed_in(Role.region, region="52")
    assert get(other, PAGE).status_code == 403
    assert get(other, WORKBOOK).status_code == 403


def test_nothing_of_trainees_or_others_in_the_evidence(body_world: BodyWorld, signed_in):
    client = signed_in(Role.organisation, siret=body_world.siren)
    page = get(client, PAGE).get_data(as_text=True)
    cells = " ".join(str(c) for row in workbook_rows(get(client, WORKBOOK)) for c in row)
    for content in (page, cells):
        for secret in [*body_world.trainees, *body_world.foreign_names, "Prenomcache"]:
            assert secret not in content
