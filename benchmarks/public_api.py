"""Benchmark: the public API v1 under load, against the floor of a bare Flask JSON answer.

Steps:
1. `avis db upgrade` on --database-url (`avis_bench` on 127.0.0.1 by default, created
   when missing). The data set of benchmarks/scores.py (20,000 bodies, 1,000,000
   answers, scored) is reused when it is there (`scores.reusable`); only when it is not
   is it written by `scores.load` (which empties the database first) and scored
   (`recompute_all()`). A database that holds it is never emptied;
2. gunicorn (`avis.wsgi:app`, 4 sync workers as in scores.py and survey_load.py) on a
   free port of 127.0.0.1 with AVIS_API_RATE_LIMIT="10000000 per minute" (every request
   comes from 127.0.0.1: the default 1,000 per minute would answer 429s after a
   second). Each target is probed first (a target that does not answer its expected
   status is not measured), warmed up 3 s, then loaded --duration seconds at
   --concurrency connections: wrk when it is installed, else Python threads. A status
   other than the expected one is an error:
   - single body: `/api/v1/organismes-formateurs/<siret>` of the body with most
     published comments (scores.pick_targets: 2,312 answers, 430 published comments,
     12 towns; 1,739 bytes), 200;
   - review list: `/api/v1/avis?organisme_formateur=<that siret>`, first page of 50
     reviews (~34 KB), 200;
   - conditional GET: the single body with `If-None-Match: <the ETag of a first GET>`,
     304 (wrk: the header with -H, and a Lua script counting other statuses);
3. the floor: `GET /json` of benchmarks/floor_app.py (bare Flask `jsonify` of a fixed
   dict of the same size, no database) served and loaded the same way;
4. requests/s, p50, p99 and errors per target, then a table of the targets with
   PASS/MISS: single body >= 1,000/s and >= 50 % of the floor, review list >= 400/s,
   304 >= 80 % of the floor, p99 < 100 ms each.

With --uncached, the same server runs with AVIS_PAGE_CACHE_SECONDS=0 (no page cache,
no early 304: every request does its whole work, as the first request of each URL does
in production) and the targets are shares of the floors measured in the same run (issue
16): single body >= 15 % and review list >= 10 % of the JSON floor, the public body
page `/organismes/<siret>` >= 15 % of the page floor (`GET /page` of floor_app.py, as in
benchmarks/scores.py).

Before the load it waits, up to --wait-pytest seconds (900), until no pytest process
runs on the machine (checked every 30 s), so that a test run does not skew the figures.

    .venv/bin/python benchmarks/public_api.py
    .venv/bin/python benchmarks/public_api.py --tool python --duration 10
    .venv/bin/python benchmarks/public_api.py --uncached --duration 5

Measured on 2 cores shared with other work, wrk, 12 connections, 4 sync workers, 15 s
per target, 3 runs with no pytest running (load average 0.1-2.0 before; a 4th run
during which a test run started gave about 60 % of these figures):
- single body 202-255/s (p50 47-59 ms, p99 70-81 ms): MISS (>= 1,000/s), 5-6 % of
  the floor: MISS (>= 50 %);
- review list 40-42/s (p50 274-292 ms, p99 378-448 ms): MISS (>= 400/s, p99);
- 304 207-239/s (p99 76-88 ms): 5 % of the floor: MISS (>= 80 %);
- floor (bare Flask jsonify, 1,739 bytes) 4,370-4,440/s, p99 7-10 ms. No errors.
Where the time went then, with no cache (Flask test client in-process against
avis_bench, cProfile and SQL timed per statement; since issue 16 see README, "Public
API": prepared statements kept, an index of a body's reviews): a single body costs
~8 ms of wall time, ~4 ms of Python
(SQLAlchemy and psycopg for 5 round trips: body by SIRET, is-a-teaching-body, score,
places, min/max marks; Werkzeug, Flask-Limiter) and ~4 ms in PostgreSQL, of which
2.3-2.8 ms is the min/max of `overall` over the body's 2,312 answers (bitmap heap scan
of 2,100 pages). A 304 costs the same: the view runs in full and the ETag is the hash
of the finished body (`after_request`: `add_etag`, `make_conditional`). The review
list costs ~47 ms, 39 ms of it SQL: the count (14-17 ms) and the page (19-25 ms, plus
~9 ms of planning) each join all 2,312 answers of the body to sessions, actions,
courses and scores before a top-50 sort (no index serves `ORDER BY answered_on DESC,
id DESC` per body), and `siret LIKE '<14 digits>%'` scans the 20,000 bodies.

Exit status: 0 when every target passes, 1 when one misses, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scores import (
    DEFAULT_URL,
    WARM_UP_S,
    Rate,
    _wrk_ms,
    ensure_database,
    load,
    measure,
    pick_targets,
    reusable,
    step,
)
from survey_load import (
    BENCHMARKS,
    HOST,
    ServerOptions,
    StepFailed,
    gunicorn,
    percentile,
    print_targets,
)

BODIES = 20_000
ANSWERS = 1_000_000
#: Every request comes from 127.0.0.1: the per-address limit must never be reached.
API_RATE_LIMIT = "10000000 per minute"
MIN_BODY_RPS = 1000
MIN_BODY_FLOOR_RATIO = 0.5
MIN_LIST_RPS = 400
MIN_NOT_MODIFIED_FLOOR_RATIO = 0.8
MAX_P99_MS = 100
#: --uncached: shares of the floors (issue 16).
UNCACHED_BODY_FLOOR_RATIO = 0.15
UNCACHED_LIST_FLOOR_RATIO = 0.10
UNCACHED_PAGE_FLOOR_RATIO = 0.15
PYTEST_POLL_S = 30
#: A test run's command line (pgrep's extended regex): "pytest" as a word, not the
#: "--wait-pytest" of a benchmark or of the flock that started it.
PYTEST_COMMAND = r"(^|[ /])pytest( |$)"

#: Counts the answers whose status is not the expected one (wrk counts only >= 400).
_WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
unexpected = 0
function response(status, headers, body)
  if status ~= EXPECTED then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("unexpected") end
  io.write(string.format("Unexpected statuses: %d\\n", total))
end
"""


