"""Benchmark: N trainees answer the end-of-training questionnaire, C at a time, over HTTP.

WARNING: this EMPTIES the database AVIS_DATABASE_URL (or --database-url) points to,
after migrating it, and creates a `floor_answers` table in it. Use a scratch database.

Steps:
1. `avis db upgrade`; every avis table emptied; N trainees enrolled in 40 sessions that
   ended two days ago; `create_end_of_training_invitations()`; one token minted per
   invitation (only its SHA-256 goes to the database, the tokens stay in memory). Not
   measured;
2. gunicorn serves `avis.wsgi:app` on a free port of 127.0.0.1, with
   AVIS_SURVEY_RATE_LIMIT set to "1000000 per minute": every virtual trainee comes from
   127.0.0.1, so the per-IP limit of the survey link (30 per minute in production)
   would otherwise refuse all but the first few. Waits until /healthz answers;
3. one probe trainee (an extra invitation) goes through the flow, then posts the same
   form again (must get the "already answered" page, 200, or a 303 to /q/merci or
   /q/deja-fait): if the flow does not work at all, the run stops there (exit 2)
   instead of counting thousands of errors;
4. the load: N virtual trainees, C at a time (one thread each, one keep-alive
   http.client connection per thread, reopened when the server closes it), each doing
   GET /q/<token> (303 to /q/, session cookie), GET /q/ (the form; csrf_token read with
   a regex), POST /q/ (varied ratings, a comment one time in three) expecting 303 to
   /q/merci. Latencies are measured client-side: per request kind and per trainee flow.
   Meanwhile the gunicorn tree's RSS is polled (psutil), CPU time is taken from the
   gunicorn tree, this client and the PostgreSQL processes serving the database, and
   the PostgreSQL connections opened are counted (pg_stat_database.sessions);
5. checks in the database: one answer receipt per answered invitation (exactly the
   invitations whose POST succeeded, plus the probe's), as many `answers` rows;
6. the floor: benchmarks/floor_app.py (bare Flask + Flask-WTF + SQLAlchemy core, the
   same form, one INSERT) served by gunicorn with the same worker settings, loaded the
   same way (GET / then POST /, N trainees, C at a time);
7. a table of the targets with PASS/MISS. gunicorn is stopped (SIGTERM, then SIGKILL
   after 30 s) whatever happens.

    .venv/bin/python benchmarks/survey_load.py --trainees 3000 --concurrency 32 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

Worker settings, both tried on 2 cores shared by gunicorn, PostgreSQL and this client
(3,000 trainees, 32 at a time, sharing the machine with other work):
- sync `--workers 4` (the default): 72-73 answers/s, p95 per request ~190 ms, floor
  204-266/s; every request opens a TCP connection (the sync worker closes it after each
  response: cheap on loopback); one PostgreSQL connection per worker; 725 MB RSS;
- gthread `--workers 2 --threads 8`: 57-66 answers/s, p95 310-360 ms, floor 237-276/s;
  half the RSS (385 MB), but two processes cannot use both cores fully (the GIL: the
  machine stays 10-15 % idle) and the pool (5 + 10 overflow) is smaller than the threads,
  so 320-480 PostgreSQL connections are opened per run; `--threads 4` avoids that churn
  and is no faster (59/s, p95 300 ms).
Rates move with whatever else runs on the machine; the gunicorn CPU time per answer
(printed, ~21 ms for avis, ~6 ms for the floor) hardly does. --floor-only measures the
floor alone (avis is neither migrated nor run; only `floor_answers` is written).

Exit status: 0 when every target passes, 1 when one misses, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import math
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor_app

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent

ANSWERS_PER_S = 150
MAX_P95_MS = 250
MIN_FLOOR_RATIO = 0.5
RATE_LIMIT = "1000000 per minute"
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
MONITOR_S = 0.2
#: Request kinds of the avis flow, then of the floor's.
AVIS_KINDS = ("link", "form", "post")
FLOOR_KINDS = ("form", "post")

_CSRF_INPUT = re.compile(r"<input[^>]*\bname=\"csrf_token\"[^>]*>")
_VALUE = re.compile(r"\bvalue=\"([^\"]+)\"")
_COMMENTS = [
    ("Très bonne formation", "Formateurs disponibles, contenu concret. Merci à toute "
     "l'équipe pour l'accompagnement pendant la recherche de stage."),
    ("Correct", "Les locaux étaient un peu petits et le matériel vieillissant, mais "
     "l'essentiel y était."),
    ("", "Rythme trop rapide sur la partie pratique ; j'aurais aimé plus d'exercices."),
    ("À recommander", "Une formation qui m'a permis de retrouver un emploi en deux mois."),
]


class StepFailed(Exception):
    """A step the measure depends on did not work: exit 2."""


# --- the client -------------------------------------------------------------------


class Unexpected(Exception):
    """A response that is not what the flow expects (counted as an error)."""


class Browser:
    """One virtual trainee's HTTP connection (kept alive across trainees of a thread)
    and cookies (reset for each trainee)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.connects = 0
        self.retries = 0
        #: the request being made, its token hidden: what an error message names
        self.step = ""

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                ) -> tuple[http.client.HTTPResponse, bytes, float]:
        """Send a request, read the whole response: (response, body, seconds)."""
        self.step = f"{method} {re.sub(r'^/q/[^/]+$', '/q/<token>', path)}"
        headers = {"Accept-Language": "fr"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            reused = self.connection is not None
            if self.connection is None:
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
                self.connects += 1
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server closed meanwhile: once, on a new one.
                self.close()
                if reused and attempt == 1:
                    self.retries += 1
                    continue
                raise
            elapsed = time.perf_counter() - started
            if response.will_close:
                self.close()
            for header in response.headers.get_all("Set-Cookie") or ():
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response, content, elapsed
        raise AssertionError("unreachable")


def _expect_redirect(response: http.client.HTTPResponse, content: bytes, path: str) -> None:
    location = response.getheader("Location") or ""
    if response.status != 303 or urllib.parse.urlsplit(location).path != path:
        raise Unexpected(f"{response.status} to {location or '-'} (expected 303 to {path}): "
                         f"{_snippet(content)}")


def _csrf_token(response: http.client.HTTPResponse, content: bytes) -> str:
    if response.status != 200:
        raise Unexpected(f"{response.status}: {_snippet(content)}")
    tag = _CSRF_INPUT.search(content.decode("utf-8", "replace"))
    value = _VALUE.search(tag.group(0)) if tag else None
    if value is None:
        raise Unexpected(f"200 without a csrf_token input: {_snippet(content)}")
    return value.group(1)


def _snippet(content: bytes) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", content.decode("utf-8", "replace")))
    return text.strip()[:160]


def answer_form(rng: random.Random, csrf_token: str) -> dict[str, str]:
    """A plausible answer: ratings leaning good, a comment one time in three."""
    form = {name: str(rng.choices((1, 2, 3, 4, 5), weights=(1, 2, 4, 8, 6))[0])
            for name in floor_app.DIMENSIONS}
    form["would_recommend"] = "yes" if rng.random() < 0.8 else "no"
    form["csrf_token"] = csrf_token
    if rng.random() < 1 / 3:
        title, text = rng.choice(_COMMENTS)
        form["comment_title"], form["comment_text"] = title, text
        if rng.random() < 0.7:
            form["comment_public"] = "y"
    if rng.random() < 0.2:
        form["accepts_contact"] = "y"
    return form


def avis_flow(browser: Browser, token: str, rng: random.Random,
              timings: dict[str, float]) -> dict[str, str]:
    """One trainee on avis: the link, the form, the answer (returned)."""
    response, content, timings["link"] = browser.request("GET", f"/q/{token}")
    _expect_redirect(response, content, "/q/")
    response, content, timings["form"] = browser.request("GET", "/q/")
    form = answer_form(rng, _csrf_token(response, content))
    response, content, timings["post"] = browser.request("POST", "/q/", form)
    _expect_redirect(response, content, "/q/merci")
    return form


def floor_flow(browser: Browser, _item: object, rng: random.Random,
               timings: dict[str, float]) -> dict[str, str]:
    """One trainee on the floor app: the form, the answer."""
    response, content, timings["form"] = browser.request("GET", "/")
    form = answer_form(rng, _csrf_token(response, content))
    response, content, timings["post"] = browser.request("POST", "/", form)
    _expect_redirect(response, content, "/merci")
    return form


@dataclass
class Load:
    """What one load run measured."""

    label: str
    kinds: tuple[str, ...]
    wall_s: float = 0.0
    completed: int = 0
    #: items (tokens) whose flow succeeded
    done: list[object] = field(default_factory=list)
    flows: list[float] = field(default_factory=list)
    requests: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    connects: int = 0
    #: requests sent again because the server had closed a kept-alive connection
    retries: int = 0
    #: PostgreSQL sessions opened from gunicorn's start to its stop (pool churn)
    db_sessions: int | None = None
    client_cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.completed / self.wall_s if self.wall_s else 0.0

    def all_requests(self) -> list[float]:
        return [t for kind in self.kinds for t in self.requests.get(kind, ())]


def run_load(label: str, port: int, items: list[object], concurrency: int,
             flow: Callable[[Browser, object, random.Random, dict[str, float]], object],
             kinds: tuple[str, ...]) -> Load:
    """Every item through `flow`, `concurrency` threads at a time."""
    load = Load(label, kinds, requests={kind: [] for kind in kinds})
    lock = threading.Lock()
    queue = iter(enumerate(items))

    def worker() -> None:
        browser = Browser(port)
        try:
            while True:
                with lock:
                    nxt = next(queue, None)
                if nxt is None:
                    return
                index, item = nxt
                browser.cookies = {}
                timings: dict[str, float] = {}
                started = time.perf_counter()
                try:
                    flow(browser, item, random.Random(index), timings)
                except (Unexpected, OSError, http.client.HTTPException) as exc:
                    browser.close()
                    with lock:
                        load.errors.append(f"{browser.step}: {type(exc).__name__}: {exc}")
                    continue
                finally:
                    with lock:
                        for kind, seconds in timings.items():
                            load.requests[kind].append(seconds)
                elapsed = time.perf_counter() - started
                with lock:
                    load.completed += 1
                    load.done.append(item)
                    load.flows.append(elapsed)
        finally:
            browser.close()
            with lock:
                load.connects += browser.connects
                load.retries += browser.retries

    cpu_before = _own_cpu()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, name=f"trainee-{n}", daemon=True)
               for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.wall_s = time.perf_counter() - started
    load.client_cpu_s = _own_cpu() - cpu_before
    return load


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile, in milliseconds (0 when there is nothing)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1] * 1000


