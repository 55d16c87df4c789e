"""The embeddable widget: ``/widget.js`` on a partner's page turns each
``<div class="avis-widget" data-type="organisme|formation|action|session"
data-format="score|liste" data-identifiant="…">`` into an iframe of ``/widget/…``,
resized to its content. Only the ``/widget/…`` pages may be framed by other sites."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from avis.api import catalogue
from avis.public import profiles, reviews
from avis.scores.models import Score, ScoreScope
from avis.security import frameable
from avis.surveys.models.answers import Answer

bp = Blueprint("widget", __name__, template_folder="templates")

SCRIPT = Path(__file__).parent / "widget.js"
#: How long partners' visitors' browsers keep the script and the frames.
MAX_AGE = 300
#: Comments a "liste" widget shows.
LATEST = 5
FORMATS = ("score", "liste")


@dataclass(frozen=True)
class Subject:
    """What a widget is about: its name, where its full page is, its numbers."""

    name: str
    page_url: str | None
    score: Score | None
    answers: Any  # SQL condition selecting its answers


def _subject(kind: str, identifier: str) -> Subject | None:
    if kind == "organisme":
        body = (profiles.body_by_siret(identifier)
                if identifier.isdigit() and len(identifier) == 14 else None)
        if body is None:
            return None
        return Subject(body.name, url_for("public.body", siret=body.siret, _external=True),
                       profiles.scores_of(ScoreScope.body, [body.id]).get(body.id),
                       Answer.training_body_id == body.id)
    kinds = {"formation": catalogue.FORMATION, "action": catalogue.ACTION,
             "session": catalogue.SESSION}
    if kind not in kinds:
        return None
    found_kind = kinds[kind]
    parts = catalogue.split(found_kind, identifier)
    if parts is None:
        return None
    _total, rows = catalogue.find(found_kind, catalogue.by_numbers(found_kind, parts),
                                  limit=1, offset=0)
    if not rows:
        return None
    object_id, course, _action, _session, body = rows[0]
    name = course.title if body is None else f"{course.title} — {body.name}"
    return Subject(name, url_for("public.course", numero=course.numero, _external=True),
                   profiles.scores_of(found_kind.scope, [object_id]).get(object_id),
                   catalogue.answers_of(found_kind, object_id))


@bp.get("/widget.js")
def script() -> ResponseReturnValue:
    response = Response(SCRIPT.read_text(encoding="utf-8"),
                        mimetype="text/javascript")
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    # Partner pages load it from their own origin.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/widget/<kind>/<fmt>")
@frameable
def frame(kind: str, fmt: str) -> ResponseReturnValue:
    """The content of one widget's iframe (``?identifiant=…``)."""
    if fmt not in FORMATS:
        abort(404)
    identifier = request.args.get("identifiant", "")
    subject = _subject(kind, identifier) if 0 < len(identifier) <= 250 else None
    if subject is None:
        return render_template("widget/unknown.html"), 404
    comments = reviews.comments(subject.answers) if fmt == "liste" else None
    response = current_app.make_response(render_template(
        "widget/frame.html", subject=subject, fmt=fmt,
        comments=comments.items[:LATEST] if comments else [],
        total_comments=comments.total if comments else 0))
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response
