"""The dashboard's filter form (a GET form: the filters are in the address, so a view can
be bookmarked and shared)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import MonthField, SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp, ValidationError

from avis.catalog.funders import FUNDER_LABELS
from avis.catalog.geo import DEPARTEMENT_NAMES, REGION_NAMES

BREAKDOWN_NAMES: dict[str, LazyString] = {
    "mois": _l("Month of session end"),
    "organisme": _l("Training body"),
    "formation": _l("Course"),
    "campagne": _l("Campaign"),
    "departement": _l("Département"),
    "financeur": _l("Funder"),
    "dispositif": _l("Funding scheme"),
}


def _no_spaces(value: Any) -> Any:
    return value.replace(" ", "") if isinstance(value, str) else value


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class DashboardFilterForm(FlaskForm):
    class Meta:
        csrf = False

    region = SelectField(_l("Région"), validators=[Optional()])
    campagne = SelectField(_l("Campaign"), validators=[Optional()])
    depuis = MonthField(_l("Sessions ended from (month)"), validators=[Optional()])
    jusqu = MonthField(_l("Sessions ended until (month)"), validators=[Optional()])
    siret = SearchField(_l("Training body (SIRET)"), filters=[_no_spaces], validators=[
        Optional(), Regexp(r"^\d{14}$", message=_l("A SIRET has 14 digits."))])
    formation = SearchField(_l("Course (catalogue number)"), filters=[_stripped],
                            validators=[Optional(), Length(max=64)])
    departement = SelectField(_l("Département"), validators=[Optional()])
    financeur = SelectField(_l("Funder"), validators=[Optional()])
    dispositif = SelectField(_l("Funding scheme"), validators=[Optional()])
    par = SelectField(_l("Break down by"), default="mois", validators=[Optional()],
                      choices=[SelectChoice(k, v) for k, v in BREAKDOWN_NAMES.items()])

    def offer(self, found: dict[str, list[Any]]) -> None:
        """The choices of the selects: the values found in the reader's rows."""
        every = SelectChoice("", _l("All"))
        self.region.choices = [every, *(SelectChoice(code, f"{code} {REGION_NAMES.get(code, '')}")
                                        for code in found["regions"])]
        self.campagne.choices = [every, *(SelectChoice(c, c) for c in found["campaigns"])]
        self.departement.choices = [every, *(
            SelectChoice(code, f"{code} {DEPARTEMENT_NAMES.get(code, '')}".strip())
            for code in found["departements"])]
        self.financeur.choices = [every, *(
            SelectChoice(str(code), f"{code} {FUNDER_LABELS.get(code, '')}".strip())
            for code in found["funders"])]
        self.dispositif.choices = [every, *(SelectChoice(s, s) for s in found["schemes"])]

    def validate_jusqu(self, field: MonthField) -> None:
        start: dt.date | None = self.depuis.data
        if start is not None and field.data is not None and field.data < start:
            raise ValidationError(_l("The last month comes before the first one."))
