"""Benchmark: the moderation queue with 200,000 comments awaiting, and decisions (#12).

The issue: "200,000 pending comments; queue page p95 < 100 ms, a decision < 20 ms
server time, under gunicorn on PostgreSQL". Against the floor of a bare Flask page and
form.

Steps:
1. the data set of benchmarks/scores.py (20,000 bodies, 1,000,000 answers) in
   --database-url (`avis_bench` on 127.0.0.1), migrated, reused when it is there and
   loaded otherwise (`public_api.prepare_data`: several minutes the first time); then
   topped up to 200,000 comments awaiting moderation (`comment_status = 'pending'`, the
   data set has ~23,000): answers without a comment, those of the last 12 months first
   in a fixed pseudo-random order (md5 of the id), are given one (`comment_public`),
   COPY to a temporary table then one UPDATE, then VACUUM ANALYZE. The comments are
   French titles and texts made of varied pieces: one in 12 with a phone number, one in 16 with
   an email address, some with a name after a civility, a street address, an insult or
   a shout, so that pre-screening has work; one in five has SEARCH_WORD. Only what is
   missing is given: the decisions of a run consume --decisions x 4 comments, the next
   run tops them up. Answers are given comments rather than inserted so that the data
   set stays what the other benchmarks read (one answer per answered invitation, the
   same marks and published comments);
2. two moderators, made with the app's own code (`operations.create` with a password,
   committed): a national one (no région) and one of région 52, at login.py's address
   domain so that one cleaning serves both benchmarks (`login.remove_accounts`: the
   accounts of a previous run of either, their sessions, and the journal events about
   them and by them; the moderation history stays, as it outlives accounts); then the
   answers to decide on, in the same fixed order: 3 x --decisions awaiting anywhere and
   --decisions awaiting in région 52;
3. waits, up to --wait-pytest seconds, until no pytest process runs (public_api);
4. gunicorn (`avis.wsgi:app`, --workers sync workers, 4 as in the other benchmarks)
   with its access log in a temporary file, as ACCESS_FORMAT (`%(D)s`: the microseconds
   from the parsed request to the response sent, the server time of a request). Each
   moderator signs in (GET /login, POST /login, 303 to /admin/) and opens /admin/: a
   step that does not work stops the run (exit 2);
5. the queue, with the cookie of a sign-in: GET /admin/moderation of the national
   moderator (first page, oldest first), with `?departement=49`, with `?q=SEARCH_WORD`,
   with `?page=500`, and the région-52 moderator's first page. Each is probed (200 and at
   least one `<article`: the page lists comments), warmed up 3 s, then loaded --duration
   s at --page-concurrency connections (login.measure_page: wrk with a Cookie header and
   a Lua script for p95 when installed, else Python threads). Before each, and before
   the decisions, the workers must be free (`drain`: --workers GET /healthz at once all
   answered within DRAINED_S), since a load tool that stops leaves its last requests
   running and a slow page would weigh on the next measure;
6. decisions, the CSRF token read from the queue page, each on a different comment
   awaiting: POST /admin/moderation/<id>/publier (qualification=positive,
   retour=/admin/moderation) one at a time; /rejeter (reason=insult) one at a time; the
   région-52 moderator's /publier one at a time; /publier --decision-concurrency at a
   time. Each must answer 303 to /admin/moderation; the server time of each is read
   from the access log (the client's is printed too), and the database must then hold
   every decision (the answer's new status and its moderation_events row);
7. the floor, benchmarks/floor_app.py served the same way (its own access log): `GET
   /page` (a small template, no database) loaded like the queue, then its form --decisions
   times one at a time (GET / then POST /: the CSRF check, one INSERT into floor_answers,
   a table made in the database and emptied by `floor_app.reset_table`, 303), whose POST
   is the floor of a decision;
8. a table of the targets (survey_load.print_targets): p95 < 100 ms for each queue page
   and server time p95 < 20 ms for each decision series taken one at a time (the issue);
   every decision in the database; the ratios to the floor (requests/s and p95 of the
   pages, server time of the decisions against the floor's POST) and the decisions at
   --decision-concurrency (4 at once on 2 cores shared with the client: CPU contention
   more than avis) are informative.

    .venv/bin/python benchmarks/moderation.py
    .venv/bin/python benchmarks/moderation.py --duration 10 --decisions 50 --tool python

Measured on 2 cores shared with test runs (pytest ran during both runs; load average
2-7), wrk at 4 connections for 15 s per page, 4 sync workers, 100 decisions per series:
- queue pages p95: first page no answer within 10 s (twice); département 49 4.1 and
  9.6 s; words 7.4 s and no answer within 10 s; page 500 8.3 and 9.6 s; région 52 6.6
  and 8.9 s: MISS (< 100 ms), 1 request/s or less. Floor (bare template) 1,245-1,530/s,
  p95 10-16 ms. One request at a time (Flask test client) costs 1.1-3.5 s, 94-97 % of it
  SQL: the page's `count(*) OVER ()` makes PostgreSQL join and keep every matching
  answer (200,000 rows with their text, to temporary files) before the LIMIT: 0.5-2.8 s;
  the counts of the two comment tabs join courses, bodies and sessions to 200,000 rows
  each: 0.1-0.7 s each (the "decided" one by a sequential scan of the million answers);
  rendering 20 comments ~40-60 ms. The page's 20 rows alone, read by id through an
  index on (answered_on, id) of the comments awaiting, take 1.7 ms even at page 500;
- decisions, server p95 (p50): publish 15.1 and 16.5 ms (10.7, 11.4), reject 15.8 and
  12.8 ms (11.1, 9.5), région 52 publish 17.2 and 17.6 ms (11.8, 10.0): PASS (< 20 ms);
  4 at a time 39.5 and 21.6 ms (informative). In-process a decision is ~7 ms, 2-3 of it
  SQL in 5 statements (session, scope check, conditional UPDATE, audit event, history
  row). Floor form POST p95 12.1 and 34.8 ms. Every decision was in the database.

After the fixes (the page's ids first, then 20 rows joined; counts capped at 1,000;
filters as semi-joins; screenings and the département select kept per process), a run
of 10 s per page on an otherwise quiet machine: first page p95 146 ms (47/s), page 500
190 ms, région 52 277 ms, département 49 976 ms, words 2,042 ms: MISS; decisions p95
13.5 / 8.5 / 10.9 ms: PASS; floor 2,419/s, p95 6 ms, floor POST p95 11 ms. A first page
is 28 ms in-process (6 ms SQL). What remains is in the counts under a département
filter or a région scope (sessions joined: ~45 ms each) and in `ILIKE` word search.

With answers carrying their session's région and département (partial indexes per
place, a trigram index for words) and the filters' form rendered once per query, 15 s
per page on a quiet machine: first page p95 79 ms (78/s), département 49 76 ms, page
500 88 ms, région 52 80 ms: PASS; words 264 ms: MISS (a word in 20 % of the comments:
each tab's count reads 40,000 trigram matches); decisions p95 14.4 / 10.9 / 11.8 ms:
PASS; floor 2,931/s, p95 5 ms, floor POST p95 5.1 ms.

With the comments' lowered copies (generated columns) in an index of the waiting ones,
the word's page and its count walked index-only (README, "Moderation"), 10 s per page,
40 decisions, others' tests running (load 3.5): words p95 80 ms (p50 51, 76/s; was 142
ms): PASS; first page 46 ms, département 49 47 ms, page 500 39 ms, région 52 43 ms:
PASS; decisions p95 11.4 / 7.7 / 7.4 ms: PASS; floor 5,100/s, p95 4 ms, floor POST
p95 10.2 ms. Again, busier (first page 83 ms, floor 2,821/s, p95 11 ms): words 84 ms
(p50 53): PASS.

Exit status: 0 when every target passes, 1 when one misses, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor_app
from login import (
    DOMAIN,
    LOGIN_RATE_LIMIT,
    MAX_PAGE_P95_MS,
    PASSWORD,
    PageRate,
    PytestWatch,
    measure_page,
    remove_accounts,
    signed_in_cookie,
)
from public_api import prepare_data, wait_for_pytest
from scores import DEFAULT_URL, SEED, _copy, step
from survey_load import (
    BENCHMARKS,
    FLOOR_KINDS,
    Browser,
    Load,
    ServerOptions,
    StepFailed,
    Unexpected,
    _csrf_token,
    _expect_redirect,
    _snippet,
    database_name,
    floor_flow,
    gunicorn,
    percentile,
    print_targets,
    run_load,
)

PENDING = 200_000
#: Comments are given to the answers of these last days first: a queue of recent months.
RECENT_DAYS = 365
REGION = "52"
QUEUE = "/admin/moderation"
#: The `?q=` search: a word of about one comment in five.
SEARCH_WORD = "alternance"
MAX_DECISION_MS = 20
#: gunicorn's access log: the request line, the status and the server time in µs.
ACCESS_FORMAT = "%(r)s %(s)s %(D)s"
#: /healthz answers within this when no worker is busy.
DRAINED_S = 0.5
_ACCESS_LINE = re.compile(r"^(\S+) (\S+) HTTP/[\d.]+ (\d{3}) (\d+)$")

# --- step 1: comments awaiting ----------------------------------------------------------

_TITLES = (
    "Très bonne formation", "Formation correcte", "Déçu", "À recommander", "Bof",
    "Une expérience enrichissante", "Trop court", "Parfait pour se reconvertir",
    "Formateurs au top", "Organisation à revoir", "Bien mais cher en temps",
    "Mitigé", "Je recommande", "Pas à la hauteur", "Une vraie remise à niveau",
    "Enfin un métier", "Bonne ambiance", "Des hauts et des bas",
)
_OPENINGS = (
    "Formation suivie au printemps.", "J'ai suivi cette formation après un licenciement.",
    "Dans l'ensemble, je suis satisfait.", "Je ne m'attendais pas à autant de travail.",
    "Reconversion réussie grâce à cette formation.", "Formation très dense.",
    "Je suis mitigée.", "Rien à redire sur l'accueil.", "Honnêtement, c'était long.",
    "Très bonne surprise.", "Je sors de cette formation épuisée mais contente.",
    "Formation financée par la Région, merci à elle.",
)
_MIDDLES = (
    "Les formateurs sont disponibles et connaissent leur métier.",
    "Le contenu est concret, avec beaucoup de mises en situation.",
    "Les locaux sont vétustes et le chauffage ne marchait pas en janvier.",
    "Le matériel informatique date un peu mais l'essentiel y est.",
    "Le rythme est soutenu sur la partie pratique, il faut s'accrocher.",
    "La période en entreprise m'a permis de décrocher un contrat.",
    "Le stage en alternance est bien encadré par le tuteur.",
    "Trop de théorie, pas assez d'exercices à mon goût.",
    "L'accompagnement pour la recherche d'emploi est sérieux.",
    "Les plannings changeaient souvent sans prévenir.",
    "Le groupe était soudé, on s'entraidait beaucoup.",
    "Un formateur était souvent absent et non remplacé.",
    "Les évaluations sont claires et on sait où on en est.",
    "J'aurais aimé une formation en alternance plutôt qu'à temps plein.",
    "La préparation au titre professionnel est bien pensée.",
    "Le CACES s'est bien passé, les moniteurs sont patients.",
    "La cantine est loin et la pause déjeuner trop courte.",
    "On apprend vraiment les gestes du métier.",
    "Les cours de français professionnel m'ont beaucoup aidé.",
    "L'administration met du temps à répondre aux questions.",
)
_ENDINGS = (
    "Je recommande.", "Merci à toute l'équipe.", "À améliorer sur l'organisation.",
    "Je referais le même choix.", "Bon courage aux suivants !",
    "Dommage pour la fin de parcours.", "Une bonne porte d'entrée dans le métier.",
    "", "",
)
_STREETS = ("rue des Lilas", "avenue Jean Jaurès", "boulevard Gambetta", "rue de la Paix")
_NAMES = ("Mme Lefèvre", "M. Moreau", "Monsieur Garnier", "la formatrice Sophie",
          "le formateur Julien")
_DOMAINS = ("gmail.com", "orange.fr", "free.fr", "laposte.net")


def _phone(rng: random.Random) -> str:
    pairs = [f"{rng.randrange(100):02d}" for _ in range(4)]
    lead = rng.choice(("06", "07", "02"))
    return rng.choice((" ", ".", "")).join([lead, *pairs])


def make_comment(rng: random.Random) -> tuple[str | None, str, set[str]]:
    """(title or None, text, the personal data or tone put in it)."""
    pieces = [rng.choice(_OPENINGS), *rng.sample(_MIDDLES, rng.randint(1, 3))]
    put: set[str] = set()
    if rng.random() < 1 / 20:
        pieces.append(f"Le parcours en {SEARCH_WORD} vaut le coup.")
    if rng.random() < 1 / 12:
        pieces.append(f"Pour en parler, appelez-moi au {_phone(rng)}.")
        put.add("phone")
    if rng.random() < 1 / 16:
        name = rng.choice(("camille", "alex.martin", "j.durand", "nadia44"))
        pieces.append(f"Écrivez-moi : {name}@{rng.choice(_DOMAINS)}")
        put.add("email")
    if rng.random() < 1 / 15:
        pieces.append(f"Merci surtout à {rng.choice(_NAMES)} pour sa patience.")
        put.add("name")
    if rng.random() < 1 / 40:
        pieces.append(f"Le centre est au {rng.randint(1, 80)} {rng.choice(_STREETS)}.")
        put.add("address")
    if rng.random() < 1 / 50:
        pieces.append("Le directeur est un connard.")
        put.add("insult")
    if rng.random() < 1 / 50:
        pieces.append("FORMATION À FUIR ABSOLUMENT")
        put.add("shouting")
    pieces.append(rng.choice(_ENDINGS))
    title = rng.choice(_TITLES) if rng.random() < 0.8 else None
    return title, " ".join(piece for piece in pieces if piece), put


def top_up(url: str) -> None:
    """Give comments to answers until PENDING await moderation; VACUUM ANALYZE if any."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        pending = connection.scalar(sa.text(
            "SELECT count(*) FROM answers WHERE comment_status = 'pending'"))
        missing = max(0, PENDING - pending)
        ids = connection.scalars(sa.text(
            "SELECT id FROM answers WHERE comment_status IS NULL AND comment_text IS NULL "
            "AND excluded_reason IS NULL ORDER BY answered_on >= current_date - "
            "CAST(:days AS integer) DESC, md5(id::text) LIMIT :n"),
            {"days": RECENT_DAYS, "n": missing}).all() if missing else []
        if len(ids) < missing:
            raise StepFailed(f"{pending:,} comments awaiting, and only {len(ids):,} answers "
                             f"without a comment to give {missing:,} more to")
        rng = random.Random(SEED + pending)
        rows, kinds = [], dict.fromkeys(("phone", "email", "name", "address", "insult",
                                         "shouting"), 0)
        for answer_id in ids:
            title, text, put = make_comment(rng)
            rows.append((answer_id, title, text))
            for kind in put:
                kinds[kind] += 1
        if rows:
            cursor = connection.connection.cursor()
            cursor.execute("CREATE TEMP TABLE bench_comments (id bigint PRIMARY KEY, "
                           "title text, text text) ON COMMIT DROP")
            _copy(cursor, "bench_comments", "id, title, text", rows)
            cursor.execute("UPDATE answers a SET comment_title = c.title, comment_text = "
                           "c.text, comment_public = true, comment_status = 'pending' "
                           "FROM bench_comments c WHERE a.id = c.id")
    if rows:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # As autovacuum would in time: index-only scans need the visibility map.
            connection.execute(sa.text("VACUUM ANALYZE answers"))
    with engine.connect() as connection:
        found = connection.execute(sa.text(
            "SELECT count(*), count(*) FILTER (WHERE comment_text ILIKE :word), "
            "min(answered_on), max(answered_on) FROM answers "
            "WHERE comment_status = 'pending'"), {"word": f"%{SEARCH_WORD}%"}).one()
    engine.dispose()
    given = (" (" + ", ".join(f"{count:,} with {kind}" for kind, count in kinds.items())
             + ")") if rows else ""
    print(f"  {pending:,} comments awaiting, {len(rows):,} given to answers without one"
          f"{given} in {time.perf_counter() - started:.1f} s; now {found[0]:,} awaiting, "
          f"answered {found[2]} to {found[3]}, {found[1]:,} with '{SEARCH_WORD}'",
          flush=True)


