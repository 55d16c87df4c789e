"""Rendered public pages kept in memory for ``PAGE_CACHE_SECONDS``, per URL and language."""

from __future__ import annotations

from pathlib import Path

from avis import create_app
from avis.db import db
from avis.public.caching import cache
from tests.public.fixtures import PublicWorld, add_answer, publish


def test_a_page_is_served_from_memory_until_it_expires(
        database_url: str, tmp_path: Path, public_world: PublicWorld) -> None:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "PAGE_CACHE_SECONDS": 60}, instance_path=tmp_path)
    client = app.test_client()
    url = f"/organismes/{public_world.anjou.siret}"
    first = client.get(url).get_data(as_text=True)
    assert "Commentaires (0)" in first

    add_answer(public_world.offers["anjou"], (4, 4, 4, 4, 4),
               comment=("Nouveau", "Un commentaire tout juste publié."))
    publish()
    # Kept: the same page, without the new comment.
    assert client.get(url).get_data(as_text=True) == first
    # Another language, another page: computed now.
    english = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Comments (1)" in english
    # A search is another URL.
    assert "Pas encore" in client.get(f"/?q={public_world.mayenne.name}").get_data(
        as_text=True)
    with app.app_context():
        cache.clear()
    assert "Un commentaire tout juste publié." in client.get(url).get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_refused_requests_and_language_choices_are_not_kept(
        database_url: str, tmp_path: Path, public_world: PublicWorld) -> None:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "PAGE_CACHE_SECONDS": 60}, instance_path=tmp_path)
    client = app.test_client()
    assert client.get("/?q=laval&departement=99").status_code == 400
    chosen = client.get(f"/organismes/{public_world.anjou.siret}?lang=en")
    assert "Set-Cookie" in chosen.headers
    with app.app_context():
        kept = [key for key in cache.cache._cache if key.startswith("page:")]
        db.engine.dispose()
    assert kept == []
