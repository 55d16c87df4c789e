"""Benchmark: region staff's dashboard on 2.2 million enrolments (#13).

The issue: "1,000,000 enrolments, 20,000 bodies, 12 months on PostgreSQL: dashboard p95
< 200 ms for any filter, counts refresh after 10,000 new events < 2 s". Each target is
also stated as a ratio to a floor measured in the same run.

Steps:
1. the data set of benchmarks/scores.py (20,000 bodies, 1,000,000 answers, 2.2 million
   enrolments and invitations over two years) in --database-url (`avis_bench`), which is
   NEVER emptied here: when it is not there the run stops (run scores.py first). Other
   benchmarks use that database: this one only migrates it (`avis db upgrade`, as they
   do), adds rows it removes at the end, and removes its own accounts (addresses at
   DOMAIN);
2. `funnel.rebuild()`: every count again (wall time, informative: the daily job);
3. 10,000 new events, as an hour of traffic brings them, written set-wise: --events / 2
   trainees (addresses at DOMAIN) enrolled in as many sessions picked at random (md5 of
   the id), each with an end-of-training invitation sent (an invitation created and
   sent: one event each), then half of those moved on (delivered, email opened,
   questionnaire opened, answered: one event each). Then `funnel.refresh()` (timed: the
   target), and its floor: the same sessions' enrolments and invitations read once and
   counted per session (`count(*)` grouped, nothing written), the least a refresh must
   do. The refreshed rows of 200 of those sessions are compared with the same rows
   computed from scratch, and the sums of the month, body and course tables with the
   session table's;
4. three accounts (région 52; région 52 limited to funder 4; an admin, signing in
   without a second factor on this server only: AVIS_REQUIRE_TOTP_ROLES empty);
5. gunicorn (`avis.wsgi:app`, --workers sync workers), each account signed in
   (login.signed_in_cookie); pages probed (200, the funnel table there), then each
   warmed up 3 s and loaded --duration s at --page-concurrency connections (wrk with a
   Lua script for p95 when installed, else Python threads), the workers drained between
   two pages (moderation.drain). Pages: the default view (by month of session end) of
   each account; région 52 by training body, by course under a département and a
   funder, one body's SIRET, a campaign and a 6-month range by funder, a funding scheme;
   the admin's by body (19,000 bodies, the heaviest), the same over 6 months (read from
   the session rows: the body table has no months) and by département for Paris;
6. the floor: GET /page of benchmarks/floor_app.py (a small template, no database)
   served and loaded the same way;
7. the added trainees deleted (their enrolments and invitations with them), the counts
   rebuilt (timed), the accounts removed; a table of the targets with PASS/MISS.

    .venv/bin/python benchmarks/dashboard.py
    .venv/bin/python benchmarks/dashboard.py --duration 5 --tool python

Measured (2026-12-06, after #13's per-body and per-course tables and the refresh that
writes only the rows that changed; 2 cores, no pytest during the measures, load average
0.2-3.0; wrk, 4 connections, 5 s per page, 4 sync workers): rebuild 18.3 s (258,561
rows for 198,800 sessions; the daily job); refresh after 10,000 events in 5,000
sessions 1.76 s: PASS (x 4.5 its floor, 391 ms; 5,000 rows written). Pages p95: région
52 default 81 ms, by body 132 ms, département 44 + funder 2 by course 197 ms, one SIRET
92 ms, campaign + 6 months by funder 63 ms, a scheme 57 ms, funder-limited default 83
ms, admin default 96 ms, admin département 75 by body 146 ms: PASS; admin by body for
the nation 377 ms (p50 220; 62,814 body rows summed into 19,388 lines) and the same over
6 months 286 ms (read from the session rows): MISS. Floor 4,174/s, p95 3 ms. Within an
hour of loading the data set the refresh also recounts the 3,800 sessions the load
touched (8,806 sessions: 2.4-2.9 s, MISS); with a pytest run beside it the pages by
body, by course and the département's took 170-330 ms. In-process (quiet), the nation's
by-body page is ~100 ms, its query ~60 ms (the region's by-body page ~45 ms); the
refreshed rows equal rows computed afresh, and the month, body and course rows sum to
the session rows.

Exit status: 0 when every target passes, 1 when one misses, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from login import (
    LOGIN_RATE_LIMIT,
    PASSWORD,
    PageRate,
    PytestWatch,
    measure_page,
    signed_in_cookie,
)
from moderation import drain
from public_api import ANSWERS, BODIES, wait_for_pytest
from scores import DEFAULT_URL, reusable, step
from survey_load import (
    BENCHMARKS,
    Browser,
    ServerOptions,
    StepFailed,
    _snippet,
    database_name,
    gunicorn,
    print_targets,
)

DOMAIN = "dashboard-bench.example.org"
REGION = "52"
CAMPAIGN = "dashboard-bench"
MAX_PAGE_P95_MS = 200
MAX_REFRESH_S = 2.0
PAGE = "/admin/tableau-de-bord"


# --- step 1: the database -------------------------------------------------------------


def migrate(url: str) -> str:
    """`avis db upgrade`, as the other benchmarks' prepare_data does (the pages need every
    table the models name); what was done."""
    from avis.migrations import upgrade

    upgrade(url)
    return "migrated to head"


def app_for(url: str) -> Any:
    from avis import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})


# --- step 3: events ---------------------------------------------------------------------


@dataclass
class Refresh:
    events: int = 0
    sessions: int = 0
    seconds: float = 0.0
    touched: int = 0
    floor_s: float = 0.0
    checked: int = 0
    mismatches: int = 0
    months_equal: bool = False


def add_events(events: int) -> list[int]:
    """The events, committed; the sessions they are about."""
    import sqlalchemy as sa

    from avis.db import db

    people = events // 2
    sessions = list(db.session.scalars(sa.text(
        "SELECT id FROM sessions ORDER BY md5(id::text || 'dashboard') LIMIT :n"),
        {"n": people}))
    db.session.execute(sa.text(
        "INSERT INTO trainees (email, created_dt, updated_dt) "
        "SELECT 'stagiaire-' || n || '@" + DOMAIN + "', now(), now() "
        "FROM generate_series(1, :n) AS n"), {"n": people})
    db.session.execute(sa.text(
        "INSERT INTO enrolments (trainee_id, session_id, campaign, created_dt, updated_dt) "
        "SELECT t.id, s.session_id, :campaign, now(), now() "
        "FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM trainees "
        "      WHERE email LIKE '%@" + DOMAIN + "') t "
        "JOIN (SELECT session_id, row_number() OVER () AS n "
        "      FROM unnest(CAST(:sessions AS integer[])) AS session_id) s ON s.n = t.n"),
        {"campaign": CAMPAIGN, "sessions": sessions})
    db.session.execute(sa.text(
        "INSERT INTO invitations (enrolment_id, kind, status, created_dt, expires_dt, "
        "first_sent_dt, last_sent_dt, reminders_queued, status_dt) "
        "SELECT id, 'end_of_training', 'sent', now(), now() + interval '90 days', now(), "
        "now(), 0, now() FROM enrolments WHERE campaign = :campaign"), {"campaign": CAMPAIGN})
    # Half of them move on: a quarter each delivered, email opened, questionnaire
    # opened, answered.
    db.session.execute(sa.text(
        "WITH moved AS (SELECT i.id, row_number() OVER (ORDER BY i.id) % 4 AS step "
        "  FROM invitations i JOIN enrolments e ON e.id = i.enrolment_id "
        "  WHERE e.campaign = :campaign ORDER BY i.id LIMIT :n) "
        "UPDATE invitations SET "
        "  status = CASE moved.step WHEN 0 THEN 'delivered' WHEN 1 THEN 'opened' "
        "    WHEN 2 THEN 'opened' ELSE 'answered' END, "
        "  delivered_dt = now(), opened_dt = CASE WHEN moved.step > 0 THEN now() END, "
        "  clicked_dt = CASE WHEN moved.step > 1 THEN now() END, "
        "  answered_dt = CASE WHEN moved.step = 3 THEN now() END, status_dt = now() "
        "FROM moved WHERE invitations.id = moved.id"),
        {"campaign": CAMPAIGN, "n": events - people})
    db.session.commit()
    return sessions


def remove_events() -> int:
    import sqlalchemy as sa

    from avis.db import db

    removed = db.session.execute(sa.text(
        "DELETE FROM trainees WHERE email LIKE '%@" + DOMAIN + "'")).rowcount
    db.session.commit()
    return removed


def refresh_after_events(url: str, events: int) -> Refresh:
    import sqlalchemy as sa

    from avis.db import db
    from avis.monitoring import funnel
    from avis.monitoring.models.funnel import FunnelRun

    result = Refresh(events=events)
    app = app_for(url)
    with app.app_context():
        if remove_events():
            print("  trainees of an earlier run removed", flush=True)
        started = time.perf_counter()
        counts = funnel.rebuild()
        print(f"  rebuild: {time.perf_counter() - started:.1f} s, {counts['rows']:,} rows "
              f"for {counts['sessions']:,} sessions", flush=True)
        sessions = add_events(events)
        result.sessions = len(sessions)
        previous = db.session.scalars(sa.select(FunnelRun).order_by(FunnelRun.id.desc())
                                      .limit(1)).one()
        window = funnel.touched_sessions(previous.last_answer_id, previous.last_follow_up_id,
                                         previous.started_dt - funnel.SAFETY_MARGIN)
        db.session.rollback()
        started = time.perf_counter()
        counts = funnel.refresh()
        result.seconds = time.perf_counter() - started
        result.touched = counts["sessions"]
        print(f"  refresh after {events:,} events in {len(sessions):,} sessions: "
              f"{result.seconds:.2f} s; {counts['sessions']:,} sessions recounted, "
              f"{counts['rows']:,} rows written", flush=True)
        # The floor: the touched sessions' enrolments and invitations read and counted.
        touched = sorted(db.session.scalars(window))
        started = time.perf_counter()
        db.session.execute(sa.text(
            "SELECT e.session_id, count(*), count(i.id) FROM enrolments e "
            "LEFT JOIN invitations i ON i.enrolment_id = e.id "
            "WHERE e.session_id = ANY(:ids) GROUP BY e.session_id"), {"ids": touched}).all()
        result.floor_s = time.perf_counter() - started
        db.session.rollback()
        # The refreshed rows of 200 sessions, against the same rows computed afresh.
        sample = sessions[:200]
        columns = [*funnel._KEY, *funnel._PLACE, *funnel.COUNTS]
        stored = {_hashable(row) for row in db.session.execute(
            sa.select(*(funnel._table.c[c] for c in columns))
            .where(funnel._table.c.session_id.in_(sample))).all()}
        fresh = {_hashable(row) for row in db.session.execute(
            funnel.rows_of(funnel.places(sample).subquery())).all()}
        result.checked = len(fresh)
        result.mismatches = len(stored ^ fresh)
        sums = ", ".join(f"sum({c})" for c in funnel.COUNTS)
        whole = db.session.execute(sa.text(f"SELECT {sums} FROM monitoring_counts")).one()
        result.months_equal = all(
            db.session.execute(sa.text(f"SELECT {sums} FROM {table.name}")).one() == whole
            for table in funnel.SUMMED)
        db.session.rollback()
        db.engine.dispose()
    return result


def _hashable(row: Any) -> tuple[Any, ...]:
    return tuple(tuple(value) if isinstance(value, list) else value for value in row)


def clean_up(url: str) -> None:
    from avis.db import db
    from avis.monitoring import funnel

    app = app_for(url)
    with app.app_context():
        removed = remove_events()
        started = time.perf_counter()
        funnel.rebuild()
        print(f"  {removed:,} trainees removed; counts rebuilt in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        print(f"  {remove_accounts()} accounts removed", flush=True)
        db.session.commit()
        db.engine.dispose()


# --- step 4: accounts ---------------------------------------------------------------------


@dataclass
class Accounts:
    region: str
    funder: str
    admin: str


def remove_accounts() -> int:
    """Delete this benchmark's accounts and what the journal says about them (in an app
    context; the caller commits)."""
    import sqlalchemy as sa

    from avis.accounts.models import Account
    from avis.audit.models import AuditEvent
    from avis.db import db

    ids = list(db.session.scalars(sa.select(Account.id).where(
        Account.email.endswith(f"@{DOMAIN}"))))
    db.session.execute(sa.delete(AuditEvent).where(sa.or_(
        AuditEvent.actor_id.in_(ids),
        sa.and_(AuditEvent.object_type == "account",
                AuditEvent.object_id.in_([str(i) for i in ids])))))
    db.session.execute(sa.delete(Account).where(Account.id.in_(ids)))
    return len(ids)


def create_accounts(url: str) -> Accounts:
    from avis.accounts.operations import AccountScope, create
    from avis.db import db

    accounts = Accounts(region=f"region-{REGION}@{DOMAIN}",
                        funder=f"region-{REGION}-ft@{DOMAIN}", admin=f"admin@{DOMAIN}")
    app = app_for(url)
    with app.app_context():
        removed = remove_accounts()
        for email, scope in ((accounts.region, AccountScope.build("region", region=REGION)),
                             (accounts.funder, AccountScope.build("region", region=REGION,
                                                                  funders=(4,))),
                             (accounts.admin, AccountScope.build("admin"))):
            create(email, scope, password=PASSWORD, reason="benchmarks/dashboard.py")
        db.session.commit()
        db.engine.dispose()
    print(f"  {removed} accounts of a previous run deleted; 3 created", flush=True)
    return accounts


def page_targets(url: str) -> dict[str, str]:
    """Values the pages filter on: a large body of the région, a campaign, months."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        siret = connection.scalar(sa.text(
            "SELECT b.siret FROM monitoring_counts c JOIN training_bodies b "
            "ON b.id = c.training_body_id WHERE c.region_code = :region "
            "GROUP BY b.siret ORDER BY sum(c.enrolled) DESC LIMIT 1"), {"region": REGION})
        campaign = connection.scalar(sa.text(
            "SELECT campaign FROM monitoring_month_counts WHERE campaign <> :mine "
            "GROUP BY campaign ORDER BY sum(enrolled) DESC LIMIT 1"), {"mine": CAMPAIGN})
        last = connection.scalar(sa.text("SELECT max(end_month) FROM monitoring_month_counts "
                                         "WHERE end_month <= current_date"))
        scheme = connection.scalar(sa.text(
            "SELECT funding_scheme FROM monitoring_month_counts WHERE funding_scheme <> '' "
            "GROUP BY funding_scheme ORDER BY sum(enrolled) DESC LIMIT 1"))
    engine.dispose()
    start = (last - dt.timedelta(days=160)).replace(day=1)
    return {"siret": siret, "campaign": campaign, "from": f"{start:%Y-%m}",
            "to": f"{last:%Y-%m}", "scheme": scheme or ""}


