"""Browser tests: Debian's Chromium through Playwright, against a live avis server.

The server runs in its own process on a free port of 127.0.0.1, with a temporary
instance folder and SQLite database, migrated and loaded with ``avis demo --if-empty`` (what
``make run`` runs): the demo runs the jobs, so the file backend's mailbox holds real
invitations whose links point at the live server. Each test takes invitations no other test
has used. What the demo printed is kept: ``demo_logins`` are the accounts it printed, and
the back-office tests sign in with exactly those.

Every test gets a phone (375×667, touch, French) by default. Every request a page makes
is recorded; one to any host other than 127.0.0.1 is blocked and fails the test.

Skipped, with the reason in the summary, when Chromium is not found: ``AVIS_CHROMIUM``
or ``/usr/bin/chromium`` (``apt-get install -y chromium``; never ``playwright install``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
import sqlalchemy as sa

from avis.surveys import tokens

HERE = Path(__file__).parent
CHROMIUM = Path(os.environ.get("AVIS_CHROMIUM") or "/usr/bin/chromium")
#: As root on a closed network (docs/PITFALLS.md): without the background-networking
#: flags Chromium floods the network with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Trainees in the demo data set: enough ended sessions for a few dozen invitations.
DEMO_TRAINEES = 300
LOCAL_HOST = "127.0.0.1"
#: Playwright's waits, in milliseconds: long enough for a loaded CI machine.
TIMEOUT_MS = 15_000

#: What the pages say, in each language (the French one from the translations).
TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "welcome": "L’accueil",
        "content": "Le contenu de la formation",
        "trainers": "L’équipe de formateurs",
        "equipment": "Les moyens matériels",
        "support": "L’accompagnement",
        "would_recommend": "Recommanderiez-vous cette formation",
        "yes": "Oui",
        "no": "Non",
        "mark": "{} sur 5",
        "comment_title": "Titre de votre commentaire",
        "comment_text": "Votre commentaire",
        "comment_public": "J’accepte que mon commentaire soit publié",
        "accepts_contact": "J’accepte d’être contacté",
        "submit": "Envoyer mon avis",
        "heading": "Votre avis sur votre formation",
        "thanks": "Merci pour votre avis",
        "answered": "Merci, vous avez répondu",
        "missing_mark": "Choisissez une note de 1 à 5.",
        "error_summary": "Des réponses manquent ou sont à corriger",
        "mailbox": "Boîte aux lettres de développement",
        "text_part": "Partie texte",
        "html_part": "Partie HTML",
        "email_button": "Donner mon avis",
        "unsubscribe": "Se désinscrire",
        "follow_up_heading": "Que devenez-vous depuis votre formation",
        "situation": "Quelle est votre situation aujourd’hui",
        "in_work": "J’ai un emploi",
        "follow_up_submit": "Envoyer mes réponses",
    },
    "en": {
        "welcome": "The welcome",
        "content": "The course content",
        "trainers": "The trainers",
        "equipment": "The equipment",
        "support": "The support",
        "would_recommend": "Would you recommend this course?",
        "yes": "Yes",
        "no": "No",
        "mark": "{} out of 5",
        "comment_title": "Title of your comment",
        "comment_text": "Your comment",
        "comment_public": "I agree to my comment being published",
        "accepts_contact": "I agree to be contacted",
        "submit": "Send my review",
        "heading": "Your opinion of your course",
        "thanks": "Thank you for your review",
        "answered": "Thank you, you have answered",
        "missing_mark": "Choose a mark from 1 to 5.",
        "error_summary": "Some answers are missing or need a correction",
        "unsubscribe": "Unsubscribe",
    },
}
DIMENSIONS = ("welcome", "content", "trainers", "equipment", "support")


# --- Chromium, or a visible skip ------------------------------------------------------

def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    return (f"browser tests need Chromium: {CHROMIUM} not found "
            "(apt-get install -y chromium, or set AVIS_CHROMIUM)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = chromium_missing()
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.slow)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


# Package scope: Playwright's sync API keeps an event loop running in this thread while the
# browser lives, and Flask then refuses to run app-context teardowns (asgiref) in every
# later test. The browser must be closed when the browser tests end.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- The live server ------------------------------------------------------------------

#: Migrate and load the demo in the server's instance folder and database, as ``make run``
#: does (then once more, as ``make run`` does on its next start); the demo's jobs write
#: the invitations into ``<instance>/mailbox``. Each command's output follows a line
#: ``$ avis <arguments>``.
_SEED = """
import sys
from avis import create_app
app = create_app(instance_path=sys.argv[1])
runner = app.test_cli_runner()
for args in (["db", "upgrade"], ["demo", "--if-empty", "--trainees", sys.argv[2]],
             ["demo", "--if-empty"]):
    result = runner.invoke(args=args)
    print("$ avis " + " ".join(args))
    print(result.output)
    if result.exit_code:
        print(repr(result.exception), file=sys.stderr)
        sys.exit(1)