# --- a GET with headers, expecting a status (the conditional GET) ---------------------


def fetch(port: int, path: str, headers: dict[str, str] | None = None,
          ) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request("GET", path, headers={"Accept-Language": "fr", **(headers or {})})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def load_wrk_expecting(rate: Rate, port: int, concurrency: int, seconds: float,
                       headers: dict[str, str], status: int) -> None:
    """scores.load_wrk with extra headers, and any status but `status` an error."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_WRK_SCRIPT.replace("EXPECTED", str(status)))
        script.flush()
        extra = [part for name, value in headers.items() for part in ("-H", f"{name}: {value}")]
        command = ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds:g}s", "--latency",
                   "--timeout", "10s", "-s", script.name, "-H", "Accept-Language: fr",
                   *extra, f"http://{HOST}:{port}{rate.path}"]
        output = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    requests = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    unexpected = re.search(r"Unexpected statuses: (\d+)", output)
    if requests is None or p50 is None or p99 is None or unexpected is None:
        raise StepFailed(f"wrk output not understood:\n{output}")
    rate.tool = "wrk"
    rate.requests = int(requests.group(1))
    rate.seconds = _wrk_ms(requests.group(2) + requests.group(3)) / 1000
    rate.p50_ms, rate.p99_ms = _wrk_ms(p50.group(1)), _wrk_ms(p99.group(1))
    rate.errors = int(unexpected.group(1))
    sockets = re.search(r"Socket errors: connect (\d+), read \d+, write (\d+), "
                        r"timeout (\d+)", output)
    if sockets:
        # A read error is the close of a sync worker after its answer (see load_wrk).
        rate.errors += sum(int(g) for g in sockets.groups())


def load_python_expecting(rate: Rate, port: int, concurrency: int, seconds: float,
                          headers: dict[str, str], status: int) -> None:
    """scores.load_python with extra headers, and any status but `status` an error."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    sent = {"Accept-Language": "fr", **headers}

    def worker() -> None:
        connection: http.client.HTTPConnection | None = None
        mine: list[float] = []
        wrong = 0
        while time.perf_counter() < deadline:
            if connection is None:
                connection = http.client.HTTPConnection(HOST, port, timeout=60)
            started = time.perf_counter()
            try:
                connection.request("GET", rate.path, headers=sent)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = None
                wrong += 1
                continue
            mine.append(time.perf_counter() - started)
            wrong += response.status != status
            if response.will_close:  # a sync worker closes after each answer
                connection.close()
                connection = None
        if connection is not None:
            connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += wrong

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate.tool = "python"
    rate.seconds = time.perf_counter() - started
    rate.requests = len(latencies)
    rate.p50_ms, rate.p99_ms = percentile(latencies, 0.5), percentile(latencies, 0.99)
    rate.errors = errors[0]