# --- step 5: pages -----------------------------------------------------------------------


def probe(port: int, path: str, cookie: str) -> None:
    browser = Browser(port)
    browser.cookies = dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)
    try:
        response, content, _seconds = browser.request("GET", path)
    finally:
        browser.close()
    if response.status != 200 or b'id="funnel-table"' not in content:
        raise StepFailed(f"GET {path} answered {response.status}: {_snippet(content)}")


def http_part(args: argparse.Namespace, accounts: Accounts, values: dict[str, str]
              ) -> tuple[list[PageRate], PageRate]:
    from urllib.parse import quote

    options = ServerOptions("sync", args.workers, 1)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    base_env["NO_PROXY"] = "127.0.0.1,localhost"
    env = {**base_env, "AVIS_DATABASE_URL": args.database_url, "AVIS_SECRET_KEY": "bench",
           "AVIS_LOGIN_RATE_LIMIT": LOGIN_RATE_LIMIT, "AVIS_REQUIRE_TOTP_ROLES": ""}
    campaign = quote(values["campaign"])
    with gunicorn("avis.wsgi:app", options, env) as (_master, port):
        cookies = {email: signed_in_cookie(port, email)
                   for email in (accounts.region, accounts.funder, accounts.admin)}
        r, f, a = (cookies[accounts.region], cookies[accounts.funder], cookies[accounts.admin])
        pages = [
            (PageRate(f"région {REGION}, default (by month)", PAGE), r),
            (PageRate(f"région {REGION}, by body", f"{PAGE}?par=organisme"), r),
            (PageRate(f"région {REGION}, dép. 44 + funder 2, by course",
                      f"{PAGE}?departement=44&financeur=2&par=formation"), r),
            (PageRate(f"région {REGION}, one body's SIRET",
                      f"{PAGE}?siret={values['siret']}"), r),
            (PageRate(f"région {REGION}, campaign + 6 months, by funder",
                      f"{PAGE}?campagne={campaign}&depuis={values['from']}"
                      f"&jusqu={values['to']}&par=financeur"), r),
            (PageRate(f"région {REGION}, scheme, by scheme",
                      f"{PAGE}?dispositif={quote(values['scheme'])}&par=dispositif"), r),
            (PageRate(f"région {REGION} funder 4, default", PAGE), f),
            (PageRate("admin, default (nation)", PAGE), a),
            (PageRate("admin, by body (nation)", f"{PAGE}?par=organisme"), a),
            (PageRate("admin, dép. 75, by body", f"{PAGE}?departement=75&par=organisme"), a),
            (PageRate("admin, 6 months, by body (nation)",
                      f"{PAGE}?depuis={values['from']}&jusqu={values['to']}&par=organisme"), a),
        ]
        for page, cookie in pages:
            probe(port, page.path, cookie)
        print(f"  probe: {len(pages)} pages answer with their funnel", flush=True)
        with step(f"5. the dashboard ({args.tool}, {args.page_concurrency} connections, "
                  f"{args.duration:g} s per page)"):
            for page, cookie in pages:
                drain(port, args.workers)
                measure_page(page, port, args, cookie)
    floor = PageRate("floor", "/page")
    floor_env = {**base_env, "FLOOR_DATABASE_URL": args.database_url,
                 "FLOOR_SECRET_KEY": "bench-floor"}
    with (step("6. the floor"),
          gunicorn("floor_app:app", options, floor_env,
                   ("--pythonpath", str(BENCHMARKS))) as (_m, port)):
        measure_page(floor, port, args, "")
    return [page for page, _cookie in pages], floor


