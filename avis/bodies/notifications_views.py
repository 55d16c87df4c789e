"""The body's notification preferences and one-click unsubscribe.

``/admin/mon-organisme/notifications`` (signed in, role ``organisation``) turns each kind
of email on or off. ``/notifications/unsubscribe/<token>`` is the link every such email
carries, outside the back office: whoever holds it may turn that one kind of email off
for that one account, and nothing else. A GET only asks for confirmation (mail scanners
fetch every link); our form posts with a CSRF token; a mail client posts RFC 8058's
``List-Unsubscribe=One-Click`` without cookie nor token, and gets a plain answer.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField

from avis.accounts.access import allow
from avis.accounts.models import Account, Role
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.bodies import notifications
from avis.bodies.models.notifications import Topic
from avis.db import db
from avis.security import csrf, limiter

bp = admin_blueprint("body_notifications", __name__, template_folder="templates")
#: The unsubscribe link of the emails: no session, a token in the URL.
unsubscribe_bp = Blueprint("body_unsubscribe", __name__, template_folder="templates")

#: The decisions' topics as the preferences page names them (the digest's label says
#: its period, a setting: written per request).
TOPIC_LABELS: dict[Topic, LazyString] = {
    Topic.reply_decisions: _l("A moderator has published or rejected one of your replies"),
    Topic.report_decisions: _l("A moderator has examined one of your reports"),
}
#: The same, short, for the unsubscribe page's question.
TOPIC_NAMES: dict[Topic, LazyString] = {
    Topic.digest: _l("the “new reviews” emails"),
    Topic.reply_decisions: _l("the emails about your replies"),
    Topic.report_decisions: _l("the emails about your reports"),
}


class PreferencesForm(FlaskForm):
    digest = BooleanField()
    reply_decisions = BooleanField(TOPIC_LABELS[Topic.reply_decisions])
    report_decisions = BooleanField(TOPIC_LABELS[Topic.report_decisions])
    submit = SubmitField(_l("Save"))


class UnsubscribeForm(FlaskForm):
    """The confirmation button: a POST with a CSRF token, so that neither a link
    scanner's GET nor another site's form turns anything off."""

    submit = SubmitField(_l("Stop these emails"))


def _me() -> Account:
    account = signed_in_account()
    assert account is not None  # require_access ran
    return account


@bp.route("/mon-organisme/notifications", methods=["GET", "POST"])
@allow(Role.organisation)
def preferences() -> ResponseReturnValue:
    """Which emails this account receives (each change journaled)."""
    me = _me()
    current = notifications.preferences(me)
    form = PreferencesForm(data={str(topic): on for topic, on in current.items()})
    # The period is a setting: the label is written per request.
    form.digest.label.text = _("New reviews: an email at most every %(days)s days when "
                               "reviews of your training body are published",
                               days=current_app.config["BODY_DIGEST_DAYS"])
    if form.validate_on_submit():
        changed = notifications.set_preferences(
            me, {topic: bool(form[str(topic)].data) for topic in Topic})
        db.session.commit()
        flash(_("Your choices are saved.") if changed else _("Nothing has changed."), "text")
        return redirect(url_for(".preferences"), 303)
    return render_template("bodies/notifications.html", form=form), \
        400 if form.errors else 200


def _unsubscribe_rate() -> str:
    # Guessing tokens here costs as much as through the trainees' links.
    return str(current_app.config["SURVEY_RATE_LIMIT"])


@unsubscribe_bp.after_request
def _keep_token_private(response: Response) -> Response:
    # The token is a credential: never in a Referer, never in a shared cache.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


@unsubscribe_bp.route(f"{notifications.UNSUBSCRIBE_PATH}<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click posts carry no cookie: the CSRF check is done below
@limiter.limit(_unsubscribe_rate, scope="body-unsubscribe")
def unsubscribe(token: str) -> ResponseReturnValue:
    """GET asks for confirmation; POST turns the emails off, from our form or one-click."""
    found = notifications.find_unsubscription(token)
    if found is None:
        return render_template("bodies/unsubscribe_unknown.html"), 404
    if request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click":
        # The mail client posts on the owner's behalf: a plain answer, never a redirect.
        notifications.unsubscribe(found, via="one_click")
        db.session.commit()
        return Response(_("Done: avis will no longer send you %(what)s.",
                          what=TOPIC_NAMES[found.topic]) + "\n", mimetype="text/plain")
    form = UnsubscribeForm()
    status = 200
    if request.method == "POST":
        # Same check as every other form of the site; raises CSRFError, a 400.
        csrf.protect()
        if form.validate_on_submit():
            notifications.unsubscribe(found, via="link")
            db.session.commit()
            return render_template("bodies/unsubscribe_done.html",
                                   what=TOPIC_NAMES[found.topic])
        status = 400
    return render_template("bodies/unsubscribe.html", form=form, what=TOPIC_NAMES[found.topic],
                           is_off=found.is_off), status