def measure_not_modified(rate: Rate, port: int, args: argparse.Namespace) -> Rate:
    """A first GET of rate.path gives its ETag; then GETs with If-None-Match, 304."""
    response, content = fetch(port, rate.path)
    etag = response.getheader("ETag")
    if response.status != 200 or not etag:
        rate.note = f"GET {rate.path} answered {response.status}, ETag {etag}: not measured"
        print(f"  {rate.note}", flush=True)
        return rate
    headers = {"If-None-Match": etag}
    response, content = fetch(port, rate.path, headers)
    if response.status != 304 or content:
        rate.note = (f"GET {rate.path} with If-None-Match answered {response.status} "
                     f"({len(content)} bytes): not measured")
        print(f"  {rate.note}", flush=True)
        return rate
    runner = load_wrk_expecting if args.tool == "wrk" else load_python_expecting
    runner(Rate("warm-up", rate.path), port, args.concurrency, WARM_UP_S, headers, 304)
    runner(rate, port, args.concurrency, args.duration, headers, 304)
    print(f"  [{rate.label}] GET {rate.path} (If-None-Match: {etag}): {rate.line()}, "
          f"p50 {rate.p50_ms:.1f} ms, p99 {rate.p99_ms:.1f} ms ({rate.tool})", flush=True)
    return rate


# --- the steps ------------------------------------------------------------------------


