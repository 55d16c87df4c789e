"""Tools for the whole-cycle privacy test: distinctive people, a recorder of every log
record, a search for their identifiers in every spelling a log could give them, a real
HTTP server (the test client writes no access log) and a browser for it.

The people have names and phone numbers found nowhere else, so that a plain text
search for them has no false positives.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import http.cookiejar
import json
import logging
import re
import threading
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from werkzeug.serving import make_server

from tests.catalog.fixtures import pe_row

# --- The people of the cycle ----------------------------------------------------------


@dataclass(frozen=True)
class Person:
    email: str
    first_name: str
    last_name: str
    #: as written in the file
    phones: tuple[str, ...]

    def needles(self) -> dict[str, str]:
        """Each identifier (label → value) a log must never hold."""
        found = {f"{self.email} (email)": self.email,
                 f"{self.email} (local part)": self.email.split("@")[0],
                 f"{self.email} (first name)": self.first_name,
                 f"{self.email} (last name)": self.last_name}
        for phone in self.phones:
            for n, spelling in enumerate(phone_spellings(phone)):
                found[f"{self.email} (phone {phone} #{n})"] = spelling
        return found


#: Imported and sent through SendGrid; answers with a comment; erased with ``avis gdpr
#: erase``.
ANSWERS = Person("zephyrine.quelquechose@example.org", "Zéphyrine", "Quelquechose",
                 ("06 12 34 56 78", "0798765432"))
#: Her address bounces (a signed SendGrid event).
BOUNCES = Person("barnabe.xylographe@example.org", "Barnabé", "Xylographe",
                 ("0623456789",))
#: Unsubscribes from the email's link, then erases her own data.
UNSUBSCRIBES = Person("ondine.vrillacourt@example.org", "Ondine", "Vrillacourt",
                      ("06 34 56 78 91",))
#: Gets a reminder through SMTP; erased from the back office.
REMINDED = Person("ignace.petaudiere@example.org", "Ignace", "Pétaudière",
                  ("+33 6 45 67 89 12",))
#: Her reminder is refused by the SMTP server (which quotes the address).
REFUSED = Person("eulalie.brindezingue@example.org", "Eulalie", "Brindezingue",
                 ("0656789123",))
#: Rows the import rejects: an invalid address (the reason quotes the value)…
BAD_EMAIL = Person("hippolyte.farfadelle@@example.org", "Hippolyte", "Farfadelle",
                   ("0667891234",))
#: …and an impossible date.
BAD_DATE = Person("rosalinde.malfoutue@example.org", "Rosalinde", "Malfoutue",
                  ("0678912345",))

IMPORTED = (ANSWERS, BOUNCES, UNSUBSCRIBES, REMINDED, REFUSED)
EVERYONE = (*IMPORTED, BAD_EMAIL, BAD_DATE)

#: The comment of the answer: no personal data in it, so that it may be logged as is
#: without the search finding anything.
COMMENT_TITLE = "Formation concrète"
COMMENT_TEXT = "Des formateurs disponibles et un plateau technique bien équipé."


def phone_spellings(phone: str) -> list[str]:
    """The ways a French mobile number is written: 0612345678, 06 12 34 56 78,
    06.12.34.56.78, +33612345678, +33 6 12 34 56 78."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("33"):
        digits = "0" + digits[2:]
    pairs = [digits[i:i + 2] for i in range(0, len(digits), 2)]
    return [digits, " ".join(pairs), ".".join(pairs), "+33" + digits[1:],
            "+33 " + digits[1] + " " + " ".join(pairs[1:])]


def file_rows(start: dt.date, end: dt.date) -> list[dict[str, str]]:
    """A France Travail export: one session, the five trainees and two bad rows."""
    dates = {"dd_datedebutplanformation": f"{start:%Y-%m-%d} 00:00:00.0",
             "dd_datefinplanformation": f"{end:%Y-%m-%d} 00:00:00.0"}
    rows = []
    for n, person in enumerate(EVERYONE, start=1):
        phones = {"c_telephone1": person.phones[0],
                  "c_telephone2": person.phones[1] if len(person.phones) > 1 else "NULL"}
        rows.append(pe_row(n, c_adresseemail=person.email, c_prenomcorrespondance=person.first_name,
                           c_nomcorrespondance=person.last_name, **phones, **dates))
    rows[-1]["dd_datefinplanformation"] = "2026-13-45 00:00:00.0"
    return rows


# --- Finding identifiers in text ------------------------------------------------------


def spellings(value: str) -> set[str]:
    """``value`` as a log line could write it (lowercase): as is, URL-encoded, escaped
    by JSON or by a bytes repr, without its accents, decomposed."""
    found = {value, urllib.parse.quote(value), urllib.parse.quote_plus(value),
             json.dumps(value)[1:-1], repr(value.encode())[2:-1],
             unicodedata.normalize("NFD", value),
             "".join(c for c in unicodedata.normalize("NFKD", value)
                     if not unicodedata.combining(c))}
    return {spelling.lower() for spelling in found}


def search(texts: Iterable[tuple[str, str]], needles: dict[str, str]) -> list[str]:
    """``label in where: …excerpt…`` for every needle found in the (where, text) pairs."""
    wanted = [(label, spelling) for label, value in needles.items()
              for spelling in spellings(value)]
    assert all(len(spelling) >= 6 for _label, spelling in wanted), "needle too short"
    leaks = []
    for where, text in texts:
        lowered = text.lower()
        for label, spelling in wanted:
            at = lowered.find(spelling)
            if at >= 0:
                excerpt = text[max(0, at - 80): at + len(spelling) + 80].replace("\n", "⏎")
                leaks.append(f"{label} in {where}: …{excerpt}…")
    return leaks