"""

#: The web application alone (no scheduler: the demo already ran the jobs).
_SERVE = """
import sys
from werkzeug.serving import make_server
from avis import create_app
app = create_app(instance_path=sys.argv[1])
make_server("127.0.0.1", int(sys.argv[2]), app, threaded=True).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCAL_HOST, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    url: str
    instance: Path
    database_url: str
    #: What the seeding commands printed (see ``_SEED``).
    seed_output: str = ""

    @property
    def mailbox(self) -> Path:
        return self.instance / "mailbox"


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("e2e")
    instance = root / "instance"
    instance.mkdir()
    port = free_port()
    server = LiveServer(url=f"http://{LOCAL_HOST}:{port}", instance=instance,
                        database_url=f"sqlite:///{root / 'avis.db'}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVIS_")}
    env.update(AVIS_DATABASE_URL=server.database_url, AVIS_SECRET_KEY="e2e-secret",
               AVIS_BASE_URL=server.url, AVIS_MAIL_BACKEND="file",
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
               # Every test is the same client (127.0.0.1) opening survey links: far more
               # than a trainee's budget of token lookups.
               AVIS_SURVEY_RATE_LIMIT="10000 per minute",
               # Likewise every back-office sign-in (password, code, forgotten password).
               AVIS_LOGIN_RATE_LIMIT="10000 per minute")
    seeded = subprocess.run([sys.executable, "-c", _SEED, str(instance), str(DEMO_TRAINEES)],
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert seeded.returncode == 0, f"seeding failed:\n{seeded.stdout}\n{seeded.stderr[-3000:]}"
    server = dataclasses.replace(server, seed_output=seeded.stdout)
    log_path = root / "server.log"
    with log_path.open("wb") as log, subprocess.Popen(
            [sys.executable, "-c", _SERVE, str(instance), str(port)], env=env,
            stdout=log, stderr=subprocess.STDOUT) as process:
        try:
            _wait_until_up(server.url, process, log_path)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    # No proxy, whatever the environment says: the server is on this machine.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 30
    while True:
        try:
            with opener.open(f"{url}/healthz", timeout=5) as response:
                response.read()
            return
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"the live server stopped:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"the live server never answered:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)


# --- The demo accounts, as ``avis demo`` printed them --------------------------------

@dataclass(frozen=True)
class DemoLogin:
    """One line of the demo's logins: ``  <label>   <email>   <password>``."""

    label: str
    email: str
    password: str


_LOGINS_HEADING = re.compile(r"^Comptes de démonstration, à utiliser sur (\S+)/login :$")
_LOGIN_LINE = re.compile(r"^  (?P<label>\S.*?) +(?P<email>[^\s@]+@[^\s@]+) +(?P<password>\S+)"
                         r"(?P<note> +\[.*\])?$")


def parse_demo_logins(output: str) -> tuple[str, list[DemoLogin]]:
    """The sign-in address and the logins of the one block ``avis demo`` printed in
    ``output``: its heading line, then one line per account, up to the first other line.
    A login printed with a note (its password no longer opens it) fails."""
    lines = output.splitlines()
    starts = [n for n, line in enumerate(lines) if _LOGINS_HEADING.match(line)]
    assert len(starts) == 1, f"expected one block of demo logins, found {len(starts)}:\n{output}"
    heading = _LOGINS_HEADING.match(lines[starts[0]])
    assert heading
    logins = []
    for line in lines[starts[0] + 1:]:
        match = _LOGIN_LINE.match(line)
        if match is None:
            break
        assert not match["note"], f"the demo printed a login that does not work: {line!r}"
        logins.append(DemoLogin(match["label"], match["email"], match["password"]))
    assert logins, f"no login under the heading:\n{output}"
    return heading.group(1) + "/login", logins


def command_outputs(seed_output: str) -> dict[str, str]:
    """The seeding's output of each command, by its ``avis …`` line."""
    outputs: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in seed_output.splitlines():
        if line.startswith("$ avis "):
            current = outputs.setdefault(line[2:], [])
        elif current is not None:
            current.append(line)
    return {command: "\n".join(lines) for command, lines in outputs.items()}


