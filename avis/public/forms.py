"""The search form of the public lookup: a GET form, so no CSRF token (it changes
nothing, and its URLs must be shareable and cacheable)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField, SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Length, NumberRange, Optional

from avis.catalog.geo import DEPARTEMENT_NAMES

#: Longest query accepted: longer is a paste gone wrong, not a search.
MAX_QUERY = 200
#: Bodies a comparison holds.
MAX_COMPARED = 4
#: Pages a search offers at most (20 results each).
MAX_PAGE = 1000

_SIRET = re.compile(r"[0-9]{14}")

#: Funders a visitor may filter on (codes of the catalogue, see ``imports.rules``).
FUNDERS: dict[int, LazyString] = {
    2: _l("Regional council"),
    4: _l("France Travail"),
    3: _l("European Social Fund"),
    11: _l("State – ministry of employment"),
    16: _l("Skills operator (OPCO)"),
    7: _l("AGEFIPH"),
    5: _l("Company"),
    10: _l("The trainee"),
}


def _strip(value: str | None) -> str:
    return (value or "").strip()


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Training body, course, town or postcode"),
                    description=_l("For example: Nantes, 44600, a course title, a SIRET"),
                    filters=[_strip],
                    validators=[Length(max=MAX_QUERY, message=_l(
                        "The search is limited to %(max)d characters."))])
    departement = SelectField(
        _l("Département"), default="", validate_choice=False,
        choices=[SelectChoice("", _l("All")), *(SelectChoice(code, f"{code} – {name}")
                                                 for code, name in DEPARTEMENT_NAMES.items())],
        validators=[AnyOf(["", *DEPARTEMENT_NAMES], message=_l(
            "Choose a département from the list."))])
    financeur = SelectField(
        _l("Funder"), default="", validate_choice=False,
        choices=[SelectChoice("", _l("All")),
                 *(SelectChoice(str(code), label) for code, label in FUNDERS.items())],
        validators=[AnyOf(["", *map(str, FUNDERS)], message=_l(
            "Choose a funder from the list."))])
    page = IntegerField(_l("Page"), validators=[Optional(), NumberRange(
        min=1, max=MAX_PAGE, message=_l("This page does not exist."))])

    def __init__(self, args: MultiDict[str, str]) -> None:
        super().__init__(formdata=args)

    @property
    def funder(self) -> int | None:
        return int(self.financeur.data) if self.financeur.data else None


def clean_siret(value: str) -> str | None:
    """``value`` as a SIRET (spaces allowed, as printed on invoices), or None."""
    value = value.replace(" ", "")
    return value if _SIRET.fullmatch(value) else None


def selected_sirets(values: list[str]) -> list[str]:
    """The bodies picked for comparison: well-formed SIRETs, without repeats, in the
    order given, at most ``MAX_COMPARED``."""
    seen: dict[str, None] = {}
    for value in values:
        siret = clean_siret(value)
        if siret:
            seen.setdefault(siret, None)
    return list(seen)[:MAX_COMPARED]