#: Survey, unsubscribe, self-service and account links: what follows is a credential.
_TOKEN = re.compile(r"/(?:q|unsubscribe|login/lien|notifications/unsubscribe)/"
                    r"([A-Za-z0-9_\-]{32,})")


def tokens_in(text: str) -> set[str]:
    return set(_TOKEN.findall(text))


def message_text(message: EmailMessage) -> str:
    """Headers and decoded parts: quoted-printable would cut a token across lines."""
    parts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if not part.is_multipart():
            parts.append(str(part.get_content()))
    return "\n".join(parts)


# --- Every log record -----------------------------------------------------------------

#: Attributes every record has; anything else was passed as ``extra`` and is searched.
_STANDARD = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message", "asctime", "taskName"}
#: Loggers of the other side, which the test plays: aiosmtpd is the recipients' mail
#: server (it logs every SMTP line it receives, RCPT TO included).
OTHER_SIDE = ("mail.log", "mail.debug")


@dataclass(frozen=True)
class Captured:
    logger: str
    level: int
    #: the message, its raw template and arguments, the traceback, any extra
    text: str


class Recorder(logging.Handler):
    """Keeps every record it is handed, formatted at once (arguments may change later)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[Captured] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name in OTHER_SIDE:
            return
        parts = [str(record.msg)]
        try:
            parts.append(record.getMessage())
        except Exception as error:  # a bad record is still searched, arguments and all
            parts.append(f"(unformattable: {error!r})")
        if record.args:
            parts.append(repr(record.args))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extra:
            parts.append(repr(extra))
        self.records.append(Captured(record.name, record.levelno, "\n".join(parts)))

    def texts(self) -> list[tuple[str, str]]:
        return [(f"log record of {r.logger}", r.text) for r in self.records]

    def messages(self, logger: str) -> list[str]:
        return [r.text for r in self.records if r.logger == logger]


#: Left at the level the application gives it: python_http_client (the SendGrid
#: client) logs whole request bodies at DEBUG, and ``avis.mail.backends.sendgrid`` pins
#: it at INFO, even under a DEBUG root.
LEFT_AS_SET = ("python_http_client",)
#: At INFO, not DEBUG: sqlalchemy.engine at INFO logs each statement with its parameters
#: hidden (``create_app`` builds the engine with ``hide_parameters=True``); DEBUG adds
#: every result row, which SQLAlchemy never hides. Production never turns it on (no
#: ``echo``, and no setting of avis does).
AT_INFO = ("sqlalchemy.engine",)


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


@contextlib.contextmanager
def every_logger_at_debug() -> Iterator[Recorder]:
    """Every logger, present and future, at DEBUG (but ``LEFT_AS_SET`` and ``AT_INFO``),
    into one recorder; levels, handlers and ``disabled`` flags put back afterwards."""
    recorder = Recorder()
    root = logging.getLogger()
    saved: list[tuple[logging.Logger, int, bool]] = [(root, root.level, root.disabled)]
    # The root's handlers see what propagates; the others need the recorder themselves.
    own_handlers: list[logging.Logger] = [root]
    previous_disable = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    for name in AT_INFO:
        logging.getLogger(name)  # a real logger, so that its future children inherit INFO
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger):
            continue  # a placeholder: its future logger inherits the root's level
        saved.append((logger, logger.level, logger.disabled))
        logger.disabled = False
        if not logger.propagate:
            own_handlers.append(logger)
        if _under(name, LEFT_AS_SET):
            continue
        logger.setLevel(logging.INFO if _under(name, AT_INFO) else logging.DEBUG)
    root.setLevel(logging.DEBUG)
    for logger in own_handlers:
        logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        for logger in own_handlers:
            logger.removeHandler(recorder)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
        logging.disable(previous_disable)


# --- A real server, a browser, SendGrid's signature -----------------------------------


@contextlib.contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """``app`` behind werkzeug's server (the development server's access log)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(5)


@dataclass
class Visitor:
    """A browser with cookies, no proxy, following redirects."""

    base_url: str
    opener: urllib.request.OpenerDirector = field(init=False)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(self.base_url + path))

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(self.base_url + path, data=body))

    def _open(self, request: urllib.request.Request) -> tuple[int, str, str]:
        """(status, final path, page)."""
        try:
            with self.opener.open(request, timeout=30) as response:
                return (response.status, urllib.parse.urlsplit(response.url).path,
                        response.read().decode())
        except urllib.error.HTTPError as error:
            return error.code, urllib.parse.urlsplit(error.url).path, error.read().decode()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def webhook_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A key pair: the private key signs, the setting is the public key as SendGrid
    shows it (base64 of the DER SubjectPublicKeyInfo)."""
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(der).decode()


def signed_headers(key: ec.EllipticCurvePrivateKey, payload: str, moment: dt.datetime,
                   ) -> dict[str, str]:
    timestamp = str(int(moment.timestamp()))
    signature = key.sign((timestamp + payload).encode(), ec.ECDSA(hashes.SHA256()))
    return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            "Content-Type": "application/json"}