@pytest.fixture(scope="package")
def demo_logins(live_server: LiveServer) -> list[DemoLogin]:
    """The demo accounts exactly as ``avis demo --if-empty`` (``make run``) printed them:
    when it loaded the demo, and the same again when it found the data already there."""
    outputs = command_outputs(live_server.seed_output)
    missing = "the seeding output lacks a demo command:\n" + live_server.seed_output
    loading = outputs.get(f"avis demo --if-empty --trainees {DEMO_TRAINEES}")
    assert loading is not None, missing
    again = outputs.get("avis demo --if-empty")
    assert again is not None, missing
    url, logins = parse_demo_logins(loading)
    assert url == f"{live_server.url}/login", f"the demo points at {url}"
    assert "Données déjà présentes" in again, again
    assert parse_demo_logins(again) == (url, logins), \
        f"a second start printed other logins:\n{again}"
    return logins


class Authenticator:
    """The authenticator app of the demo accounts: the keys they set up in the live
    server (which keeps them for the whole package), and the codes it gave.

    The server accepts each time step once per account, from the step before now to the
    step after: a code is that of the first step not used yet, waiting for it if need be.
    """

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.recovery_codes: dict[str, list[str]] = {}
        self._last_steps: dict[str, int] = {}

    def knows(self, email: str) -> bool:
        return email in self.keys

    def enrol(self, email: str, key: str) -> None:
        """A new key, as the setup page shows it (spaces are for reading)."""
        self.keys[email] = "".join(key.split())
        self._last_steps.pop(email, None)
        self.recovery_codes.pop(email, None)

    def forget(self, email: str) -> None:
        self.keys.pop(email, None)
        self._last_steps.pop(email, None)
        self.recovery_codes.pop(email, None)

    def code(self, email: str) -> str:
        totp = pyotp.TOTP(self.keys[email])
        last = self._last_steps.get(email)
        while True:
            now = time.time()
            step = totp.timecode(dt.datetime.fromtimestamp(now, dt.UTC))
            # Never the step before now: the server's clock may have moved on by the time
            # the code arrives.
            for candidate in (step, step + 1):
                if last is None or candidate > last:
                    self._last_steps[email] = candidate
                    return totp.generate_otp(candidate)
            time.sleep(totp.interval - now % totp.interval + 0.2)

    def wrong_code(self, email: str) -> str:
        """Six digits that are no code of the three steps the server would accept."""
        totp = pyotp.TOTP(self.keys[email])
        step = totp.timecode(dt.datetime.now(dt.UTC))
        taken = {totp.generate_otp(step + delta) for delta in range(-2, 3)}
        return next(code for code in ("000000", "111111", "222222") if code not in taken)


@pytest.fixture(scope="package")
def authenticator(live_server: LiveServer) -> Authenticator:
    """The second factors of the live server's accounts, as a phone app holds them."""
    return Authenticator()


# --- The emails the demo sent ---------------------------------------------------------

