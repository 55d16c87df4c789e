"""Benchmark: sign-ins per second against a bare argon2id verify loop, and the back office
with 20,000 training bodies.

Steps:
1. the data set of benchmarks/scores.py (20,000 bodies, 1,000,000 answers) in
   --database-url (`avis_bench` on 127.0.0.1), migrated, reused when it is there and
   loaded otherwise, as benchmarks/public_api.py does (`public_api.prepare_data`: several
   minutes the first time);
2. benchmark accounts, made with the app's own code (`operations.create` with a password,
   in an app context, committed), all at @login-bench.example.org: --accounts
   organisation accounts (one per SIRET of the data set; the first is the body with most
   published comments, `scores.pick_targets`), a region account (région 52) and a
   national moderator. The accounts of a previous run are deleted first (their sessions
   go with them, ON DELETE CASCADE) with the journal events about them and the
   anonymous failed sign-ins from 127.0.0.1 (audit_events has no foreign key);
3. waits, up to --wait-pytest seconds, until no pytest process runs (public_api);
4. gunicorn (`avis.wsgi:app`, --workers sync workers, 4 as in the other benchmarks) with
   the argon2id parameters as configured (AVIS_ARGON2_* of this environment, else the
   defaults: time cost 3, 64 MiB, parallelism 4) passed on explicitly, and
   AVIS_LOGIN_RATE_LIMIT="10000000 per minute" (every client is 127.0.0.1: the
   production "20 per minute" would refuse nearly everything) and
   AVIS_LOGIN_MAX_FAILURES=1000000 (the failed sign-ins below must never lock an
   account: a locked one skips the UPDATE that counts failures). A probe signs in and
   opens /admin/; a step that does not work stops the run (exit 2);
5. the floor: argon2-cffi `PasswordHasher(...).verify` of a right password with the same
   parameters, in a loop, in as many processes as gunicorn has workers (4 and 4 by
   default), --floor-seconds in all: half before the sign-ins and half after, so that a
   change in what else the machine runs weighs on both sides; verifications/s (the mean
   of the two halves) and CPU time per verification. gunicorn is up but idle meanwhile;
6. sign-ins: --sign-ins virtual staff members, --concurrency at a time (Python threads,
   survey_load.run_load), cycling over the accounts: GET /login (session cookie,
   csrf_token), then POST /login with the right password, expecting 303 to /admin/;
   only those count. CPU time of gunicorn and PostgreSQL is taken meanwhile
   (survey_load.Monitor);
7. failed sign-ins, one at a time on the otherwise idle server, alternating an unknown
   address and a known address with a wrong password (--failures of each), after
   2 x workers unknown addresses sent at once (every worker then has its dummy hash):
   p50 of the POST of each, and whether the two pages are the same once the CSRF token
   and the typed address are set aside;
8. the back office, with the cookie of a sign-in: GET /admin/ of the region account, of
   the organisation account and of the moderator (national: not asked by the issue, but
   it is a home too), and GET /admin/organismes of the region account (the région's
   bodies, first page of 20), each warmed up 3 s then loaded --duration s at
   --page-concurrency connections (wrk with a Cookie header and a Lua script for p95 when
   installed, else Python threads); then the floor, `GET /page` of
   benchmarks/floor_app.py (a small template, no database), the same way;
9. a table of the targets (survey_load.print_targets): sign-ins/s >= 80 % of the floor's
   verifications/s (argon2 should be nearly all of a sign-in's cost); no error;
   unknown-address p50 / wrong-password p50 within 0.80-1.25 and the same page; p95 <
   100 ms for each back-office page (its requests/s against the floor's: informative).

    .venv/bin/python benchmarks/login.py
    .venv/bin/python benchmarks/login.py --sign-ins 200 --duration 10 --tool python

Concurrency of the back-office pages: 4 connections by default, as many as workers, so
that p95 is the time of a page on a busy server rather than the queue of a saturated one
(a back office has a few dozen users; --page-concurrency 12 compares with the other
benchmarks).

Measured on 2 cores (no test running; load average 0.5-0.8 before, ~5 after), 4 sync
workers, the floor in 4 processes, 300 sign-ins 16 at a time, 30 failed sign-ins of each
kind, wrk at 4 connections for 15 s per page:
- sign-ins / floor: 89-94 % in every run (floor 10.6-12.7 verifications/s, 155-186 ms
  of CPU each; sign-ins 9.7-11.5/s), PASS (>= 80 %), no errors. gunicorn CPU per
  sign-in 165-194 ms, 94-98 % of it the argon2 verification; PostgreSQL ~1 ms. With 1
  worker and 1 client a sign-in costs 181 ms of CPU against 179 ms per verification:
  avis adds ~2 ms to argon2; under load the rest of the gap is this client on the same
  cores. A run during end-to-end tests (load average 11) gave 130 %: rates are only
  comparable side by side, hence the floor in two halves and the CPU row;
- failed sign-ins p50, unknown address / wrong password: 0.94-1.03 in every run, PASS;
  the same 422 page, PASS. (Before the dummy hash was made at a process's first sign-in
  whatever the address, the first unknown address per worker took 229-300 ms against
  ~106 ms: a tell, now gone.)
- back office p95 (p50), requests/s, as committed (the région's body set kept a minute
  per process, see avis/accounts/scope.py), 2 runs: home région 52 33 and 35 ms (22),
  178-179/s; home organisation 25 and 21 ms (15, 13), 253-289/s; home moderator
  (national) 25 and 20 ms (16, 13), 239-290/s; bodies région 52 42 and 41 ms (29, 28),
  137-140/s: PASS (< 100 ms). Floor (bare template) 4,033-4,072/s, p95 4-5 ms: the
  pages make 3-7 % of it. On the way: an EXISTS per body, count(answers.id) and no
  index for pending comments gave région home 780-870 ms, moderator 369-528 ms, bodies
  603-814 ms; the body set as one query (a CTE of the région's actions, indexes on
  sessions (region_code, action_id) and pending comments) gave région home 73-108 ms
  and bodies 75-101 ms (MISS half the time): its SQL (~25 ms, the région's 25,028
  sessions hashed against 65,012 actions) ran on every page.

Exit status: 0 when every target passes, 1 when one misses, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import multiprocessing
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from public_api import _WRK_SCRIPT, PYTEST_COMMAND, prepare_data, wait_for_pytest
from scores import DEFAULT_URL, WARM_UP_S, Rate, pick_targets, step
from survey_load import (
    BENCHMARKS,
    HOST,
    Browser,
    Load,
    Monitor,
    ServerOptions,
    StepFailed,
    Unexpected,
    _csrf_token,
    _expect_redirect,
    _snippet,
    database_name,
    gunicorn,
    percentile,
    print_targets,
    run_load,
)

#: Every benchmark account's address ends so: what a next run deletes.
DOMAIN = "login-bench.example.org"
#: Long and unusual enough for the password rules (zxcvbn score 4).
PASSWORD = "Banc d'essai : tortue violette 47 sous l'orage de Nantes"
WRONG_PASSWORD = PASSWORD + " ?"
REGION = "52"
#: Every client is 127.0.0.1: the per-address limit must never be reached.
LOGIN_RATE_LIMIT = "10000000 per minute"
LOGIN_MAX_FAILURES = "1000000"
MIN_FLOOR_RATIO = 0.8
FAILED_RATIO_RANGE = (0.8, 1.25)
MAX_PAGE_P95_MS = 100
SIGN_IN_KINDS = ("form", "post")
FAILED_KINDS = ("unknown address", "wrong password")

#: public_api's script (counts the statuses that are not the expected one), whose `done`
#: is wrapped to print, in one line, what wrk's own summary gives as text and the p95
#: that its --latency leaves out. A read error is not counted: it is only the close of a
#: sync worker after its answer.
_WRK_MEASURED = """
local count_statuses = done
function done(summary, latency, requests)
  count_statuses(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("Measured: %d %d %d %.0f %.0f %.0f\\n", summary.requests,
                         summary.duration, e.connect + e.write + e.timeout,
                         latency:percentile(50), latency:percentile(95),
                         latency:percentile(99)))
