"""Settings: defaults, instance file, environment; bad values stop the start, clearly."""

from __future__ import annotations

import pytest

from avis import create_app
from avis.config import ConfigError, load_settings


def test_defaults(tmp_path):
    settings = load_settings(tmp_path, environ={})

    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'avis.db'}"
    assert settings["BASE_URL"] == "http://127.0.0.1:5000"
    assert settings["MAIL_BACKEND"] == "file"
    assert settings["REMINDER_DELAYS_DAYS"] == (5, 12)
    assert settings["MIN_SESSION_SIZE"] == 5
    assert settings["MIN_REVIEWS_FOR_SCORE"] == 3
    assert settings["INVITATION_TTL_DAYS"] == 90
    assert settings["PUBLISH_COMMENTS_UNMODERATED"] is False


def test_back_office_settings(tmp_path):
    defaults = load_settings(tmp_path, environ={})
    chosen = load_settings(tmp_path, environ={
        "AVIS_REQUIRE_TOTP_ROLES": "admin, moderator", "AVIS_SESSION_IDLE_MINUTES": "15",
        "AVIS_SESSION_MAX_HOURS": "8", "AVIS_BODY_ACCOUNT_INVITATIONS": "0"})
    nobody = load_settings(tmp_path, environ={"AVIS_REQUIRE_TOTP_ROLES": ""})

    assert defaults["REQUIRE_TOTP_ROLES"] == ("admin",)
    assert (defaults["SESSION_IDLE_MINUTES"], defaults["SESSION_MAX_HOURS"]) == (30, 12)
    assert (defaults["ARGON2_TIME_COST"], defaults["ARGON2_MEMORY_KIB"],
            defaults["ARGON2_PARALLELISM"]) == (3, 65536, 4)
    assert defaults["BODY_ACCOUNT_INVITATIONS"] is True
    assert chosen["REQUIRE_TOTP_ROLES"] == ("admin", "moderator")
    assert (chosen["SESSION_IDLE_MINUTES"], chosen["SESSION_MAX_HOURS"]) == (15, 8)
    assert chosen["BODY_ACCOUNT_INVITATIONS"] is False
    assert nobody["REQUIRE_TOTP_ROLES"] == ()


def test_partner_api_keys(tmp_path):
    settings = load_settings(tmp_path, environ={"AVIS_API_KEYS": "esd:1234, portail-2:s3:cr"})

    assert settings["API_KEYS"] == {"esd": "1234", "portail-2": "s3:cr"}
    assert load_settings(tmp_path, environ={})["API_KEYS"] == {}


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = load_settings(tmp_path, environ={})["SECRET_KEY"]
    second = load_settings(tmp_path, environ={})["SECRET_KEY"]

    assert len(first) == 64
    assert first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_overrides_instance_file(tmp_path):
    (tmp_path / "avis.cfg").write_text(
        "# local settings\nAVIS_REMINDER_DELAYS_DAYS = 3,7\nMIN_SESSION_SIZE = 8\n"
        "BASE_URL = 'https://avis.example.fr/'\n",
        encoding="utf-8",
    )

    settings = load_settings(tmp_path, environ={"AVIS_MIN_SESSION_SIZE": "6"})

    assert settings["REMINDER_DELAYS_DAYS"] == (3, 7)
    assert settings["MIN_SESSION_SIZE"] == 6
    assert settings["BASE_URL"] == "https://avis.example.fr"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AVIS_REMINDER_DELAYS_DAYS", "12,5", "increasing"),
        ("AVIS_REMINDER_DELAYS_DAYS", "5;12", "AVIS_REMINDER_DELAYS_DAYS='5;12'"),
        ("AVIS_MAIL_BACKEND", "pigeon", "must be one of file, smtp, sendgrid"),
        ("AVIS_BASE_URL", "avis.example.fr", "absolute http(s) URL"),
        ("AVIS_MIN_SESSION_SIZE", "zero", "AVIS_MIN_SESSION_SIZE"),
        ("AVIS_INVITATION_TTL_DAYS", "0", "at least 1"),
        ("AVIS_PUBLISH_COMMENTS_UNMODERATED", "peut-être", "0 or 1"),
        ("AVIS_API_KEYS", "esd", "key:secret pairs"),
        ("AVIS_API_KEYS", "esd:1234,:x", "key:secret pairs"),
        ("AVIS_API_RATE_LIMIT", "beaucoup", "rate"),
        ("AVIS_PAGE_CACHE_SECONDS", "-1", "AVIS_PAGE_CACHE_SECONDS"),
        ("AVIS_REQUIRE_TOTP_ROLES", "admin,root", "unknown role(s) root"),
        ("AVIS_LOGIN_RATE_LIMIT", "souvent", "rate"),
        ("AVIS_LOGIN_MAX_FAILURES", "0", "at least 1"),
        ("AVIS_SESSION_IDLE_MINUTES", "0", "at least 1"),
        ("AVIS_ARGON2_MEMORY_KIB", "16", "8 × AVIS_ARGON2_PARALLELISM"),
        ("AVIS_BODY_ACCOUNT_INVITATIONS", "oui", "0 or 1"),
    ],
)
def test_bad_values_are_refused_at_start(tmp_path, name, value, message):
    with pytest.raises(ConfigError, match=name) as error:
        load_settings(tmp_path, environ={name: value})
    assert message in str(error.value)


def test_sendgrid_needs_a_key(tmp_path):
    with pytest.raises(ConfigError, match="AVIS_SENDGRID_API_KEY"):
        load_settings(tmp_path, environ={"AVIS_MAIL_BACKEND": "sendgrid"})


def test_unknown_setting_in_instance_file(tmp_path):
    (tmp_path / "avis.cfg").write_text("REMINDER_DELAY = 3\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="unknown setting REMINDER_DELAY"):
        load_settings(tmp_path, environ={})


def test_create_app_does_not_touch_the_database(tmp_path):
    app = create_app(instance_path=tmp_path)

    assert app.config["DATABASE_URL"].startswith("sqlite:///")
    assert not (tmp_path / "avis.db").exists()


def test_create_app_stops_on_a_bad_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("AVIS_SMTP_PORT", "-3")

    with pytest.raises(ConfigError, match="AVIS_SMTP_PORT"):
        create_app(instance_path=tmp_path)


def test_relative_sqlite_path_lives_in_the_instance_folder(tmp_path):
    settings = load_settings(tmp_path, environ={"AVIS_DATABASE_URL": "sqlite:///local.db"})

    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'local.db'}"


def test_other_database_urls_are_kept(tmp_path):
    url = "postgresql+psycopg://avis:s%40cret@db.example:5432/avis"

    settings = load_settings(tmp_path, environ={"AVIS_DATABASE_URL": url})

    assert settings["DATABASE_URL"] == url


def test_malformed_database_url(tmp_path):
    with pytest.raises(ConfigError, match="is not a database URL"):
        load_settings(tmp_path, environ={"AVIS_DATABASE_URL": "nimporte quoi"})
