"""Settings: defaults, then an optional instance ``avis.cfg``, then ``AVIS_*`` variables.

Every setting is declared once below with its parser, so that a typo in a
deployment (``AVIS_REMINDER_DELAYS_DAYS=5;12``) stops the application at start
with a message naming the variable, instead of failing in a job weeks later.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class ConfigError(ValueError):
    """A setting has a value avis cannot use."""


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be a positive integer")
    return value


def _strictly_positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _upload_megabytes(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 2048:
        raise ValueError("must be a whole number of megabytes from 1 to 2048")
    return value


def _day_list(raw: str) -> tuple[int, ...]:
    items = [item.strip() for item in raw.split(",") if item.strip()]
    values = tuple(int(item) for item in items)
    if any(v < 1 for v in values) or list(values) != sorted(set(values)):
        raise ValueError("must be increasing whole numbers of days, e.g. 5,12")
    return values


def _http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return raw.rstrip("/")


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return raw

    return parse


def _email(raw: str) -> str:
    if "@" not in raw or any(c in raw for c in "\r\n"):
        raise ValueError("must be an email address")
    return raw


def _flag(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be 0 or 1")


def _text(raw: str) -> str:
    return raw


def _rate_limit(raw: str) -> str:
    """A Flask-Limiter rate string (``30 per minute``, ``5/second;100/hour``), kept as text."""
    value = raw.strip()
    try:
        items = parse_many(value)
    except ValueError:
        raise ValueError("must be a rate such as '30 per minute'") from None
    if any(item.amount < 1 for item in items):
        raise ValueError("must allow at least 1 request")
    return value


def _api_keys(raw: str) -> dict[str, str]:
    """``key:secret`` pairs, comma-separated: the partners who sign their API calls."""
    keys: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, secret = pair.partition(":")
        if not key or not secret or not key.replace("-", "").replace("_", "").isalnum():
            raise ValueError("must be key:secret pairs separated by commas")
        keys[key] = secret
    return keys


ROLES = ("admin", "moderator", "region", "organisation")


def _roles(raw: str) -> tuple[str, ...]:
    """Account roles, comma-separated (``admin,moderator``); empty for none."""
    values = tuple(item.strip() for item in raw.split(",") if item.strip())
    unknown = [v for v in values if v not in ROLES]
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    return values


@dataclass(frozen=True)
class Setting:
    #: name without the ``AVIS_`` prefix, as stored in ``app.config``
    name: str
    #: parses the raw string of an environment variable or ``avis.cfg`` value
    parse: Callable[[str], Any]
    #: default value (already parsed); ``None`` means "computed at start" or "unset"
    default: Any


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", _text, None),
    Setting("SECRET_KEY", _text, None),
    Setting("BASE_URL", _http_url, "http://127.0.0.1:5000"),
    Setting("MAIL_BACKEND", _choice("file", "smtp", "sendgrid"), "file"),
    Setting("MAIL_FROM", _email, "avis@localhost"),
    Setting("SENDGRID_API_KEY", _text, None),
    Setting("SENDGRID_HOST", _http_url, "https://api.sendgrid.com"),
    Setting("SENDGRID_WEBHOOK_PUBLIC_KEY", _text, None),
    Setting("SMTP_HOST", _text, "localhost"),
    Setting("SMTP_PORT", _strictly_positive_int, 25),
    Setting("INVITATION_DELAY_DAYS", _positive_int, 1),
    Setting("REMINDER_DELAYS_DAYS", _day_list, (5, 12)),
    Setting("INVITATION_TTL_DAYS", _strictly_positive_int, 90),
    Setting("FOLLOWUP_MONTHS", _strictly_positive_int, 6),
    Setting("MIN_SESSION_SIZE", _strictly_positive_int, 5),
    Setting("MIN_REVIEWS_FOR_SCORE", _strictly_positive_int, 3),
    Setting("RETENTION_MONTHS", _strictly_positive_int, 24),
    Setting("RATELIMIT_STORAGE_URL", _text, "memory://"),
    Setting("SURVEY_RATE_LIMIT", _rate_limit, "30 per minute"),
    # API v1, per client address (ANOTEA's limit), and per key for signed partner calls.
    Setting("API_RATE_LIMIT", _rate_limit, "1000 per minute"),
    Setting("API_PARTNER_RATE_LIMIT", _rate_limit, "20000 per minute"),
    Setting("API_KEYS", _api_keys, {}),
    Setting("SEND_BATCH_SIZE", _strictly_positive_int, 1000),
    Setting("PUBLISH_COMMENTS_UNMODERATED", _flag, False),
    # Seconds a rendered public page is kept in each worker's memory (0: never).
    Setting("PAGE_CACHE_SECONDS", _positive_int, 60),
    Setting("IMPORT_CHUNK_SIZE", _strictly_positive_int, 5_000),
    # Largest trainee file staff may upload in the back office, in megabytes (a région's
    # yearly France Travail export is some 20 MB).
    Setting("UPLOAD_MAX_MB", _upload_megabytes, 100),
    # Back office: sign-in sessions end after this long without a request, and at the
    # latest this long after signing in.
    Setting("SESSION_IDLE_MINUTES", _strictly_positive_int, 30),
    Setting("SESSION_MAX_HOURS", _strictly_positive_int, 12),
    # Roles that must use a second factor (TOTP); everyone else may.
    Setting("REQUIRE_TOTP_ROLES", _roles, ("admin",)),
    # Sign-in attempts per client address; an account is locked after LOGIN_MAX_FAILURES
    # failures in a row, for LOGIN_LOCK_MINUTES.
    Setting("LOGIN_RATE_LIMIT", _rate_limit, "20 per minute;200 per hour"),
    Setting("LOGIN_MAX_FAILURES", _strictly_positive_int, 10),
    Setting("LOGIN_LOCK_MINUTES", _strictly_positive_int, 15),
    # argon2id parameters (RFC 9106's second recommendation); changing them rehashes each
    # password at its owner's next sign-in.
    Setting("ARGON2_TIME_COST", _strictly_positive_int, 3),
    Setting("ARGON2_MEMORY_KIB", _strictly_positive_int, 65_536),
    Setting("ARGON2_PARALLELISM", _strictly_positive_int, 4),
    # Email an activation link to every training body with a published review and no
    # account (once, with one reminder after 7 days).
    Setting("BODY_ACCOUNT_INVITATIONS", _flag, True),
    # Moderators get a daily email when a comment, reply or report has waited longer.
    Setting("MODERATION_DELAY_HOURS", _strictly_positive_int, 48),
    # Region staff's alerts: negative reviews of a body in 90 days that make an alert
    # (Regions send inspectors past such a number), and the answers a body needs in each
    # period before a drop of its score does.
    Setting("ALERT_NEGATIVE_REVIEWS", _strictly_positive_int, 10),
    Setting("ALERT_MIN_ANSWERS", _strictly_positive_int, 10),
    # Training bodies get a "new reviews" email at most every this many days (and only
    # when a review was published since the previous one).
    Setting("BODY_DIGEST_DAYS", _strictly_positive_int, 7),
    # Privacy (the daily ``apply_retention`` job and the privacy notice, which reads
    # them): uploaded trainee files and their rejected rows are deleted after
    # UPLOAD_RETENTION_DAYS; journal events after AUDIT_RETENTION_MONTHS; comments leave
    # the public pages (and the scores their window) after REVIEW_ARCHIVE_MONTHS;
    # provider events and the emails of closed invitations after the days given; staff
    # accounts without a sign-in for STAFF_INACTIVE_MONTHS are disabled.
    Setting("UPLOAD_RETENTION_DAYS", _strictly_positive_int, 30),
    Setting("AUDIT_RETENTION_MONTHS", _strictly_positive_int, 24),
    Setting("REVIEW_ARCHIVE_MONTHS", _strictly_positive_int, 24),
    Setting("PROVIDER_EVENT_RETENTION_DAYS", _strictly_positive_int, 90),
    Setting("OUTBOX_RETENTION_DAYS", _strictly_positive_int, 90),
    Setting("STAFF_INACTIVE_MONTHS", _strictly_positive_int, 12),
    # Job runs (no personal data; the dispatch alone records 1,440 a day) are forgotten
    # by the daily ``prune_job_runs`` after this many days.
    Setting("JOB_RUN_RETENTION_DAYS", _strictly_positive_int, 30),
    # The key of the fingerprints of erased addresses (HMAC-SHA256), kept out of the
    # database so that a copy of it does not let anyone test guessed addresses. Unset:
    # derived from SECRET_KEY, whose rotation then forgets which addresses were erased.
    # Set it once in production and keep it.
    Setting("ERASURE_KEY", _text, None),
    # Who answers for the trainees' data (GDPR art. 13), as the privacy notice names them.
    Setting("PRIVACY_CONTROLLER", _text, "La Région, commanditaire de l’enquête"),
    Setting("PRIVACY_CONTROLLER_ADDRESS", _text, None),
    Setting("PRIVACY_DPO_EMAIL", _email, None),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def load_settings(
    instance_path: Path,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the validated settings, keyed by name without prefix.

    Precedence, lowest first: defaults, ``instance/avis.cfg``, ``AVIS_*`` variables,
    then ``overrides`` (used by tests, already typed).
    """
    environ = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    values.update(_parse_all(_read_cfg(instance_path / "avis.cfg"), "avis.cfg"))
    raw_env = {k[5:]: v for k, v in environ.items() if k.startswith("AVIS_") and k[5:] in _BY_NAME}
    values.update(_parse_all(raw_env, "environment variable AVIS_"))
    if overrides:
        unknown = set(overrides) - set(_BY_NAME)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values.update(overrides)
    values["DATABASE_URL"] = _database_url(values["DATABASE_URL"], instance_path)
    if not values["SECRET_KEY"]:
        values["SECRET_KEY"] = _instance_secret_key(instance_path)
    if values["ARGON2_MEMORY_KIB"] < 8 * values["ARGON2_PARALLELISM"]:
        raise ConfigError("AVIS_ARGON2_MEMORY_KIB must be at least 8 × AVIS_ARGON2_PARALLELISM "
                          "(argon2's minimum)")
    if values["MAIL_BACKEND"] == "sendgrid" and not values["SENDGRID_API_KEY"]:
        raise ConfigError("AVIS_SENDGRID_API_KEY is required when AVIS_MAIL_BACKEND=sendgrid")
    return values


