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


def test_one_url_kept_once_per_media_type(database_url: str, tmp_path,
                                          public_world: PublicWorld) -> None:
    """With answers kept in memory, JSON and JSON-LD of one URL are kept apart: each
    asker gets its own, each with ``Vary: Accept`` (what shared caches key on), and an
    ETag of one never validates the other."""
    from avis import create_app
    from avis.db import db
    from avis.public.caching import cache

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "PAGE_CACHE_SECONDS": 60}, instance_path=tmp_path)
    cached = app.test_client()
    url = f"/api/v1/organismes-formateurs/{public_world.atlantique.siret}"
    try:
        for _ in range(2):  # the second round is served from memory
            linked = cached.get(url, headers=LD)
            plain = cached.get(url)
            assert linked.headers["Content-Type"] == "application/ld+json"
            assert linked.get_json(force=True)["@type"] == "Organization"
            assert plain.headers["Content-Type"] == "application/json"
            assert "@type" not in plain.get_json()
            assert "Accept" in linked.vary
            assert "Accept" in plain.vary
        with app.app_context():
            assert len([k for k in cache.cache._cache if k.startswith("api:") and url in k]) == 2
        assert linked.headers["ETag"] != plain.headers["ETag"]
        other = cached.get(url, headers={**LD, "If-None-Match": plain.headers["ETag"]})
        assert other.status_code == 200
        assert other.headers["Content-Type"] == "application/ld+json"
        same = cached.get(url, headers={**LD, "If-None-Match": linked.headers["ETag"]})
        assert same.status_code == 304
    finally:
        with app.app_context():
            cache.clear()
            db.engine.dispose()