end
"""
_INPUT_VALUE = re.compile(r'(<input[^>]*\bname="(?:csrf_token|email)"[^>]*\bvalue=")[^"]*"')


@dataclass(frozen=True)
class Argon2:
    """The hashing parameters, as avis reads them (AVIS_ARGON2_*, else its defaults)."""

    time_cost: int
    memory_kib: int
    parallelism: int

    def env(self) -> dict[str, str]:
        return {"AVIS_ARGON2_TIME_COST": str(self.time_cost),
                "AVIS_ARGON2_MEMORY_KIB": str(self.memory_kib),
                "AVIS_ARGON2_PARALLELISM": str(self.parallelism)}

    def __str__(self) -> str:
        return (f"argon2id t={self.time_cost}, m={self.memory_kib:,} KiB, "
                f"p={self.parallelism}")


@dataclass
class Accounts:
    """The benchmark accounts (all with PASSWORD)."""

    argon2: Argon2
    region: str
    moderator: str
    organisation: str
    #: every account, for the sign-ins and the failed attempts
    everyone: list[str]


@dataclass
class PageRate(Rate):
    """One back-office page under load: scores.Rate with p95."""

    p95_ms: float = 0.0

    def summary(self) -> str:
        return (f"p95 {self.p95_ms:.0f} ms (p50 {self.p50_ms:.0f}, p99 {self.p99_ms:.0f}); "
                f"{self.line()}")


# --- accounts -----------------------------------------------------------------------


def remove_accounts() -> int:
    """Delete the accounts of a previous run and what the journal says about them (in
    an app context; the caller commits)."""
    import sqlalchemy as sa

    from avis.accounts.models import Account
    from avis.audit.models import AuditEvent
    from avis.db import db

    ids = list(db.session.scalars(sa.select(Account.id).where(
        Account.email.endswith(f"@{DOMAIN}"))))
    db.session.execute(sa.delete(AuditEvent).where(sa.or_(
        AuditEvent.actor_id.in_(ids),
        sa.and_(AuditEvent.object_type == "account",
                AuditEvent.object_id.in_([str(i) for i in ids])),
        # Unknown addresses leave no account to find them by: only the address does.
        sa.and_(AuditEvent.actor_id.is_(None), AuditEvent.address == HOST,
                AuditEvent.action == "account.sign_in_failed"))))
    db.session.execute(sa.delete(Account).where(Account.id.in_(ids)))
    return len(ids)


def create_accounts(url: str, organisations: int, page_siret: str) -> Accounts:
    import sqlalchemy as sa

    from avis import create_app
    from avis.accounts.operations import AccountScope, create
    from avis.catalog.models.training_bodies import TrainingBody
    from avis.db import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    config = app.config
    argon2 = Argon2(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"],
                    config["ARGON2_PARALLELISM"])
    with app.app_context():
        removed = remove_accounts()
        sirets = [page_siret, *db.session.scalars(
            sa.select(TrainingBody.siret).where(TrainingBody.siret != page_siret)
            .order_by(TrainingBody.id).limit(organisations - 1))]
        scopes = {f"region-{REGION}@{DOMAIN}": AccountScope.build("region", region=REGION),
                  f"moderation@{DOMAIN}": AccountScope.build("moderator")}
        scopes.update({f"organisme-{n:03d}@{DOMAIN}":
                       AccountScope.build("organisation", establishment=siret)
                       for n, siret in enumerate(sirets)})
        started = time.perf_counter()
        for email, scope in scopes.items():
            create(email, scope, password=PASSWORD, reason="benchmarks/login.py")
        db.session.commit()
        print(f"  {removed} accounts of a previous run deleted; {len(scopes)} created in "
              f"{time.perf_counter() - started:.1f} s ({argon2})", flush=True)
        db.engine.dispose()
    emails = list(scopes)
    return Accounts(argon2, region=emails[0], moderator=emails[1], organisation=emails[2],
                    everyone=emails)


# --- the floor: argon2id alone ------------------------------------------------------


def _verify_loop(argon2: Argon2, seconds: float, ready: Any, results: Any) -> None:
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=argon2.time_cost, memory_cost=argon2.memory_kib,
                            parallelism=argon2.parallelism)
    stored = hasher.hash(PASSWORD)
    ready.wait()
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    while time.perf_counter() - started < seconds:
        hasher.verify(stored, PASSWORD)
        count += 1
    results.put((count, time.perf_counter() - started, time.process_time() - cpu))


@dataclass
class Floor:
    """What the verify loop did in its processes."""

    processes: int
    verifications: int = 0
    #: sum of each process's verifications/s
    rate: float = 0.0
    cpu_ms: float = 0.0


def measure_floor(argon2: Argon2, processes: int, seconds: float, label: str) -> Floor:
    """`processes` processes verifying for `seconds`, started together."""
    # Fresh interpreters: nothing of this one (its connections, its threads) in them.
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes)
    results = context.Queue()
    children = [context.Process(target=_verify_loop, args=(argon2, seconds, ready, results))
                for _ in range(processes)]
    for child in children:
        child.start()
    try:
        found = [results.get(timeout=seconds + 120) for _ in children]
    except queue.Empty:
        raise StepFailed("a process of the argon2id floor did not report") from None
    finally:
        for child in children:
            child.join(5)
            if child.is_alive():
                child.kill()
    floor = Floor(processes, verifications=sum(count for count, _s, _cpu in found))
    floor.rate = sum(count / elapsed for count, elapsed, _cpu in found)
    floor.cpu_ms = sum(cpu for _c, _s, cpu in found) / max(floor.verifications, 1) * 1000
    print(f"  [floor, {label}] {floor.verifications} verifications in {seconds:g} s by "
          f"{processes} processes: {floor.rate:.1f}/s, {floor.cpu_ms:.0f} ms of CPU each",
          flush=True)
    return floor


# --- signing in -----------------------------------------------------------------------


def login_form(browser: Browser, email: str, password: str) -> tuple[dict[str, str], float]:
    """GET /login: the form to post, with its CSRF token (the cookie goes with it), and
    the seconds the page took."""
    response, content, seconds = browser.request("GET", "/login")
    return {"csrf_token": _csrf_token(response, content), "email": email,
            "password": password}, seconds


def sign_in_flow(browser: Browser, email: object, _rng: random.Random,
                 timings: dict[str, float]) -> None:
    """One staff member signs in: the form, then the right password."""
    form, timings["form"] = login_form(browser, str(email), PASSWORD)
    response, content, timings["post"] = browser.request("POST", "/login", form)
    _expect_redirect(response, content, "/admin/")


def failed_flow(browser: Browser, item: object, _rng: random.Random,
                timings: dict[str, float]) -> None:
    """A refused sign-in (item: kind, email, password); only the POST is timed."""
    kind, email, password = item  # type: ignore[misc]
    form, _seconds = login_form(browser, email, password)
    response, content, timings[kind] = browser.request("POST", "/login", form)
    if response.status != 422:
        raise Unexpected(f"{response.status} (expected 422): {_snippet(content)}")


def signed_in_cookie(port: int, email: str) -> str:
    """The Cookie header of a browser that signed in as `email`."""
    browser = Browser(port)
    try:
        sign_in_flow(browser, email, random.Random(0), {})
        response, content, _seconds = browser.request("GET", "/admin/")
        if response.status != 200:
            raise Unexpected(f"GET /admin/ after signing in: {response.status}: "
                             f"{_snippet(content)}")
    except (Unexpected, OSError, http.client.HTTPException) as exc:
        raise StepFailed(f"signing in as {email} failed at {browser.step}: {exc}") from exc
    finally:
        browser.close()
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def failure_pages(port: int, known: str) -> tuple[bool, str]:
    """(same page?, what differs) for an unknown address and a wrong password, once the
    CSRF token and the typed address are set aside."""
    pages = []
    for email, password in ((f"personne@{DOMAIN}", PASSWORD), (known, WRONG_PASSWORD)):
        browser = Browser(port)
        try:
            form, _seconds = login_form(browser, email, password)
            response, content, _seconds = browser.request("POST", "/login", form)
        except (Unexpected, OSError, http.client.HTTPException) as exc:
            raise StepFailed(f"a failed sign-in did not answer: {exc}") from exc
        finally:
            browser.close()
        headers = sorted(name.lower() for name, _value in response.getheaders()
                         if name.lower() not in ("date", "content-length"))
        text = _INPUT_VALUE.sub(r'\1…"', content.decode("utf-8", "replace"))
        pages.append((response.status, headers, text))
    (status_a, headers_a, text_a), (status_b, headers_b, text_b) = pages
    if status_a != status_b:
        return False, f"statuses {status_a} and {status_b}"
    if headers_a != headers_b:
        return False, f"headers {headers_a} and {headers_b}"
    if text_a != text_b:
        return False, f"bodies of {len(text_a)} and {len(text_b)} characters"
    return True, f"the same {status_a} page"


def measure_failures(port: int, accounts: Accounts, count: int, workers: int) -> Load:
    unknown = [f"inconnu-{n}@{DOMAIN}" for n in range(count + 2 * workers)]
    # All at once: every worker verifies its first unknown address (and makes its dummy
    # hash) here, not during the measure.
    warm_up = [("unknown address", email, PASSWORD) for email in unknown[count:]]
    run_load("warm-up", port, warm_up, 2 * workers, failed_flow, FAILED_KINDS)
    known = itertools.cycle(accounts.everyone)
    items = [item for email in unknown[:count] for item in (
        ("unknown address", email, PASSWORD), ("wrong password", next(known), WRONG_PASSWORD))]
    failures = run_load("failed sign-ins", port, items, 1, failed_flow, FAILED_KINDS)
    print("  [failed sign-ins] " + ", ".join(
        f"{kind} p50 {percentile(failures.requests[kind], 0.5):.0f} ms "
        f"(p95 {percentile(failures.requests[kind], 0.95):.0f})" for kind in FAILED_KINDS)
        + f"; {len(failures.errors)} errors", flush=True)
    for error in failures.errors[:3]:
        print(f"  error: {error}")
    return failures


def report_sign_ins(load: Load, monitor: Monitor) -> None:
    wall = load.wall_s or 1.0
    print(f"  [sign-ins] {load.completed} in {load.wall_s:.1f} s ({load.rate:.1f}/s), "
          f"{len(load.errors)} errors; " + ", ".join(
              f"{kind} p50 {percentile(values, 0.5):.0f} ms p95 "
              f"{percentile(values, 0.95):.0f} ms" for kind, values in load.requests.items()),
          flush=True)
    print(f"  CPU over {wall:.1f} s: gunicorn {monitor.gunicorn_cpu_s:.1f} s, PostgreSQL "
          f"{monitor.postgres_cpu_s:.1f} s, client {load.client_cpu_s:.1f} s; machine "
          f"{monitor.machine_busy:.0%} busy", flush=True)
    for error in load.errors[:5]:
        print(f"  error: {error}")


# --- pages ------------------------------------------------------------------------------


def load_wrk_p95(rate: PageRate, port: int, concurrency: int, seconds: float,
                 headers: dict[str, str]) -> None:
    """wrk with extra headers; any status but 200 is an error; p50, p95 and p99."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_WRK_SCRIPT.replace("EXPECTED", "200") + _WRK_MEASURED)
        script.flush()
        extra = [part for name, value in headers.items() for part in ("-H", f"{name}: {value}")]
        command = ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "10s",
                   "-s", script.name, "-H", "Accept-Language: fr", *extra,
                   f"http://{HOST}:{port}{rate.path}"]
        output = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    unexpected = re.search(r"Unexpected statuses: (\d+)", output)
    measured = re.search(r"Measured: (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", output)
    if unexpected is None or measured is None:
        raise StepFailed(f"wrk output not understood:\n{output}")
    requests, microseconds, failed, *percentiles = (int(g) for g in measured.groups())
    rate.tool = "wrk"
    rate.requests, rate.seconds = requests, microseconds / 1e6
    rate.p50_ms, rate.p95_ms, rate.p99_ms = (us / 1000 for us in percentiles)
    rate.errors = int(unexpected.group(1)) + failed


