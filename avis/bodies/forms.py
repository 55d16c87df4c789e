"""Forms of the training body's space."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextArea

from avis.moderation.forms import REPORT_REASONS
from avis.moderation.replies import MAX_REPLY
from avis.moderation.reports import MAX_REPORT

READ_STATES: dict[str, LazyString] = {"non-lus": _l("Unread reviews"),
                                       "lus": _l("Read reviews")}
REPLY_STATES: dict[str, LazyString] = {"sans": _l("Without a reply"), "avec": _l("With a reply")}
REPORT_STATES: dict[str, LazyString] = {"non": _l("Not reported"), "oui": _l("Reported")}
MARKS: dict[str, LazyString] = {
    "5": _l("5 out of 5"),
    "4": _l("From 4 to 4.9"),
    "3": _l("From 3 to 3.9"),
    "2": _l("From 2 to 2.9"),
    "1": _l("From 1 to 1.9"),
}
#: Where a reply stands, as its body reads it.
REPLY_STATUS_NAMES: dict[str, LazyString] = {
    "pending": _l("Awaiting moderation"),
    "published": _l("Published on the public pages"),
    "rejected": _l("Rejected by moderation"),
}
#: Where a report stands, as its body reads it.
REPORT_STATUS_NAMES: dict[str, LazyString] = {
    "open": _l("Being examined"),
    "kept": _l("Examined: the review stays"),
    "removed": _l("Examined: the comment was taken off"),
}

#: What a body reads when its reply or report cannot be taken.
ERRORS: dict[str, LazyString] = {
    "not_found": _l("This review is not among yours, or no longer exists."),
    "empty_text": _l("Write your reply."),
    "reply_too_long": _l("A reply is limited to 1,000 characters."),
    "empty_report": _l("Explain why you report this review."),
    "report_too_long": _l("A report is limited to 1,000 characters."),
    "already_reported": _l("You have already reported this review."),
    "no_comment": _l("A reply answers a comment: this review has none."),
}


def _newlines(value: object) -> object:
    """Browsers send a line break as two characters but count it as one (``maxlength``):
    kept as one, a text the browser let through is not refused for its line breaks."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def _choices(pairs: dict[str, LazyString] | dict[str, str], empty: LazyString
             ) -> list[SelectChoice]:
    return [SelectChoice("", empty)] + [SelectChoice(value, label)
                                        for value, label in pairs.items()]


class ReviewFilterForm(FlaskForm):
    """The list's filters (a GET form: no token, the URL can be kept)."""

    class Meta:
        csrf = False

    nouveaux = BooleanField(_l("Only new since my last visit"), validators=[Optional()])
    lecture = SelectField(_l("Reading"), choices=_choices(READ_STATES, _l("All")),
                          validators=[Optional()])
    reponse = SelectField(_l("Reply"), choices=_choices(REPLY_STATES, _l("All")),
                          validators=[Optional()])
    signalement = SelectField(_l("Report"), choices=_choices(REPORT_STATES, _l("All")),
                              validators=[Optional()])
    formation = SelectField(_l("Course"), validators=[Optional()])
    mois = SelectField(_l("Month the session ended"), validators=[Optional()])
    note = SelectField(_l("Overall mark"), choices=_choices(MARKS, _l("All")),
                       validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])

    def __init__(self, *args: object, courses: dict[str, str], months: dict[str, str],
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.formation.choices = _choices(courses, _l("All"))
        self.mois.choices = _choices(months, _l("All"))


class ReplyForm(FlaskForm):
    text = StringField(
        _l("Your reply"), widget=TextArea(),
        description=_l("Up to 1,000 characters. Published once a moderator has read it; "
                       "you can edit or withdraw it at any time (an edit is read again)."),
        validators=[InputRequired(_l("Write your reply.")),
                    Length(max=MAX_REPLY, message=_l("A reply is limited to 1,000 "
                                                     "characters."))],
        filters=[_newlines], render_kw={"maxlength": MAX_REPLY, "rows": 5})
    submit = SubmitField(_l("Send the reply for moderation"))


class ReportForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=_choices(REPORT_REASONS, _l("Choose a reason")),
                         validators=[InputRequired(_l("Choose a reason."))])
    details = StringField(
        _l("Explanation for the moderators"), widget=TextArea(),
        description=_l("The review stays online while a moderator examines your report; "
                       "you will receive the decision by email."),
        validators=[InputRequired(_l("Explain why you report this review.")),
                    Length(max=MAX_REPORT, message=_l("A report is limited to 1,000 "
                                                      "characters."))],
        filters=[_newlines], render_kw={"maxlength": MAX_REPORT, "rows": 4})
    submit = SubmitField(_l("Report the review"))


class ConfirmForm(FlaskForm):
    """A button that changes something: the token only."""