# --- step 2: moderators and the comments they decide on ---------------------------------


@dataclass
class Moderators:
    national: str
    region: str


def create_moderators(url: str) -> Moderators:
    from avis import create_app
    from avis.accounts.operations import AccountScope, create
    from avis.db import db

    moderators = Moderators(national=f"moderation-nationale@{DOMAIN}",
                            region=f"moderation-{REGION}@{DOMAIN}")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        removed = remove_accounts()
        create(moderators.national, AccountScope.build("moderator"), password=PASSWORD,
               reason="benchmarks/moderation.py")
        create(moderators.region, AccountScope.build("moderator", region=REGION),
               password=PASSWORD, reason="benchmarks/moderation.py")
        db.session.commit()
        db.engine.dispose()
    print(f"  {removed} accounts of a previous run (this one's or login.py's) deleted; "
          f"{moderators.national} and {moderators.region} created", flush=True)
    return moderators


def pick_pending(url: str, anywhere: int, in_region: int) -> tuple[list[int], list[int]]:
    """(ids awaiting anywhere, ids awaiting in REGION), none in both."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        regional = list(connection.scalars(sa.text(
            "SELECT a.id FROM answers a JOIN sessions s ON s.id = a.session_id "
            "WHERE a.comment_status = 'pending' AND s.region_code = :region "
            "ORDER BY md5(a.id::text) LIMIT :n"), {"region": REGION, "n": in_region}))
        national = list(connection.scalars(sa.text(
            "SELECT id FROM answers WHERE comment_status = 'pending' "
            "AND NOT (id = ANY(:taken)) ORDER BY md5(id::text) LIMIT :n"),
            {"taken": regional, "n": anywhere}))
    engine.dispose()
    if len(national) < anywhere or len(regional) < in_region:
        raise StepFailed(f"{len(national)} and {len(regional)} comments to decide on, for "
                         f"{anywhere} and {in_region}")
    return national, regional


# --- step 5: the queue --------------------------------------------------------------------


def _cookies(header: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in header.split("; ") if "=" in part)


def open_queue(port: int, path: str, cookie: str,
               ) -> tuple[http.client.HTTPResponse, bytes, dict[str, str]]:
    """GET a queue page with a moderator's cookie: (the response, its body, the cookies
    after), or the run stops if it is not a 200 page listing comments."""
    browser = Browser(port)
    browser.cookies = _cookies(cookie)
    try:
        response, content, _seconds = browser.request("GET", path)
    except OSError as exc:
        raise StepFailed(f"GET {path}: {exc}") from exc
    finally:
        browser.close()
    if response.status != 200 or b"<article" not in content:
        raise StepFailed(f"GET {path} answered {response.status} without a comment listed: "
                         f"{_snippet(content)}")
    return response, content, browser.cookies


def _healthz_flow(browser: Browser, _item: object, _rng: random.Random,
                  timings: dict[str, float]) -> None:
    response, content, timings["healthz"] = browser.request("GET", "/healthz")
    if response.status != 200:
        raise Unexpected(f"{response.status}: {_snippet(content)}")


def drain(port: int, workers: int, limit_s: float = 600) -> None:
    """Wait until `workers` GET /healthz sent at once all answer within DRAINED_S: every
    worker is free. A load tool that stops leaves its last requests running, and a queue
    page can take seconds: they must not weigh on the next measure."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        load = run_load("drain", port, list(range(workers)), workers, _healthz_flow,
                        ("healthz",))
        if not load.errors and max(load.requests["healthz"], default=1.0) < DRAINED_S:
            return
        time.sleep(1)
    raise StepFailed(f"gunicorn still busy {limit_s:.0f} s after a load")


