"""``/dev/mailbox``: the file backend's mailbox, for development only."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template

from avis.mail.backends.file import MAILBOX_DIRNAME

bp = Blueprint("dev_mailbox", __name__, template_folder="templates", url_prefix="/dev")

#: the listing stops there: a development mailbox is read by a person
MAX_LISTED = 500

#: what the file backend writes; anything else (``..``, temporary files) is refused
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.eml")

#: the email's HTML is shown in a sandboxed frame: no script, no form, no same-origin
#: access; a click may only open a link (top-level navigation or new window)
SANDBOX = "allow-popups allow-top-navigation-by-user-activation"


@dataclass(frozen=True)
class Summary:
    name: str
    date: dt.datetime | None
    recipient: str
    subject: str


@bp.get("/mailbox")
def mailbox() -> str:
    names = sorted(_names(), reverse=True)
    summaries = [s for s in map(_summary, names[:MAX_LISTED]) if s is not None]
    return render_template("dev/mailbox.html", summaries=summaries, total=len(names))


@bp.get("/mailbox/<name>")
def message(name: str) -> str:
    email = _read(name)
    return render_template(
        "dev/message.html", name=name, subject=str(email["Subject"] or ""),
        headers=list(email.items()),
        text=_part(email, "plain"), has_html=_part(email, "html") is not None, sandbox=SANDBOX)


@bp.get("/mailbox/<name>.html")
def message_html(name: str) -> Response:
    html = _part(_read(name), "html")
    if html is None:
        abort(404)
    response = Response(_links_to_top(html), mimetype="text/html")
    # Also enforced when the document is opened on its own, outside the frame.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"frame-ancestors 'self'; sandbox {SANDBOX}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _directory() -> Path:
    return Path(current_app.instance_path) / MAILBOX_DIRNAME


def _names() -> list[str]:
    directory = _directory()
    if not directory.is_dir():
        return []
    return [entry.name for entry in directory.iterdir() if _is_message(entry)]


def _is_message(path: Path) -> bool:
    # A symlink could point anywhere on the machine: only plain files count.
    return bool(_NAME.fullmatch(path.name)) and path.is_file() and not path.is_symlink()


def _read(name: str) -> EmailMessage:
    """The parsed message, or 404 for any name that is not a message of the mailbox."""
    if not _NAME.fullmatch(name):
        abort(404)
    path = _directory() / name
    if not _is_message(path):
        abort(404)
    try:
        with path.open("rb") as file:
            parsed = BytesParser(policy=default_policy).parse(file)
    except OSError:
        abort(404)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _summary(name: str) -> Summary | None:
    try:
        with (_directory() / name).open("rb") as file:
            headers = BytesParser(policy=default_policy).parse(file, headersonly=True)
    except OSError:
        # Deleted (or made unreadable) since the directory was listed.
        return None
    date_header = headers["Date"]
    return Summary(
        name=name,
        date=getattr(date_header, "datetime", None),
        recipient=str(headers["To"] or ""),
        subject=str(headers["Subject"] or ""),
    )


def _part(email: EmailMessage, subtype: str) -> str | None:
    part = email.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


def _links_to_top(html: str) -> str:
    """Make every link open in the top window: a sandboxed frame (or a popup from it,
    which inherits the sandbox) could not submit the questionnaire's form."""
    html = re.sub(r"""\starget=(["'])_blank\1""", "", html)
    base = '<base target="_top">'
    if re.search(r"<head[^>]*>", html):
        return re.sub(r"(<head[^>]*>)", lambda m: m.group(1) + base, html, count=1)
    return base + html