def _database_url(url: str | None, instance_path: Path) -> str:
    """The default SQLite file, and any relative SQLite path, live in the instance folder.

    Resolved here once, so that migrations, the web app and every command open the
    same file whatever the current directory.
    """
    if not url:
        return f"sqlite:///{instance_path / 'avis.db'}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"AVIS_DATABASE_URL={url!r} is not a database URL") from None
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" \
            and not database.startswith("file:") and not Path(database).is_absolute():
        return parsed.set(database=str(instance_path / database)).render_as_string(
            hide_password=False)
    return url


def _parse_all(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    parsed = {}
    for name, value in raw.items():
        setting = _BY_NAME.get(name)
        if setting is None:
            raise ConfigError(f"{source}: unknown setting {name}")
        if not isinstance(value, str):
            value = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        try:
            parsed[name] = setting.parse(value)
        except ValueError as exc:
            label = f"AVIS_{name}" if source.startswith("environment") else f"{source}: {name}"
            raise ConfigError(f"{label}={value!r} {exc}") from None
    return parsed


def _read_cfg(path: Path) -> dict[str, Any]:
    """Read ``avis.cfg``: ``NAME = value`` lines, ``#`` comments; values as in the environment."""
    if not path.exists():
        return {}
    values: dict[str, Any] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise ConfigError(f"{path}:{number}: expected NAME = value")
        name, value = (part.strip() for part in line.split("=", 1))
        name = name.removeprefix("AVIS_")
        values[name] = value.strip("\"'")
    return values


def _instance_secret_key(instance_path: Path) -> str:
    """A random key kept in the instance folder, so sessions survive restarts."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: when two processes start at once, the second reads the first's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