# --- step 6: decisions --------------------------------------------------------------------


@dataclass
class Series:
    """Decisions of one kind, each on another comment."""

    label: str
    #: the URL's word: publier, rejeter
    decision: str
    form: dict[str, str]
    email: str
    ids: list[int]
    concurrency: int
    #: the database's status and moderation_events.decision afterwards
    status: str
    event: str
    #: a target (< MAX_DECISION_MS server time), or informative
    target: bool = True
    load: Load | None = None
    #: seconds, from gunicorn's access log
    server: list[float] = field(default_factory=list)
    recorded: int = 0

    def path(self, answer_id: object) -> str:
        return f"{QUEUE}/{answer_id}/{self.decision}"

    def summary(self) -> str:
        load = self.load
        assert load is not None
        client = load.requests["decision"]
        return (f"server p95 {percentile(self.server, 0.95):.1f} ms (p50 "
                f"{percentile(self.server, 0.5):.1f}, max {percentile(self.server, 1):.0f}); "
                f"client p50 {percentile(client, 0.5):.0f} ms p95 "
                f"{percentile(client, 0.95):.0f}; {load.completed} in {load.wall_s:.1f} s "
                f"({load.rate:.0f}/s), {len(load.errors)} errors")


def take_decisions(port: int, series: Series, cookie: str) -> None:
    # The queue page gives the form's token; the cookie it came with goes with each POST
    # (set again every time: the flashed message a decision adds to it is dropped).
    response, content, cookies = open_queue(port, QUEUE, cookie)
    try:
        form = {"csrf_token": _csrf_token(response, content), **series.form, "retour": QUEUE}
    except Unexpected as exc:
        raise StepFailed(f"GET {QUEUE}: {exc}") from exc

    def flow(browser: Browser, answer_id: object, _rng: random.Random,
             timings: dict[str, float]) -> None:
        browser.cookies = dict(cookies)
        response, body, timings["decision"] = browser.request("POST", series.path(answer_id),
                                                              form)
        _expect_redirect(response, body, QUEUE)

    series.load = run_load(series.label, port, list(series.ids), series.concurrency, flow,
                           ("decision",))


