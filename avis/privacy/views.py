"""Public pages of privacy: the notice, and the trainees' own erasure and access.

The erasure pages are reached from a survey email (``/unsubscribe/<token>/supprimer``:
the email writes its unsubscribe link with this suffix) and from the unsubscribe page;
the access page (``/unsubscribe/<token>/mes-donnees``) from those pages. The access
page's GET shows only the masked address: the data themselves leave in the answer to a
POST, so that a scanner fetching links never receives them.
As on the survey pages, the token is a credential: the pages send
``Referrer-Policy: same-origin`` and ``Cache-Control: no-store``, the access logs hide
it (``avis.logs`` hides whatever follows ``/unsubscribe/``), and its lookups share the
survey links' rate limit. A GET never erases: mail scanners fetch every link of an email.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    json,
    make_response,
    render_template,
    request,
    session,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField

from avis import clock
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.db import db
from avis.privacy.erasure import erase_trainees
from avis.privacy.export import export_email, export_text
from avis.public.caching import cached_page
from avis.security import limiter
from avis.surveys import operations
from avis.surveys.models.invitations import Invitation, InvitationStatus

bp = Blueprint("privacy", __name__, template_folder="templates")

#: Where the notice lives; emails write it as an absolute address (see ``notice_link``).
NOTICE_PATH = "/confidentialite"
#: How long browsers and shared caches may keep the notice: it changes with the settings.
NOTICE_MAX_AGE = 300
#: Where the CNIL takes complaints.
CNIL_COMPLAINTS_URL = "https://www.cnil.fr/fr/plaintes"


class EraseForm(FlaskForm):
    """The confirmation button: a POST with a CSRF token, so that neither a link
    scanner's GET nor another site's form can erase anyone."""

    submit = SubmitField(_l("Delete my data"))


class ExportForm(FlaskForm):
    """Two buttons, one per format: a POST, so that the data never travel in answer to
    a link a scanner may fetch."""

    as_text = SubmitField(_l("Download as text"))
    as_json = SubmitField(_l("Download as JSON"))


# --- The privacy notice -------------------------------------------------------------

def _months(number: int) -> str:
    return ngettext("%(num)s month", "%(num)s months", number)


def _days(number: int) -> str:
    return ngettext("%(num)s day", "%(num)s days", number)


def _retention() -> dict[str, str]:
    """Each kind of data's period, in words ("24 mois"), from the settings the
    ``apply_retention`` job enforces."""
    config = current_app.config
    return {
        "identity": _months(config["RETENTION_MONTHS"]),
        "link": _days(config["INVITATION_TTL_DAYS"]),
        "outbox": _days(config["OUTBOX_RETENTION_DAYS"]),
        "provider_events": _days(config["PROVIDER_EVENT_RETENTION_DAYS"]),
        "uploads": _days(config["UPLOAD_RETENTION_DAYS"]),
        "audit": _months(config["AUDIT_RETENTION_MONTHS"]),
        "reviews": _months(config["REVIEW_ARCHIVE_MONTHS"]),
    }


@bp.get(NOTICE_PATH)
@cached_page
def notice() -> ResponseReturnValue:
    """The privacy notice (GDPR art. 13): who, why, on what basis, what, to whom, how
    long, and the rights; everything that varies comes from the settings."""
    config = current_app.config
    return render_template(
        "privacy/notice.html", controller=config["PRIVACY_CONTROLLER"],
        controller_address=config["PRIVACY_CONTROLLER_ADDRESS"],
        dpo_email=config["PRIVACY_DPO_EMAIL"],
        uses_sendgrid=config["MAIL_BACKEND"] == "sendgrid",
        retention=_retention(), cnil_url=CNIL_COMPLAINTS_URL)


@bp.app_template_global()
def notice_link() -> str:
    """The notice's absolute address, for emails (rendered without a request), in the
    email's language when it is not the default one."""
    link = str(current_app.config["BASE_URL"]).rstrip("/") + NOTICE_PATH
    return link + "?lang=en" if str(get_locale()) == "en" else link


