"""What a trainee reaches from an email: the survey link and the unsubscribe page.

The token in these URLs is a credential. The survey link exchanges it for the
browser session at once and redirects to a URL without it; every page here sends
``Referrer-Policy: same-origin`` so that it never leaves in a Referer header, and
``Cache-Control: no-store`` so that it stays out of shared caches. A GET never
records a rating or an unsubscribe: mail scanners fetch every link of an email.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from avis.db import db
from avis.security import csrf
from avis.surveys import answering, operations
from avis.surveys.forms import AnswerForm, FollowUpForm, UnsubscribeForm
from avis.surveys.models.answers import DIMENSIONS
from avis.surveys.models.invitations import Invitation, InvitationKind
from avis.surveys.operations import LinkState

bp = Blueprint("surveys", __name__, template_folder="templates")

#: Browser-session key holding the invitation whose questionnaire is open.
SESSION_KEY = "survey_invitation_id"
#: The star ratings an email link may pre-select, as they appear in its URL.
NOTES = frozenset({"1", "2", "3", "4", "5"})


@bp.after_request
def _keep_tokens_private(response: Response) -> Response:
    # ``same-origin`` rather than ``no-referrer``: Flask-WTF's strict referrer check needs
    # a Referer on HTTPS form posts to our own pages.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/q/<token>")
def survey_link(token: str) -> ResponseReturnValue:
    """The link in the email: exchange the token for the session, then drop it from the URL."""
    # HEAD is what link checkers send: it is not the trainee opening the questionnaire.
    invitation_id = operations.open_survey_link(token) if request.method == "GET" else None
    if invitation_id is not None:
        db.session.commit()
    else:
        # Unknown, closed, or a HEAD: read the invitation to tell which.
        invitation = operations.find_invitation(token)
        if invitation is None:
            return render_template("surveys/link_unknown.html"), 404
        closed = _closed_page(invitation)
        if closed is not None:
            return closed
        invitation_id = invitation.id
    session[SESSION_KEY] = invitation_id
    # A ?lang= on the link chooses the language now: the redirect renders nothing, so
    # Flask-Babel would not otherwise get to remember it.
    get_locale()
    return redirect(url_for(".questionnaire", note=_note(request.args.get("note"))), code=303)


@bp.route("/q/", methods=["GET", "POST"])
def questionnaire() -> ResponseReturnValue:
    """The questionnaire of the invitation held by the session: show it, take the answer."""
    invitation_id = session.get(SESSION_KEY)
    found = (operations.get_invitation_with_context(invitation_id)
             if isinstance(invitation_id, int) else None)
    if found is None:
        return render_template("surveys/no_session.html"), 404
    invitation, context = found
    closed = _closed_page(invitation)
    if closed is not None:
        return closed
    follow_up = invitation.kind == InvitationKind.follow_up
    form = FollowUpForm() if follow_up else AnswerForm()
    note = _note(request.args.get("note"))
    if request.method == "GET" and note is not None and not follow_up:
        # A star clicked in the email pre-selects the five marks; nothing is recorded
        # until the trainee sends the form.
        for name in DIMENSIONS:
            getattr(form, name).data = note
    if form.validate_on_submit():
        recorded = (answering.record_follow_up(invitation, form) if follow_up
                    else answering.record_answer(invitation, form))
        db.session.commit()
        if not recorded:
            return redirect(url_for(".survey_done"), code=303)
        return redirect(url_for(".thanks"), code=303)
    if request.method == "POST":
        status = 422
    else:
        status = 200
        if not follow_up:
            return render_template("surveys/questionnaire.html", form=form, note=note,
                                   context=context, fields=_blank_fields(note)), status
    template = "surveys/follow_up.html" if follow_up else "surveys/questionnaire.html"
    return render_template(template, form=form, note=note, context=context), status


@bp.get("/q/merci")
def thanks() -> ResponseReturnValue:
    """After a successful answer."""
    return render_template("surveys/thanks.html")


@bp.get("/q/deja-fait")
def survey_done() -> ResponseReturnValue:
    """The questionnaire was already answered (another tab, a double click)."""
    return render_template("surveys/answered.html")


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click posts carry no cookie: the CSRF check is done below
def unsubscribe(token: str) -> ResponseReturnValue:
    """GET asks for confirmation; POST unsubscribes, from our form or one-click (RFC 8058)."""
    invitation = operations.find_invitation(token)
    if invitation is None:
        return render_template("surveys/link_unknown.html"), 404
    if request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click":
        # The mail client posts on the trainee's behalf: no cookie, no CSRF token, and it
        # must get a plain answer, never a redirect. The token itself is the credential.
        operations.unsubscribe(invitation)
        db.session.commit()
        return Response(_("You are unsubscribed: avis will send you no more email.") + "\n",
                        mimetype="text/plain")
    form = UnsubscribeForm()
    if request.method == "POST":
        # Same check as every other form of the site (token, and Referer on HTTPS);
        # raises CSRFError, a 400.
        csrf.protect()
        if not form.validate_on_submit():
            return render_template("surveys/unsubscribe.html", form=form,
                                   context=operations.link_context(invitation)), 400
        operations.unsubscribe(invitation)
        db.session.commit()
        return render_template("surveys/unsubscribed.html",
                               context=operations.link_context(invitation))
    return render_template("surveys/unsubscribe.html", form=form,
                           context=operations.link_context(invitation))


def _closed_page(invitation: Invitation) -> ResponseReturnValue | None:
    """The page for a link that no longer opens the questionnaire, or None if it does."""
    state = operations.link_state(invitation)
    if state == LinkState.answered:
        return render_template("surveys/answered.html")
    if state in (LinkState.expired, LinkState.closed):
        return render_template("surveys/link_closed.html", state=state), 410
    return None


def _blank_fields(note: int | None) -> Markup:
    """The questionnaire's fields as first shown (no answer, no error; every mark set to
    ``note`` when the trainee clicked a star), rendered once per language and note.

    They are most of the page's rendering: thirty radios and their translated labels. The
    CSRF token, which changes, stays out of them.
    """
    key = (str(get_locale()), note)
    cache: dict[tuple[str, int | None], Markup] = current_app.extensions.setdefault(
        "avis.surveys.blank_fields", {})
    fields = cache.get(key)
    if fields is None:
        form = AnswerForm(formdata=None, meta={"csrf": False})
        if note is not None:
            for name in DIMENSIONS:
                getattr(form, name).data = note
        fields = Markup(render_template("surveys/_answer_fields.html", form=form))
        # A template edited while the development server runs must show at once.
        if not current_app.jinja_env.auto_reload:
            cache[key] = fields
    return fields


def _note(raw: str | None) -> int | None:
    """The star pre-selected from the email, when it is one of 1 to 5; else nothing."""
    return int(raw) if raw in NOTES else None
