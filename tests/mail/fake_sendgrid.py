"""A fake SendGrid Mail Send API on 127.0.0.1, for tests and benchmarks.

It validates ``POST /v3/mail/send`` like the real endpoint does for what avis sends
(authentication, JSON, sender, content, 1–1000 personalizations, ≤ 1000 recipients,
no address twice in one request, subject, string custom args) and answers 202 with an
``X-Message-ID``. Faults can be scripted or drawn at random.

Two ways to use it::

    with FakeSendGrid(api_key="SG.test") as server:      # plain class
        backend = SendGridBackend("SG.test", host=server.url)

    def test_x(fake_sendgrid): ...                       # pytest fixture

The fixture is named ``fake_sendgrid``; its function is ``fake_sendgrid_fixture`` so
that a test module can import it without shadowing (``from tests.mail.fake_sendgrid
import fake_sendgrid_fixture  # noqa: F401``), or list ``"tests.mail.fake_sendgrid"`` in
the root conftest's ``pytest_plugins``.

The client (``sendgrid`` → urllib) honours proxy variables: outside the fixture set
``NO_PROXY=127.0.0.1,localhost`` in the environment of every process that talks to
the fake server, or requests may go to a proxy instead.
"""

from __future__ import annotations

import contextlib
import json
import random
import secrets
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

#: the key the ``fake_sendgrid`` fixture expects
FAKE_API_KEY = "SG.test"

#: every behaviour ``script`` and ``fail_randomly`` accept ("ok": answer normally; any
#: other three-digit status is answered as is). Faults come before the key and body
#: checks, as an overloaded front end would answer; only "ok" and "accept_then_timeout"
#: validate (an invalid request then gets its 400/401 instead of hanging).
MODES = ("ok", "429", "400", "500", "502", "503", "504", "timeout", "accept_then_timeout",
         "close")

MAX_PERSONALIZATIONS = 1000
MAX_RECIPIENTS = 1000
#: the real API refuses emails over 30 MB
MAX_BODY_BYTES = 30 * 1024 * 1024

_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"


_UNREADABLE = object()


