"""Forms of the pages a trainee reaches from an email."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class UnsubscribeForm(FlaskForm):
    """The confirmation button of the unsubscribe page: a POST with a CSRF token, so
    that neither a link scanner's GET nor another site's form can unsubscribe anyone."""

    submit = SubmitField(_l("Unsubscribe"), description=_l(
        "You will receive no more email from avis, about any course."))
