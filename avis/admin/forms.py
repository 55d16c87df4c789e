"""Forms of the back office's shared pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SearchField, SubmitField
from wtforms.validators import Email, Length, NumberRange, Optional


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class BodyFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Name or SIRET"), filters=[_strip],
                    validators=[Optional(), Length(max=200)])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=10_000)])


class ContactForm(FlaskForm):
    contact_email = EmailField(_l("Contact address of the training body"), filters=[_strip],
                               description=_l("Where its account invitation and review "
                                              "notifications go. Leave empty to remove it."),
                               validators=[Optional(), Length(max=254), Email(
                                   _l("Enter an email address, like name@example.fr."),
                                   check_deliverability=False)])
    submit = SubmitField(_l("Save the address"))