def load_threads_p95(rate: PageRate, port: int, concurrency: int, seconds: float,
                     headers: dict[str, str]) -> None:
    """The same with Python threads (survey_load.run_load until the deadline)."""
    cookies = dict(part.split("=", 1) for part in headers.get("Cookie", "").split("; ")
                   if "=" in part)
    deadline = time.perf_counter() + seconds

    def flow(browser: Browser, _item: object, _rng: random.Random,
             timings: dict[str, float]) -> None:
        browser.cookies = dict(cookies)
        response, content, timings["page"] = browser.request("GET", rate.path)
        if response.status != 200:
            raise Unexpected(f"{response.status}: {_snippet(content)}")

    until_deadline = itertools.takewhile(lambda _n: time.perf_counter() < deadline,
                                         itertools.count())
    load = run_load(rate.label, port, until_deadline, concurrency, flow,  # type: ignore[arg-type]
                    ("page",))
    latencies = load.requests["page"]
    rate.tool = "python"
    rate.requests, rate.seconds, rate.errors = len(latencies), load.wall_s, len(load.errors)
    rate.p50_ms, rate.p95_ms, rate.p99_ms = (percentile(latencies, f)
                                             for f in (0.5, 0.95, 0.99))


def measure_page(rate: PageRate, port: int, args: argparse.Namespace, cookie: str) -> None:
    runner: Callable[..., None] = load_wrk_p95 if args.tool == "wrk" else load_threads_p95
    headers = {"Cookie": cookie} if cookie else {}
    runner(PageRate("warm-up", rate.path), port, args.page_concurrency, WARM_UP_S, headers)
    runner(rate, port, args.page_concurrency, args.duration, headers)
    print(f"  [{rate.label}] GET {rate.path}: {rate.summary()} ({rate.tool})", flush=True)


