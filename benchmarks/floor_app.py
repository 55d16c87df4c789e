"""The floor of the questionnaire benchmark: the least a Flask app can do for one answer.

A bare Flask + Flask-WTF app (CSRF on, token in the signed session cookie, as in avis)
with the same form as the trainee questionnaire: five 1–5 radios, would-recommend, an
optional comment. `GET /` renders the form; `POST /` validates it and inserts one row
into `floor_answers` (SQLAlchemy core, one connection pool per worker process), then
redirects (303) to `/merci`. No ORM, no invitation, no translation: what it costs is
what Flask, WTForms, Jinja, the session cookie and one INSERT cost on this machine.

Served by gunicorn from benchmarks/survey_load.py with the same worker settings as
avis (`gunicorn --pythonpath benchmarks floor_app:app`), reading FLOOR_DATABASE_URL and
FLOOR_SECRET_KEY. The benchmark creates and empties the table (`reset_table`).

`GET /page` is the floor of the public pages (benchmarks/scores.py): a small fixed
template rendered, no database, no form. `GET /json` is the floor of the public API
(benchmarks/public_api.py): `jsonify` of a fixed dict shaped and sized as an API v1
body document (~1.7 KB), no database.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, Response, jsonify, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from jinja2 import DictLoader
from wtforms import BooleanField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

DIMENSIONS = ("welcome", "content", "trainers", "equipment", "support")

metadata = sa.MetaData()
#: One answer: the same columns as avis's `answers`, minus the catalogue references.
floor_answers = sa.Table(
    "floor_answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    *(sa.Column(name, sa.SmallInteger, nullable=False) for name in DIMENSIONS),
    sa.Column("would_recommend", sa.Boolean, nullable=False),
    sa.Column("comment_title", sa.String(80)),
    sa.Column("comment_text", sa.Text),
    sa.Column("comment_public", sa.Boolean, nullable=False),
    sa.Column("accepts_contact", sa.Boolean, nullable=False),
    sa.Column("answered_dt", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)


def _rating() -> RadioField:
    return RadioField(choices=[(n, f"{n} sur 5") for n in range(1, 6)], coerce=int,
                      validators=[InputRequired()])


class FloorForm(FlaskForm):
    welcome = _rating()
    content = _rating()
    trainers = _rating()
    equipment = _rating()
    support = _rating()
    would_recommend = RadioField(choices=[("yes", "Oui"), ("no", "Non")],
                                 validators=[InputRequired()])
    comment_title = StringField(validators=[Optional(), Length(max=80)])
    comment_text = TextAreaField(validators=[Optional(), Length(max=2000)])
    comment_public = BooleanField()
    accepts_contact = BooleanField()
    submit = SubmitField("Envoyer mon avis")


PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Votre avis</title></head>
<body><main><h1>Votre avis sur votre formation</h1>
<form method="post" action="/">
  {{ form.csrf_token }}
  {% for name in dimensions %}
    <fieldset><legend>{{ name }}</legend>
      {% for option in form[name] %}{{ option }} {{ option.label }}{% endfor %}
      {% for error in form[name].errors %}<p class="error">{{ error }}</p>{% endfor %}
    </fieldset>
  {% endfor %}
  <fieldset><legend>Recommandation</legend>
    {% for option in form.would_recommend %}{{ option }} {{ option.label }}{% endfor %}
  </fieldset>
  <p>{{ form.comment_title.label }} {{ form.comment_title(maxlength=80) }}</p>
  <p>{{ form.comment_text.label }} {{ form.comment_text(rows=6) }}</p>
  <p>{{ form.comment_public }} {{ form.comment_public.label }}</p>
  <p>{{ form.accepts_contact }} {{ form.accepts_contact.label }}</p>
  <p>{{ form.submit }}</p>
</form></main></body></html>
"""


