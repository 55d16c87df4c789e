"""``/admin/imports``: trainee files uploaded by staff, their progress and summary, the
rejected rows, and every import run (the command line's too, for admins).

Region staff see the uploads of their région; admins see everything. The upload is
stored and queued here; the scheduler imports it (``avis.monitoring.uploads``).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from avis.accounts.access import allow
from avis.accounts.models import Account, Role
from avis.accounts.scope import get_or_404, scoped
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.audit.operations import record
from avis.catalog.geo import REGION_NAMES
from avis.catalog.imports.models import ImportRun, ImportStatus
from avis.db import db
from avis.monitoring import uploads
from avis.security import accepts_body
from avis.spreadsheets import CSV_TYPE

bp = admin_blueprint("imports", __name__, template_folder="templates")

STAFF = (Role.region, Role.admin)
PAGE_SIZE = 50
#: Seconds between two automatic reloads of a run's page while it is imported.
REFRESH_SECONDS = 5
#: Room for the form's other fields and the multipart envelope around the file.
FORM_OVERHEAD_BYTES = 64 * 1024

STATUS_NAMES = {
    ImportStatus.queued: _l("Waiting"),
    ImportStatus.running: _l("Importing"),
    ImportStatus.completed: _l("Import done"),
    ImportStatus.failed: _l("Import failed"),
    ImportStatus.interrupted: _l("Interrupted"),
    ImportStatus.cancelled: _l("Cancelled"),
}
FORMAT_NAMES = {
    "pe": _l("France Travail export"),
    "csv": "CSV",
    "xlsx": "Excel (.xlsx)",
}


class UploadForm(FlaskForm):
    file = FileField(_l("Trainee file"),
                     validators=[FileRequired(message=_l("Choose the file to import."))])
    format = SelectField(_l("Format"), choices=[
        SelectChoice("", _l("Recognise it from the file")),
        SelectChoice("pe", _l("France Travail export (pipe-separated)")),
        SelectChoice("csv", _l("CSV in avis's format")),
        SelectChoice("xlsx", _l("Excel workbook in avis's format (.xlsx)")),
    ], validators=[Optional()])
    campaign = StringField(
        _l("Campaign"), validators=[Optional(), Length(max=100)],
        description=_l("Name given to the new enrolments; the file's name when left empty."),
        filters=[lambda v: v.strip() if isinstance(v, str) else v])


class PageForm(FlaskForm):
    class Meta:
        csrf = False

    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"status_names": STATUS_NAMES, "format_names": FORMAT_NAMES,
            "region_names": REGION_NAMES, "max_mb": _max_mb(), "keep_days": uploads.keep_days()}


def _max_mb() -> int:
    return int(current_app.config["UPLOAD_MAX_MB"])


def _me() -> Account:
    account = signed_in_account()
    assert account is not None  # require_access ran
    return account


@bp.errorhandler(413)
def _too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A file over the limit is refused before it is read: say what the limit is."""
    return render_template("monitoring/imports_too_large.html"), 413


@bp.get("/imports")
@allow(*STAFF)
def runs() -> ResponseReturnValue:
    """Every import run of one's scope, newest first."""
    form = PageForm(request.args)
    if not form.validate():
        abort(400)
    statement = (scoped(ImportRun, ImportRun, Account.email)
                 .outerjoin(Account, Account.id == ImportRun.account_id))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery())) or 0
    page = form.page.data or 1
    rows = db.session.execute(statement.order_by(ImportRun.id.desc())
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("monitoring/imports.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), me=_me())


@bp.route("/imports/nouveau", methods=["GET", "POST"])
@allow(*STAFF)
@accepts_body(lambda: uploads.max_upload_bytes() + FORM_OVERHEAD_BYTES)
def upload() -> ResponseReturnValue:
    """The upload form; a file that can be read is stored and queued for the scheduler."""
    form = UploadForm()
    error = None
    if form.validate_on_submit():
        if _too_big(form.file.data):
            return _too_large(RequestEntityTooLarge())
        try:
            run = uploads.store_upload(form.file.data, account=_me(),
                                       format_name=form.format.data or None,
                                       campaign=form.campaign.data or None)
        except uploads.UploadError as exc:
            db.session.rollback()
            error = gettext("This file cannot be imported: %(reason)s.", reason=str(exc))
        else:
            try:
                db.session.commit()
            except BaseException:
                db.session.rollback()
                uploads.discard(run)
                raise
            return redirect(url_for("imports.run", run_id=run.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("monitoring/imports_new.html", form=form, error=error), status


def _too_big(upload: object) -> bool:
    stream = getattr(upload, "stream", None)
    if stream is None or not hasattr(stream, "seek"):
        return False
    size = stream.seek(0, 2)
    stream.seek(0)
    return size > uploads.max_upload_bytes()


@bp.get("/imports/<int:run_id>")
@allow(*STAFF)
def run(run_id: int) -> ResponseReturnValue:
    """One run: its progress while it waits or runs (the page reloads itself), then its
    summary and the link to its rejected rows."""
    run = get_or_404(ImportRun, ImportRun.id == run_id)
    uploader = db.session.get(Account, run.account_id) if run.account_id else None
    me = _me()
    refresh = not run.is_finished and request.args.get("actualiser") != "non"
    body = render_template("monitoring/imports_run.html", run=run, uploader=uploader,
                           may_read_rejects=uploads.may_read_rejects(run, me),
                           rejects_kept=uploads.has_rejects(run),
                           refresh=refresh, refresh_seconds=REFRESH_SECONDS)
    response = Response(body)
    if refresh:
        # The browser reloads the page by itself: no script needed. Turned off by a link.
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@bp.get("/imports/<int:run_id>/rejets.csv")
@allow(*STAFF)
def rejects(run_id: int) -> ResponseReturnValue:
    """The rejected rows with their reasons, as far as the import went (journaled: they
    hold the file's names and emails)."""
    run = get_or_404(ImportRun, ImportRun.id == run_id)
    if not uploads.may_read_rejects(run, _me()):
        abort(403)
    content = uploads.rejects_bytes(run)
    if content is None:
        if run.rejects_size:
            abort(410)  # deleted with the upload's folder after UPLOAD_RETENTION_DAYS
        content = uploads.NO_REJECTS
    record("import.rejects_downloaded", object_type="import_run", object_id=run.id,
           changes={"rows": run.rejected})
    db.session.commit()
    stem = run.file_name.rsplit(".", 1)[0] or "import"
    return Response(content, mimetype=CSV_TYPE, headers={
        "Content-Disposition": _attachment(f"{stem}.rejets.csv")})


def _attachment(name: str) -> str:
    from urllib.parse import quote

    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                         for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@bp.post("/imports/<int:run_id>/annuler")
@allow(*STAFF)
def cancel(run_id: int) -> ResponseReturnValue:
    """Stop a run waiting or being imported (what it already wrote stays)."""
    run = get_or_404(ImportRun, ImportRun.id == run_id)
    if not run.is_upload:
        abort(404)
    try:
        uploads.cancel(run)
    except uploads.UploadError:
        db.session.rollback()
        flash(gettext("This import had already ended: nothing was cancelled."), "text")
    else:
        db.session.commit()
        uploads.forget_input(run)
        flash(gettext("The import is cancelled. Rows already imported stay."), "text")
    return redirect(url_for("imports.run", run_id=run.id), 303)
