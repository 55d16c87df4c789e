"""The retention job: each rule at its boundary with the clock, a second run that finds
nothing, and what must stay (an email not yet sent, an account used recently)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from avis import clock
from avis.accounts.models import Account, AccountSession, AccountStatus, Role
from avis.audit.models import AuditEvent
from avis.catalog.imports.models import ImportRun, ImportStatus
from avis.db import db
from avis.mail.models import MessageStatus, OutboxMessage, ProviderEvent
from avis.privacy.retention import apply_retention
from avis.scheduler.jobs import BY_ID, JOBS, prune_job_runs
from avis.scheduler.models import JobRun
from avis.scheduler.runner import run_job
from avis.scores.aggregate import recompute_all, refresh
from avis.scores.models import Score, ScoreScope
from avis.surveys.models.invitations import InvitationStatus
from tests.accounts.fixtures import create_account
from tests.catalog.fixtures import make_siret
from tests.privacy.erasure_world import dump
from tests.public.fixtures import NANTES, add_answer, add_body, add_offer, publish
from tests.surveys.fixtures import create_invitation, create_session, enrol

#: When the data is made; each test moves the clock from there.
T0 = dt.datetime(2026, 1, 15, 10, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def run(at: dt.datetime) -> dict[str, int]:
    with clock.frozen_at(at):
        return apply_retention()


def nothing_but(counts: dict[str, int], **expected: int) -> None:
    """``counts`` are zeros except ``expected``."""
    assert {k: v for k, v in counts.items() if v} == expected


def retention_events() -> list[dict]:
    return list(db.session.scalars(sa.select(AuditEvent.changes).where(
        AuditEvent.action == "privacy.retention_applied").order_by(AuditEvent.id)))


# --- provider events and outbox --------------------------------------------------------


def test_provider_events_go_after_their_days(app: Flask, app_context: None) -> None:
    days = app.config["PROVIDER_EVENT_RETENTION_DAYS"]
    for n, received in enumerate((T0, T0 + 10 * DAY)):
        db.session.add(ProviderEvent(event_id=f"ev-{n}", event_type="delivered",
                                     received_dt=received))
    db.session.commit()
    nothing_but(run(T0 + (days - 1) * DAY))
    nothing_but(run(T0 + (days + 1) * DAY), provider_events=1)
    assert db.session.scalars(sa.select(ProviderEvent.event_id)).all() == ["ev-1"]
    nothing_but(run(T0 + (days + 1) * DAY + dt.timedelta(hours=1)))  # idempotent
    # One journal event per run, with the counts only.
    events = retention_events()
    assert len(events) == 3
    assert events[1]["provider_events"] == 1
    assert set(events[1]) == {"upload_folders", "trainees_erased", "provider_events",
                              "outbox_messages", "staff_disabled", "audit_events"}


def test_job_runs_go_after_their_days(app: Flask, app_context: None) -> None:
    days = app.config["JOB_RUN_RETENTION_DAYS"]
    for n, started in enumerate((T0, T0 + 10 * DAY)):
        db.session.add(JobRun(job=f"job-{n}", tick_dt=started, started_dt=started,
                              runner="test"))
    db.session.commit()
    with clock.frozen_at(T0 + days * DAY - dt.timedelta(seconds=1)):
        assert prune_job_runs() == {"removed": 0}
    with clock.frozen_at(T0 + days * DAY + dt.timedelta(seconds=1)):
        assert prune_job_runs() == {"removed": 1}
        assert prune_job_runs() == {"removed": 0}
    assert db.session.scalars(sa.select(JobRun.job)).all() == ["job-1"]
    app.config["JOB_RUN_RETENTION_DAYS"] = 5
    with clock.frozen_at(T0 + 16 * DAY):
        assert prune_job_runs() == {"removed": 1}


def _invitation_with_message(status: InvitationStatus, message: MessageStatus) -> int:
    with clock.frozen_at(T0):
        invitation, _token = create_invitation(enrol(create_session(T0.date() - 5 * DAY)),
                                               status=status)
        db.session.add(OutboxMessage(invitation_id=invitation.id, sequence=0,
                                     template="invitation", status=message,
                                     sent_dt=T0 if message == MessageStatus.sent else None))
        db.session.flush()
    return invitation.id


def test_emails_of_closed_invitations_go_after_their_days(app: Flask,
                                                          app_context: None) -> None:
    days = app.config["OUTBOX_RETENTION_DAYS"]
    answered = _invitation_with_message(InvitationStatus.answered, MessageStatus.sent)
    expired = _invitation_with_message(InvitationStatus.expired, MessageStatus.cancelled)
    # Kept: an email still waiting (whatever its invitation), an open invitation's email.
    waiting = _invitation_with_message(InvitationStatus.bounced, MessageStatus.unknown)
    still_open = _invitation_with_message(InvitationStatus.delivered, MessageStatus.sent)
    db.session.commit()
    nothing_but(run(T0 + (days - 1) * DAY))
    nothing_but(run(T0 + (days + 1) * DAY), outbox_messages=2)
    left = db.session.scalars(sa.select(OutboxMessage.invitation_id)
                              .order_by(OutboxMessage.invitation_id)).all()
    assert left == sorted([waiting, still_open])
    assert answered not in left
    assert expired not in left
    nothing_but(run(T0 + (days + 2) * DAY))


# --- staff accounts --------------------------------------------------------------------


def test_staff_unused_for_months_are_disabled(app: Flask, app_context: None) -> None:
    assert app.config["STAFF_INACTIVE_MONTHS"] == 12
    with clock.frozen_at(T0):
        used_once = create_account(Role.admin)
        never_used = create_account(Role.region, region="52")
        body = create_account(Role.organisation, siret=make_siret(4242))
        recent = create_account(Role.moderator)
        used_once.last_login_dt = used_once.last_seen_dt = T0
        db.session.add(AccountSession(digest=b"x" * 32, account_id=used_once.id))
    recent.last_login_dt = recent.last_seen_dt = T0 + 200 * DAY
    db.session.commit()
    ids = {a.id for a in (used_once, never_used, body, recent)}
    a_year_later = dt.datetime(2027, 1, 15, 10, 0, tzinfo=dt.UTC)
    nothing_but(run(a_year_later - DAY))
    nothing_but(run(a_year_later + DAY), staff_disabled=2)
    statuses = dict(db.session.execute(sa.select(Account.id, Account.status)
                                       .where(Account.id.in_(ids))).all())
    assert statuses == {used_once.id: AccountStatus.disabled,
                        never_used.id: AccountStatus.disabled,
                        body.id: AccountStatus.active, recent.id: AccountStatus.active}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountSession)) == 0
    disabled = db.session.execute(sa.select(AuditEvent.object_id, AuditEvent.actor_role)
                                  .where(AuditEvent.action == "account.disabled")).all()
    assert sorted(disabled) == sorted([(str(used_once.id), "system"),
                                       (str(never_used.id), "system")])
    nothing_but(run(a_year_later + 2 * DAY))


# --- journal ---------------------------------------------------------------------------


def test_journal_events_go_after_their_months(app: Flask, app_context: None) -> None:
    assert app.config["AUDIT_RETENTION_MONTHS"] == 24
    for n, moment in enumerate((T0, T0 + 40 * DAY)):
        db.session.add(AuditEvent(occurred_dt=moment, actor_role="cli", action=f"test.{n}"))
    db.session.commit()
    two_years_later = dt.datetime(2028, 1, 15, 10, 0, tzinfo=dt.UTC)
    nothing_but(run(two_years_later - DAY))
    nothing_but(run(two_years_later + DAY), audit_events=1)
    actions = db.session.scalars(sa.select(AuditEvent.action)
                                 .where(AuditEvent.action.like("test.%"))).all()
    assert actions == ["test.1"]
    nothing_but(run(two_years_later + 2 * DAY))


# --- uploaded files --------------------------------------------------------------------


def test_uploaded_files_go_after_their_days(app: Flask, app_context: None) -> None:
    days = app.config["UPLOAD_RETENTION_DAYS"]
    app.config["UPLOAD_RETENTION_DAYS"] = days = days + 5  # the setting, not a constant
    root = Path(app.instance_path) / "uploads"
    folders = {}
    for name, finished in (("0a", T0), ("0b", T0 + 10 * DAY)):
        db.session.add(ImportRun(file_name="f.csv", file_hash=name * 32, file_format="csv",
                                 campaign="c", status=ImportStatus.completed,
                                 triggered_by="upload", started_dt=finished,
                                 finished_dt=finished, upload_dir=name))
        folders[name] = root / name
        folders[name].mkdir(parents=True)
        (folders[name] / "rejets.csv").write_text("ligne;motif\r\n")
    db.session.commit()
    nothing_but(run(T0 + (days - 1) * DAY))
    nothing_but(run(T0 + (days + 1) * DAY), upload_folders=1)
    assert not folders["0a"].exists()
    assert folders["0b"].exists()
    nothing_but(run(T0 + (days + 2) * DAY))


# --- trainees --------------------------------------------------------------------------


def test_trainees_are_erased_months_after_their_last_session(app: Flask,
                                                             app_context: None) -> None:
    pytest.importorskip("avis.privacy.erasure")
    from avis.catalog.models.trainees import Trainee

    assert app.config["RETENTION_MONTHS"] == 24
    with clock.frozen_at(T0):
        old = enrol(create_session(dt.date(2026, 1, 10)), "ancien@example.org",
                    first_name="Aurélien", last_name="Vieuxtemps")
        # Enrolled twice: the later session counts.
        twice = enrol(create_session(dt.date(2026, 1, 10)), "deux@example.org")
        enrol(create_session(dt.date(2026, 3, 10)), "deux@example.org")
    db.session.commit()
    two_years_on = dt.datetime(2028, 1, 10, 12, 0, tzinfo=dt.UTC)
    nothing_but(run(two_years_on - DAY))
    nothing_but(run(two_years_on + DAY), trainees_erased=1)
    erased = db.session.get(Trainee, old.trainee_id)
    db.session.refresh(erased)
    assert erased.erased_dt is not None
    assert erased.email is None
    assert db.session.get(Trainee, twice.trainee_id).email == "deux@example.org"
    # Nowhere in the database any more (the journal and the fingerprint hold neither).
    everything = dump()
    assert "deux@example.org" in everything
    for value in ("ancien@example.org", "aurélien", "vieuxtemps"):
        assert value not in everything, value
    nothing_but(run(two_years_on + 2 * DAY))
    nothing_but(run(dt.datetime(2028, 3, 11, 12, 0, tzinfo=dt.UTC)), trainees_erased=1)


# --- the scheduler ---------------------------------------------------------------------


def test_the_job_is_daily_and_runs_from_the_scheduler(app: Flask, app_context: None) -> None:
    job = BY_ID["apply_retention"]
    assert job.every == dt.timedelta(days=1)
    ids = [j.id for j in JOBS]
    assert ids.index("apply_retention") < ids.index("export_open_data")
    db.session.add(ProviderEvent(event_id="old", event_type="open", received_dt=T0))
    db.session.commit()
    later = T0 + 200 * DAY
    with clock.frozen_at(later):
        result = run_job(job, later)
        again = run_job(job, later + dt.timedelta(hours=2))  # the same day's tick
    assert result.outcome == "done", result.summary
    assert result.summary["provider_events"] == 1
    assert again.outcome == "skipped"
    run_row = db.session.scalars(sa.select(JobRun).where(JobRun.job == "apply_retention")).one()
    assert run_row.summary["provider_events"] == 1


# --- archived comments and the scores' window ------------------------------------------


@pytest.fixture
def old_and_recent(app: Flask, app_context: None) -> dict:
    """A body with six answers: one commented just inside the window, one just out."""
    assert app.config["REVIEW_ARCHIVE_MONTHS"] == 24
    today = clock.today()
    start = today.replace(year=today.year - 2) if (today.month, today.day) != (2, 29) \
        else dt.date(today.year - 2, 2, 28)
    body = add_body("Organisme Ancien")
    offer = add_offer(body, "Tapissier", NANTES)
    add_answer(offer, (5, 5, 5, 5, 5), day=start, comment=("Récent", "Encore montré"))
    add_answer(offer, (1, 1, 1, 1, 1), day=start - DAY, comment=("Ancien", "Archivé"))
    for _ in range(4):
        add_answer(offer, (4, 4, 4, 4, 4))
    publish()
    return {"body": body, "offer": offer, "start": start}


def test_an_archived_comment_leaves_the_page_the_api_and_the_widget(
        client: FlaskClient, old_and_recent: dict) -> None:
    siret = old_and_recent["body"].siret
    html = client.get(f"/organismes/{siret}").get_data(as_text=True)
    assert "Encore montré" in html
    assert "Archivé" not in html
    api = client.get(f"/api/v1/avis?organisme_formateur={siret}&commentaires=true").get_json()
    assert [a["commentaire"]["texte"] for a in api["avis"]] == ["Encore montré"]
    every = client.get(f"/api/v1/avis?organisme_formateur={siret}").get_json()
    texts = [(a.get("commentaire") or {}).get("texte") for a in every["avis"]]
    assert "Archivé" not in texts
    assert "Encore montré" in texts
    widget = client.get("/widget/organisme/liste", query_string={"identifiant": siret})
    assert "Encore montré" in widget.get_data(as_text=True)
    assert "Archivé" not in widget.get_data(as_text=True)


def test_scores_count_the_answers_of_the_window(old_and_recent: dict) -> None:
    body_key = str(old_and_recent["body"].id)

    def body_score() -> Score:
        return db.session.scalars(sa.select(Score).where(
            Score.scope == ScoreScope.body, Score.key == body_key)).one()

    score = body_score()
    assert score.answers_count == 5  # the mark of 1 is out of the window
    assert score.mean_overall == pytest.approx((5 + 4 * 4) / 5)
    # The next day the answer of 5 leaves too: the hourly refresh sees it go.
    tomorrow = dt.datetime.combine(clock.today() + DAY, dt.time(12), clock.PARIS)
    with clock.frozen_at(tomorrow):
        refresh()
    db.session.expire_all()
    assert body_score().answers_count == 4
    assert body_score().mean_overall == pytest.approx(4.0)
    with clock.frozen_at(tomorrow):
        refreshed = {scope: dict(db.session.execute(
            sa.select(Score.key, Score.answers_count).where(Score.scope == scope)).all())
            for scope in ScoreScope}
        recompute_all(recompute_priors=False)
        db.session.expire_all()
        full = {scope: dict(db.session.execute(
            sa.select(Score.key, Score.answers_count).where(Score.scope == scope)).all())
            for scope in ScoreScope}
    assert refreshed == full