#: A small public page: a heading, a few figures and a list, rendered by Jinja.
SMALL_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>
<p>{{ "%.1f"|format(score) }} sur 5, {{ count }} avis</p>
<ul>{% for item in items %}<li>{{ item.name }} : {{ item.mark }} sur 5</li>{% endfor %}</ul>
</main></body></html>
"""
SMALL_PAGE_CONTEXT = {
    "title": "Institut Castignac Compétences", "score": 4.23, "count": 87,
    "items": [{"name": name, "mark": mark} for name, mark in
              zip(DIMENSIONS, (4.4, 4.1, 4.6, 3.8, 4.2), strict=True)],
}

#: The shape and size of `/api/v1/organismes-formateurs/<siret>` for a body taught in a
#: dozen towns (invented values).
BODY_DOCUMENT = {
    "id": "75216255247852", "numero": None, "siret": "75216255247852",
    "raison_sociale": "Centre de formation Saley",
    "region": ["11", "28", "44", "52", "53", "75", "76", "84", "94"],
    "lieux_de_formation": [
        {"adresse": {"code_postal": postcode, "ville": city, "region": region}}
        for postcode, city, region in (
            ("14000", "Caen", "28"), ("20200", "Bastia", "94"), ("30000", "Nîmes", "76"),
            ("49000", "Angers", "52"), ("51100", "Reims", "44"), ("56100", "Lorient", "53"),
            ("63000", "Clermont-Ferrand", "84"), ("64000", "Pau", "75"),
            ("66000", "Perpignan", "76"), ("76000", "Rouen", "28"),
            ("86000", "Poitiers", "75"), ("93200", "Saint-Denis", "11"))],
    "score": {
        "nb_avis": 2312,
        "notes": {"accueil": 4, "contenu_formation": 4, "equipe_formateurs": 5,
                  "moyen_materiel": 4, "accompagnement": 4, "global": 4},
        "aggregation": {"global": {"max": 5, "min": 3}},
        "note_ajustee": {"valeur": 4.36, "intervalle_90": {"min": 4.34, "max": 4.37},
                         "moyenne_regionale": 3.87, "poids_a_priori": 5},
        "repartition": {name: {"1": 0, "2": 1, "3": 192, "4": 1295, "5": 825}
                        for name in ("accueil", "contenu_formation", "equipe_formateurs",
                                     "moyen_materiel", "accompagnement")},
        "taux_de_reponse": 0.6352, "taux_satisfaction": 0.9589,
        "taux_recommandation": 0.8183,
        "insertion": {"nb_reponses": 211, "taux_en_emploi": 0.5498},
    },
}


def create_app(database_url: str | None = None, secret_key: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret_key or os.environ["FLOOR_SECRET_KEY"],
                      SESSION_COOKIE_SAMESITE="Lax")
    # A loader, not render_template_string: that one compiles the template at every call.
    app.jinja_loader = DictLoader({"questionnaire.html": PAGE, "page.html": SMALL_PAGE})
    CSRFProtect(app)
    engine = sa.create_engine(database_url or os.environ["FLOOR_DATABASE_URL"])

    @app.route("/", methods=["GET", "POST"])
    def questionnaire() -> ResponseReturnValue:
        form = FloorForm()
        if form.validate_on_submit():
            with engine.begin() as connection:
                connection.execute(floor_answers.insert().values(
                    **{name: form[name].data for name in DIMENSIONS},
                    would_recommend=form.would_recommend.data == "yes",
                    comment_title=form.comment_title.data or None,
                    comment_text=form.comment_text.data or None,
                    comment_public=form.comment_public.data,
                    accepts_contact=form.accepts_contact.data))
            return redirect("/merci", code=303)
        status = 400 if form.is_submitted() else 200
        return render_template("questionnaire.html", form=form, dimensions=DIMENSIONS), status

    @app.get("/page")
    def page() -> ResponseReturnValue:
        return render_template("page.html", **SMALL_PAGE_CONTEXT)

    @app.get("/json")
    def json_document() -> ResponseReturnValue:
        return jsonify(BODY_DOCUMENT)

    @app.get("/merci")
    def thanks() -> ResponseReturnValue:
        return Response("Merci !\n", mimetype="text/plain")

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return {"status": "ok"}

    return app


def reset_table(database_url: str) -> None:
    """Create `floor_answers` if needed, and empty it."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        metadata.create_all(connection)
        connection.execute(floor_answers.delete())
    engine.dispose()


def count_rows(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(sa.select(sa.func.count()).select_from(floor_answers))
    engine.dispose()
    return int(count or 0)


#: What gunicorn serves (`floor_app:app`); built lazily so that importing this module for
#: `reset_table` needs no environment.
def __getattr__(name: str) -> Flask:
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
