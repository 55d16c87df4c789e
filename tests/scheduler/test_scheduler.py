"""The job list, ticks, the APScheduler set-up, and ``avis serve --with-scheduler``."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from avis import clock
from avis.db import db
from avis.scheduler.jobs import BY_ID, JOBS, Job
from avis.scheduler.models import JobRun
from avis.scheduler.process import build_scheduler
from avis.scheduler.runner import run_job
from tests.app.test_serve import free_port


def test_ticks_are_period_starts() -> None:
    hourly = BY_ID["create_invitations"]
    moment = dt.datetime(2026, 3, 11, 8, 59, 59, tzinfo=dt.UTC)
    assert hourly.tick(moment) == dt.datetime(2026, 3, 11, 8, tzinfo=dt.UTC)
    assert BY_ID["dispatch_outbox"].tick(moment) == dt.datetime(2026, 3, 11, 8, 59,
                                                                tzinfo=dt.UTC)


def test_scheduler_jobs_are_explicit_and_deliberate(app: Flask) -> None:
    scheduler = build_scheduler(app, blocking=True)
    scheduled = {job.id: job for job in scheduler.get_jobs()}
    assert set(scheduled) == {job.id for job in JOBS} | {"catch_up"}
    # At start, one catch-up run of every job in order (creation before dispatch).
    assert scheduled["catch_up"].func_ref == "avis.scheduler.process:catch_up"
    for job in JOBS:
        entry = scheduled[job.id]
        assert entry.func_ref == "avis.scheduler.process:fire"  # importable, module level
        assert entry.args == (job.id,)
        assert entry.max_instances == 1
        assert entry.coalesce is True
        assert entry.misfire_grace_time == job.every.total_seconds()
        assert entry.kwargs == {}


def test_a_tick_is_worked_once(app_context: None) -> None:
    calls: list[int] = []

    def work() -> dict[str, int]:
        calls.append(1)
        return {"done": len(calls)}

    job = Job("test_job", work, dt.timedelta(hours=1))
    moment = dt.datetime(2026, 3, 11, 8, 5, tzinfo=dt.UTC)
    first = run_job(job, moment)
    second = run_job(job, moment + dt.timedelta(minutes=10))
    third = run_job(job, moment + dt.timedelta(hours=1))
    assert (first.outcome, second.outcome, third.outcome) == ("done", "skipped", "done")
    assert calls == [1, 1]
    runs = db.session.scalars(sa.select(JobRun).order_by(JobRun.id)).all()
    assert [(r.outcome, r.summary) for r in runs] == [("done", {"done": 1}),
                                                      ("done", {"done": 2})]


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(app_context: None) -> None:
    def broken() -> dict[str, int]:
        raise RuntimeError("boom")

    result = run_job(Job("broken_job", broken, dt.timedelta(hours=1)))
    assert result.outcome == "failed"
    run = db.session.scalars(sa.select(JobRun)).one()
    assert run.outcome == "failed"
    assert run.summary == {"error": "RuntimeError"}
    assert run.finished_dt is not None


@pytest.mark.slow
def test_serve_with_scheduler_sends_the_due_invitations(tmp_path: Path) -> None:
    """``make run``'s server: the scheduler in the same process writes the invitations."""
    avis = str(Path(sys.executable).with_name("avis"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    env.update(AVIS_DATABASE_URL=f"sqlite:///{tmp_path / 'avis.db'}", AVIS_SECRET_KEY="test",
               NO_PROXY="127.0.0.1,localhost")
    subprocess.run([avis, "db", "upgrade"], env=env, check=True, capture_output=True)
    engine = sa.create_engine(env["AVIS_DATABASE_URL"])
    _seed_one_ended_session(engine)
    engine.dispose()
    port = free_port()
    instance = tmp_path / "instance"
    instance.mkdir()
    script = ("import sys; from avis import create_app; from avis.cli import serve_command; "
              f"app = create_app(instance_path={str(instance)!r}); "
              "sys.argv = ['avis', '--port', sys.argv[1], '--with-scheduler']; "
              "ctx = app.app_context(); ctx.push(); serve_command.main(standalone_mode=True)")
    mailbox = instance / "mailbox"
    with subprocess.Popen([sys.executable, "-c", script, str(port)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as server:
        try:
            deadline = time.monotonic() + 60
            while len(list(mailbox.glob("*.eml"))) < 2:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "no invitation was written"
                time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(10)
    assert len(list(mailbox.glob("*.eml"))) == 2


def _seed_one_ended_session(engine: sa.Engine) -> None:
    """Two trainees of a session that ended three days ago, written straight in SQL."""
    end = clock.today() - dt.timedelta(days=3)
    now = clock.now().replace(tzinfo=None)
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO training_bodies (id, siret, siren, name, created_dt, "
                          "updated_dt) VALUES (1, '12345678200010', '123456782', 'Org', :n, :n)"),
                  {"n": now})
        c.execute(sa.text("INSERT INTO courses (id, numero, title, formacodes, certifinfos, "
                          "created_dt, updated_dt) VALUES (1, 'F1', 'Soudure', '[]', '[]', "
                          ":n, :n)"), {"n": now})
        c.execute(sa.text("INSERT INTO actions (id, course_id, numero, training_body_id, "
                          "responsible_body_id, created_dt, updated_dt) VALUES (1, 1, 'A1', 1, "
                          "1, :n, :n)"), {"n": now})
        c.execute(sa.text("INSERT INTO sessions (id, action_id, external_id, numero, start_date, "
                          "end_date, postcode, city, departement, region_code, funders, "
                          "created_dt, updated_dt) VALUES (1, 1, 'S1', 'S1', :s, :e, '44000', "
                          "'Nantes', '44', '52', '[2]', :n, :n)"),
                  {"s": end - dt.timedelta(days=60), "e": end, "n": now})
        for n in (1, 2):
            c.execute(sa.text("INSERT INTO trainees (id, email, first_name, created_dt, "
                              "updated_dt) VALUES (:i, :e, 'Léa', :n, :n)"),
                      {"i": n, "e": f"lea{n}@example.org", "n": now})
            c.execute(sa.text("INSERT INTO enrolments (trainee_id, session_id, campaign, "
                              "created_dt, updated_dt) VALUES (:i, 1, 'test', :n, :n)"),
                      {"i": n, "n": now})
