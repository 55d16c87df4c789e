"""An import killed half-way leaves whole chunks only; running it again completes it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from avis.db import db
from avis.models import Enrolment, ImportRun, ImportStatus, Session, Trainee
from tests.catalog.fixtures import make_siret, pe_row, write_pe

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("app_context")]

# Over 8 MB, so that the file is read by a child process, as large files are.
ROWS = 24_000
CHUNK = 500


def avis_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("avis")), *args]


def avis_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    env.update(AVIS_DATABASE_URL=database_url, AVIS_SECRET_KEY="test",
               AVIS_IMPORT_CHUNK_SIZE=str(CHUNK))
    return env


def big_file(path: Path) -> Path:
    rows = []
    for n in range(ROWS):
        session = n // 12
        rows.append(pe_row(
            n,
            dn_session_id=f"S{session}",
            dc_numeroicsession=f"SE{session}",
            dc_numeroicaction=f"AC{session % 50}",
            dc_siretorganismeformateur=make_siret(5000 + session % 40),
        ))
    return write_pe(path, rows)


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def kill_when(process: subprocess.Popen[bytes], reached: Callable[[], bool], *,
              seconds: float, ended: Callable[[], str]) -> set[psutil.Process]:
    """SIGKILL ``process`` as soon as ``reached()`` (polled every 10 ms, at most
    ``seconds``); the processes it had started meanwhile. ``ended()`` says why, should it
    end by itself first."""
    deadline = time.monotonic() + seconds
    helpers: set[psutil.Process] = set()
    try:
        while not reached():
            assert process.poll() is None, ended()
            assert time.monotonic() < deadline, "the import never committed a chunk"
            with contextlib.suppress(psutil.Error):
                helpers.update(psutil.Process(process.pid).children(recursive=True))
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
    return helpers


def enrolment_count(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.select(sa.func.count()).select_from(Enrolment.__table__))
    finally:
        engine.dispose()


def test_killed_import_is_completed_by_a_rerun(database_url, tmp_path, instance_path):
    path = big_file(tmp_path / "export.txt")
    env = avis_env(database_url)
    command = avis_command("import", "trainees", str(path), "--format", "pe")

    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, cwd=instance_path) as process:
        helpers = kill_when(process, lambda: enrolment_count(database_url) >= 2 * CHUNK,
                            seconds=120,
                            ended=lambda: "the import ended before it could be killed")
    assert process.returncode == -signal.SIGKILL
    readers = [p for p in helpers if "spawn_main" in " ".join(_cmdline(p))]
    assert readers, "a file this size is read by a child process"
    # The reader notices its parent is gone and stops: nothing is left running.
    _, alive = psutil.wait_procs(list(helpers), timeout=15)
    assert alive == []
    killed_at = enrolment_count(database_url)
    assert 0 < killed_at < ROWS, "the kill must land half-way for this test to mean anything"
    # Whole chunks only: the chunk in flight was rolled back with its counters.
    run = db.session.scalars(sa.select(ImportRun)).one()
    assert run.status == ImportStatus.running
    assert run.imported == killed_at

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                           cwd=instance_path, check=False)

    assert rerun.returncode == 0, rerun.stderr
    assert (
        f"{ROWS:,}".replace(",", "\u202f") + " lignes lues, "
        + f"{ROWS - killed_at:,}".replace(",", "\u202f") + " importées, 0 mises à jour, "
        + f"{killed_at:,}".replace(",", "\u202f") + " inchangées, 0 rejetées"
    ) in rerun.stdout
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == ROWS
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Trainee)) == ROWS
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Session)) == ROWS // 12
    statuses = db.session.scalars(sa.select(ImportRun.status).order_by(ImportRun.id)).all()
    assert statuses == [ImportStatus.interrupted, ImportStatus.completed]


def test_progress_bar_on_a_terminal_only(database_url, tmp_path, instance_path):
    """A terminal gets a progress bar on stderr; a pipe (a cron job's log) only the summary."""
    import fcntl
    import pty
    import struct
    import termios

    path = big_file(tmp_path / "export.txt")
    command = avis_command("import", "trainees", str(path), "--dry-run")
    env = avis_env(database_url)
    primary, replica = pty.openpty()
    # A terminal of 30 rows and 100 columns (a new pseudo-terminal has none).
    fcntl.ioctl(replica, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    try:
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=replica,
                              timeout=300, cwd=instance_path, check=False)
        os.close(replica)
        replica = -1
        terminal = b""
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the other side is closed and drained
                break
            if not data:
                break
            terminal += data
    finally:
        os.close(primary)
        if replica >= 0:
            os.close(replica)
    assert done.returncode == 0
    assert b"%|" in terminal  # tqdm's bar
    assert "simulation" in done.stdout.decode()

    piped = subprocess.run(command, env=env, capture_output=True, timeout=300,
                           cwd=instance_path, check=False)
    assert piped.returncode == 0
    assert piped.stderr == b""


def test_two_imports_of_overlapping_files_at_once(database_url, tmp_path, instance_path):
    """Two importers racing on the same trainees and sessions: no duplicate, no error."""
    shared = [pe_row(n, dn_session_id=f"S{n // 10}", dc_numeroicsession=f"SE{n // 10}")
              for n in range(1500)]
    first = write_pe(tmp_path / "a.txt", shared + [pe_row(5000 + n) for n in range(300)])
    # The same rows in the opposite order: without a fixed order of inserts within a
    # transaction, two such importers could deadlock on each other's new keys.
    mirrored = [row for start in range(0, len(shared), 100)
                for row in reversed(shared[start : start + 100])]
    second = write_pe(tmp_path / "b.txt", mirrored + [pe_row(6000 + n) for n in range(300)])
    env = avis_env(database_url)
    env["AVIS_IMPORT_CHUNK_SIZE"] = "100"
    commands = [avis_command("import", "trainees", str(path)) for path in (first, second)]

    processes = [subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, cwd=instance_path) for c in commands]
    outputs = [p.communicate(timeout=300) for p in processes]

    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert " 0 rejetées" in out
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Trainee)) == 2100
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 2100
    # Every shared row was imported by exactly one of the two runs.
    imported = sum(int(out.split(" importées")[0].rsplit(" ", 1)[-1].replace("\u202f", ""))
                   for out, _err in outputs)
    assert imported == 2100
