"""API v1, compatible with ANOTEA's (paths, parameters, defaults, shapes, errors).

Errors are JSON ``{"statusCode", "error", "message"}`` as ANOTEA's (Hapi) were; invalid
parameters → 400 "Erreur de validation" with ``details``; unknown id → 404; malformed
id → 400.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from avis.api import auth, catalogue, documents, jsonld, openapi, params, queries
from avis.api.documents import Rounding
from avis.api.params import ValidationFailed
from avis.public.profiles import body_by_siret, scores_of
from avis.scores.models import ScoreScope

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")

#: How long clients and proxies may keep an answer: scores change hourly.
MAX_AGE = 300

_REVIEW_FILTERS: dict[str, params.Parser] = {
    "organisme_formateur": params.Digits(9, 14),
    "lieu_de_formation": params.Digits(5, 5),
    "certif_info": params.Digits(1, 7),
    "formacode": params.Digits(1, 5),
}
_BODY_FILTERS: dict[str, params.Parser] = {
    "siret": params.Digits(14, 14),
    "numero": params.Text(500),
    "lieu_de_formation": params.Digits(2, 5),
    "nb_avis": params.Integer(default=0, minimum=0, maximum=10 ** 9),
}


def error_response(status: int, error: str, message: str, **extra: Any) -> Response:
    response = jsonify({"statusCode": status, "error": error, "message": message, **extra})
    response.status_code = status
    return response


bp.before_request(auth.authenticate)
bp.register_error_handler(auth.Unauthorized, auth.unauthorized)


class ApiError(Exception):
    """An error answered as ANOTEA did: status, its name, a French message."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def invalid_identifier() -> ApiError:
    return ApiError(400, "Bad Request", "Identifiant invalide")


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> ResponseReturnValue:
    return error_response(error.status, error.error, error.message)


@bp.errorhandler(ValidationFailed)
def _invalid(failed: ValidationFailed) -> ResponseReturnValue:
    return error_response(400, "Bad Request", "Erreur de validation", details=failed.details)


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    # JSON or JSON-LD, by the Accept header.
    response.vary.add("Accept")
    if response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
        response.add_etag()
        response.make_conditional(request)
    elif response.status_code == 304:  # answered early by the cache (``cached_api``)
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response


def _pagination(values: dict[str, Any], total: int) -> dict[str, Any]:
    per_page = values["items_par_page"]
    return {"pagination": {
        "page": values["page"] if total else 0,
        "items_par_page": per_page,
        "total_items": total,
        "total_pages": math.ceil(total / per_page) if per_page and total else 0,
    }}


@bp.get("/ping/anonymous")
def ping() -> ResponseReturnValue:
    return jsonify(user="anonymous")


@bp.get("/ping/authenticated")
def ping_authenticated() -> ResponseReturnValue:
    """A partner checks its signing: its key back, or 401."""
    if g.api_key is None:
        raise auth.Unauthorized("Le header Authorization est requis")
    return jsonify(user=g.api_key)


@bp.get("/avis")
def reviews() -> ResponseReturnValue:
    values = params.validate(request.args, {**params.REVIEW_LIST, **_REVIEW_FILTERS})
    return _review_list(values, queries.review_filters(values))


def _review_list(values: dict[str, Any], filters: queries.ReviewFilters) -> ResponseReturnValue:
    per_page = values["items_par_page"]
    total, rows = queries.reviews(filters, sort=values["tri"], order=values["ordre"],
                                  limit=per_page, offset=values["page"] * per_page)
    rounding = Rounding(values["notes_decimales"])
    return jsonify(avis=[params.project(documents.review(r, rounding), values["fields"])
                         for r in rows],
                   meta=_pagination(values, total))


@bp.get("/avis/<identifier>")
def review(identifier: str) -> ResponseReturnValue:
    values = params.validate(request.args, params.SINGLE)
    if not identifier.isascii() or not identifier.isdigit() or len(identifier) > 18:
        raise invalid_identifier()
    # Ids are 32-bit integers in the database: a larger number names no review.
    found = queries.review(int(identifier)) if int(identifier) < 2 ** 31 else None
    if found is None:
        raise ApiError(404, "Not Found", "Identifiant inconnu")
    document = documents.review(found, Rounding(values["notes_decimales"]))
    return jsonify(params.project(document, values["fields"]))


@bp.get("/organismes-formateurs")
def bodies() -> ResponseReturnValue:
    values = params.validate(request.args, {**params.PAGINATION, **_BODY_FILTERS})
    per_page = values["items_par_page"]
    total, found = queries.bodies(queries.body_filters(values), limit=per_page,
                                  offset=values["page"] * per_page)
    rounding = Rounding(values["notes_decimales"])
    documents_ = _body_documents(found, rounding)
    return jsonify(organismes_formateurs=[params.project(d, values["fields"])
                                          for d in documents_],
                   meta=_pagination(values, total))