def prepare_data(url: str) -> None:
    """Migrate; load and score the data set of scores.py only when it is not there."""
    from import_trainees import run_measured

    ensure_database(url)
    avis = str(Path(sys.executable).with_name("avis"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    env.update(AVIS_DATABASE_URL=url, AVIS_SECRET_KEY="bench")
    if run_measured("migrate", [avis, "db", "upgrade"], env).returncode:
        raise StepFailed("avis db upgrade failed")
    if reusable(url, BODIES, ANSWERS):
        print("  the data set of scores.py is there: reused", flush=True)
        return
    print("  no data set of scores.py there: loading it (the database is emptied)",
          flush=True)
    load(url, BODIES, ANSWERS)

    from avis import create_app
    from avis.db import db
    from avis.scores.aggregate import recompute_all

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        started = time.perf_counter()
        recompute_all()  # commits
        print(f"  recompute_all: {time.perf_counter() - started:.1f} s", flush=True)
        db.engine.dispose()


def wait_for_pytest(limit_s: float) -> bool:
    """Wait until no pytest process runs (every 30 s, at most limit_s); True if none."""
    deadline = time.monotonic() + limit_s
    while True:
        found = subprocess.run(["pgrep", "-f", PYTEST_COMMAND], capture_output=True, text=True,
                               check=False).stdout.split()
        # "pytest" in this benchmark's own command line (--wait-pytest) is not a test run.
        found = [pid for pid in found if pid != str(os.getpid())]
        if not found:
            return True
        if time.monotonic() >= deadline:
            print(f"  pytest still running after {limit_s:.0f} s (pids {', '.join(found)}): "
                  "measuring anyway, the figures are skewed", flush=True)
            return False
        print(f"  pytest running (pids {', '.join(found)}): waiting {PYTEST_POLL_S} s",
              flush=True)
        time.sleep(min(PYTEST_POLL_S, max(1.0, deadline - time.monotonic())))


def http_part(args: argparse.Namespace) -> tuple[Rate, Rate, Rate, Rate]:
    """(single body, review list, 304, floor)."""
    siret, answers, shown, _word, _named = pick_targets(args.database_url)
    print(f"  body {siret}: {answers:,} answers, {shown:,} published comments", flush=True)
    options = ServerOptions("sync", args.workers, 1)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    base_env["NO_PROXY"] = "127.0.0.1,localhost"
    env = {**base_env, "AVIS_DATABASE_URL": args.database_url, "AVIS_SECRET_KEY": "bench",
           "AVIS_API_RATE_LIMIT": API_RATE_LIMIT}
    print(f"  AVIS_API_RATE_LIMIT={API_RATE_LIMIT!r}: every request comes from {HOST}",
          flush=True)
    single = Rate("single body", f"/api/v1/organismes-formateurs/{siret}")
    reviews = Rate("review list", f"/api/v1/avis?organisme_formateur={siret}")
    not_modified = Rate("304 (If-None-Match)", single.path)
    with gunicorn("avis.wsgi:app", options, env) as (_master, port):
        measure(single, port, args)
        measure(reviews, port, args)
        measure_not_modified(not_modified, port, args)
    floor = Rate("floor", "/json")
    floor_env = {**base_env, "FLOOR_DATABASE_URL": args.database_url,
                 "FLOOR_SECRET_KEY": "bench-floor"}
    with gunicorn("floor_app:app", options, floor_env,
                  ("--pythonpath", str(BENCHMARKS))) as (_master, port):
        measure(floor, port, args)
    return single, reviews, not_modified, floor


def uncached_part(args: argparse.Namespace) -> list[tuple[str, str, bool | None, str]]:
    """--uncached: every request does its whole work (AVIS_PAGE_CACHE_SECONDS=0: no page
    cache, no early 304), as the first request of each URL does in production. The API
    answers against the JSON floor, the body page against the page floor (`/page`)."""
    siret, answers, shown, _word, _named = pick_targets(args.database_url)
    print(f"  body {siret}: {answers:,} answers, {shown:,} published comments", flush=True)
    options = ServerOptions("sync", args.workers, 1)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    base_env["NO_PROXY"] = "127.0.0.1,localhost"
    env = {**base_env, "AVIS_DATABASE_URL": args.database_url, "AVIS_SECRET_KEY": "bench",
           "AVIS_API_RATE_LIMIT": API_RATE_LIMIT, "AVIS_PAGE_CACHE_SECONDS": "0"}
    print(f"  AVIS_PAGE_CACHE_SECONDS=0, AVIS_API_RATE_LIMIT={API_RATE_LIMIT!r}", flush=True)
    single = Rate("single body, uncached", f"/api/v1/organismes-formateurs/{siret}")
    reviews = Rate("review list, uncached", f"/api/v1/avis?organisme_formateur={siret}")
    page = Rate("body page, uncached", f"/organismes/{siret}")
    with gunicorn("avis.wsgi:app", options, env) as (_master, port):
        for rate in (single, reviews, page):
            measure(rate, port, args)
    json_floor, page_floor = Rate("JSON floor", "/json"), Rate("page floor", "/page")
    floor_env = {**base_env, "FLOOR_DATABASE_URL": args.database_url,
                 "FLOOR_SECRET_KEY": "bench-floor"}
    with gunicorn("floor_app:app", options, floor_env,
                  ("--pythonpath", str(BENCHMARKS))) as (_master, port):
        measure(json_floor, port, args)
        measure(page_floor, port, args)
    rows: list[tuple[str, str, bool | None, str]] = []
    for rate, floor, target in ((single, json_floor, UNCACHED_BODY_FLOOR_RATIO),
                                (reviews, json_floor, UNCACHED_LIST_FLOOR_RATIO),
                                (page, page_floor, UNCACHED_PAGE_FLOOR_RATIO)):
        ratio = rate.rps / floor.rps if floor.rps else 0.0
        clean = rate.requests > 0 and rate.errors == 0
        rows.append((rate.label, rate.line() if rate.requests else rate.note or "not measured",
                     None, ""))
        rows.append((f"{rate.label} / {floor.label}", f"{ratio:.1%}",
                     clean and ratio >= target, f">= {target:.0%}"))
        rows.append((f"{rate.label} p99", f"{rate.p99_ms:.0f} ms (p50 {rate.p50_ms:.0f} ms)",
                     None, ""))
    for floor in (json_floor, page_floor):
        rows.append((floor.label, f"{floor.line()}, p99 {floor.p99_ms:.0f} ms"
                     if floor.requests else floor.note or "not measured", None, ""))
    return rows


def verdicts(single: Rate, reviews: Rate, not_modified: Rate, floor: Rate,
             ) -> list[tuple[str, str, bool | None, str]]:
    def ratio(rate: Rate) -> float:
        return rate.rps / floor.rps if floor.rps else 0.0

    def value(rate: Rate) -> str:
        return rate.line() if rate.requests else rate.note or "not measured"

    def clean(rate: Rate) -> bool:
        return rate.requests > 0 and rate.errors == 0

    rows: list[tuple[str, str, bool | None, str]] = [
        ("single body", value(single), clean(single) and single.rps >= MIN_BODY_RPS,
         f">= {MIN_BODY_RPS}/s"),
        ("single body / floor", f"{ratio(single):.0%}",
         clean(single) and ratio(single) >= MIN_BODY_FLOOR_RATIO,
         f">= {MIN_BODY_FLOOR_RATIO:.0%}"),
        ("review list", value(reviews), clean(reviews) and reviews.rps >= MIN_LIST_RPS,
         f">= {MIN_LIST_RPS}/s"),
        ("304", value(not_modified), None, ""),
        ("304 / floor", f"{ratio(not_modified):.0%}",
         clean(not_modified) and ratio(not_modified) >= MIN_NOT_MODIFIED_FLOOR_RATIO,
         f">= {MIN_NOT_MODIFIED_FLOOR_RATIO:.0%}"),
    ]
    for rate in (single, reviews, not_modified):
        rows.append((f"{rate.label.split(' (')[0]} p99",
                     f"{rate.p99_ms:.0f} ms (p50 {rate.p50_ms:.0f} ms)",
                     rate.requests > 0 and rate.p99_ms < MAX_P99_MS, f"< {MAX_P99_MS} ms"))
    rows.append(("floor (bare Flask JSON)",
                 f"{value(floor)}, p99 {floor.p99_ms:.0f} ms" if floor.requests
                 else value(floor), None, ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="PostgreSQL database with the data set of scores.py; emptied "
                        "and loaded only when that is not there (default: %(default)s)")
    parser.add_argument("--concurrency", type=int, default=12)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per target")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--tool", choices=("wrk", "python"),
                        default="wrk" if shutil.which("wrk") else "python",
                        help="load generator (default: wrk when installed)")
    parser.add_argument("--wait-pytest", type=float, default=900.0, metavar="SECONDS",
                        help="wait at most this long for running pytest processes to end "
                        "before the load (default: %(default)g)")
    parser.add_argument("--uncached", action="store_true",
                        help="measure with avis's page cache off (every request does its "
                        "work): single body, review list and body page against the floors")
    args = parser.parse_args(argv)
    if args.tool == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed: --tool python")
    try:
        with step("1. data"):
            prepare_data(args.database_url)
        with step("waiting for pytest runs to end"):
            quiet = wait_for_pytest(args.wait_pytest)
        print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; "
              f"{os.cpu_count()} CPUs", flush=True)
        with step(f"2-3. HTTP ({args.tool}, {args.concurrency} connections, "
                  f"{args.duration:g} s per target, gunicorn {args.workers} sync workers"
                  f"{', page cache off' if args.uncached else ''})"):
            rows = uncached_part(args) if args.uncached else verdicts(*http_part(args))
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = print_targets(rows)
    if not quiet:
        print("(pytest was running during the load: the figures are skewed)")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return status


if __name__ == "__main__":
    sys.exit(main())