# --- gunicorn ---------------------------------------------------------------------


@dataclass
class ServerOptions:
    worker_class: str
    workers: int
    threads: int

    def arguments(self) -> list[str]:
        arguments = ["--workers", str(self.workers), "--worker-class", self.worker_class]
        if self.worker_class == "gthread":
            arguments += ["--threads", str(self.threads)]
        return arguments

    def __str__(self) -> str:
        threads = f" × {self.threads} threads" if self.worker_class == "gthread" else ""
        return f"{self.worker_class}, {self.workers} workers{threads}"


class Monitor:
    """While the load runs: polls the RSS of the gunicorn tree, and takes CPU time of
    that tree and of the PostgreSQL processes working for it (the backends connected to
    `database`, found by their process title, and the WAL writer, checkpointer and
    background writer). A backend that ends between two polls loses its last 0.2 s."""

    def __init__(self, master: psutil.Process, database: str) -> None:
        self.master = master
        self.peak_rss = 0
        self._title = re.compile(rf"^postgres: .*: \S+ {re.escape(database)} "
                                 r"|^postgres: .*: (walwriter|checkpointer|background writer)")
        self._cpu: dict[int, float] = {}
        self._pg_start: dict[int, float] = {}
        self._pg_last: dict[int, float] = {}
        self._gunicorn_start = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self._machine_start = psutil.cpu_times()
        self.machine_busy = 0.0

    def __enter__(self) -> Monitor:
        self._pg_start = self._postgres_cpu()
        self._gunicorn_start = sum(cpu for _rss, cpu in self._tree().values())
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        end = psutil.cpu_times()
        busy = sum(getattr(end, f) - getattr(self._machine_start, f)
                   for f in ("user", "system", "nice", "irq", "softirq"))
        total = sum(end) - sum(self._machine_start)
        self.machine_busy = busy / total if total else 0.0

    @property
    def gunicorn_cpu_s(self) -> float:
        return sum(self._cpu.values()) - self._gunicorn_start

    @property
    def postgres_cpu_s(self) -> float:
        return sum(cpu - self._pg_start.get(pid, 0.0) for pid, cpu in self._pg_last.items())

    def _run(self) -> None:
        while not self._stop.wait(MONITOR_S):
            self._sample()

    def _sample(self) -> None:
        rss = 0
        for pid, (member_rss, cpu) in self._tree().items():
            rss += member_rss
            self._cpu[pid] = cpu
        self.peak_rss = max(self.peak_rss, rss)
        self._pg_last.update(self._postgres_cpu())

    def _tree(self) -> dict[int, tuple[int, float]]:
        found = {}
        with contextlib.suppress(psutil.Error):
            for member in [self.master, *self.master.children(recursive=True)]:
                with contextlib.suppress(psutil.Error), member.oneshot():
                    times = member.cpu_times()
                    found[member.pid] = (member.memory_info().rss, times.user + times.system)
        return found

    def _postgres_cpu(self) -> dict[int, float]:
        found = {}
        for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
            title = " ".join(process.info["cmdline"] or ())
            times = process.info["cpu_times"]
            if process.info["name"] == "postgres" and times and self._title.match(title):
                found[process.pid] = times.user + times.system
        return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(app: str, options: ServerOptions, env: dict[str, str],
             extra: tuple[str, ...] = ()) -> Iterator[tuple[psutil.Process, int]]:
    """Serve `app` on a free port; yield (master, port) once /healthz answers; always
    stop it."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("gunicorn")), "--bind", f"{HOST}:{port}",
               *options.arguments(), "--graceful-timeout", str(STOP_TIMEOUT_S),
               "--log-level", "warning", *extra, app]
    env = {**env, "AVIS_BASE_URL": f"http://{HOST}:{port}"}
    print(f"$ {' '.join(command)}", flush=True)
    # Its own session: a Ctrl-C in the terminal reaches this script, which stops it.
    child = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    try:
        _wait_healthy(child, port)
        yield psutil.Process(child.pid), port
    finally:
        _stop(child)


def _wait_healthy(child: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise StepFailed(f"gunicorn exited {child.returncode} at start")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            finally:
                connection.close()
        time.sleep(0.2)
    raise StepFailed(f"/healthz did not answer 200 within {STARTUP_TIMEOUT_S} s")


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(STOP_TIMEOUT_S + 5)
        except subprocess.TimeoutExpired:
            # The master did not manage to stop its workers: end its whole group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    print(f"  gunicorn stopped (exit {child.returncode})", flush=True)


# --- avis -------------------------------------------------------------------------


def seed(url: str, count: int) -> dict[str, int]:
    """Empty the database, invite `count` trainees; {token: invitation id}."""
    import sqlalchemy as sa
    from dispatch import prepare

    from avis import clock, create_app
    from avis.db import db
    from avis.surveys import tokens
    from avis.surveys.jobs import create_end_of_training_invitations
    from avis.surveys.models.invitations import Invitation, InvitationToken

    prepare(url, count)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        created = create_end_of_training_invitations()
        ids = db.session.scalars(sa.select(Invitation.id).order_by(Invitation.id)).all()
        minted = {tokens.mint(): invitation_id for invitation_id in ids}
        now = clock.now()
        db.session.execute(sa.insert(InvitationToken), [
            {"invitation_id": invitation_id, "digest": tokens.digest(token), "created_dt": now}
            for token, invitation_id in minted.items()])
        db.session.commit()
        db.engine.dispose()
    if len(minted) != count:
        raise StepFailed(f"{len(minted)} invitations for {count} trainees ({created})")
    return minted


def probe(port: int, token: str) -> None:
    """One trainee through the flow, then a second POST: both must work."""
    browser = Browser(port)
    try:
        timings: dict[str, float] = {}
        form = avis_flow(browser, token, random.Random(-1), timings)
        # The same form again (a double click, a reload): the thank-you, no second answer.
        response, content, _seconds = browser.request("POST", "/q/", form)
        # avis shows the "already answered" page (200), or redirects to it when the two
        # posts race (303 to /q/deja-fait).
        location = urllib.parse.urlsplit(response.getheader("Location") or "").path
        if not (response.status == 200
                or (response.status == 303 and location in ("/q/merci", "/q/deja-fait"))):
            raise Unexpected(f"second POST: {response.status}: {_snippet(content)}")
    except (Unexpected, OSError, http.client.HTTPException) as exc:
        raise StepFailed(f"the probe trainee's flow failed: {exc}") from exc
    finally:
        browser.close()


def verify(url: str, answered: set[int]) -> tuple[int, int, int]:
    """(receipts, answers, receipts that are not exactly the answered invitations)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        receipts = set(connection.scalars(sa.text(
            "SELECT invitation_id FROM answer_receipts")).all())
        answers = connection.scalar(sa.text("SELECT count(*) FROM answers"))
    engine.dispose()
    return len(receipts), int(answers or 0), len(receipts ^ answered)


