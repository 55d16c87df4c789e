"""Scores: every number checked against pandas computing the same thing from raw rows."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import random
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from avis import clock
from avis.catalog.models.courses import Action
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment
from avis.db import db
from avis.scheduler.jobs import BY_ID
from avis.scores import aggregate
from avis.scores.aggregate import (
    PRIOR_WEIGHT,
    recompute_all,
    refresh,
    regional_statistics,
    stored_priors,
)
from avis.scores.models import Score, ScorePrior, ScoreScope
from avis.surveys.models.answers import DIMENSIONS, Answer, FollowUpAnswer, Situation
from avis.surveys.models.invitations import Invitation, InvitationStatus
from tests.surveys.fixtures import create_invitation, create_session, enrol

S = InvitationStatus
KEY_COLUMNS = {"body": "training_body_id", "course": "course_id", "action": "action_id",
               "session": "session_id", "departement": "departement", "region": "region_code"}
DERIVED = ("id", "computed_dt", "last_answer_id", "last_follow_up_id")


def place(session: Session, departement: str, region: str) -> Session:
    session.departement, session.region_code = departement, region
    db.session.flush()
    return session


def sibling(session: Session, departement: str, region: str) -> Session:
    """Another session of the same action, elsewhere."""
    other = Session(action_id=session.action_id, external_id=f"{session.external_id}-b",
                    numero="2", start_date=session.start_date, end_date=session.end_date,
                    postcode="35000", city="Rennes", departement=departement,
                    region_code=region, funders=[2])
    db.session.add(other)
    db.session.flush()
    return other


def answer(session: Session, rng: random.Random, *, marks: tuple[int, ...] | None = None,
           day: dt.date | None = None) -> Answer:
    action = db.session.get(Action, session.action_id)
    assert action is not None
    marks = marks or tuple(rng.choice([1, 2, 3, 3, 4, 4, 4, 5, 5, 5]) for _ in DIMENSIONS)
    row = Answer(session_id=session.id, action_id=action.id, course_id=action.course_id,
                 training_body_id=action.training_body_id,
                 **dict(zip(DIMENSIONS, marks, strict=True)),
                 overall=decimal.Decimal(sum(marks)) / 5, would_recommend=rng.random() < 0.7,
                 answered_on=day or clock.today())
    db.session.add(row)
    return row


def follow_up(session: Session, situation: Situation) -> None:
    action = db.session.get(Action, session.action_id)
    assert action is not None
    db.session.add(FollowUpAnswer(session_id=session.id, action_id=action.id,
                                  course_id=action.course_id,
                                  training_body_id=action.training_body_id,
                                  situation=situation))


def invite(session: Session, statuses: list[InvitationStatus]) -> list[Invitation]:
    return [create_invitation(enrol(session), status=status)[0] for status in statuses]


@pytest.fixture
def world(app_context: None) -> dict[str, Session]:
    """Four bodies: A large (60 answers, two regions), B small (2 answers, 3 trainees),
    C at the threshold (3 answers), D with follow-ups in another region."""
    rng = random.Random(20261126)
    end = clock.today() - dt.timedelta(days=10)
    a1 = place(create_session(end), "44", "52")
    a2 = sibling(a1, "35", "53")
    b1 = place(create_session(end), "85", "52")
    c1 = place(create_session(end), "44", "52")
    d1 = place(create_session(end), "35", "53")
    for _ in range(40):
        answer(a1, rng)
    for _ in range(20):
        answer(a2, rng)
    answer(b1, rng, marks=(5, 5, 5, 5, 5))
    answer(b1, rng, marks=(5, 4, 5, 5, 4))
    for _ in range(3):
        answer(c1, rng)
    for _ in range(10):
        answer(d1, rng)
    invite(a1, [S.sent, S.delivered, S.opened, S.answered, S.bounced, S.failed, S.pending,
                S.complained, S.unsubscribed, S.expired] * 5)
    invite(a2, [S.answered] * 15 + [S.bounced] * 5)
    invite(b1, [S.answered, S.answered, S.pending])  # three trainees: not public
    invite(c1, [S.answered] * 3 + [S.sent] * 2)  # five trainees: public
    for situation in [Situation.employed] * 3 + [Situation.training, Situation.job_seeking]:
        follow_up(d1, situation)
    follow_up(a1, Situation.employed)
    follow_up(a1, Situation.other)
    db.session.commit()
    return {"a1": a1, "a2": a2, "b1": b1, "c1": c1, "d1": d1}


# --- the expected numbers, from raw rows, with pandas ---------------------------------

def _frame(query: Any) -> pd.DataFrame:
    result = db.session.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def raw_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    catalogue = (sa.select(Session.id.label("session_id"), Session.departement,
                           Session.region_code, Action.id.label("action_id"),
                           Action.course_id, Action.training_body_id)
                 .join(Action, Action.id == Session.action_id))
    sessions = _frame(catalogue)
    # The place from the sessions (the answers' own copy is what the scores must not
    # need to be right).
    answers = _frame(sa.select(Answer.__table__)).drop(columns=["region_code", "departement"])
    answers = answers.merge(sessions[["session_id", "departement", "region_code"]],
                            on="session_id")
    answers["overall"] = answers["overall"].astype(float)
    follow_ups = _frame(sa.select(FollowUpAnswer.__table__)).merge(
        sessions[["session_id", "departement", "region_code"]], on="session_id")
    invitations = _frame(sa.text(
        "SELECT i.status, i.first_sent_dt IS NOT NULL AS sent, i.kind, e.session_id "
        "FROM invitations i JOIN enrolments e ON e.id = i.enrolment_id"))
    invitations = invitations.merge(sessions, on="session_id")
    enrolled = _frame(sa.text("SELECT session_id, count(*) AS n FROM enrolments "
                              "GROUP BY session_id")).merge(sessions, on="session_id")
    return answers, follow_ups, invitations, enrolled


Priors = tuple[dict[str, float], float]


def pandas_priors() -> Priors:
    """The mean ``overall`` of each region and the pooled within-region variance, from
    the answers as they are now."""
    answers = raw_frames()[0]
    squares = answers.groupby("region_code")["overall"].apply(
        lambda s: ((s - s.mean()) ** 2).sum()).sum()
    return (answers.groupby("region_code")["overall"].mean().to_dict(),
            squares / (len(answers) - answers["region_code"].nunique()))


def expected(scope: str, min_reviews: int = 3, min_session: int = 5,
             priors: Priors | None = None) -> dict[str, dict]:
    """Every row of ``scope``; the fair numbers with ``priors`` (those of the answers as
    they are now by default)."""
    region_means, pooled = priors or pandas_priors()
    answers, follow_ups, invitations, enrolled = raw_frames()
    column = KEY_COLUMNS[scope]
    out: dict[str, dict] = {}

    def row(key: Any) -> dict:
        return out.setdefault(str(key), {"answers_count": 0, "invitations_delivered": 0,
                                         "follow_ups_count": 0, "insertion_rate": None,
                                         "response_rate": None, "fair_score": None})

    for key, group in answers.groupby(column):
        r = row(key)
        n = len(group)
        r["answers_count"] = n
        for d in DIMENSIONS:
            r[f"mean_{d}"] = group[d].mean()
            counts = group[d].value_counts()
            r[f"distribution_{d}"] = {str(m): int(counts.get(m, 0)) for m in range(1, 6)}
        r["mean_overall"] = group["overall"].mean()
        r["satisfied_share"] = (group["overall"] >= 4).mean()
        r["recommendation_rate"] = group["would_recommend"].mean()
        by_region = group.groupby("region_code").size().reset_index(name="n")
        region = by_region.sort_values(["n", "region_code"], ascending=[False, True]).iloc[0]
        r["prior_region_code"] = region["region_code"]
        if region["region_code"] not in region_means:  # no answers at the last full run
            r.update(prior_mean=None, fair_score=None, fair_score_low=None,
                     fair_score_high=None)
            continue
        prior = region_means[region["region_code"]]
        fair = (PRIOR_WEIGHT * prior + group["overall"].sum()) / (PRIOR_WEIGHT + n)
        sd = math.sqrt(pooled / (PRIOR_WEIGHT + n))
        r.update(prior_mean=prior, fair_score=fair,
                 fair_score_low=max(1.0, fair - 1.645 * sd),
                 fair_score_high=min(5.0, fair + 1.645 * sd))
    invitations = invitations[invitations["kind"] == "end_of_training"]
    delivered = invitations[(invitations["status"] == "answered")
                            | (invitations["sent"].astype(bool)
                               & ~invitations["status"].isin(["bounced", "failed"]))]
    for key, n in delivered.groupby(column).size().items():
        row(key)["invitations_delivered"] = int(n)
    for key, group in follow_ups.groupby(column):
        r = row(key)
        r["follow_ups_count"] = len(group)
        r["insertion_rate"] = (group["situation"] == "employed").mean()
    # Trainees enrolled per key, through the catalogue as it is today.
    sizes = {str(k): int(n) for k, n in enrolled.groupby(column)["n"].sum().items()}
    for key, r in out.items():
        if r["invitations_delivered"]:
            r["response_rate"] = r["answers_count"] / r["invitations_delivered"]
        r["has_score"] = r["answers_count"] >= min_reviews
        r["is_public"] = (scope in ("departement", "region")
                          or sizes.get(key, 0) >= min_session)
    return out


def snapshot() -> dict[tuple[str, str], dict[str, Any]]:
    rows = db.session.scalars(sa.select(Score)).all()
    return {(r.scope.value, r.key): {c.key: getattr(r, c.key) for c in sa.inspect(Score).columns
                                     if c.key not in DERIVED} for r in rows}


def assert_matches(actual: dict[str, Any], wanted: dict[str, Any], where: Any) -> None:
    for name, value in wanted.items():
        got = actual[name]
        if isinstance(value, float) and not isinstance(value, bool):
            assert got == pytest.approx(value, rel=1e-9, abs=1e-12), (where, name)
        else:
            assert got == value, (where, name)


def assert_every_row_matches(priors: Priors | None = None, where: Any = None) -> None:
    actual = snapshot()
    for scope in ScoreScope:
        wanted = expected(scope.value, priors=priors)
        assert {key for s, key in actual if s == scope.value} == set(wanted), (where, scope)
        for key, values in wanted.items():
            assert_matches(actual[(scope.value, key)], values, (where, scope, key))


def computed_at() -> dict[tuple[str, str], dt.datetime]:
    return {(r.scope.value, r.key): r.computed_dt for r in db.session.scalars(sa.select(Score))}


def keys_of(session: Session) -> set[tuple[str, str]]:
    """The rows an answer to ``session`` is counted in."""
    action = db.session.get(Action, session.action_id)
    assert action is not None
    return {("session", str(session.id)), ("action", str(action.id)),
            ("course", str(action.course_id)), ("body", str(action.training_body_id)),
            ("departement", session.departement), ("region", session.region_code)}


# --- tests ----------------------------------------------------------------------------

def test_every_scope_matches_pandas(world: dict[str, Session]) -> None:
    counts = recompute_all()
    actual = snapshot()
    for scope in ScoreScope:
        wanted = expected(scope.value)
        assert counts[scope.value] == len(wanted)
        assert {key for s, key in actual if s == scope.value} == set(wanted), scope
        for key, values in wanted.items():
            assert_matches(actual[(scope.value, key)], values, (scope.value, key))


def test_places_and_rates(world: dict[str, Session]) -> None:
    recompute_all()
    actual = snapshot()
    assert actual[("departement", "35")]["answers_count"] == 30
    assert actual[("region", "52")]["answers_count"] == 45
    assert actual[("region", "53")]["answers_count"] == 30
    a1 = actual[("session", str(world["a1"].id))]
    # delivered: sent, delivered, opened, answered, complained, unsubscribed, expired × 5
    assert a1["invitations_delivered"] == 35
    assert a1["response_rate"] == pytest.approx(40 / 35)
    d1 = actual[("session", str(world["d1"].id))]
    assert d1["insertion_rate"] == pytest.approx(3 / 5)
    assert d1["invitations_delivered"] == 0
    assert d1["response_rate"] is None
    # A body's region is its main one: 40 answers in 52 beat 20 in 53.
    body_a = actual[("body", str(db.session.get(Action, world["a1"].action_id).training_body_id))]
    assert body_a["prior_region_code"] == "52"


def test_few_answers_are_shrunk_toward_the_region_and_uncertain(
        world: dict[str, Session]) -> None:
    recompute_all()
    actual = snapshot()

    def body(name: str) -> dict[str, Any]:
        action = db.session.get(Action, world[name].action_id)
        return actual[("body", str(action.training_body_id))]

    small, large = body("b1"), body("a1")
    assert small["answers_count"] == 2
    assert large["answers_count"] == 60
    assert small["mean_overall"] == pytest.approx(4.8)
    # Two near-perfect answers weigh less than the five imaginary regional ones.
    assert small["prior_mean"] < small["fair_score"] < small["mean_overall"]
    assert small["fair_score"] == pytest.approx(
        (PRIOR_WEIGHT * small["prior_mean"] + 9.6) / (PRIOR_WEIGHT + 2))
    assert (small["fair_score_high"] - small["fair_score_low"]
            > 2 * (large["fair_score_high"] - large["fair_score_low"]))
    assert abs(large["fair_score"] - large["mean_overall"]) < abs(
        small["fair_score"] - small["mean_overall"])
    assert 1 <= small["fair_score_low"] <= small["fair_score"] <= small["fair_score_high"] <= 5
    assert small["has_score"] is False
    assert body("c1")["has_score"] is True


def test_small_sessions_are_kept_but_not_public(world: dict[str, Session]) -> None:
    recompute_all()
    actual = snapshot()
    assert actual[("session", str(world["b1"].id))]["is_public"] is False  # 3 trainees
    assert actual[("session", str(world["c1"].id))]["is_public"] is True  # 5 trainees
    # Its body and action have no other session: they are as small, not public either.
    action = db.session.get(Action, world["b1"].action_id)
    assert actual[("body", str(action.training_body_id))]["is_public"] is False
    assert actual[("action", str(action.id))]["is_public"] is False
    # Its answers still count where the group is large enough.
    assert actual[("departement", "85")]["answers_count"] == 2
    assert actual[("departement", "85")]["is_public"] is True
    assert actual[("body", str(db.session.get(Action, world["a1"].action_id)
                                .training_body_id))]["is_public"] is True


def test_refresh_starts_with_a_full_computation(world: dict[str, Session]) -> None:
    assert BY_ID["aggregate_scores"].func()["body"] == 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Score)) > 0


def test_incremental_refresh_equals_full_recomputation(world: dict[str, Session]) -> None:
    """Several refreshes in a row (answers dated long ago, found by the id watermark only;
    follow-ups; invitations created and moved), each checked against pandas with the
    priors of the last full run; then the last one against a full recomputation with the
    same priors, number for number."""
    rng = random.Random(7)
    recompute_all()
    frozen = pandas_priors()
    sessions = list(world.values())
    end = clock.today() - dt.timedelta(days=10)
    sessions.append(place(create_session(end), "49", "52"))
    db.session.commit()
    start = clock.now()
    for round_ in range(6):
        with clock.frozen_at(start + dt.timedelta(hours=round_ + 1)):
            for _ in range(rng.randint(0, 12)):
                answer(rng.choice(sessions), rng,
                       day=rng.choice([None, end - dt.timedelta(days=30)]))
            if rng.random() < 0.5:
                follow_up(rng.choice(sessions), rng.choice(list(Situation)))
            session = rng.choice(sessions)
            invitations = invite(session, [rng.choice([S.sent, S.pending, S.answered])])
            invitations += db.session.scalars(
                sa.select(Invitation).where(Invitation.status.in_([S.sent, S.delivered]))
                .order_by(Invitation.id).limit(2)).all()
            for invitation in invitations:
                target = rng.choice([S.bounced, S.answered, S.opened])
                if invitation.can_move_to(target):
                    invitation.move_to(target)
            db.session.commit()
            refresh()
        # The priors stay those of the last full run.
        assert_every_row_matches(frozen, round_)
    incremental = snapshot()
    recompute_all(recompute_priors=False)
    full = snapshot()
    diff = {(w, k): (v, full[w][k]) for w, row in incremental.items() for k, v in row.items()
            if full[w][k] != v}
    assert diff == {}


def test_daily_job_and_command_rebuild_everything(
        world: dict[str, Session], runner: Any) -> None:
    """Both rebuild from the rows as they are, after any change ``refresh`` would miss."""
    recompute_all()
    db.session.execute(sa.update(Score).values(answers_count=999))  # a stale table
    db.session.commit()
    assert BY_ID["recompute_scores"].every == dt.timedelta(days=1)
    BY_ID["recompute_scores"].func()
    for scope in ScoreScope:
        for key, values in expected(scope.value).items():
            assert_matches(snapshot()[(scope.value, key)], values, (scope.value, key))
    db.session.execute(sa.update(Score).values(answers_count=999))
    db.session.commit()
    result = runner.invoke(args=["scores", "recompute"])
    assert result.exit_code == 0, result.output
    assert "Scores recalculés : body 4" in result.output
    assert 999 not in set(db.session.scalars(sa.select(Score.answers_count)))


def test_full_recomputation_recomputes_the_priors(world: dict[str, Session]) -> None:
    """``recompute_all`` stores the regional means and the pooled variance of the answers
    as they are; ``refresh`` keeps them; the next ``recompute_all`` moves them."""
    rng = random.Random(3)
    recompute_all()
    before = pandas_priors()

    def assert_stored(priors: Priors) -> None:
        stored = stored_priors()
        assert stored is not None
        assert stored[0] == pytest.approx(priors[0], rel=1e-12)
        assert stored[1] == pytest.approx(priors[1], rel=1e-12)
        counts = {p.region_code: p.answers_count for p in db.session.scalars(
            sa.select(ScorePrior))}
        assert counts == {"52": 45, "53": 30, None: 75}

    assert_stored(before)
    assert stored_priors() == regional_statistics()
    assert_every_row_matches()
    for _ in range(8):
        answer(world["b1"], rng, marks=(1, 1, 1, 1, 1))
    db.session.commit()
    refresh()
    assert stored_priors() != regional_statistics()
    assert_every_row_matches(before)
    recompute_all()
    after = pandas_priors()
    assert after[0]["52"] < before[0]["52"]
    stored = stored_priors()
    assert stored is not None
    assert stored[0] == pytest.approx(after[0], rel=1e-12)
    assert stored[1] == pytest.approx(after[1], rel=1e-12)
    assert stored == regional_statistics()
    assert db.session.scalar(sa.select(ScorePrior.answers_count)
                             .where(ScorePrior.region_code.is_(None))) == 83
    assert_every_row_matches()


def test_refresh_rewrites_only_the_touched_rows(world: dict[str, Session]) -> None:
    """One new answer rewrites the six rows it is counted in, and nothing else."""
    rng = random.Random(5)
    start = clock.now()
    # Two days later, nothing of the fixture is recent enough to be looked at again.
    with clock.frozen_at(start + dt.timedelta(days=2)):
        recompute_all()
    frozen = pandas_priors()
    before = snapshot()
    stamps = computed_at()
    later = start + dt.timedelta(days=3)
    with clock.frozen_at(later):
        answer(world["c1"], rng, marks=(2, 2, 2, 2, 2))
        db.session.commit()
        counts = refresh()
    touched = keys_of(world["c1"])
    assert counts == {scope.value: 1 for scope in ScoreScope}
    after = computed_at()
    assert {k for k, when in after.items() if when == later} == touched
    assert all(after[k] == stamps[k] for k in after if k not in touched)
    for key in touched:
        assert snapshot()[key]["answers_count"] == before[key]["answers_count"] + 1
        assert snapshot()[key]["fair_score"] < before[key]["fair_score"]
    assert_every_row_matches(frozen)


def test_refresh_picks_up_late_commits(world: dict[str, Session]) -> None:
    """An answer committed after the run with an id below the watermark (ids are given
    before the commit) is found by its invitation's move to answered, dated in its own
    transaction, within the look-back."""
    rng = random.Random(9)
    start = clock.now()
    late = db.session.scalars(sa.select(Answer).where(Answer.session_id == world["b1"].id)
                              .order_by(Answer.id)).first()
    assert late is not None
    late_id = late.id
    db.session.delete(late)
    db.session.commit()
    with clock.frozen_at(start + dt.timedelta(days=2)):
        recompute_all()
    frozen = pandas_priors()
    watermark = db.session.scalar(sa.select(sa.func.max(Score.last_answer_id)))
    assert late_id < watermark
    session_key = ("session", str(world["b1"].id))
    assert snapshot()[session_key]["answers_count"] == 1
    answered = start + dt.timedelta(days=2) - aggregate.SAFETY_MARGIN / 2
    with clock.frozen_at(start + dt.timedelta(days=2, minutes=40)):
        invitation = db.session.scalars(sa.select(Invitation).join(
            Enrolment, Enrolment.id == Invitation.enrolment_id).where(
            Enrolment.session_id == world["b1"].id, Invitation.status == S.pending)).one()
        invitation.move_to(S.answered, answered)
        invitation.answered_dt = answered
        row = answer(world["b1"], rng, marks=(4, 4, 4, 4, 4), day=answered.date())
        row.id = late_id
        db.session.commit()
        refresh()
    assert snapshot()[session_key]["answers_count"] == 2
    assert_every_row_matches(frozen)