_SURVEY_LINK = re.compile(r"(https?://[^\s/]+/q/[A-Za-z0-9_-]+)(?:\?note=([1-5]))?")
_UNSUBSCRIBE_LINK = re.compile(r"https?://[^\s/]+/unsubscribe/[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class SurveyEmail:
    """One email of the mailbox, with the links of its text part."""

    name: str
    recipient: str
    subject: str
    text: str
    survey_url: str
    star_urls: dict[int, str]
    unsubscribe_url: str

    @property
    def kind(self) -> str:
        # Only the end-of-training emails carry the star links.
        return "end_of_training" if self.star_urls else "follow_up"

    @property
    def token(self) -> str:
        return self.survey_url.rsplit("/", 1)[1]


def parse_email(path: Path) -> SurveyEmail:
    message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, f"{path.name} has no text part"
    text = part.get_content()
    plain, stars = [], {}
    for match in _SURVEY_LINK.finditer(text):
        if match.group(2):
            stars[int(match.group(2))] = match.group(0)
        else:
            plain.append(match.group(1))
    assert len(set(plain)) == 1, f"{path.name}: expected one survey link, found {plain}"
    unsubscribe = _UNSUBSCRIBE_LINK.search(text)
    assert unsubscribe, f"{path.name} has no unsubscribe link"
    return SurveyEmail(name=path.name, recipient=message["To"].addresses[0].addr_spec,
                       subject=str(message["Subject"]), text=text, survey_url=plain[0],
                       star_urls=stars, unsubscribe_url=unsubscribe.group(0))


@pytest.fixture(scope="package")
def unused_emails(live_server: LiveServer, database: Database) -> dict[str, list[SurveyEmail]]:
    """The demo's emails by kind, each handed to one test only.

    Only emails whose recipient got no other email: the mailbox page then has one
    row for them, and answering one questionnaire cannot close another test's. Not those
    the demo itself answered (it answers a share of the invitations it mailed).
    """
    emails = [parse_email(path) for path in sorted(live_server.mailbox.glob("*.eml"))]
    counts: dict[str, int] = {}
    for message in emails:
        counts[message.recipient] = counts.get(message.recipient, 0) + 1
    pool: dict[str, list[SurveyEmail]] = {"end_of_training": [], "follow_up": []}
    for message in emails:
        if (counts[message.recipient] == 1
                and database.invitation(message.token)["status"] != "answered"):
            pool[message.kind].append(message)
    return pool


def _take(pool: dict[str, list[SurveyEmail]], kind: str) -> SurveyEmail:
    if not pool[kind]:
        pytest.fail(f"no unused {kind} email left in the demo mailbox: raise DEMO_TRAINEES")
    return pool[kind].pop(0)


@pytest.fixture
def survey_email(unused_emails: dict[str, list[SurveyEmail]]) -> SurveyEmail:
    """An end-of-training invitation no other test has opened."""
    return _take(unused_emails, "end_of_training")


@pytest.fixture
def another_survey_email(unused_emails: dict[str, list[SurveyEmail]]) -> SurveyEmail:
    return _take(unused_emails, "end_of_training")


@pytest.fixture
def follow_up_email(unused_emails: dict[str, list[SurveyEmail]]) -> SurveyEmail:
    """A 6-month follow-up invitation no other test has opened."""
    return _take(unused_emails, "follow_up")


# --- What the server recorded ---------------------------------------------------------

class Database:
    """Read-only look at the live server's database (committed data only)."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)

    def invitation(self, token: str) -> dict[str, Any]:
        with self.engine.connect() as connection:
            row = connection.execute(sa.text(
                "SELECT i.id, i.status, i.clicked_dt, i.answered_dt, "
                "r.invitation_id IS NOT NULL AS has_receipt, r.accepts_contact "
                "FROM invitations i JOIN invitation_tokens t ON t.invitation_id = i.id "
                "LEFT JOIN answer_receipts r ON r.invitation_id = i.id "
                "WHERE t.digest = :digest"), {"digest": tokens.digest(token)}).mappings().one()
        return dict(row)

    def answer_count(self) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(sa.text("SELECT count(*) FROM answers"))

    def latest_answer(self) -> dict[str, Any]:
        with self.engine.connect() as connection:
            row = connection.execute(sa.text(
                "SELECT * FROM answers ORDER BY id DESC LIMIT 1")).mappings().one()
        return dict(row)

    def bodies(self, *, scored: bool) -> list[dict[str, Any]]:
        """Training bodies (name, siret) with a public score, or without one, most
        answers first."""
        with self.engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT b.name, b.siret, coalesce(s.answers_count, 0) AS answers "
                "FROM training_bodies b LEFT JOIN scores s "
                "ON s.scope = 'body' AND s.key = CAST(b.id AS VARCHAR(20)) "
                "WHERE coalesce(s.has_score, false) = :scored "
                "ORDER BY answers DESC, b.name"), {"scored": scored}).mappings().all()
        return [dict(row) for row in rows]


@pytest.fixture(scope="package")
def database(live_server: LiveServer) -> Iterator[Database]:
    database = Database(live_server.database_url)
    yield database
    database.engine.dispose()


# --- Pages ----------------------------------------------------------------------------

@dataclass
class PageLog:
    """What a page did besides showing itself."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not is_local(url)]


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in {"http", "https", "ws", "wss"} or parts.hostname == LOCAL_HOST


class Browsing:
    """Opens phones (or other screens) on the live server, and closes them after the test."""

    def __init__(self, browser: Any, base_url: str, tmp_path: Path) -> None:
        self.browser = browser
        self.base_url = base_url
        self.tmp_path = tmp_path
        self.contexts: list[Any] = []
        self.pages: list[Any] = []
        self.logs: list[PageLog] = []

    def __call__(self, *, locale: str = "fr-FR", width: int = 375, height: int = 667,
                 mobile: bool = True) -> Any:
        context = self.browser.new_context(
            base_url=self.base_url, locale=locale, viewport={"width": width, "height": height},
            is_mobile=mobile, has_touch=mobile, device_scale_factor=2 if mobile else 1)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        log = PageLog()
        context.on("request", lambda request: log.requests.append(request.url))
        # Nothing may leave the machine: such a request is recorded above, then refused.
        context.route(lambda url: not is_local(url), lambda route: route.abort())
        page = context.new_page()
        page.on("console", lambda m: log.console_errors.append(m.text)
                if m.type == "error" else None)
        page.on("pageerror", lambda error: log.page_errors.append(str(error)))

        def on_dialog(dialog: Any) -> None:
            log.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.log = log
        self.pages.append(page)
        self.logs.append(log)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer, tmp_path: Path) -> Iterator[Browsing]:
    """``new_page(locale=..., width=..., height=...)``: a fresh browser context and page."""
    browsing = Browsing(browser, live_server.url, tmp_path)
    try:
        yield browsing
    finally:
        browsing.close()
    foreign = [url for log in browsing.logs for url in log.foreign_requests]
    assert not foreign, f"requests to another host than {LOCAL_HOST}: {foreign}"