# --- the run ----------------------------------------------------------------------------


class PytestWatch:
    """The pytest processes seen while measuring (polled every few seconds): a test run
    that starts after `wait_for_pytest` skews the figures as much as one before."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pytest-watch", daemon=True)

    def __enter__(self) -> PytestWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            found = subprocess.run(["pgrep", "-f", PYTEST_COMMAND], capture_output=True, text=True,
                                   check=False).stdout.split()
            # This script itself, when given --wait-pytest on its command line.
            self.seen.update(set(found) - {str(os.getpid())})
            if self._stop.wait(5):
                return


@dataclass
class Results:
    #: before and after the sign-ins
    floors: list[Floor]
    sign_ins: Load
    monitor: Monitor
    failures: Load
    same_page: tuple[bool, str]
    pages: list[PageRate]
    page_floor: PageRate


def http_part(args: argparse.Namespace, accounts: Accounts) -> Results:
    options = ServerOptions("sync", args.workers, 1)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    base_env["NO_PROXY"] = "127.0.0.1,localhost"
    env = {**base_env, "AVIS_DATABASE_URL": args.database_url, "AVIS_SECRET_KEY": "bench",
           "AVIS_LOGIN_RATE_LIMIT": LOGIN_RATE_LIMIT,
           "AVIS_LOGIN_MAX_FAILURES": LOGIN_MAX_FAILURES, **accounts.argon2.env()}
    print(f"  AVIS_LOGIN_RATE_LIMIT={LOGIN_RATE_LIMIT!r}, AVIS_LOGIN_MAX_FAILURES="
          f"{LOGIN_MAX_FAILURES}; {accounts.argon2}", flush=True)
    with gunicorn("avis.wsgi:app", options, env) as (master, port):
        signed_in_cookie(port, accounts.organisation)
        same_page = failure_pages(port, accounts.organisation)
        print(f"  probe: signed in and opened /admin/; failed sign-ins: {same_page[1]}",
              flush=True)
        with step(f"5-6. argon2id alone in {args.workers} processes, {args.sign_ins} "
                  f"sign-ins {args.concurrency} at a time, argon2id alone again"):
            # Half of the floor before the sign-ins and half after: a change in what else
            # the machine runs then weighs on both sides alike.
            floors = [measure_floor(accounts.argon2, args.workers, args.floor_seconds / 2,
                                    "before")]
            emails = list(itertools.islice(itertools.cycle(accounts.everyone), args.sign_ins))
            with Monitor(master, database_name(args.database_url)) as monitor:
                sign_ins = run_load("sign-ins", port, emails, args.concurrency, sign_in_flow,
                                    SIGN_IN_KINDS)
            report_sign_ins(sign_ins, monitor)
            floors.append(measure_floor(accounts.argon2, args.workers, args.floor_seconds / 2,
                                        "after"))
        with step(f"7. failed sign-ins, {args.failures} of each kind, one at a time"):
            failures = measure_failures(port, accounts, args.failures, args.workers)
        with step(f"8. back office ({args.tool}, {args.page_concurrency} connections, "
                  f"{args.duration:g} s per page)"):
            region = signed_in_cookie(port, accounts.region)
            pages = [(PageRate(f"home, région {REGION}", "/admin/"), region),
                     (PageRate("home, organisation", "/admin/"),
                      signed_in_cookie(port, accounts.organisation)),
                     (PageRate("home, moderator (national)", "/admin/"),
                      signed_in_cookie(port, accounts.moderator)),
                     (PageRate(f"bodies, région {REGION}", "/admin/organismes"), region)]
            for page, cookie in pages:
                measure_page(page, port, args, cookie)
    page_floor = PageRate("floor", "/page")
    floor_env = {**base_env, "FLOOR_DATABASE_URL": args.database_url,
                 "FLOOR_SECRET_KEY": "bench-floor"}
    with gunicorn("floor_app:app", options, floor_env,
                  ("--pythonpath", str(BENCHMARKS))) as (_master, port):
        measure_page(page_floor, port, args, "")
    return Results(floors, sign_ins, monitor, failures, same_page,
                   [page for page, _cookie in pages], page_floor)


def verdicts(results: Results, args: argparse.Namespace, argon2: Argon2,
             ) -> list[tuple[str, str, bool | None, str]]:
    sign_ins, monitor = results.sign_ins, results.monitor
    floors = results.floors
    floor_rate = sum(floor.rate for floor in floors) / len(floors)
    verifications = sum(floor.verifications for floor in floors)
    floor_cpu_ms = sum(floor.cpu_ms * floor.verifications for floor in floors) / max(
        verifications, 1)
    ratio = sign_ins.rate / floor_rate if floor_rate else 0.0
    unknown, wrong = (percentile(results.failures.requests[kind], 0.5)
                      for kind in FAILED_KINDS)
    failed_ratio = unknown / wrong if wrong else 0.0
    low, high = FAILED_RATIO_RANGE
    per_sign_in = 1000 / max(sign_ins.completed, 1)
    sign_in_cpu_ms = monitor.gunicorn_cpu_s * per_sign_in
    rows: list[tuple[str, str, bool | None, str]] = [
        ("argon2id floor", f"{floor_rate:.1f} verifications/s (before "
         + " after ".join(f"{floor.rate:.1f}" for floor in floors)
         + f"; {floors[0].processes} processes, {floor_cpu_ms:.0f} ms of CPU each)", None, ""),
        ("sign-ins", f"{sign_ins.rate:.1f}/s ({sign_ins.completed} in {sign_ins.wall_s:.1f} s,"
         f" {args.concurrency} at a time)", None, ""),
        ("sign-ins / floor", f"{ratio:.0%}", sign_ins.completed > 0 and ratio >= MIN_FLOOR_RATIO,
         f">= {MIN_FLOOR_RATIO:.0%}"),
        ("sign-in errors", str(len(sign_ins.errors)), not sign_ins.errors, "0"),
        # Unlike rates, CPU times hardly depend on what else the machine runs.
        ("CPU per sign-in", f"gunicorn {sign_in_cpu_ms:.0f} ms (a verification: "
         f"{floor_cpu_ms / (sign_in_cpu_ms or 1):.0%} of it), PostgreSQL "
         f"{monitor.postgres_cpu_s * per_sign_in:.1f} ms", None, ""),
        ("machine", f"{monitor.machine_busy:.0%} busy during the sign-ins, "
         f"{os.cpu_count()} CPUs", None, ""),
        ("failed sign-in p50", f"unknown address {unknown:.0f} ms, wrong password "
         f"{wrong:.0f} ms ({len(results.failures.errors)} errors)", None, ""),
        ("unknown / wrong p50", f"{failed_ratio:.2f}",
         low <= failed_ratio <= high and not results.failures.errors, f"{low:.2f}-{high:.2f}"),
        ("failure pages", results.same_page[1], results.same_page[0], "the same"),
    ]
    for page in results.pages:
        rows.append((f"{page.label} p95", page.summary(),
                     page.requests > 0 and page.errors == 0 and page.p95_ms < MAX_PAGE_P95_MS,
                     f"< {MAX_PAGE_P95_MS} ms"))
    page_floor = results.page_floor
    rows.append(("floor (bare Flask page)", page_floor.summary(), None, ""))
    for page in results.pages:
        share = page.rps / page_floor.rps if page_floor.rps else 0.0
        rows.append((f"{page.label} / floor", f"{share:.1%} of its requests/s", None, ""))
    rows.append(("settings", f"{argon2}; gunicorn {args.workers} sync workers", None, ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="PostgreSQL database of the data set of scores.py, reused when "
                        "there (else emptied and loaded; default: %(default)s)")
    parser.add_argument("--accounts", type=int, default=20, help="organisation accounts")
    parser.add_argument("--sign-ins", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16, help="clients signing in")
    parser.add_argument("--failures", type=int, default=30,
                        help="failed sign-ins of each kind (unknown address, wrong password)")
    parser.add_argument("--floor-seconds", type=float, default=20.0,
                        help="argon2id alone: half before the sign-ins, half after")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per page")
    parser.add_argument("--page-concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4,
                        help="gunicorn sync workers, and processes of the floor")
    parser.add_argument("--tool", choices=("wrk", "python"),
                        default="wrk" if shutil.which("wrk") else "python",
                        help="load generator of the pages (default: wrk when installed)")
    parser.add_argument("--wait-pytest", type=float, default=900.0, metavar="SECONDS",
                        help="the longest wait for test runs to end before the measures "
                        "(default: %(default)g)")
    args = parser.parse_args(argv)
    if args.tool == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed: --tool python")
    if min(args.accounts, args.sign_ins, args.concurrency, args.failures, args.workers,
           args.page_concurrency) < 1:
        parser.error("counts must be at least 1")
    try:
        with step("1. data"):
            prepare_data(args.database_url)
        with step("2. accounts"):
            siret, answers, shown, _word, _named = pick_targets(args.database_url)
            print(f"  organisation account of body {siret}: {answers:,} answers, "
                  f"{shown:,} published comments", flush=True)
            accounts = create_accounts(args.database_url, args.accounts, siret)
        with step("3. waiting for pytest runs to end"):
            quiet = wait_for_pytest(args.wait_pytest)
        print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; "
              f"{os.cpu_count()} CPUs", flush=True)
        with step(f"4. gunicorn, {args.workers} sync workers"), PytestWatch() as watch:
            results = http_part(args, accounts)
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = print_targets(verdicts(results, args, accounts.argon2))
    if watch.seen:
        print(f"(pytest ran during the measures, pids {', '.join(sorted(watch.seen))}: the "
              "figures are skewed)")
    elif not quiet:
        print("(pytest was running when the measures began: the figures are skewed)")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return status


if __name__ == "__main__":
    sys.exit(main())
