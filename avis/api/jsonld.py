"""schema.org JSON-LD of single resources, for search engines and partners who ask for
it (``Accept: application/ld+json``): a body is an ``Organization``, a course, an action
or a session a ``Course`` (a session adds its ``CourseInstance``), each with its
``aggregateRating`` when a score may be shown."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from avis.scores.models import Score

MEDIA_TYPE = "application/ld+json"
CONTEXT = "https://schema.org"


def wanted() -> bool:
    return request.accept_mimetypes.best_match(["application/json", MEDIA_TYPE]) == MEDIA_TYPE


def respond(document: dict[str, Any]) -> Response:
    response = current_app.response_class(
        current_app.json.dumps({"@context": CONTEXT, **document}), mimetype=MEDIA_TYPE)
    response.vary.add("Accept")
    return response


def rating(score: Score | None) -> dict[str, Any]:
    if score is None or not score.shown or score.mean_overall is None:
        return {}
    return {"aggregateRating": {"@type": "AggregateRating",
                                "ratingValue": round(score.mean_overall, 1),
                                "reviewCount": score.answers_count,
                                "bestRating": 5, "worstRating": 1}}


def organization(name: str, siret: str, score: Score | None = None) -> dict[str, Any]:
    return {"@type": "Organization", "name": name, "identifier": siret, **rating(score)}


def course(*, name: str, code: str, provider: dict[str, Any], score: Score | None,
           description: str | None = None, instance: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    document: dict[str, Any] = {"@type": "Course", "name": name,
                                "description": description or name, "courseCode": code,
                                "provider": provider, **rating(score)}
    if instance is not None:
        document["hasCourseInstance"] = instance
    return document


def course_instance(*, postcode: str, city: str, performer: dict[str, Any],
                    start: str, end: str) -> dict[str, Any]:
    return {"@type": "CourseInstance", "courseMode": "onsite",
            "location": {"@type": "Place", "address": {
                "@type": "PostalAddress", "postalCode": postcode, "addressLocality": city,
                "addressCountry": "FR"}},
            "organizer": performer, "performer": performer,
            "startDate": start, "endDate": end}