def _body_documents(found: list[Any], rounding: Rounding) -> list[dict[str, Any]]:
    ids = [b.id for b in found]
    scores = scores_of(ScoreScope.body, ids)
    places = queries.places(ids)
    extremes = queries.extremes(ids)
    result = []
    for body in found:
        where = places.get(body.id, [])
        result.append({
            "id": body.siret,
            "numero": None,
            "siret": body.siret,
            "raison_sociale": body.name,
            "region": sorted({region for _p, _c, region in where}),
            "lieux_de_formation": [{"adresse": {"code_postal": postcode, "ville": city,
                                                "region": region}}
                                   for postcode, city, region in where],
            "score": documents.score(scores.get(body.id), rounding, extremes.get(body.id)),
        })
    return result


def _known_body(siret: str) -> Any:
    if not siret.isascii() or not siret.isdigit() or len(siret) != 14:
        raise invalid_identifier()
    body = body_by_siret(siret)
    if body is None or not queries.is_training_body(body.id):
        raise ApiError(404, "Not Found", "Identifiant inconnu")
    return body


@bp.get("/organismes-formateurs/<siret>")
def body(siret: str) -> ResponseReturnValue:
    values = params.validate(request.args, params.SINGLE)
    found = _known_body(siret)
    if jsonld.wanted():
        score = scores_of(ScoreScope.body, [found.id]).get(found.id)
        return jsonld.respond(jsonld.organization(found.name, found.siret, score))
    document = _body_documents([found], Rounding(values["notes_decimales"]))[0]
    return jsonify(params.project(document, values["fields"]))


@bp.get("/organismes-formateurs/<siret>/avis")
def body_reviews(siret: str) -> ResponseReturnValue:
    values = params.validate(request.args, params.REVIEW_LIST)
    found = _known_body(siret)
    filters = queries.review_filters(values)
    filters.add("body", found.id)
    return _review_list(values, filters)


# --- courses, actions, sessions ---------------------------------------------------

_CATALOGUE_FILTERS: dict[str, params.Parser] = {
    "id": params.Text(500),
    "numero": params.Text(500),
    "region": params.Digits(2, 2),
    "nb_avis": params.Integer(default=0, minimum=0, maximum=10 ** 9),
}


def _catalogue_routes(kind: catalogue.Kind) -> None:
    def listing() -> ResponseReturnValue:
        schema = {**params.PAGINATION, **_CATALOGUE_FILTERS}
        if kind is catalogue.FORMATION:
            schema.pop("region")
        values = params.validate(request.args, schema)
        conditions = catalogue.filters(kind, values)
        per_page = values["items_par_page"]
        total, rows = (0, []) if conditions is None else catalogue.find(
            kind, conditions, limit=per_page, offset=values["page"] * per_page)
        found = catalogue.documents_of(kind, rows, Rounding(values["notes_decimales"]),
                                       embedded=_wants_reviews(values["fields"]))
        return jsonify({kind.plural: [params.project(d, values["fields"]) for d in found],
                        "meta": _pagination(values, total)})

    def _one(identifier: str) -> Any:
        parts = catalogue.split(kind, identifier)
        if parts is None:
            raise invalid_identifier()
        _total, rows = catalogue.find(kind, catalogue.by_numbers(kind, parts), limit=1,
                                      offset=0)
        if not rows:
            raise ApiError(404, "Not Found", kind.unknown)
        return rows[0]

    def single(identifier: str) -> ResponseReturnValue:
        values = params.validate(request.args, params.SINGLE)
        row = _one(identifier)
        if jsonld.wanted():
            score = scores_of(kind.scope, [row[0]]).get(row[0])
            return jsonld.respond(catalogue.json_ld(kind, row, score))
        found = catalogue.documents_of(kind, [row], Rounding(values["notes_decimales"]),
                                       embedded=_wants_reviews(values["fields"]))[0]
        return jsonify(params.project(found, values["fields"]))

    def its_reviews(identifier: str) -> ResponseReturnValue:
        values = params.validate(request.args, params.REVIEW_LIST)
        row = _one(identifier)
        filters = queries.review_filters(values)
        filters.add(kind.answers_of, row[0])
        return _review_list(values, filters)

    path = f"/{kind.plural}"
    bp.add_url_rule(path, f"{kind.name}_list", listing)
    bp.add_url_rule(f"{path}/<path:identifier>/avis", f"{kind.name}_reviews", its_reviews)
    bp.add_url_rule(f"{path}/<path:identifier>", f"{kind.name}", single)


def _wants_reviews(fields: tuple[str, ...]) -> bool:
    """Reviews are read only when the answer will hold them."""
    if not fields:
        return True
    if fields[0].startswith("-"):
        return "-avis" not in fields
    return "avis" in fields


for _kind in (catalogue.FORMATION, catalogue.ACTION, catalogue.SESSION):
    _catalogue_routes(_kind)


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    return jsonify(openapi.document())


@bp.get("/documentation")
def documentation() -> ResponseReturnValue:
    """The same description, for people."""
    described = openapi.document()
    shared = described["components"]["parameters"]

    def resolve(parameters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in parameters]

    return render_template("api/documentation.html", document=described, resolve=resolve)
