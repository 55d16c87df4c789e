"""schema.org JSON-LD with ``Accept: application/ld+json`` (ANCHORS.md's pinned shapes)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.public.fixtures import PublicWorld

LD = {"Accept": "application/ld+json"}


def ld(client: FlaskClient, url: str) -> dict:
    response = client.get(url, headers=LD)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/ld+json"
    assert "Accept" in response.vary
    return response.get_json(force=True)


def test_a_body_is_an_organization_with_its_rating(client: FlaskClient,
                                                   public_world: PublicWorld) -> None:
    body = ld(client, f"/api/v1/organismes-formateurs/{public_world.atlantique.siret}")
    assert body["@context"] == "https://schema.org"
    assert body["@type"] == "Organization"
    assert body["name"] == public_world.atlantique.name
    rating = body["aggregateRating"]
    assert rating["@type"] == "AggregateRating"
    assert rating["reviewCount"] == 30
    assert (rating["bestRating"], rating["worstRating"]) == (5, 1)
    assert 1 <= rating["ratingValue"] <= 5


def test_no_rating_below_the_threshold(client: FlaskClient, public_world: PublicWorld) -> None:
    body = ld(client, f"/api/v1/organismes-formateurs/{public_world.mayenne.siret}")
    assert "aggregateRating" not in body


def test_a_course_and_a_session(client: FlaskClient, public_world: PublicWorld) -> None:
    offer = public_world.offers["welding"]
    course = ld(client, f"/api/v1/formations/{offer.course.numero}")
    assert course["@type"] == "Course"
    assert course["name"] == "Soudeur industriel"
    assert course["description"]
    assert course["courseCode"] == offer.course.numero
    assert course["provider"]["@type"] == "Organization"
    assert course["provider"]["name"] == public_world.atlantique.name
    assert course["aggregateRating"]["reviewCount"] == 24
    assert "hasCourseInstance" not in course
    session_id = f"{offer.course.numero}|{offer.action.numero}|{offer.session.numero}"
    session = ld(client, f"/api/v1/sessions/{session_id}")
    instance = session["hasCourseInstance"]
    assert instance["@type"] == "CourseInstance"
    assert instance["location"]["address"]["postalCode"] == "44000"
    assert instance["performer"]["name"] == public_world.atlantique.name
    assert instance["startDate"] == offer.session.start_date.isoformat()
    assert instance["endDate"] == offer.session.end_date.isoformat()


def test_plain_json_by_default(client: FlaskClient, public_world: PublicWorld) -> None:
    response = client.get(f"/api/v1/organismes-formateurs/{public_world.anjou.siret}")
    assert response.headers["Content-Type"] == "application/json"
    assert "@type" not in response.get_json()