def verdicts(pages: list[PageRate], floor: PageRate, refresh: Refresh,
             args: argparse.Namespace) -> list[tuple[str, str, bool | None, str]]:
    rows: list[tuple[str, str, bool | None, str]] = []
    for page in pages:
        value = page.summary() if page.errors < page.requests else (
            f"no answer within 10 s ({page.errors} of {page.requests} requests failed)")
        rows.append((f"{page.label} p95", value,
                     page.requests > 0 and page.errors == 0 and page.p95_ms < MAX_PAGE_P95_MS,
                     f"< {MAX_PAGE_P95_MS} ms"))
    rows.append(("floor (bare Flask page)", floor.summary(), None, ""))
    for page in pages:
        times = page.p95_ms / floor.p95_ms if floor.p95_ms else 0.0
        limit = MAX_PAGE_P95_MS / floor.p95_ms if floor.p95_ms else 0.0
        rows.append((f"{page.label} / floor", f"p95 x {times:.1f} the floor's "
                     f"({page.rps / floor.rps:.1%} of its requests/s)" if floor.rps else "-",
                     None, f"target x {limit:.0f}"))
    rows.append((f"refresh after {refresh.events:,} events",
                 f"{refresh.seconds:.2f} s ({refresh.touched:,} sessions recounted)",
                 refresh.seconds < MAX_REFRESH_S, f"< {MAX_REFRESH_S:g} s"))
    times = refresh.seconds / refresh.floor_s if refresh.floor_s else 0.0
    rows.append(("refresh / floor (its sessions' enrolments read and counted)",
                 f"x {times:.1f} ({refresh.floor_s * 1000:.0f} ms)", None,
                 f"target x {MAX_REFRESH_S / refresh.floor_s:.0f}" if refresh.floor_s else ""))
    rows.append(("refreshed rows = rows computed afresh",
                 f"{refresh.mismatches} differ of {refresh.checked}",
                 refresh.mismatches == 0 and refresh.checked > 0, "0"))
    rows.append(("month, body, course rows sum to the session rows", str(refresh.months_equal),
                 refresh.months_equal, "True"))
    rows.append(("settings", f"gunicorn {args.workers} sync workers", None, ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="PostgreSQL database holding the data set of scores.py "
                        "(never emptied here; default: %(default)s)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per page")
    parser.add_argument("--page-concurrency", type=int, default=4,
                        help="connections loading each page (default: %(default)s)")
    parser.add_argument("--events", type=int, default=10_000,
                        help="events before the timed refresh (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--tool", choices=("wrk", "python"),
                        default="wrk" if shutil.which("wrk") else "python",
                        help="load generator (default: wrk when installed)")
    parser.add_argument("--wait-pytest", type=float, default=60.0, metavar="SECONDS",
                        help="the longest wait for test runs to end before the measures "
                        "(default: %(default)g)")
    args = parser.parse_args(argv)
    if args.tool == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed: --tool python")
    if min(args.events, args.workers, args.page_concurrency) < 2:
        parser.error("counts must be at least 2")
    try:
        with step("1. data"):
            if not reusable(args.database_url, BODIES, ANSWERS):
                raise StepFailed(f"no data set of benchmarks/scores.py in "
                                 f"{database_name(args.database_url)}: run scores.py first "
                                 "(this benchmark never empties a database)")
            print(f"  {migrate(args.database_url)}", flush=True)
        with step("3. waiting for pytest runs to end"):
            quiet = wait_for_pytest(args.wait_pytest)
        print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; "
              f"{os.cpu_count()} CPUs; database {database_name(args.database_url)}",
              flush=True)
        try:
            with step(f"2-3. rebuild, then refresh after {args.events:,} events"):
                refresh = refresh_after_events(args.database_url, args.events)
            with step("4. accounts"):
                accounts = create_accounts(args.database_url)
                values = page_targets(args.database_url)
            with step(f"5. gunicorn, {args.workers} sync workers"), PytestWatch() as watch:
                pages, floor = http_part(args, accounts, values)
        finally:
            with step("7. clean up"):
                clean_up(args.database_url)
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = print_targets(verdicts(pages, floor, refresh, args))
    if watch.seen:
        print(f"(pytest ran during the measures, pids {', '.join(sorted(watch.seen))}: the "
              "figures are skewed)")
    elif not quiet:
        print("(pytest was running when the measures began: the figures are skewed)")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return status


if __name__ == "__main__":
    sys.exit(main())