@pytest.fixture
def page(new_page: Browsing) -> Any:
    """A phone: 375×667, touch, French."""
    return new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, a screenshot and the HTML of every open page, under the test's tmp dir."""
    report = yield
    browsing = getattr(item, "funcargs", {}).get("new_page")
    if report.when == "call" and report.failed and isinstance(browsing, Browsing):
        from playwright.sync_api import Error as PlaywrightError

        lines = []
        for number, page in enumerate(browsing.pages, start=1):
            if page.is_closed():
                continue
            shot = browsing.tmp_path / f"failure-page{number}.png"
            try:
                page.screenshot(path=shot, full_page=True)
                (browsing.tmp_path / f"failure-page{number}.html").write_text(page.content())
            except PlaywrightError as exc:
                lines.append(f"page {number} ({page.url}): no screenshot: {exc}")
                continue
            lines.append(f"page {number} ({page.url}): {shot}")
        if lines:
            report.sections.append(("browser screenshots", "\n".join(lines)))
    return report


# --- The questionnaire, as a trainee sees it -----------------------------------------

class Questionnaire:
    """The end-of-training form, found the way a screen reader finds it."""

    def __init__(self, page: Any, lang: str = "fr") -> None:
        self.page = page
        self.t = TEXTS[lang]

    def group(self, name: str) -> Any:
        return self.page.get_by_role("group", name=self.t[name])

    def rating(self, dimension: str, mark: int) -> Any:
        return self.group(dimension).get_by_role("radio", name=self.t["mark"].format(mark),
                                                 exact=True)

    def recommend(self, yes: bool = True) -> Any:
        return self.group("would_recommend").get_by_role(
            "radio", name=self.t["yes" if yes else "no"], exact=True)

    @property
    def comment_title(self) -> Any:
        return self.page.get_by_role("textbox",
                                     name=re.compile("^" + re.escape(self.t["comment_title"])))

    @property
    def comment_text(self) -> Any:
        return self.page.get_by_role("textbox",
                                     name=re.compile("^" + re.escape(self.t["comment_text"])))

    @property
    def comment_public(self) -> Any:
        return self.page.get_by_role("checkbox", name=self.t["comment_public"])

    @property
    def accepts_contact(self) -> Any:
        return self.page.get_by_role("checkbox", name=self.t["accepts_contact"])

    @property
    def submit_button(self) -> Any:
        return self.page.get_by_role("button", name=self.t["submit"])

    def answer(self, ratings: dict[str, int], *, recommend: bool | None = True,
               title: str | None = None, comment: str | None = None,
               public: bool = False, contact: bool = False) -> None:
        for dimension, mark in ratings.items():
            self.rating(dimension, mark).check()
        if recommend is not None:
            self.recommend(recommend).check()
        if title is not None:
            self.comment_title.fill(title)
        if comment is not None:
            self.comment_text.fill(comment)
        if public:
            self.comment_public.check()
        if contact:
            self.accepts_contact.check()

    def submit(self) -> None:
        self.submit_button.click()


@pytest.fixture
def questionnaire() -> type[Questionnaire]:
    """``questionnaire(page, lang)``: the form on that page."""
    return Questionnaire


@pytest.fixture
def texts() -> dict[str, dict[str, str]]:
    return TEXTS
