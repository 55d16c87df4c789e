"""Production entry point: ``gunicorn avis.wsgi:app``."""

from avis import create_app

app = create_app()
