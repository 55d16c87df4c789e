"""An uploaded file's import killed half-way (SIGKILL of the process running the job):
the next tick takes it up again and completes it, nothing lost and nothing counted twice."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from avis import clock
from avis.accounts.models import Role
from avis.catalog.imports.models import ImportRun, ImportStatus
from avis.catalog.models.trainees import Enrolment
from avis.db import db
from avis.monitoring import uploads
from avis.scheduler.jobs import BY_ID
from avis.scheduler.runner import run_job
from tests.catalog.fixtures import make_siret, pe_row, write_pe
from tests.catalog.test_import_crash import _cmdline, kill_when
from tests.monitoring.test_uploads import RENNES_PE
from tests.monitoring.uploads_fixtures import run_id_of, upload

pytestmark = pytest.mark.slow

# Over 8 MB, so that the file is read by a child process, as large files are.
ROWS = 24_000
CHUNK = 500

#: The job, in a process of its own, as the scheduler runs it.
JOB = """
import sys
from avis import create_app
from avis.scheduler.jobs import BY_ID
from avis.scheduler.runner import run_job

app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "test",
                  "IMPORT_CHUNK_SIZE": int(sys.argv[3])}, instance_path=sys.argv[2])
with app.app_context():
    if len(sys.argv) > 4:  # the job's work without its tick: two may overlap
        from avis.monitoring.uploads import import_uploads

        print(import_uploads())
    else:
        run_job(BY_ID["import_uploads"])
"""


def _is_bad_email(n: int) -> bool:
    return n % 97 == 5


def _is_elsewhere(n: int) -> bool:
    return n % 101 == 7


def big_file(path: Path) -> Path:
    rows = []
    for n in range(ROWS):
        session = n // 12
        overrides = {
            "dn_session_id": f"S{session}",
            "dc_numeroicsession": f"SE{session}",
            "dc_numeroicaction": f"AC{session % 50}",
            "dc_siretorganismeformateur": make_siret(5000 + session % 40),
        }
        if _is_bad_email(n):
            overrides["c_adresseemail"] = f"pas-une-adresse-{n}"
        if _is_elsewhere(n):
            overrides.update(RENNES_PE)
        rows.append(pe_row(n, **overrides))
    return write_pe(path, rows)


def _committed(database_url: str, run_id: int) -> tuple[str, int]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.select(ImportRun.status, ImportRun.rows_read)
                                     .where(ImportRun.id == run_id)).one()
            return row[0], row[1]
    finally:
        engine.dispose()


def test_killed_import_is_taken_up_by_the_next_tick(app, database_url, signed_in, tmp_path):
    staff = signed_in(Role.region, region="52")
    path = big_file(tmp_path / "export.txt")
    assert path.stat().st_size > 8 << 20
    run_id = run_id_of(upload(staff, path))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    command = [sys.executable, "-c", JOB, database_url, app.instance_path, str(CHUNK)]

    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE) as process:
        helpers = kill_when(process, lambda: _committed(database_url, run_id)[1] >= 3 * CHUNK,
                            seconds=180,
                            ended=lambda: process.stderr.read().decode()[-3000:])
    assert process.returncode == -signal.SIGKILL
    assert [p for p in helpers if "spawn_main" in " ".join(_cmdline(p))], \
        "a file this size is read by a child process"
    _, alive = psutil.wait_procs(list(helpers), timeout=15)
    assert alive == []

    with app.app_context():
        run = db.session.get(ImportRun, run_id)
        killed_at = run.rows_read
        assert 0 < killed_at < ROWS, "the kill must land half-way for this test to mean anything"
        assert run.status == ImportStatus.running
        assert (run.attempts, run.chunk_size) == (1, CHUNK)
        # Whole chunks only: the chunk in flight was rolled back with its counters.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) \
            == run.imported
        assert run.imported + run.rejected == killed_at
        # The page says how far it went, and goes on reloading itself.
        page = staff.get(f"/admin/imports/{run_id}")
        assert page.headers["Refresh"] == "5"
        assert f"{killed_at:,}".replace(",", "\u202f") in page.get_data(as_text=True)

        # Within its lease, the next tick leaves the run alone: its process may be alive.
        assert uploads.claim_next() is None
        later = clock.now() + uploads.LEASE + dt.timedelta(minutes=1)
        with clock.frozen_at(later):
            result = run_job(BY_ID["import_uploads"], later)

        assert result.summary == {"completed": 1}
        db.session.expire_all()
        run = db.session.get(ImportRun, run_id)
        rejected_lines = {n + 2 for n in range(ROWS) if _is_bad_email(n) or _is_elsewhere(n)}
        assert run.status == ImportStatus.completed
        assert run.attempts == 2
        assert (run.rows_read, run.imported, run.updated, run.unchanged, run.rejected) == (
            ROWS, ROWS - len(rejected_lines), 0, 0, len(rejected_lines))
        assert run.details["enrolments_created"] == run.imported
        assert run.details["sessions_created"] == ROWS // 12
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) \
            == run.imported

    # Every rejected row once in the rejected-rows file, none lost, none twice.
    content = staff.get(f"/admin/imports/{run_id}/rejets.csv").get_data().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(content), delimiter=";"))
    lines = [int(row[0]) for row in table[1:]]
    assert sorted(lines) == sorted(rejected_lines)
    assert len(lines) == len(set(lines))


def test_two_schedulers_share_the_uploads_without_importing_one_twice(
        app, database_url, signed_in, trainee_file):
    """Two processes run the job's work at once (two schedulers whose ticks overlap, an
    import lasting longer than a minute) over three waiting uploads: each file is
    imported by one of them, once."""
    staff = signed_in(Role.region, region="52")
    run_ids = [run_id_of(upload(staff, write_pe(
        Path(app.instance_path).parent / f"lot-{k}.txt",
        [pe_row(1000 * k + n, dn_session_id=f"S{k}-{n // 10}",
                dc_numeroicsession=f"SE{k}-{n // 10}") for n in range(600)])))
        for k in range(3)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    command = [sys.executable, "-c", JOB, database_url, app.instance_path, "100", "direct"]

    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], [err for _out, err in outputs]
    summaries = [ast.literal_eval(out.strip().splitlines()[-1]) for out, _err in outputs]
    assert sum(summary.get("completed", 0) for summary in summaries) == 3, summaries
    with app.app_context():
        runs = [db.session.get(ImportRun, run_id) for run_id in run_ids]
        assert [(r.status, r.attempts, r.rows_read, r.imported, r.unchanged) for r in runs] \
            == [(ImportStatus.completed, 1, 600, 600, 0)] * 3
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 1800
