"""Public pages: what everyone can see without an account."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, jsonify, render_template, request, session
from flask.typing import ResponseReturnValue

from avis.catalog.geo import DEPARTEMENT_NAMES
from avis.db import db
from avis.public import charts, profiles, reviews
from avis.public.caching import cached_page
from avis.public.forms import MAX_COMPARED, MAX_QUERY, SearchForm, clean_siret, selected_sirets
from avis.public.queries import figures_by_departement
from avis.public.search import Query, search
from avis.scores.aggregate import PRIOR_WEIGHT
from avis.surveys.models.answers import DIMENSIONS, Answer

bp = Blueprint("public", __name__, template_folder="templates")

#: How long browsers and shared caches may keep a public page: scores change hourly.
MAX_AGE = 300


@bp.after_request
def _cache_headers(response: Response) -> Response:
    if request.endpoint == "public.healthz":
        response.headers["Cache-Control"] = "no-store"
    elif session.modified or "Set-Cookie" in response.headers:
        # A page that sets the language cookie is this visitor's, not everyone's (the
        # session cookie is written after this hook: ``modified`` tells it is coming).
        response.headers["Cache-Control"] = "private, no-cache"
    elif response.status_code in (200, 404):
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        if response.status_code == 200 and not response.direct_passthrough:
            response.add_etag()
            response.make_conditional(request)
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response


@bp.context_processor
def _page_helpers() -> dict[str, object]:
    return {"dimensions": DIMENSIONS, "prior_weight": PRIOR_WEIGHT,
            "score_scale": charts.score_scale, "distribution_bars": charts.distribution_bars,
            "departement_names": DEPARTEMENT_NAMES, "max_compared": MAX_COMPARED}


@bp.get("/")
@cached_page
def home() -> ResponseReturnValue:
    """The home page and the search: bodies by name, SIRET, course, place, formacode.

    The bodies picked for a comparison travel in the URL (``siret``, as on the
    comparison page): no cookie, so the page stays cacheable and shareable."""
    form = SearchForm(request.args)
    selection = _selection(selected_sirets(request.args.getlist("siret")))
    search_args = {name: request.args.get(name) for name in ("q", "departement", "financeur")
                   if request.args.get(name)}
    page = {"form": form, "selection": selection, "search_args": search_args,
            "results": None, "figures": []}
    if not form.validate():
        form.q.data = (form.q.data or "")[:MAX_QUERY]
        return render_template("public/home.html", **page), 400
    query = Query(text=form.q.data or "", departement=form.departement.data or None,
                  funder=form.funder, page=form.page.data or 1)
    if query.is_empty:
        page["figures"] = figures_by_departement(db.session)
    else:
        page["results"] = search(query)
    return render_template("public/home.html", **page)


def _selection(sirets: list[str]) -> list[profiles.TrainingBody]:
    """The bodies picked for comparison, in order (unknown SIRETs dropped)."""
    if not sirets:
        return []
    found = {b.siret: b for b in db.session.scalars(
        sa.select(profiles.TrainingBody).where(profiles.TrainingBody.siret.in_(sirets)))}
    return [found[s] for s in sirets if s in found]


def _comments(about: sa.ColumnElement[bool]) -> reviews.CommentPage:
    """The page of comments asked for (``page``); 404 for a page that does not exist."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        abort(404)
    comments = reviews.comments(about, int(raw))
    if comments.page > 1 and not comments.items:
        abort(404)
    return comments


@bp.get("/organismes/<siret>")
@cached_page
def body(siret: str) -> ResponseReturnValue:
    """A training body: its score and what it rests on, its courses, its comments."""
    found = profiles.body_by_siret(siret) if siret.isdigit() and len(siret) == 14 else None
    if found is None:
        abort(404)
    comments = _comments(Answer.training_body_id == found.id)
    # The comparison being built, if the visitor came from a search with one.
    picked = [s for s in selected_sirets(request.args.getlist("comparer")) if s != siret]
    return render_template("public/body.html", profile=profiles.body_profile(found),
                           comments=comments, picked=picked[:MAX_COMPARED - 1])


@bp.get("/formations/<path:numero>")
@cached_page
def course(numero: str) -> ResponseReturnValue:
    """A course: its score across the bodies teaching it, where, and its comments."""
    found = profiles.course_by_numero(numero)
    if found is None:
        abort(404)
    comments = _comments(Answer.course_id == found.id)
    return render_template("public/course.html", profile=profiles.course_profile(found),
                           comments=comments)


@bp.get("/comparer")
@cached_page
def compare() -> ResponseReturnValue:
    """Two to four bodies side by side (``siret`` given two to four times)."""
    asked = request.args.getlist("siret")
    malformed = [value for value in asked if clean_siret(value) is None]
    sirets = selected_sirets(asked)
    too_many = len({clean_siret(v) for v in asked} - {None}) > MAX_COMPARED
    compared, unknown = profiles.compared(sirets)
    status = 200 if len(compared) >= 2 else 400
    return render_template("public/compare.html", compared=compared, unknown=unknown,
                           malformed=malformed, too_many=too_many,
                           sirets=[p.body.siret for p in compared]), status


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness and database check for operators and load balancers."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
