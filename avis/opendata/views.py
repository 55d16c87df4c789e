"""The open-data page (``/donnees``) and its downloads (``/donnees/<filename>``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_from_directory,
    session,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from avis.opendata.dictionary import COLUMNS, LICENCE, LICENCE_URL, notes
from avis.opendata.files import (
    MIMETYPES,
    PUBLISHED_NAMES,
    PublishedFile,
    open_data_folder,
    published_files,
)

bp = Blueprint("opendata", __name__, template_folder="templates")

#: How long browsers and shared caches may keep the page: the files change daily.
MAX_AGE = 300
#: How long they may keep a file (then they revalidate it: ETag, Last-Modified). Short:
#: a moderator's withdrawal rewrites the files within a minute (``retract_from_open_data``).
DOWNLOAD_MAX_AGE = 300


@bp.after_request
def _cache_headers(response: Response) -> Response:
    if request.endpoint == "opendata.download":
        return response  # send_from_directory set them, with its validators
    if session.modified or "Set-Cookie" in response.headers:
        # A page that sets the language cookie is this visitor's, not everyone's.
        response.headers["Cache-Control"] = "private, no-cache"
    elif response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        response.add_etag()
        response.make_conditional(request)
    return response


@dataclass(frozen=True)
class _Listed:
    file: PublishedFile
    label: str
    size: str


def _label(file: PublishedFile) -> str:
    if file.is_dictionary:
        return _("Data dictionary (CSV)")
    return {"csv": _("CSV for spreadsheets (UTF-8, “;” separator)"),
            "xlsx": _("Excel workbook (XLSX)"),
            "parquet": _("Parquet, for data analysis")}[file.format]


def _size(size: int) -> str:
    if size < 1_000_000:
        return _("%(size)s kB", size=format_decimal(max(size / 1000, 0.1), "#,##0.0"))
    return _("%(size)s MB", size=format_decimal(size / 1_000_000, "#,##0.0"))


@bp.get("/donnees")
def page() -> ResponseReturnValue:
    """The open-data files to download, what they hold, their dictionary and licence."""
    files = [_Listed(file, _label(file), _size(file.size))
             for file in published_files(open_data_folder())]
    language = str(get_locale())
    return render_template(
        "opendata/page.html", files=files, columns=COLUMNS, english=language == "en",
        notes=notes(language, current_app.config["MIN_SESSION_SIZE"]),
        licence=LICENCE, licence_url=LICENCE_URL)


@bp.get("/donnees/<filename>")
def download(filename: str) -> ResponseReturnValue:
    """One of the published files, as an attachment; 404 for any other name."""
    if filename not in PUBLISHED_NAMES:
        abort(404)
    return send_from_directory(
        open_data_folder(), filename, mimetype=MIMETYPES[filename.rsplit(".", 1)[1]],
        as_attachment=True, max_age=DOWNLOAD_MAX_AGE)
