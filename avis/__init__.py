"""avis: training evaluation and public reviews for funded vocational courses."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from avis.config import load_settings


def create_app(
    test_config: Mapping[str, Any] | None = None, *, instance_path: str | Path | None = None
) -> Flask:
    """Build the application. Reads settings; never touches the database."""
    app = Flask(
        __name__,
        instance_path=str(instance_path) if instance_path else None,
        instance_relative_config=True,
    )
    settings = load_settings(Path(app.instance_path), overrides=test_config)
    app.config.update(settings)
    app.config.update(
        SECRET_KEY=settings["SECRET_KEY"],
        # Parameters never appear in errors or logs: they hold trainees' personal data.
        SQLALCHEMY_ENGINES={"default": {"url": settings["DATABASE_URL"], "hide_parameters": True}},
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_DEFAULT_TIMEZONE="Europe/Paris",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["BASE_URL"].startswith("https://"),
    )

    from avis import i18n, logs
    from avis.db import configure_engine, db, end_read_only_transactions

    db.init_app(app)
    _drop_async_session_teardown(app)
    # Registered after the extension's teardown, so run before it (Flask runs them in
    # reverse): a read-only transaction is committed before the session is closed.
    app.teardown_appcontext(end_read_only_transactions)
    with app.app_context():
        configure_engine(db.engine)
    i18n.init_app(app)
    logs.install()

    from avis import errors, security
    from avis.accounts import sessions as account_sessions
    from avis.accounts.admin_views import bp as accounts_admin_bp
    from avis.accounts.views import bp as accounts_bp
    from avis.admin.views import bp as admin_bp
    from avis.api.views import bp as api_bp
    from avis.audit.views import bp as audit_bp
    from avis.bodies.colleagues_views import bp as colleagues_bp
    from avis.bodies.evidence_views import bp as evidence_bp
    from avis.bodies.home_views import bp as body_home_bp
    from avis.bodies.notifications_views import bp as body_notifications_bp
    from avis.bodies.notifications_views import unsubscribe_bp as body_unsubscribe_bp
    from avis.bodies.reviews_views import bp as body_reviews_bp
    from avis.mail.webhook import bp as webhook_bp
    from avis.moderation.statistics_views import bp as moderation_stats_bp
    from avis.moderation.views import bp as moderation_bp
    from avis.monitoring.alerts_views import bp as alerts_bp
    from avis.monitoring.dashboard_views import bp as dashboard_bp
    from avis.monitoring.lists_views import bp as lists_bp
    from avis.monitoring.uploads_views import bp as imports_bp
    from avis.opendata.views import bp as opendata_bp
    from avis.privacy.admin_views import bp as privacy_admin_bp
    from avis.privacy.views import bp as privacy_bp
    from avis.public import caching
    from avis.public.views import bp as public_bp
    from avis.surveys.views import bp as surveys_bp
    from avis.widget.views import bp as widget_bp

    caching.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(surveys_bp)
    app.register_blueprint(webhook_bp)
    app.register_blueprint(widget_bp)
    app.register_blueprint(opendata_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(accounts_admin_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(moderation_stats_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(lists_bp)
    app.register_blueprint(alerts_bp)
    app.register_blueprint(body_home_bp)
    app.register_blueprint(body_reviews_bp)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(body_notifications_bp)
    app.register_blueprint(colleagues_bp)
    app.register_blueprint(body_unsubscribe_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(privacy_admin_bp)
    account_sessions.init_app(app)
    from avis import admin

    admin.init_app(app)
    if app.config["MAIL_BACKEND"] == "file":
        # Development only: the mailbox shows every email, tokens included.
        from avis.mail.dev_views import bp as dev_bp

        app.register_blueprint(dev_bp)
    security.init_app(app)
    from avis.api import auth as api_auth

    api_auth.init_app(app)
    errors.init_app(app)
    from avis.api import revalidation
    from avis.api.views import MAX_AGE

    revalidation.install(app, max_age=MAX_AGE)

    from avis.cli import register_commands

    register_commands(app)
    return app


def _drop_async_session_teardown(app: Flask) -> None:
    """avis uses no async engine, but Flask-SQLAlchemy-Lite registers a teardown closing
    async sessions, which Flask runs through asgiref: a thread and an event loop for
    every request (about a tenth of a questionnaire page's cost). Drop it."""
    from flask_sqlalchemy_lite import _extension

    assert not app.config.get("SQLALCHEMY_ASYNC_ENGINES"), "async engines need the teardown"
    funcs = app.teardown_appcontext_funcs
    if _extension._close_async_sessions in funcs:
        funcs.remove(_extension._close_async_sessions)
