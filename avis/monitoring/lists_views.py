"""``/admin/listes/...``: non-respondents and bounced addresses, for Region staff (their
scope) and admins.

Everybody here reads counts by campaign, training body or session, and downloads them.
Names and emails (``?noms=1``) only for accounts an admin granted
``can_see_personal_data``: each such page and each such download writes a journal event
with the number of people in it, in the transaction that produces it, before the
response leaves — if the event cannot be written, nothing is shown; if the page or the
file cannot be made, no event is written. The filters are ids, never an email: the URL
(and the access log) holds no personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, NumberRange, Optional, Regexp

from avis import clock
from avis.accounts.access import allow
from avis.accounts.models import Account, Role
from avis.accounts.scope import Scope, get_or_404
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.audit.operations import record
from avis.catalog.models.sessions import Session
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.monitoring import lists
from avis.monitoring.lists import Filters, Grouping, ListKind
from avis.spreadsheets import CSV_TYPE, XLSX_TYPE, csv_text, xlsx_bytes

bp = admin_blueprint("lists", __name__, template_folder="templates")

#: Who reads the lists (counts); names and emails need ``can_see_personal_data`` too.
READERS = (Role.region, Role.admin)
#: Rows of a page (groups, or people).
PAGE_SIZE = 50
#: A download of names and emails holds at most this many people (narrow the filters).
MAX_EXPORT = 200_000

TITLES = {ListKind.non_respondents: _l("Non-respondents"),
          ListKind.bounced: _l("Bounced addresses")}
ENDPOINTS = {ListKind.non_respondents: "lists.non_respondents",
             ListKind.bounced: "lists.bounced"}
FILE_NAMES = {ListKind.non_respondents: "non-repondants", ListKind.bounced: "adresses-en-echec"}
GROUPINGS = {Grouping.campaign: _l("Campaign"), Grouping.body: _l("Training body"),
             Grouping.session: _l("Session")}


def _strip(value: str | None) -> str | None:
    return value.strip().replace(" ", "") if isinstance(value, str) else value


class ListFilterForm(FlaskForm):
    class Meta:
        csrf = False

    campagne = SelectField(_l("Campaign"), validators=[Optional()])
    organisme = StringField(_l("SIRET of the training body"), filters=[_strip],
                            description=_l("14 digits; leave empty for every body."),
                            validators=[Optional(), Regexp(r"^\d{14}$", message=_l(
                                "Enter the body's 14-digit SIRET."))])
    session = IntegerField(_l("Session number in avis"), validators=[
        Optional(), NumberRange(min=1, max=2**31 - 1)])
    par = SelectField(_l("Count by"), default=Grouping.campaign.value,
                      choices=[SelectChoice(grouping.value, label)  # type: ignore[attr-defined]
                               for grouping, label in GROUPINGS.items()])
    noms = StringField(validators=[Optional(), AnyOf(["1"])])
    format = StringField(validators=[Optional(), AnyOf(["csv", "xlsx"])])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])

    def __init__(self, campaigns: list[str], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.campagne.choices = [SelectChoice("", _l("Every campaign")),  # type: ignore[attr-defined]
                                 *(SelectChoice(c, c) for c in campaigns)]  # type: ignore[attr-defined]


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"list_titles": TITLES, "list_endpoints": ENDPOINTS, "groupings": GROUPINGS,
            "status_labels": lists.STATUS_LABELS}


def _me() -> Account:
    account = signed_in_account()
    assert account is not None  # require_access ran
    return account


@bp.get("/listes/non-repondants")
@allow(*READERS)
def non_respondents() -> ResponseReturnValue:
    """Trainees sent the end-of-training questionnaire who have not answered."""
    return _list(ListKind.non_respondents)


@bp.get("/listes/adresses-en-echec")
@allow(*READERS)
def bounced() -> ResponseReturnValue:
    """Trainees whose address bounced, or whose email could not be sent."""
    return _list(ListKind.bounced)


def _list(kind: ListKind) -> ResponseReturnValue:
    account = _me()
    scope = Scope.of(account)
    form = ListFilterForm(lists.campaigns(scope), request.args)
    context: dict[str, object] = {
        "kind": kind, "form": form, "args": {}, "body": None, "session": None,
        "by": Grouping.campaign, "page": 1, "pages": 1, "total": 0, "groups": None,
        "people": None, "may_read_people": account.can_see_personal_data}
    if not form.validate():
        if form.campagne.errors and not form.organisme.errors and not form.session.errors:
            # A campaign the scope does not have: as unknown as a foreign body.
            abort(404)
        return render_template("monitoring/lists.html", **context), 400
    body = get_or_404(TrainingBody, TrainingBody.siret == form.organisme.data) \
        if form.organisme.data else None
    session = get_or_404(Session, Session.id == form.session.data) \
        if form.session.data else None
    filters = Filters(campaign=form.campagne.data or None, body_id=body.id if body else None,
                      session_id=session.id if session else None)
    by = Grouping(form.par.data)
    show_people = form.noms.data == "1"
    if show_people and not account.can_see_personal_data:
        abort(403)
    args = {name: value for name, value in (
        ("campagne", filters.campaign), ("organisme", body.siret if body else None),
        ("session", filters.session_id), ("par", by.value)) if value}
    page = form.page.data or 1
    context.update(args=args, body=body, session=session, by=by, page=page)
    if show_people:
        total = lists.count(scope, kind, filters)
        if form.format.data and total <= MAX_EXPORT:
            return _people_file(kind, scope, filters, form.format.data, args)
        rows = lists.people(scope, kind, filters, limit=PAGE_SIZE,
                            offset=(page - 1) * PAGE_SIZE)
        error = _("Too many people for one file (%(num)s): narrow the list to a campaign, "
                  "a body or a session.", num=format_decimal(total)) \
            if form.format.data else None
        html = render_template("monitoring/lists.html", **{
            **context, "people": rows, "total": total, "error": error,
            "pages": max(1, -(-total // PAGE_SIZE))})
        # Written with the page it describes: if this fails, the page is not sent.
        record("list.viewed", object_type="list", object_id=kind.value,
               changes={"people": len(rows), "page": page, "filters": args})
        db.session.commit()
        return html, 400 if error else 200
    if form.format.data:
        found = lists.groups(scope, kind, filters, by)
        header, table = lists.group_table(by, found.groups)
        return _file(form.format.data, f"{FILE_NAMES[kind]}-par-{by.value}", header, table)
    found = lists.groups(scope, kind, filters, by, limit=PAGE_SIZE,
                         offset=(page - 1) * PAGE_SIZE)
    return render_template("monitoring/lists.html", **{
        **context, "groups": found, "total": found.total_people,
        "pages": max(1, -(-found.total_groups // PAGE_SIZE))})


def _people_file(kind: ListKind, scope: Scope, filters: Filters, file_format: str,
                 args: dict[str, object]) -> Response:
    """The people of the list as a file, journaled with their number in the transaction
    that makes it: no file without its event, no event for a file that failed."""
    rows = lists.people(scope, kind, filters)
    response = _file(file_format, FILE_NAMES[kind], lists.PEOPLE_HEADER,
                     lists.people_rows(rows))
    record("list.exported", object_type="list", object_id=kind.value,
           changes={"people": len(rows), "format": file_format, "filters": args})
    db.session.commit()
    return response


def _file(file_format: str, name: str, header: list[str], rows: Iterable[Sequence[object]]
          ) -> Response:
    stamp = clock.now().astimezone(lists.PARIS).strftime("%Y%m%d-%H%M")
    if file_format == "csv":
        body: str | bytes = csv_text(header, rows)
        content_type = CSV_TYPE
    else:
        body = xlsx_bytes(header, rows)
        content_type = XLSX_TYPE
    return Response(body, content_type=content_type, headers={
        "Content-Disposition": f'attachment; filename="{name}-{stamp}.{file_format}"'})
