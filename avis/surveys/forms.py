"""Forms of the pages a trainee reaches from an email."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from avis.surveys.models.answers import (
    DIMENSIONS,
    ContractType,
    JobRelation,
    Situation,
    TimeToJob,
)


def _strip(value: str | None) -> str | None:
    """Surrounding blanks removed; an empty answer is no answer."""
    if value is None:
        return None
    value = value.strip()
    return value or None


class UnsubscribeForm(FlaskForm):
    """The confirmation button of the unsubscribe page: a POST with a CSRF token, so
    that neither a link scanner's GET nor another site's form can unsubscribe anyone."""

    submit = SubmitField(_l("Unsubscribe"), description=_l(
        "You will receive no more email from avis, about any course."))


def _options(*pairs: tuple[str, LazyString]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class RatingField(RadioField):
    """A mark from 1 to 5. Whatever is wrong with it (missing, out of range, not a
    number), the trainee reads the same plain message."""

    message = _l("Choose a mark from 1 to 5.")

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(self.message)) from None

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data not in range(1, 6):
            raise ValidationError(str(self.message))


def _rating_field(legend: LazyString) -> RadioField:
    # Labels say "n out of 5" so that each radio makes sense on its own to a screen
    # reader; the legend says what is rated.
    return RatingField(
        legend,
        choices=[SelectChoice(n, _l("%(n)s out of 5", n=n)) for n in range(1, 6)],  # type: ignore[arg-type]
        coerce=int,
        validators=[InputRequired(RatingField.message)],
    )


class AnswerForm(FlaskForm):
    """The end-of-training questionnaire: five ratings, a recommendation, a comment."""

    welcome = _rating_field(_l("The welcome"))
    content = _rating_field(_l("The course content"))
    trainers = _rating_field(_l("The trainers"))
    equipment = _rating_field(_l("The equipment"))
    support = _rating_field(_l("The support"))
    would_recommend = RadioField(
        _l("Would you recommend this course?"),
        choices=_options(("yes", _l("Yes")), ("no", _l("No"))),
        validators=[InputRequired(_l("Say whether you would recommend this course."))],
    )
    comment_title = StringField(
        _l("Title of your comment (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=80, message=_l(
            "The title is limited to %(max)d characters."))],
    )
    comment_text = TextAreaField(
        _l("Your comment (optional)"),
        description=_l("What went well, what could be better. Do not give names: "
                       "comments are read before being published."),
        filters=[_strip],
        validators=[Optional(), Length(max=2000, message=_l(
            "The comment is limited to %(max)d characters."))],
    )
    comment_public = BooleanField(
        _l("I agree to my comment being published, without my name"))
    accepts_contact = BooleanField(
        _l("I agree to be contacted by future trainees about this course"))
    submit = SubmitField(_l("Send my review"))

    ratings = DIMENSIONS


class FollowUpForm(FlaskForm):
    """The 6-month questionnaire: where the trainee is now."""

    situation = RadioField(
        _l("What is your situation today?"),
        choices=_options((Situation.employed.value, _l("I am in work")),
                 (Situation.training.value, _l("I am in training")),
                 (Situation.job_seeking.value, _l("I am looking for work")),
                 (Situation.other.value, _l("Other"))),
        validators=[InputRequired(_l("Choose your situation."))],
    )
    contract_type = RadioField(
        _l("If you are in work: your contract"),
        choices=_options((ContractType.permanent.value, _l("Permanent contract (CDI)")),
                 (ContractType.fixed_term.value, _l("Fixed-term contract (CDD)")),
                 (ContractType.temporary.value, _l("Temporary work (intérim)")),
                 (ContractType.apprenticeship.value, _l("Work-study (alternance)")),
                 (ContractType.self_employed.value, _l("Self-employed, own business")),
                 (ContractType.other.value, _l("Other"))),
        validators=[Optional()],
    )
    job_related = RadioField(
        _l("If you are in work: is the job related to the course?"),
        choices=_options((JobRelation.yes.value, _l("Yes")),
                         (JobRelation.partly.value, _l("Partly")),
                         (JobRelation.no.value, _l("No"))),
        validators=[Optional()],
    )
    time_to_job = RadioField(
        _l("If you are in work: how long did finding it take?"),
        choices=_options((TimeToJob.before_end.value, _l("I found it before the course ended")),
                 (TimeToJob.under_1_month.value, _l("Less than a month")),
                 (TimeToJob.one_to_3_months.value, _l("1 to 3 months")),
                 (TimeToJob.three_to_6_months.value, _l("3 to 6 months"))),
        validators=[Optional()],
    )
    comment_text = TextAreaField(
        _l("Anything to add? (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=2000, message=_l(
            "The comment is limited to %(max)d characters."))],
    )
    submit = SubmitField(_l("Send my answers"))
