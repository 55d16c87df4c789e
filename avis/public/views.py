"""Public pages: what everyone can see without an account."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue

from avis.db import db
from avis.public.queries import figures_by_departement

bp = Blueprint("public", __name__, template_folder="templates")


@bp.get("/")
def home() -> ResponseReturnValue:
    """The home page: what avis is, and what the catalogue holds per département."""
    figures = figures_by_departement(db.session)
    return render_template("public/home.html", figures=figures)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness and database check for operators and load balancers."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