# --- The trainees' own erasure ------------------------------------------------------

def _survey_rate_limit() -> str:
    return str(current_app.config["SURVEY_RATE_LIMIT"])


#: Guessing tokens here counts against the same budget as the survey and unsubscribe
#: links (same scope as ``avis.security``'s limit on those).
_token_lookup_limit = limiter.shared_limit(_survey_rate_limit, scope="survey-token")


@bp.after_request
def _headers(response: Response) -> Response:
    if request.endpoint == "privacy.notice":
        if session.modified or "Set-Cookie" in response.headers:
            # A page that sets the language cookie is this visitor's, not everyone's.
            response.headers["Cache-Control"] = "private, no-cache"
        else:
            response.headers["Cache-Control"] = f"public, max-age={NOTICE_MAX_AGE}"
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response
    # The token is a credential: never in a Referer, never in a shared cache.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_owner(token: str) -> tuple[Invitation, Trainee]:
    """The invitation behind a link and its trainee; else ends the request with the page
    that says why not."""
    invitation = operations.find_invitation(token)
    trainee = _trainee_of(invitation) if invitation is not None else None
    if invitation is None or trainee is None:
        abort(make_response(render_template("privacy/self_service_unknown.html"), 404))
    if _has_expired(invitation):
        abort(make_response(render_template(
            "privacy/self_service_expired.html",
            ttl_days=current_app.config["INVITATION_TTL_DAYS"]), 410))
    return invitation, trainee


@bp.route("/unsubscribe/<token>/supprimer", methods=["GET", "POST"])
@_token_lookup_limit
def erase(token: str) -> ResponseReturnValue:
    """GET asks for confirmation; POST (our form, with its CSRF token) erases at once."""
    invitation, trainee = _link_owner(token)
    form = EraseForm()
    if form.validate_on_submit():
        erase_trainees([trainee.id], reason="self_service")
        db.session.commit()
        # Rendered here, not after a redirect: the token no longer leads anywhere.
        return render_template("privacy/self_service_done.html")
    status = 400 if request.method == "POST" else 200
    return render_template("privacy/self_service.html", form=form,
                           context=operations.link_context(invitation)), status


@bp.route("/unsubscribe/<token>/mes-donnees", methods=["GET", "POST"])
@_token_lookup_limit
def access(token: str) -> ResponseReturnValue:
    """GET says what the export holds; POST (with its CSRF token) answers with it, as
    a text or as JSON, and journals it like a staff member's export."""
    invitation, trainee = _link_owner(token)
    form = ExportForm()
    if form.validate_on_submit():
        assert trainee.email is not None  # _trainee_of keeps only trainees with one
        data = export_email(trainee.email, requested_by="trainee")
        db.session.commit()
        if form.as_json.data:
            body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
            response = Response(body, mimetype="application/json")
            filename = "mes-donnees-avis.json"
        else:
            response = Response(export_text(data), mimetype="text/plain")
            filename = "mes-donnees-avis.txt"
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    status = 400 if request.method == "POST" else 200
    return render_template("privacy/self_access.html", form=form,
                           context=operations.link_context(invitation)), status


def _trainee_of(invitation: Invitation) -> Trainee | None:
    """The trainee behind the invitation, unless their identity is already gone."""
    return db.session.scalar(
        sa.select(Trainee).join(Enrolment, Enrolment.trainee_id == Trainee.id)
        .where(Enrolment.id == invitation.enrolment_id, Trainee.email.is_not(None)))


def _has_expired(invitation: Invitation) -> bool:
    """The link's lifetime is the questionnaire's (``INVITATION_TTL_DAYS``): a link found
    in an old mailbox proves less and less that its holder is the trainee."""
    expires_dt: dt.datetime = invitation.expires_dt
    return invitation.status == InvitationStatus.expired or expires_dt <= clock.now()