# --- report -----------------------------------------------------------------------


def report(load: Load, monitor: Monitor | None) -> None:
    n = load.completed + len(load.errors)
    print(f"\n[{load.label}] {n} trainees in {load.wall_s:.2f} s: {load.completed} completed "
          f"({load.rate:,.1f} answers/s), {len(load.errors)} errors, "
          f"{load.connects} TCP connections, {load.retries} retries", flush=True)
    print(f"  {'latency (ms)':<14} {'count':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    for kind, values in [*load.requests.items(), ("flow", load.flows)]:
        print(f"  {kind:<14} {len(values):>6} {percentile(values, 0.5):>8.1f} "
              f"{percentile(values, 0.95):>8.1f} {percentile(values, 0.99):>8.1f} "
              f"{percentile(values, 1.0):>8.1f}")
    if monitor is not None:
        wall = load.wall_s or 1.0
        print(f"  CPU over {wall:.1f} s: gunicorn {monitor.gunicorn_cpu_s:.1f} s "
              f"({monitor.gunicorn_cpu_s / wall:.2f} cores), PostgreSQL "
              f"{monitor.postgres_cpu_s:.1f} s ({monitor.postgres_cpu_s / wall:.2f} cores), "
              f"client and monitor {load.client_cpu_s:.1f} s "
              f"({load.client_cpu_s / wall:.2f} cores); "
              f"machine {monitor.machine_busy:.0%} busy ({psutil.cpu_count()} CPUs); "
              f"gunicorn peak RSS {monitor.peak_rss / 2**20:.0f} MB")
    if monitor is not None and load.completed:
        print(f"  gunicorn CPU per answer: {cpu_ms(monitor, load):.1f} ms")
    if load.db_sessions is not None:
        print(f"  PostgreSQL connections opened while gunicorn ran: {load.db_sessions}")
    for error in load.errors[:5]:
        print(f"  error: {error}")


def database_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).database or ""


