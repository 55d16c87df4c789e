"""Setting up the TOTP second factor: a key shown as a QR code and as text, confirmed by
a first code. The same step at a first sign-in (roles that require it) and from one's
account page."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import segno
from flask import render_template, session
from flask.typing import ResponseReturnValue

from avis.accounts import operations
from avis.accounts.forms import TotpSetupForm
from avis.accounts.models import Account

#: The key being set up waits in the (signed) session cookie, shown to its owner only,
#: until a first code confirms it: nothing is written before.
_SETUP_SECRET = "totp_setup_secret"


@dataclass(frozen=True)
class SetupStep:
    form: TotpSetupForm
    secret: str
    #: the recovery codes once a right code turned the factor on (the caller commits)
    codes: list[str] | None
    #: a code was typed and was wrong
    failed: bool


def setup_step(account: Account) -> SetupStep:
    """Show the key (a new one the first time), or check the code typed for it."""
    secret = session.get(_SETUP_SECRET) or operations.new_totp_secret()
    session[_SETUP_SECRET] = secret
    form = TotpSetupForm()
    if not form.validate_on_submit():
        return SetupStep(form, secret, None, False)
    codes = operations.enable_totp(account, secret, form.code.data)
    if codes is not None:
        session.pop(_SETUP_SECRET, None)
    return SetupStep(form, secret, codes, codes is None)


def forget_setup() -> None:
    session.pop(_SETUP_SECRET, None)


def setup_page(account: Account, step: SetupStep, *, required: bool) -> ResponseReturnValue:
    return render_template(
        "accounts/totp_setup.html", form=step.form, failed=step.failed,
        secret=spaced(step.secret), required=required,
        qr=qr_data_uri(operations.totp_uri(account, step.secret)),
    ), 422 if (step.failed or step.form.errors) else 200


def qr_data_uri(uri: str) -> str:
    """An ``otpauth://`` URI as an SVG QR code in a ``data:`` URI: an image the page
    holds itself (no request to another host, allowed by the page's CSP)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2,
                                    title="QR code", xmldecl=False, svgns=True)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def spaced(secret: str) -> str:
    """``JBSWY3DPEHPK3PXP`` → ``JBSW Y3DP EHPK 3PXP``: easier to type."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