class _Invalid(Exception):
    """A request SendGrid would refuse with 400."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _error_body(message: str, field: str | None = None, help: str | None = None) -> bytes:
    # SendGrid's error shape: {"errors": [{"message", "field", "help"}]}
    return json.dumps({"errors": [{"message": message, "field": field, "help": help}]}).encode()


def _check_address(value: Any, field: str) -> str:
    if not isinstance(value, dict):
        raise _Invalid("Each address must be an object with an email and an optional name.",
                       field)
    address = value.get("email")
    if not isinstance(address, str) or "@" not in address or " " in address:
        raise _Invalid("Does not contain a valid address.", f"{field}.email")
    name = value.get("name")
    if name is not None and (not isinstance(name, str) or ";" in name or "," in name):
        # the real API refuses ';' and ',' in recipient names
        raise _Invalid("The name cannot contain ';' or ','.", f"{field}.name")
    return address


def _check_strings(value: Any, field: str, what: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise _Invalid(f"Invalid type. Expected: object, given: {type(value).__name__}.", field)
    for key, item in value.items():
        if not isinstance(item, str):
            raise _Invalid(f"{what} values must be strings.", f"{field}.{key}")


def validate(body: Any) -> None:
    """Raise ``_Invalid`` for what the real Mail Send endpoint refuses.

    Plain loops over the parsed JSON: the benchmark pushes 1000-personalization requests
    through this as fast as the client can send them.
    """
    if not isinstance(body, dict):
        raise _Invalid("Bad Request", None)
    sender = body.get("from")
    if not isinstance(sender, dict):
        raise _Invalid("The from object must be provided for every email send. It is an object "
                       "that requires the email parameter, but may also contain a name "
                       "parameter.", "from")
    _check_address(sender, "from")
    content = body.get("content")
    if not body.get("template_id"):
        if not isinstance(content, list) or not content:
            raise _Invalid("Unless a valid template_id is provided, the content parameter is "
                           "required. There must be at least one defined content block.",
                           "content")
        for index, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise _Invalid("The content type must be a string.", f"content.{index}.type")
            value = part.get("value")
            if not isinstance(value, str) or not value:
                raise _Invalid("The content value must be a string at least one character in "
                               "length.", f"content.{index}.value")
            if part["type"] == "text/plain" and index != 0:
                raise _Invalid("If present, text/plain content must be first, followed by "
                               "text/html.", "content")
    has_subject = isinstance(body.get("subject"), str) and bool(body["subject"])
    _check_strings(body.get("custom_args"), "custom_args", "Custom args")
    categories = body.get("categories")
    if categories is not None and (
        not isinstance(categories, list) or not all(isinstance(c, str) for c in categories)
    ):
        raise _Invalid("Categories must be an array of strings.", "categories")

    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        raise _Invalid("You must have at least one personalization.", "personalizations")
    if len(personalizations) > MAX_PERSONALIZATIONS:
        raise _Invalid("The personalization block is limited to 1000 personalizations per API "
                       f"request. You have provided {len(personalizations)} personalizations. "
                       "Please consider splitting this into multiple requests and resending "
                       "your request.", "personalizations")
    seen: set[str] = set()
    recipients = 0
    for index, personalization in enumerate(personalizations):
        field = f"personalizations.{index}"
        if not isinstance(personalization, dict):
            raise _Invalid("Each personalization must be an object.", field)
        to = personalization.get("to")
        if not isinstance(to, list) or not to:
            raise _Invalid("The to array is required for all personalization objects, and must "
                           "have at least one email object with a valid email address.",
                           f"{field}.to")
        for kind in ("to", "cc", "bcc"):
            addresses = personalization.get(kind)
            if addresses is None:
                continue
            if not isinstance(addresses, list):
                raise _Invalid(f"The {kind} field must be an array.", f"{field}.{kind}")
            for position, address in enumerate(addresses):
                key = _check_address(address, f"{field}.{kind}.{position}").lower()
                if key in seen:
                    # like the real API, the message names the address
                    raise _Invalid(
                        "Each email address in the personalization block should be unique "
                        "between to, cc, and bcc. We found the first duplicate instance of "
                        f"[{address['email']}] in the {field}.{kind} field.", field)
                seen.add(key)
            recipients += len(addresses)
        if recipients > MAX_RECIPIENTS:
            raise _Invalid("There is a limit of 1000 total recipients (to + cc + bcc) per "
                           "request.", "personalizations")
        subject = personalization.get("subject")
        if subject is not None and not isinstance(subject, str):
            raise _Invalid("The subject must be a string.", f"{field}.subject")
        if not has_subject and not subject:
            raise _Invalid("The subject is required. You can get around this requirement if you "
                           "use a template with a subject defined or if every personalization "
                           "has a subject defined.", "subject")
        _check_strings(personalization.get("substitutions"), f"{field}.substitutions",
                       "Substitutions")
        _check_strings(personalization.get("headers"), f"{field}.headers", "Headers")
        _check_strings(personalization.get("custom_args"), f"{field}.custom_args",
                       "Custom args")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # many clients at once (the 3-process concurrency test, the benchmark)
    request_queue_size = 128

    def __init__(self, fake: FakeSendGrid) -> None:
        self.fake = fake
        self._active: dict[threading.Thread, socket.socket] = {}
        self._active_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        # Handler threads are daemons (never block interpreter exit), so the stdlib does
        # not track them: track them here so that close() can end and join them.
        thread = threading.current_thread()
        with self._active_lock:
            self._active[thread] = request
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._active_lock:
                self._active.pop(thread, None)

    def end_handlers(self, timeout: float) -> None:
        """Unblock handlers still reading from a client, then join them."""
        with self._active_lock:
            active = list(self._active.items())
        for _thread, request in active:
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread, _request in active:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeSendGrid/1.0"
    #: a client that stops mid-request does not hold a thread for ever
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        # quiet: the default writes every request to stderr
        pass

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
                ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _hang(self) -> None:
        """Hold the connection without answering, then close it."""
        self.server.fake._stopping.wait(self.server.fake.hang_seconds)
        self.close_connection = True

    def do_GET(self) -> None:
        self._answer(405, _error_body("Method Not Allowed"))

    def do_POST(self) -> None:
        fake = self.server.fake
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.isdigit():
            self.close_connection = True
            self._answer(411, _error_body("Length Required"))
            return
        length = int(length_header)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._answer(413, _error_body("The JSON payload you have included in your request "
                                          "is too large."))
            return
        raw = self.rfile.read(length)
        if self.path.split("?", 1)[0].rstrip("/") != "/v3/mail/send":
            self._answer(404, _error_body("not found"))
            return
        mode = fake._next_mode()
        try:
            body: Any = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = _UNREADABLE
        else:
            # what reached the server, whatever the answer: a request that failed still
            # carried its messages (the dispatcher counts it as an attempt)
            fake._record_seen(body)
        if mode == "close":
            # the request was read: closing now yields no response at all (no reset)
            self.close_connection = True
            return
        if mode == "timeout":
            self._hang()
            return
        if mode == "429":
            headers = {
                "X-RateLimit-Limit": "600",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + fake.rate_limit_reset_seconds),
            }
            self._answer(429, _error_body("too many requests"), headers)
            return
        if mode.isdigit():
            self._answer(int(mode), _error_body("Bad Request" if mode == "400"
                                                else "Internal Server Error"))
            return

        authorization = self.headers.get("Authorization")
        if authorization is None:
            self._answer(401, _error_body("authorization required"))
            return
        if authorization != f"Bearer {fake.api_key}":
            self._answer(401, _error_body("The provided authorization grant is invalid, "
                                          "expired, or revoked"))
            return
        content_type = self.headers.get("Content-Type", "")
        if "json" not in content_type:
            self._answer(415, _error_body("Content-Type should be application/json."))
            return
        if body is _UNREADABLE:
            fake._record_refusal()
            self._answer(400, _error_body("Bad Request", None, _HELP))
            return
        try:
            validate(body)
        except _Invalid as error:
            fake._record_refusal()
            self._answer(400, _error_body(error.message, error.field, _HELP))
            return

        message_id = secrets.token_urlsafe(16)
        fake._record_accepted(message_id, body)
        if mode == "accept_then_timeout":
            self._hang()
            return
        self._answer(202, headers={"X-Message-ID": message_id})


class FakeSendGrid:
    """A fake SendGrid server on 127.0.0.1 (a free port), running in a thread.

    ``start()`` / ``close()``, or use it as a context manager. Thread-safe: handlers run
    concurrently and every record is guarded by one lock.
    """

    def __init__(self, api_key: str = FAKE_API_KEY, *, hang_seconds: float = 5.0,
                 rate_limit_reset_seconds: int = 1) -> None:
        self.api_key = api_key
        #: how long "timeout" and "accept_then_timeout" hold the connection before closing
        self.hang_seconds = hang_seconds
        #: a 429 says the limit resets this many seconds from now
        self.rate_limit_reset_seconds = rate_limit_reset_seconds
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._script: deque[str] = deque()
        self._random: random.Random | None = None
        self._random_rate = 0.0
        self._random_modes: tuple[str, ...] = ()
        self._accepted: list[tuple[str, dict[str, Any]]] = []
        self._seen: Counter[Any] = Counter()
        self._modes_seen: list[str] = []
        self._request_count = 0
        self._refused_count = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # life cycle

    def start(self) -> FakeSendGrid:
        if self._server is not None:
            raise RuntimeError("already started")
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-sendgrid", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, end hanging handlers, close every socket."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        thread.join()
        server.server_close()
        server.end_handlers(timeout=5.0)
        self._server = self._thread = None

    def __enter__(self) -> FakeSendGrid:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base URL, for ``SENDGRID_HOST``: ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    # faults

    def script(self, modes: Iterable[str]) -> None:
        """Queue behaviours for the next requests, one per request, then normal again.

        Every request takes one entry, whatever it is (even one refused for its key).
        """
        modes = list(modes)
        for mode in modes:
            self._check_mode(mode)
        with self._lock:
            self._script.extend(modes)

    def fail_randomly(self, rate: float = 0.2,
                      modes: Iterable[str] = ("429", "500", "503", "timeout", "close"),
                      seed: int | None = None) -> None:
        """Give each request (after the script) a fault drawn from ``modes`` with probability
        ``rate``; ``rate=0`` turns it off."""
        modes = tuple(modes)
        for mode in modes:
            self._check_mode(mode)
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            self._random = random.Random(seed) if rate else None
            self._random_rate = rate
            self._random_modes = modes

    @staticmethod
    def _check_mode(mode: str) -> None:
        if mode not in MODES and not (mode.isdigit() and len(mode) == 3):
            raise ValueError(f"unknown mode {mode!r}; one of {MODES} or an HTTP status")

    def _next_mode(self) -> str:
        with self._lock:
            self._request_count += 1
            if self._script:
                mode = self._script.popleft()
            elif self._random is not None and self._random.random() < self._random_rate:
                mode = self._random.choice(self._random_modes)
            else:
                mode = "ok"
            self._modes_seen.append(mode)
            return mode

    # records

    def _record_accepted(self, message_id: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._accepted.append((message_id, body))

    def _record_refusal(self) -> None:
        with self._lock:
            self._refused_count += 1

    def _record_seen(self, body: Any) -> None:
        invitations = []
        personalizations = body.get("personalizations") if isinstance(body, dict) else None
        for personalization in personalizations if isinstance(personalizations, list) else ():
            custom_args = (personalization.get("custom_args")
                           if isinstance(personalization, dict) else None)
            if isinstance(custom_args, dict) and "invitation" in custom_args:
                invitations.append(custom_args["invitation"])
        with self._lock:
            self._seen.update(invitations)

    def seen_by_invitation(self) -> Counter[str]:
        """How many requests to Mail Send carried each ``custom_args["invitation"]``,
        whatever they were answered (faults, refusals and accepted alike): the number of
        attempts the dispatcher made for each message."""
        with self._lock:
            return Counter(self._seen)

    @property
    def request_count(self) -> int:
        """Every request to Mail Send received, whatever its outcome."""
        with self._lock:
            return self._request_count

    @property
    def refused_count(self) -> int:
        """Requests refused as malformed (400 from validation or unreadable JSON; not the
        scripted "400")."""
        with self._lock:
            return self._refused_count

    @property
    def modes(self) -> list[str]:
        """The behaviour each request got, in arrival order ("ok" for normal)."""
        with self._lock:
            return list(self._modes_seen)

    @property
    def accepted_requests(self) -> list[dict[str, Any]]:
        """Parsed bodies of the accepted requests (202, and "accept_then_timeout")."""
        with self._lock:
            return [body for _message_id, body in self._accepted]

    @property
    def message_ids(self) -> list[str]:
        """``X-Message-ID`` of each accepted request, in the order of ``accepted_requests``."""
        with self._lock:
            return [message_id for message_id, _body in self._accepted]

    @property
    def deliveries(self) -> list[tuple[str, dict[str, Any]]]:
        """One (X-Message-ID, personalization) per accepted email."""
        with self._lock:
            accepted = list(self._accepted)
        return [(message_id, personalization) for message_id, body in accepted
                for personalization in body["personalizations"]]

    def count_by_invitation(self) -> Counter[str]:
        """How many accepted emails carried each ``custom_args["invitation"]``: a value
        above 1 is a duplicate sent to a trainee."""
        counter: Counter[str] = Counter()
        for _message_id, personalization in self.deliveries:
            invitation = (personalization.get("custom_args") or {}).get("invitation")
            if invitation is not None:
                counter[invitation] += 1
        return counter

    def reset(self) -> None:
        """Forget records, script and random faults."""
        with self._lock:
            self._accepted.clear()
            self._seen.clear()
            self._modes_seen.clear()
            self._script.clear()
            self._random = None
            self._request_count = 0
            self._refused_count = 0


@pytest.fixture(name="fake_sendgrid")
def fake_sendgrid_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSendGrid]:
    """A running fake SendGrid expecting the key ``FAKE_API_KEY``; closed after the test."""
    # urllib would send requests for 127.0.0.1 to a configured proxy otherwise
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with FakeSendGrid(api_key=FAKE_API_KEY) as server:
        yield server