def pg_sessions(url: str, since: int | None = None) -> int:
    """Sessions ever opened on the database (pg_stat_database), or opened since `since`.

    Read once gunicorn has stopped: a backend reports its session when it ends at the
    latest. This function's own connection is not counted."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        if since is not None:
            # Statistics of ended backends reach the shared counters within a moment.
            time.sleep(1.0)
        count = int(connection.scalar(sa.text(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()")) or 0)
    engine.dispose()
    return count if since is None else count - since - 1


def cpu_ms(monitor: Monitor, load: Load) -> float:
    return monitor.gunicorn_cpu_s / load.completed * 1000 if load.completed else 0.0


def measure_floor(args: argparse.Namespace, options: ServerOptions,
                  base_env: dict[str, str]) -> tuple[Load, Monitor]:
    floor_app.reset_table(args.database_url)
    env = {**base_env, "FLOOR_DATABASE_URL": args.database_url,
           "FLOOR_SECRET_KEY": "bench-floor"}
    served = gunicorn("floor_app:app", options, env, ("--pythonpath", str(BENCHMARKS)))
    sessions = pg_sessions(args.database_url)
    with served as (master, port), Monitor(master, database_name(args.database_url)) as monitor:
        load = run_load("floor", port, list(range(args.trainees)),
                        args.concurrency, floor_flow, FLOOR_KINDS)
    load.db_sessions = pg_sessions(args.database_url, sessions)
    report(load, monitor)
    rows = floor_app.count_rows(args.database_url)
    if rows != load.completed:
        print(f"  warning: {rows} floor rows for {load.completed} completed answers")
    return load, monitor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8, help="per worker, gthread only")
    parser.add_argument("--floor-only", action="store_true",
                        help="measure the floor app alone (avis is neither migrated nor run)")
    parser.add_argument("--database-url", default=os.environ.get("AVIS_DATABASE_URL"))
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url (a scratch database: it is emptied)")
    if args.trainees < 1 or args.concurrency < 1:
        parser.error("--trainees and --concurrency must be at least 1")
    options = ServerOptions(args.worker_class, args.workers, args.threads)
    print(f"{args.trainees} trainees, {args.concurrency} at a time; gunicorn {options}; "
          f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
          flush=True)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    base_env["NO_PROXY"] = "127.0.0.1,localhost"
    try:
        if args.floor_only:
            floor, _monitor = measure_floor(args, options, base_env)
            return 0 if not floor.errors else 1
        return run(args, options, base_env)
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace, options: ServerOptions, base_env: dict[str, str]) -> int:
    from import_trainees import run_measured

    avis = str(Path(sys.executable).with_name("avis"))
    env = {**base_env, "AVIS_DATABASE_URL": args.database_url, "AVIS_SECRET_KEY": "bench",
           "AVIS_SURVEY_RATE_LIMIT": RATE_LIMIT}
    if run_measured("migrate", [avis, "db", "upgrade"], env).returncode:
        raise StepFailed("avis db upgrade failed")
    print(f"seeding {args.trainees + 1} trainees, invitations and tokens…", flush=True)
    started = time.perf_counter()
    minted = seed(args.database_url, args.trainees + 1)
    print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
    tokens = list(minted)
    probe_token, tokens = tokens[0], tokens[1:]
    sessions = pg_sessions(args.database_url)
    with gunicorn("avis.wsgi:app", options, env) as (master, port):
        probe(port, probe_token)
        print("  probe trainee answered; a second POST got the thank-you", flush=True)
        with Monitor(master, database_name(args.database_url)) as monitor:
            load = run_load("avis", port, tokens, args.concurrency, avis_flow,
                            AVIS_KINDS)
    load.db_sessions = pg_sessions(args.database_url, sessions)
    report(load, monitor)
    answered = {minted[token] for token in [probe_token, *load.done]}  # type: ignore[index]
    receipts, answers, mismatched = verify(args.database_url, answered)
    print(f"  database: {receipts} answer receipts, {answers} answers, for {len(answered)} "
          f"answered invitations (probe included); {mismatched} receipts differ", flush=True)
    floor, floor_monitor = measure_floor(args, options, base_env)

    ratio = load.rate / floor.rate if floor.rate else 0.0
    p95 = percentile(load.all_requests(), 0.95)
    errors = len(load.errors)
    consistent = receipts == answers == len(answered) and not mismatched
    rows = [
        ("completed answers", f"{load.rate:,.1f}/s ({load.completed} in {load.wall_s:.1f} s)",
         load.rate >= ANSWERS_PER_S, f">= {ANSWERS_PER_S}/s"),
        ("p95 per request", f"{p95:.0f} ms "
         + " ".join(f"{k} {percentile(v, 0.95):.0f}" for k, v in load.requests.items()),
         p95 < MAX_P95_MS, f"< {MAX_P95_MS} ms"),
        ("p50 per request", " ".join(f"{k} {percentile(v, 0.5):.0f}"
                                     for k, v in load.requests.items()) + " ms", None, ""),
        ("p50/p95 per flow", f"{percentile(load.flows, 0.5):.0f} / "
         f"{percentile(load.flows, 0.95):.0f} ms", None, ""),
        ("errors", str(errors), errors == 0, "0"),
        ("floor", f"{floor.rate:,.1f}/s ({len(floor.errors)} errors)", None, ""),
        ("ratio to floor", f"{ratio:.0%}", ratio >= MIN_FLOOR_RATIO,
         f">= {MIN_FLOOR_RATIO:.0%}"),
        ("one receipt per answer", f"{receipts} receipts, {answers} answers",
         consistent, "= answered"),
        ("gunicorn peak RSS", f"{monitor.peak_rss / 2**20:.0f} MB ({options})", None, ""),
        # Unlike rates, CPU time per answer hardly depends on what else the machine runs.
        ("gunicorn CPU per answer", f"{cpu_ms(monitor, load):.1f} ms, floor "
         f"{cpu_ms(floor_monitor, floor):.1f} ms (PostgreSQL "
         f"{monitor.postgres_cpu_s / max(load.completed, 1) * 1000:.1f} ms)", None, ""),
        ("connections opened", f"{load.db_sessions} to PostgreSQL, floor {floor.db_sessions}",
         None, ""),
        ("machine", f"{monitor.machine_busy:.0%} busy during the load, "
         f"{os.cpu_count()} CPUs", None, ""),
    ]
    return print_targets(rows)


def print_targets(rows: list[tuple[str, str, bool | None, str]]) -> int:
    """The table of (measure, value, passed or None, target) rows; the exit status:
    0 when no target missed, 1 otherwise. Shared by the benchmarks."""
    width = max(len(label) for label, *_ in rows) + 2
    values = max(len(value) for _l, value, *_ in rows) + 2
    print(f"\n{'measure':<{width}} {'value':<{values}} {'target':<12} verdict")
    for label, value, ok, target in rows:
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"{label:<{width}} {value:<{values}} {target:<12} {verdict}")
    return 0 if all(ok is not False for _l, _v, ok, _t in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