def read_access_log(path: Path) -> list[tuple[str, str, int, float]]:
    """(method, target, status, seconds) of each request gunicorn logged."""
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _ACCESS_LINE.match(line.strip())
        if match:
            method, target, status, micro = match.groups()
            found.append((method, target, int(status), int(micro) / 1e6))
    return found


def server_times(log: Path, method: str, targets: set[str]) -> list[float]:
    return [seconds for logged_method, target, _status, seconds in read_access_log(log)
            if logged_method == method and target in targets]


def check_recorded(url: str, series: list[Series], since: dt.datetime) -> None:
    """How many of each series' answers have the new status and their history row."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        for one in series:
            one.recorded = int(connection.scalar(sa.text(
                "SELECT count(*) FROM answers a WHERE a.id = ANY(:ids) AND "
                "a.comment_status = :status AND EXISTS (SELECT 1 FROM moderation_events e "
                "WHERE e.answer_id = a.id AND e.decision = :event AND e.occurred_dt >= "
                ":since)"), {"ids": one.ids, "status": one.status, "event": one.event,
                             "since": since}) or 0)
    engine.dispose()


# --- the run ------------------------------------------------------------------------------


@dataclass
class Results:
    pages: list[PageRate]
    series: list[Series]
    page_floor: PageRate
    #: the floor form's POSTs: the load, and the server seconds of each
    floor_posts: Load
    floor_server: list[float]


def make_series(args: argparse.Namespace, moderators: Moderators, national: list[int],
                regional: list[int]) -> list[Series]:
    n = args.decisions
    publish = {"qualification": "positive"}
    return [
        Series("publish, one at a time", "publier", publish, moderators.national,
               national[:n], 1, "published", "publish"),
        Series("reject, one at a time", "rejeter", {"reason": "insult"}, moderators.national,
               national[n:2 * n], 1, "rejected", "reject"),
        Series(f"publish, région {REGION}, one at a time", "publier", publish,
               moderators.region, regional, 1, "published", "publish"),
        Series(f"publish, {args.decision_concurrency} at a time", "publier", publish,
               moderators.national, national[2 * n:], args.decision_concurrency,
               "published", "publish", target=False),
    ]


def http_part(args: argparse.Namespace, moderators: Moderators, series: list[Series],
              logs: Path) -> Results:
    options = ServerOptions("sync", args.workers, 1)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    base_env["NO_PROXY"] = "127.0.0.1,localhost"
    env = {**base_env, "AVIS_DATABASE_URL": args.database_url, "AVIS_SECRET_KEY": "bench",
           "AVIS_LOGIN_RATE_LIMIT": LOGIN_RATE_LIMIT}
    avis_log, floor_log = logs / "avis.log", logs / "floor.log"
    with gunicorn("avis.wsgi:app", options, env, _access_log(avis_log)) as (_master, port):
        national = signed_in_cookie(port, moderators.national)
        region = signed_in_cookie(port, moderators.region)
        cookies = {moderators.national: national, moderators.region: region}
        pages = [(PageRate("queue", QUEUE), national),
                 (PageRate("queue, département 49", f"{QUEUE}?departement=49"), national),
                 (PageRate(f"queue, words '{SEARCH_WORD}'", f"{QUEUE}?q={SEARCH_WORD}"),
                  national),
                 (PageRate("queue, page 500", f"{QUEUE}?page=500"), national),
                 (PageRate(f"queue, région {REGION}", QUEUE), region)]
        listed = [open_queue(port, page.path, cookie)[1].count(b"<article")
                  for page, cookie in pages]
        print("  probe: both moderators signed in; comments listed: " + ", ".join(
            f"{page.label} {count}" for (page, _cookie), count in zip(pages, listed,
                                                                    strict=True)),
              flush=True)
        with step(f"5. the queue ({args.tool}, {args.page_concurrency} connections, "
                  f"{args.duration:g} s per page)"):
            for page, cookie in pages:
                drain(port, args.workers)
                measure_page(page, port, args, cookie)
            drain(port, args.workers)
        with step(f"6. decisions, {args.decisions} per series"):
            since = dt.datetime.now(dt.UTC)
            for one in series:
                take_decisions(port, one, cookies[one.email])
                time.sleep(0.5)  # the workers' last lines reach the log
                one.server = server_times(avis_log, "POST", {one.path(i) for i in one.ids})
                print(f"  [{one.label}] {one.summary()}", flush=True)
                for error in one.load.errors[:3] if one.load else ():
                    print(f"  error: {error}")
            check_recorded(args.database_url, series, since)
    page_floor = PageRate("floor", "/page")
    floor_app.reset_table(args.database_url)
    floor_env = {**base_env, "FLOOR_DATABASE_URL": args.database_url,
                 "FLOOR_SECRET_KEY": "bench-floor"}
    with (step("7. the floor"),
          gunicorn("floor_app:app", options, floor_env,
                   ("--pythonpath", str(BENCHMARKS), *_access_log(floor_log))) as (_m, port)):
        measure_page(page_floor, port, args, "")
        floor_posts = run_load("floor form", port, list(range(args.decisions)), 1,
                               floor_flow, FLOOR_KINDS)
        time.sleep(0.5)
        floor_server = server_times(floor_log, "POST", {"/"})
        print(f"  [floor form, one at a time] POST / server p95 "
              f"{percentile(floor_server, 0.95):.1f} ms (p50 "
              f"{percentile(floor_server, 0.5):.1f}); {floor_posts.completed} in "
              f"{floor_posts.wall_s:.1f} s, {len(floor_posts.errors)} errors", flush=True)
    return Results([page for page, _cookie in pages], series, page_floor, floor_posts,
                   floor_server)


def _access_log(path: Path) -> tuple[str, ...]:
    return ("--access-logfile", str(path), "--access-logformat", ACCESS_FORMAT)


def verdicts(results: Results, args: argparse.Namespace,
             ) -> list[tuple[str, str, bool | None, str]]:
    rows: list[tuple[str, str, bool | None, str]] = []
    for page in results.pages:
        # wrk gives no latency for requests it gave up on (--timeout 10 s).
        value = page.summary() if page.errors < page.requests else (
            f"no answer within 10 s ({page.errors} of {page.requests} requests failed)")
        rows.append((f"{page.label} p95", value,
                     page.requests > 0 and page.errors == 0 and page.p95_ms < MAX_PAGE_P95_MS,
                     f"< {MAX_PAGE_P95_MS} ms"))
    floor_post_p95 = percentile(results.floor_server, 0.95)
    for one in results.series:
        load = one.load
        assert load is not None
        p95 = percentile(one.server, 0.95)
        clean = load.completed == len(one.ids) and len(one.server) == len(one.ids)
        rows.append((f"{one.label} server p95", one.summary(),
                     clean and p95 < MAX_DECISION_MS if one.target else None,
                     f"< {MAX_DECISION_MS} ms" if one.target else ""))
    sent = sum(one.load.completed for one in results.series if one.load)
    recorded = sum(one.recorded for one in results.series)
    rows.append(("decisions in the database", f"{recorded} of {sent} answered 303 (status "
                 "and history row)", recorded == sent > 0, "all"))
    page_floor = results.page_floor
    rows.append(("floor (bare Flask page)", page_floor.summary(), None, ""))
    rows.append(("floor form POST server p95", f"{floor_post_p95:.1f} ms (p50 "
                 f"{percentile(results.floor_server, 0.5):.1f}; CSRF, one INSERT, 303; "
                 f"{len(results.floor_posts.errors)} errors)", None, ""))
    for page in results.pages:
        share = page.rps / page_floor.rps if page_floor.rps else 0.0
        times = page.p95_ms / page_floor.p95_ms if page_floor.p95_ms else 0.0
        rows.append((f"{page.label} / floor", f"{share:.1%} of its requests/s, p95 x "
                     f"{times:.0f}" if page.p95_ms else "-", None, ""))
    for one in results.series:
        times = percentile(one.server, 0.95) / floor_post_p95 if floor_post_p95 else 0.0
        rows.append((f"{one.label} / floor", f"server p95 x {times:.1f} the floor form's",
                     None, ""))
    rows.append(("settings", f"gunicorn {args.workers} sync workers, "
                 f"{PENDING:,} comments awaiting", None, ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="PostgreSQL database of the data set of scores.py, reused when "
                        "there (else emptied and loaded), topped up to 200,000 comments "
                        "awaiting (default: %(default)s)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per page")
    parser.add_argument("--page-concurrency", type=int, default=4,
                        help="connections loading each queue page (default: %(default)s)")
    parser.add_argument("--decisions", type=int, default=100,
                        help="decisions per series (4 series; default: %(default)s)")
    parser.add_argument("--decision-concurrency", type=int, default=4,
                        help="moderators deciding at once in the last series "
                        "(default: %(default)s)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--tool", choices=("wrk", "python"),
                        default="wrk" if shutil.which("wrk") else "python",
                        help="load generator of the pages (default: wrk when installed)")
    parser.add_argument("--wait-pytest", type=float, default=900.0, metavar="SECONDS",
                        help="the longest wait for test runs to end before the measures "
                        "(default: %(default)g)")
    args = parser.parse_args(argv)
    if args.tool == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed: --tool python")
    if min(args.decisions, args.decision_concurrency, args.workers,
           args.page_concurrency) < 1:
        parser.error("counts must be at least 1")
    try:
        with step("1. data"):
            prepare_data(args.database_url)
            top_up(args.database_url)
        with step("2. moderators, and the comments they decide on"):
            moderators = create_moderators(args.database_url)
            national, regional = pick_pending(args.database_url, 3 * args.decisions,
                                              args.decisions)
            series = make_series(args, moderators, national, regional)
        with step("3. waiting for pytest runs to end"):
            quiet = wait_for_pytest(args.wait_pytest)
        print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; "
              f"{os.cpu_count()} CPUs; database {database_name(args.database_url)}",
              flush=True)
        with (step(f"4. gunicorn, {args.workers} sync workers"), PytestWatch() as watch,
              tempfile.TemporaryDirectory(prefix="moderation-bench-") as logs):
            results = http_part(args, moderators, series, Path(logs))
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = print_targets(verdicts(results, args))
    if watch.seen:
        print(f"(pytest ran during the measures, pids {', '.join(sorted(watch.seen))}: the "
              "figures are skewed)")
    elif not quiet:
        print("(pytest was running when the measures began: the figures are skewed)")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return status


if __name__ == "__main__":
    sys.exit(main())
