"""Forms of the moderation queue."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextArea

from avis.catalog.geo import DEPARTEMENT_NAMES
from avis.moderation.operations import MAX_TEXT, MAX_TITLE
from avis.moderation.reports import MAX_MESSAGE
from avis.surveys.models.answers import ExclusionReason, Qualification, RejectionReason

QUALIFICATIONS: dict[str, LazyString] = {
    Qualification.positive: _l("Positive"),
    Qualification.neutral: _l("Neutral"),
    Qualification.negative: _l("Negative"),
}
REJECTION_REASONS: dict[str, LazyString] = {
    RejectionReason.insult: _l("Insult or abuse"),
    RejectionReason.personal_data: _l("Personal data"),
    RejectionReason.off_topic: _l("Not about this course"),
    RejectionReason.serious_alert: _l("Serious alert"),
}
EXCLUSION_REASONS: dict[str, LazyString] = {
    ExclusionReason.wrong_body: _l("Wrong training body"),
    ExclusionReason.fraud: _l("Fraud"),
}
DECISION_NAMES: dict[str, LazyString] = {
    "publish": _l("published"),
    "reject": _l("rejected"),
    "redact": _l("redacted"),
    "withdraw": _l("withdrawn"),
    "undo": _l("decision undone"),
    "exclude": _l("excluded from the scores"),
    "include": _l("counted in the scores again"),
    "keep": _l("report examined: review kept"),
    "remove": _l("report examined: comment removed"),
}
SUBJECT_NAMES: dict[str, LazyString] = {
    "reply": _l("Reply"),
    "report": _l("Report"),
}
REPORT_REASONS: dict[str, LazyString] = {
    "abuse": _l("Insult, abuse or defamation"),
    "personal_data": _l("Personal data"),
    "wrong_body": _l("Not about this body or course"),
    "false_facts": _l("False facts"),
    "other": _l("Other"),
}
#: The pre-screening filter: any flag, none, personal data, or one flag.
SIGNALS: dict[str, LazyString] = {
    "aucun": _l("No flag"),
    "tous": _l("Any flag"),
    "donnees": _l("Personal data (any kind)"),
}
FLAG_LABELS: dict[str, LazyString] = {
    "phone": _l("Phone number?"),
    "email": _l("Email address?"),
    "person_name": _l("A person's name?"),
    "street_address": _l("Street address?"),
    "insult": _l("Insult?"),
    "link": _l("Link?"),
    "shouting": _l("Shouting?"),
}
TABS: dict[str, LazyString] = {
    "attente": _l("Comments awaiting"),
    "reponses": _l("Replies awaiting"),
    "signalements": _l("Reports awaiting"),
    "decides": _l("Decided comments"),
}
#: Whose batch: the moderator's own, or the items nobody has taken.
BATCHES: dict[str, LazyString] = {
    "miens": _l("My batch"),
    "libres": _l("Not taken"),
}

#: What a moderator reads when a decision cannot be taken.
ERRORS: dict[str, LazyString] = {
    "not_found": _l("This comment is not in your scope, or no longer exists."),
    "already_decided": _l("Someone decided on this comment first."),
    "nothing_to_undo": _l("There is no decision of today to undo on this comment."),
    "empty_text": _l("The public text cannot be empty: reject the comment instead."),
    "too_long": _l("The title is limited to 80 characters and the text to 2,000."),
    "rejected": _l("A rejected comment is not published: there is nothing to redact."),
    "already_excluded": _l("This answer is already excluded from the scores."),
    "not_excluded": _l("This answer counts in the scores already."),
    "empty_message": _l("Write a message to the training body."),
    "message_too_long": _l("The message is limited to 1,000 characters."),
    "no_comment": _l("This review has no comment to take off: exclude the answer from the "
                     "scores on its page if it is not a real trainee's."),
}


def _choices(pairs: dict[str, LazyString], empty: LazyString | None = None
             ) -> list[SelectChoice]:
    options = [SelectChoice("", empty)] if empty is not None else []
    return options + [SelectChoice(value, label) for value, label in pairs.items()]


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False

    onglet = SelectField(_l("Tab"), choices=_choices(TABS), default="attente",
                         validators=[Optional()])
    departement = SelectField(_l("Département"), validators=[Optional()])
    siret = SearchField(_l("Training body (SIRET)"), validators=[Optional(), Length(max=14)],
                        filters=[lambda v: v.replace(" ", "") if isinstance(v, str) else v])
    depuis = DateField(_l("Answered from"), validators=[Optional()])
    jusqu = DateField(_l("Answered until"), validators=[Optional()])
    signal = SelectField(_l("Pre-screening"), validators=[Optional()])
    lot = SelectField(_l("Batch"), choices=_choices(BATCHES, _l("All")),
                      validators=[Optional()])
    q = SearchField(_l("Words in the comment"), validators=[Optional(), Length(max=200)],
                    filters=[lambda v: v.strip() if isinstance(v, str) else v])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.departement.choices = _choices(
            {code: f"{code} {name}" for code, name in DEPARTEMENT_NAMES.items()}, _l("All"))
        self.signal.choices = _choices({**SIGNALS, **FLAG_LABELS}, _l("All"))


class PublishForm(FlaskForm):
    qualification = SelectField(_l("Tone"), choices=_choices(QUALIFICATIONS),
                                validators=[InputRequired()])
    submit = SubmitField(_l("Publish"))


class RejectForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=_choices(REJECTION_REASONS),
                         validators=[InputRequired()])
    submit = SubmitField(_l("Reject"))


class ExcludeForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=_choices(EXCLUSION_REASONS),
                         validators=[InputRequired()])
    submit = SubmitField(_l("Exclude from the scores"))


class RedactForm(FlaskForm):
    title = StringField(_l("Public title"), validators=[Optional(), Length(max=MAX_TITLE)],
                        description=_l("Leave empty to mask the title."))
    text = StringField(_l("Public text"), widget=TextArea(),
                       validators=[InputRequired(_l("Write the public text.")),
                                   Length(max=MAX_TEXT)])
    submit = SubmitField(_l("Save the public text"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


class KeepForm(FlaskForm):
    message = StringField(_l("Message to the training body"), widget=TextArea(),
                          validators=[InputRequired(_l("Write a message to the training body.")),
                                      Length(max=MAX_MESSAGE)])
    submit = SubmitField(_l("Keep the review"))


class RemoveForm(KeepForm):
    reason = SelectField(_l("Reason"), choices=_choices(REJECTION_REASONS),
                         validators=[InputRequired()])
    submit = SubmitField(_l("Remove the comment"))


class PageForm(FlaskForm):
    """Publish every unflagged comment of the page, or take the page as one's batch: the
    ids the page showed travel with the form (the server checks each again)."""

    confirm = BooleanField(_l("I have read these comments"), validators=[Optional()])
