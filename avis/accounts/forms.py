"""Forms of sign-in, account pages and account administration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from avis.accounts.models import AccountStatus, Role
from avis.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from avis.catalog.geo import REGION_NAMES
from avis.public.forms import FUNDERS

ROLE_LABELS: dict[str, LazyString] = {
    Role.admin: _l("Administrator"),
    Role.moderator: _l("Moderator"),
    Role.region: _l("Region staff"),
    Role.organisation: _l("Training body"),
}
STATUS_LABELS: dict[str, LazyString] = {
    AccountStatus.invited: _l("Invited"),
    AccountStatus.active: _l("Active"),
    AccountStatus.disabled: _l("Disabled"),
}

#: What ``operations.AccountError`` codes mean, in the user's words.
ERRORS: dict[str, LazyString] = {
    "invalid_email": _l("Enter an email address, like name@example.fr."),
    "email_taken": _l("An account already uses this email address."),
    "invalid_role": _l("Choose a role."),
    "invalid_region": _l("Choose a région from the list."),
    "invalid_funder": _l("Choose funders from the list."),
    "invalid_siret": _l("Enter a 14-digit SIRET or a 9-digit SIREN whose check digit is right."),
    "siret_required": _l("A training body account needs its SIRET (one establishment) "
                         "or SIREN (all of them)."),
    "region_required": _l("Region staff need their région."),
    "scope_not_for_role": _l("This role takes no such scope: leave it empty."),
    "password_too_short": _l("Choose a password of at least %(min_length)s characters."),
    "password_too_long": _l("This password is too long."),
    "password_too_common": _l("This password is too common or too easy to guess: add words "
                              "of your own, unrelated to your name, address or avis."),
    "wrong_password": _l("Your current password is not this one."),
    "own_role": _l("You cannot change your own role: ask another administrator."),
    "own_account": _l("You cannot disable your own account."),
    "own_personal_data": _l("You cannot grant yourself the reading of personal data: ask "
                            "another administrator."),
    "personal_data_not_for_role": _l("Only Region staff and administrators may read "
                                     "trainees' names and emails."),
    "not_invited": _l("This account has already chosen its password."),
    "invalid_link": _l("This link no longer works: it was used, or it expired."),
}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), filters=[_strip],
                       validators=[InputRequired(_l("Enter your email address.")),
                                   Length(max=254)])
    password = PasswordField(_l("Password"),
                             validators=[InputRequired(_l("Enter your password.")),
                                         Length(max=MAX_LENGTH)])
    submit = SubmitField(_l("Sign in"))


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), filters=[_strip],
                       description=_l("The 6 digits your authenticator app shows, or one of "
                                      "your recovery codes."),
                       validators=[InputRequired(_l("Enter the code.")), Length(max=40)])
    submit = SubmitField(_l("Continue"))


class TotpSetupForm(FlaskForm):
    code = StringField(_l("Code shown by the app"), filters=[_strip],
                       validators=[InputRequired(_l("Enter the code.")), Length(max=10)])
    submit = SubmitField(_l("Turn on"))


class ForgotForm(FlaskForm):
    email = EmailField(_l("Email address"), filters=[_strip],
                       validators=[InputRequired(_l("Enter your email address.")),
                                   Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    return (
        PasswordField(_l("New password"),
                      description=_l("At least %(n)s characters. A sentence of a few words "
                                     "is easy to remember and hard to guess.", n=MIN_LENGTH),
                      validators=[InputRequired(_l("Choose a password."))]),
        PasswordField(_l("New password, again"),
                      validators=[InputRequired(_l("Type the password again.")),
                                  EqualTo("password", _l("The two passwords differ."))]),
    )


class ChoosePasswordForm(FlaskForm):
    password, confirm = _new_password_fields()
    submit = SubmitField(_l("Save my password"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"),
                            validators=[InputRequired(_l("Enter your current password."))])
    password, confirm = _new_password_fields()
    submit = SubmitField(_l("Change my password"))


class ConfirmForm(FlaskForm):
    """A button only (POST with CSRF): sign out, disable, resend…"""

    submit = SubmitField(_l("Confirm"))


class PasswordConfirmForm(FlaskForm):
    current = PasswordField(_l("Current password"),
                            validators=[InputRequired(_l("Enter your current password."))])
    submit = SubmitField(_l("Confirm"))


def _choices(pairs: object) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[attr-defined]


def _region_choices() -> list[SelectChoice]:
    return _choices([("", "—")] + [(code, f"{name} ({code})") for code, name in
                                   sorted(REGION_NAMES.items(), key=lambda item: item[1])])


class AccountForm(FlaskForm):
    """An account's role and scope, for an admin (invite and edit)."""

    email = EmailField(_l("Email address"), filters=[_strip],
                       validators=[InputRequired(_l("Enter the email address.")),
                                   Length(max=254)])
    name = StringField(_l("Name"), filters=[_strip], validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=_choices(
        (role.value, label) for role, label in ROLE_LABELS.items()))
    region = SelectField(_l("Région"), description=_l(
        "Region staff: required. Moderators: leave empty to moderate every région."))
    funders = MultiCheckboxField(_l("Funders"), coerce=int, description=_l(
        "Region staff only: leave all unticked to see every funder's courses."))
    establishment = StringField(_l("SIRET or SIREN"), filters=[_strip], description=_l(
        "Training bodies only: a SIRET for one establishment, a SIREN for all of them."),
        validators=[Optional(), Length(max=20)])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = _region_choices()
        self.funders.choices = _choices(FUNDERS.items())


class AccountFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Email or name"), filters=[_strip], validators=[Optional(),
                                                                       Length(max=254)])
    role = SelectField(_l("Role"), choices=_choices([("", _l("All"))] + [
        (role.value, label) for role, label in ROLE_LABELS.items()]), validators=[Optional()])
    status = SelectField(_l("Status"), choices=_choices([("", _l("All"))] + [
        (status.value, label) for status, label in STATUS_LABELS.items()]),
        validators=[Optional()])
