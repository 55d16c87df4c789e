"""Region staff's alerts: each rule at its boundary (and the clock's), the life of an
alert (acknowledged, reopened when worse, closed, back), the page and its scope, and the
weekly email."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.accounts.models import Role
from avis.audit.models import AuditEvent
from avis.catalog.models.trainees import Trainee
from avis.db import db
from avis.monitoring import alerts
from avis.monitoring.models.alerts import Alert, AlertRule, AlertStatus, DigestOptOut
from avis.scores.models import ScorePrior
from avis.surveys.models.answers import (
    Answer,
    CommentStatus,
    ExclusionReason,
    Qualification,
    RejectionReason,
)
from avis.surveys.models.invitations import InvitationStatus
from tests.accounts.fixtures import Browser, create_account, csrf_token
from tests.accounts.test_mail import mailbox, parts, send
from tests.public.fixtures import ANGERS, RENNES, Offer, add_answer, add_body, add_offer
from tests.surveys.fixtures import create_invitation, enrol

#: A Monday, 10:00 in Paris.
NOW = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 16)

GOOD = (4, 4, 4, 4, 4)  # overall 4.0
MEDIOCRE = (4, 4, 4, 3, 3)  # 3.6
FAIR = (4, 4, 4, 4, 3)  # 3.8
BAD = (2, 2, 2, 2, 2)  # 2.0: a negative review


def _detect(app: Flask, moment: dt.datetime = NOW) -> dict[str, int]:
    with app.app_context(), clock.frozen_at(moment):
        return alerts.detect()


def _alerts(app: Flask) -> dict[tuple[str, str], Alert]:
    """(rule, subject) → alert, detached."""
    with app.app_context():
        found = db.session.scalars(sa.select(Alert)).all()
        db.session.expunge_all()
    return {(str(a.rule), a.subject_key): a for a in found}


def _offer(name: str, place: object = ANGERS, *, enrolled: int = 0) -> Offer:
    return add_offer(add_body(name), f"Cours de {name}", place,  # type: ignore[arg-type]
                     enrolled=enrolled)


def _priors(region: str = "52", mean: float = 4.0) -> None:
    """The stored priors: the région's mean is known, not computed from the test's data."""
    db.session.add_all([ScorePrior(region_code=region, answers_count=100, mean_overall=mean),
                        ScorePrior(region_code=None, answers_count=100, mean_overall=mean,
                                   pooled_variance=0.5)])


def _answers(offer: Offer, marks: tuple[int, ...], count: int, day: dt.date, **kw: object
             ) -> list[int]:
    return [add_answer(offer, marks, day=day, **kw).id for _ in range(count)]  # type: ignore[arg-type]


# --- score drop ----------------------------------------------------------------------------

def _score_world(app: Flask, recent: list[tuple[int, ...]], *, previous: int = 10,
                 recent_day: dt.date = TODAY - dt.timedelta(days=10)) -> int:
    """A body of région 52 (prior 4.0): ``previous`` answers at 4.0 some 200 days ago
    (fair score 4.0), and the ``recent`` marks."""
    with app.app_context():
        _priors()
        offer = _offer("Atelier Baisse")
        _answers(offer, GOOD, previous, TODAY - dt.timedelta(days=200))
        for marks in recent:
            add_answer(offer, marks, day=recent_day)
        db.session.commit()
        return offer.body.id


def test_a_score_drop_of_exactly_three_tenths_alerts(app: Flask) -> None:
    # 15 answers at 3.6: fair score (5 × 4.0 + 54) / 20 = 3.7, 0.3 under 4.0.
    body_id = _score_world(app, [MEDIOCRE] * 15)

    assert _detect(app)["opened"] == 1
    alert = _alerts(app)[("score_drop", f"body:{body_id}")]
    assert alert.region_code == "52"
    assert alert.value == pytest.approx(0.3)
    assert alert.details == {"before": 4.0, "after": 3.7, "recent": 15, "previous": 10}
    assert alert.status == AlertStatus.open


def test_a_drop_just_under_the_threshold_does_not(app: Flask) -> None:
    # One answer at 3.8 instead of 3.6: fair 3.71, a drop of 0.29.
    _score_world(app, [MEDIOCRE] * 14 + [FAIR])
    _detect(app)
    assert not [key for key in _alerts(app) if key[0] == "score_drop"]


def test_a_drop_needs_enough_answers_in_both_periods(app: Flask) -> None:
    _score_world(app, [MEDIOCRE] * 15, previous=9)
    _detect(app)
    assert not _alerts(app)
    app.config["ALERT_MIN_ANSWERS"] = 9
    _detect(app)
    assert [key[0] for key in _alerts(app)] == ["score_drop"]


def test_the_90_days_end_with_the_clock(app: Flask) -> None:
    # The recent answers 89 days ago: recent today, "the 12 months before" tomorrow.
    _score_world(app, [MEDIOCRE] * 15, recent_day=TODAY - dt.timedelta(days=89))
    _detect(app)
    assert _alerts(app)[next(iter(_alerts(app)))].status == AlertStatus.open
    _detect(app, NOW + dt.timedelta(days=1))
    assert [a.status for a in _alerts(app).values()] == [AlertStatus.closed]


def test_excluded_answers_count_nowhere(app: Flask) -> None:
    _score_world(app, [MEDIOCRE] * 15)
    with app.app_context():
        db.session.execute(sa.update(Answer)
                           .where(Answer.answered_on == TODAY - dt.timedelta(days=10))
                           .values(excluded_reason=ExclusionReason.fraud))
        db.session.commit()
    _detect(app)
    assert not _alerts(app)


# --- negative reviews ----------------------------------------------------------------------

def _negative_world(app: Flask, negatives: int, *, old: int = 0) -> tuple[int, Offer]:
    with app.app_context():
        offer = _offer("Atelier Grincheux")
        _answers(offer, BAD, negatives, TODAY - dt.timedelta(days=5))
        _answers(offer, BAD, old, TODAY - dt.timedelta(days=90))  # just outside 90 days
        _answers(offer, GOOD, 5, TODAY - dt.timedelta(days=5))
        db.session.commit()
        return offer.body.id, offer


def test_negative_reviews_at_the_threshold(app: Flask) -> None:
    app.config["ALERT_NEGATIVE_REVIEWS"] = 3
    body_id, offer = _negative_world(app, 2, old=4)
    _detect(app)
    assert not _alerts(app)

    with app.app_context():
        other = _offer("Autre")  # another body's negative review does not add up
        add_answer(other, BAD, day=TODAY)
        # A comment the moderators read as negative counts, whatever its marks.
        read = add_answer(offer, GOOD, day=TODAY, comment=("Déçu", "Très déçu"),
                          status=CommentStatus.published)
        read.qualification = Qualification.negative
        db.session.commit()
    _detect(app)
    alert = _alerts(app)[("negative_reviews", f"body:{body_id}")]
    assert alert.value == 3
    assert alert.details == {"count": 3, "threshold": 3}
    assert len(_alerts(app)) == 1


# --- bounces and response rates ------------------------------------------------------------

def _invite(offer: Offer, statuses: list[InvitationStatus], *, campaign: str = "mars",
            sent: dt.datetime = NOW - dt.timedelta(days=30)) -> None:
    with clock.frozen_at(sent):
        for status in statuses:
            enrolment = enrol(offer.session)
            enrolment.campaign = campaign
            create_invitation(enrolment, status=status)


S = InvitationStatus


@pytest.mark.parametrize(("sent", "bounced", "expected"), [
    (20, 2, False),  # 10 %: not more than 10 %
    (20, 3, True),  # 15 %
    (19, 3, False),  # too few sent to tell
])
def test_a_campaign_bouncing(app: Flask, sent: int, bounced: int, expected: bool) -> None:
    with app.app_context():
        offer = _offer("Atelier Rebond")
        _invite(offer, [S.bounced] * bounced + [S.delivered] * (sent - bounced))
        # A year and a day ago: another period, not counted.
        _invite(offer, [S.bounced] * 10, sent=NOW - dt.timedelta(days=366))
        db.session.commit()
    _detect(app)
    found = _alerts(app).get(("bounces", "campaign:mars"))
    assert (found is not None) == expected
    if found:
        assert found.details == {"sent": sent, "bounced": bounced}
        assert found.campaign == "mars"


def test_a_response_rate_under_half_the_regions(app: Flask) -> None:
    with app.app_context():
        good = _offer("Atelier Bavard")
        quiet = _offer("Atelier Muet")
        borderline = _offer("Atelier Discret")
        _invite(good, [S.answered] * 14 + [S.delivered] * 6)  # 70 %
        _invite(quiet, [S.answered] * 2 + [S.delivered] * 18 + [S.bounced] * 5)  # 10 %
        # 30 % of 40: the région's rate is (14 + 2 + 12) / 80 = 35 %, half of it 17.5 %.
        _invite(borderline, [S.answered] * 12 + [S.opened] * 28)
        db.session.commit()
        quiet_id = quiet.body.id
    _detect(app)
    found = {key: a for key, a in _alerts(app).items() if key[0] == "low_response"}
    assert list(found) == [("low_response", f"body:{quiet_id}")]
    alert = found[("low_response", f"body:{quiet_id}")]
    assert alert.details == {"rate": 0.1, "region_rate": 0.35, "delivered": 20,
                             "answered": 2}
    assert alert.value == pytest.approx(0.1 / 0.35, abs=1e-4)


# --- serious alerts, and an alert's life ---------------------------------------------------

def _serious(app: Flask, text: str = "Le formateur <b>crie</b> sur les stagiaires") -> int:
    with app.app_context():
        offer = _offer("Atelier Inquiétant", enrolled=3)
        answer = add_answer(offer, BAD, comment=("Danger", text), status=CommentStatus.rejected)
        answer.rejection_reason = RejectionReason.serious_alert
        answer.moderated_dt = NOW - dt.timedelta(days=2)
        db.session.commit()
        return answer.id


def test_a_comment_rejected_as_a_serious_alert(app: Flask) -> None:
    answer_id = _serious(app)
    _detect(app)
    alert = _alerts(app)[("serious_alert", f"answer:{answer_id}")]
    assert alert.answer_id == answer_id
    assert alert.details == {"rejected_on": "2026-03-14"}
    # 90 days after the rejection it is no longer news.
    _detect(app, NOW + dt.timedelta(days=88))
    assert _alerts(app)[("serious_alert", f"answer:{answer_id}")].status == AlertStatus.closed


@dataclass
class Staff:
    region_52: Browser
    region_53: Browser
    admin: Browser


@pytest.fixture
def staff(signed_in: Callable[..., Browser]) -> Staff:
    return Staff(region_52=signed_in(Role.region, region="52"),
                 region_53=signed_in(Role.region, region="53"),
                 admin=signed_in(Role.admin))


def _alert_id(app: Flask, rule: str) -> int:
    return next(a.id for (r, _s), a in _alerts(app).items() if r == rule)


def test_acknowledged_then_reopened_when_worse_closed_when_cleared_then_back(
        app: Flask, staff: Staff) -> None:
    app.config["ALERT_NEGATIVE_REVIEWS"] = 3
    _body_id, offer = _negative_world(app, 3)
    _detect(app)
    alert_id = _alert_id(app, "negative_reviews")
    page = staff.region_52.get(f"/admin/alertes/{alert_id}").get_data(as_text=True)
    assert "3 avis négatifs" in page

    response = staff.region_52.client.post(
        f"/admin/alertes/{alert_id}/prendre-en-compte",
        data={"csrf_token": csrf_token(page), "note": "Inspection prévue le 2 avril"})
    assert response.status_code == 303
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert is not None
        assert (alert.status, alert.note, alert.acknowledged_value) == (
            AlertStatus.acknowledged, "Inspection prévue le 2 avril", 3.0)
        event = db.session.scalars(sa.select(AuditEvent)
                                   .where(AuditEvent.action == "alert.acknowledged")).one()
        assert (event.object_id, event.actor_id) == (str(alert_id),
                                                     staff.region_52.account.id)
    # Found again, no worse: stays acknowledged.
    _detect(app)
    assert _alerts(app)[("negative_reviews", f"body:{offer.body.id}")].status == \
        AlertStatus.acknowledged
    # One more negative review: open again.
    with app.app_context():
        add_answer(offer, BAD, day=TODAY)
        db.session.commit()
    assert _detect(app)["reopened"] == 1
    reopened = _alerts(app)[("negative_reviews", f"body:{offer.body.id}")]
    assert (reopened.status, reopened.reopened, reopened.value) == (AlertStatus.open, 1, 4.0)
    # The reviews age out: closed; they come back (a file re-dated): open again.
    _detect(app, NOW + dt.timedelta(days=90))
    assert _alerts(app)[("negative_reviews", f"body:{offer.body.id}")].status == \
        AlertStatus.closed
    _detect(app)
    back = _alerts(app)[("negative_reviews", f"body:{offer.body.id}")]
    assert (back.status, back.reopened, back.id) == (AlertStatus.open, 2, alert_id)


def test_acknowledging_needs_a_note_and_happens_once(app: Flask, staff: Staff) -> None:
    _serious(app)
    _detect(app)
    alert_id = _alert_id(app, "serious_alert")
    path = f"/admin/alertes/{alert_id}"
    page = staff.region_52.get(path).get_data(as_text=True)

    empty = staff.region_52.client.post(f"{path}/prendre-en-compte",
                                 data={"csrf_token": csrf_token(page), "note": "  "})
    assert empty.status_code == 422
    assert "Écrivez ce qui est fait" in empty.get_data(as_text=True)
    too_long = staff.region_52.client.post(f"{path}/prendre-en-compte",
                                    data={"csrf_token": csrf_token(page), "note": "x" * 2001})
    assert too_long.status_code == 422
    no_csrf = staff.region_52.client.post(f"{path}/prendre-en-compte", data={"note": "Vu"})
    assert no_csrf.status_code in (400, 422)
    assert _alerts(app)[next(iter(_alerts(app)))].status == AlertStatus.open

    other = staff.admin.get(path).get_data(as_text=True)
    assert staff.region_52.client.post(f"{path}/prendre-en-compte", data={
        "csrf_token": csrf_token(page), "note": "Appel au directeur"}).status_code == 303
    second = staff.admin.client.post(f"{path}/prendre-en-compte",
                              data={"csrf_token": csrf_token(other), "note": "Moi aussi"})
    assert second.status_code == 303
    assert "n’est plus ouverte" in staff.admin.get(path).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Alert.note)) == "Appel au directeur"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "alert.acknowledged")) == 1


def test_the_serious_alert_page_shows_the_comment_escaped_and_never_its_author(
        app: Flask, staff: Staff) -> None:
    _serious(app)
    _detect(app)
    page = staff.region_52.get(f"/admin/alertes/{_alert_id(app, 'serious_alert')}") \
        .get_data(as_text=True)
    assert "Le formateur &lt;b&gt;crie&lt;/b&gt; sur les stagiaires" in page
    assert "<b>crie</b>" not in page
    with app.app_context():
        trainees = db.session.execute(sa.select(Trainee.email, Trainee.last_name)).all()
    assert len(trainees) == 3
    for email, name in trainees:
        assert email not in page
        assert name not in page


def test_scope_a_region_sees_its_own_alerts_only(app: Flask, staff: Staff,
                                                 signed_in: Callable[..., Browser]) -> None:
    app.config["ALERT_NEGATIVE_REVIEWS"] = 1
    with app.app_context():
        angevin = _offer("Atelier Angevin")
        add_answer(angevin, BAD, day=TODAY)
        add_answer(_offer("Atelier Breton", RENNES), BAD, day=TODAY)
        db.session.commit()
        siret = angevin.body.siret
    _detect(app)
    ids = {a.region_code: a.id for a in _alerts(app).values()}

    listing = staff.region_52.get("/admin/alertes").get_data(as_text=True)
    assert "Atelier Angevin" in listing
    assert "Atelier Breton" not in listing
    assert staff.region_52.get(f"/admin/alertes/{ids['53']}").status_code == 404
    page = staff.region_52.get(f"/admin/alertes/{ids['52']}").get_data(as_text=True)
    assert staff.region_52.client.post(f"/admin/alertes/{ids['53']}/prendre-en-compte", data={
        "csrf_token": csrf_token(page), "note": "Pas à moi"}).status_code == 404
    both = staff.admin.get("/admin/alertes").get_data(as_text=True)
    assert "Atelier Angevin" in both
    assert "Atelier Breton" in both
    # Funded by France Travail (4) in Angers: the funder-limited account sees it; one
    # limited to another funder does not.
    assert "Atelier Angevin" in signed_in(Role.region, region="52", funders=(4,)) \
        .get("/admin/alertes").get_data(as_text=True)
    assert "Atelier Angevin" not in signed_in(Role.region, region="52", funders=(10,)) \
        .get("/admin/alertes").get_data(as_text=True)
    for role, scope in ((Role.moderator, {"region": "52"}),
                        (Role.organisation, {"siret": siret})):
        client = signed_in(role, **scope)
        assert client.get("/admin/alertes").status_code == 403


def test_the_list_filters_and_rejects_bad_filters(app: Flask, staff: Staff) -> None:
    _serious(app)
    _detect(app)
    assert "Alerte grave" in staff.region_52.get("/admin/alertes").get_data(as_text=True)
    assert "Aucune alerte" in staff.region_52.get("/admin/alertes?regle=bounces") \
        .get_data(as_text=True)
    assert "Aucune alerte" in staff.region_52.get("/admin/alertes?statut=closed") \
        .get_data(as_text=True)
    assert staff.region_52.get("/admin/alertes?regle=nimporte").status_code == 400
    assert staff.region_52.get("/admin/alertes?page=0").status_code == 400


# --- the weekly email ----------------------------------------------------------------------

def _digest(app: Flask, moment: dt.datetime = NOW) -> dict[str, int]:
    with app.app_context(), clock.frozen_at(moment):
        return alerts.email_digest()


def test_the_weekly_email_on_mondays_to_staff_who_want_it(app: Flask, staff: Staff,
                                                         instance_path: Path) -> None:
    app.config["ALERT_NEGATIVE_REVIEWS"] = 1
    with app.app_context():
        add_answer(_offer("Atelier <Angevin> & Co"), BAD, day=TODAY)
        add_answer(_offer("Atelier Breton", RENNES), BAD, day=TODAY)
        quiet = create_account(Role.region, region="52")
        db.session.add(DigestOptOut(account_id=quiet.id))
        db.session.commit()
    _detect(app)

    assert _digest(app, NOW + dt.timedelta(days=1)) == {"queued": 0}  # a Tuesday
    assert _digest(app) == {"queued": 2}  # région 52 and 53, not the admin, not "quiet"
    assert _digest(app, NOW + dt.timedelta(hours=5)) == {"queued": 0}  # once a week

    assert send(app, NOW) == {"sent": 2}
    emails = {m["To"]: m for m in mailbox(instance_path)}
    message = emails[staff.region_52.account.email]
    assert message["Subject"] == "avis : 1 alerte ouverte dans votre région"
    text, html = parts(message)
    assert "Atelier <Angevin> & Co" in text
    assert "Breton" not in text
    assert "Atelier &lt;Angevin&gt; &amp; Co" in html
    assert "/admin/alertes" in text
    assert "Breton" in parts(emails[staff.region_53.account.email])[0]


def test_nothing_open_when_it_leaves_nothing_sent(app: Flask, staff: Staff) -> None:
    app.config["ALERT_NEGATIVE_REVIEWS"] = 1
    with app.app_context():
        add_answer(_offer("Atelier Angevin"), BAD, day=TODAY)
        db.session.commit()
    _detect(app)
    _digest(app)
    with app.app_context():
        db.session.execute(sa.update(Alert).values(status=AlertStatus.acknowledged))
        db.session.commit()
    assert send(app, NOW) == {"cancelled": 2}


def test_staff_turn_the_email_off_and_on(app: Flask, staff: Staff) -> None:
    page = staff.region_52.get("/admin/alertes").get_data(as_text=True)
    assert '<input checked id="wanted" name="wanted" type="checkbox" value="y">' in page
    response = staff.region_52.client.post("/admin/alertes/recapitulatif",
                                    data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    account = staff.region_52.account
    with app.app_context():
        assert db.session.get(DigestOptOut, account.id) is not None
        assert db.session.scalar(sa.select(AuditEvent.action).where(
            AuditEvent.object_type == "account", AuditEvent.actor_id == account.id)
            .order_by(AuditEvent.id.desc()).limit(1)) == "alert.digest_off"
    staff.region_52.client.post("/admin/alertes/recapitulatif",
                         data={"csrf_token": csrf_token(page), "wanted": "y"})
    with app.app_context():
        assert db.session.get(DigestOptOut, account.id) is None
    # Admins get no weekly email: nothing to turn off.
    assert staff.admin.submit("/admin/alertes/recapitulatif", {},
                              form_page="/admin/alertes").status_code == 403


def test_the_scheduler_knows_both_jobs() -> None:
    from avis.scheduler.jobs import BY_ID, DAY

    assert BY_ID["detect_alerts"].every == DAY
    assert BY_ID["alerts_digest"].every == DAY
    assert set(alerts.WORSE) == set(AlertRule)
